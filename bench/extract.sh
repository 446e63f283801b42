#!/bin/bash
# Extract benchmark: a full extraction of the ~10,000-file artifact against
# an incremental one after a one-file change (the previous revision's
# unchanged files hard-linked, as `ocisync sync` does).
#
# usage: bench/extract.sh BUILD_DIR [ROUNDS]   (default 5 rounds)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: bench/extract.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-5}
bench=$build/bench/extract-bench
tree=$here/out/tree
[ -x "$bench" ] || { echo "no $bench: build first (ninja -C $build)" >&2; exit 1; }
if [ ! -d "$tree" ]; then
	/usr/bin/python3 "$here/gen-tree.py" "$tree.tmp" && mv "$tree.tmp" "$tree"
fi
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
"$bench" pack "$tree" "$tmp/v1.tar.gz" >/dev/null
# v2: the same tree with one configmap changed
cp -a "$tree" "$tmp/tree2"
f=$(find "$tmp/tree2" -name 'configmap-0.yaml' | LC_ALL=C sort | sed -n 1p)
echo "    changed.by.bench = 1" >>"$f"
"$bench" pack "$tmp/tree2" "$tmp/v2.tar.gz" >/dev/null
rm -rf "$tmp/tree2"
mkdir "$tmp/work"
echo "artifact: $(find "$tree" -type f | wc -l) files; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bench" run "$tmp/v1.tar.gz" "$tmp/v2.tar.gz" "$tmp/work" "$rounds"
# For reference: GNU tar extracting the same layer (no checks, no index).
for i in 1 2 3; do
	rm -rf "$tmp/tarx" && mkdir "$tmp/tarx"
	/usr/bin/time -f '%e' -o "$tmp/t" tar -xzf "$tmp/v2.tar.gz" -C "$tmp/tarx"
	cat "$tmp/t"
done | sort -n | sed -n 2p | sed 's/^/tar -xzf (reference): median /; s/$/ s/'
