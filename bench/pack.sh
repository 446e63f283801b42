#!/bin/bash
# Pack benchmark (issue 2): `ocisync push` into an oci-layout: against the
# shell pipeline doing the same work (tar sorted and normalised, gzip -6,
# sha256), interleaved over ROUNDS rounds on the same ~10,000-file tree.
# Prints each round, the medians, the ratio and the peak memory of each.
#
# usage: bench/pack.sh BUILD_DIR [ROUNDS]      (default 5 rounds)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: bench/pack.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-5}
ocisync=$build/cli/ocisync
tree=$here/out/tree
[ -x "$ocisync" ] || { echo "no $ocisync: build first (ninja -C $build)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time: apt-get install time" >&2; exit 1; }
if [ ! -d "$tree" ]; then
	/usr/bin/python3 "$here/gen-tree.py" "$tree.tmp" && mv "$tree.tmp" "$tree"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ours() {
	rm -rf "$tmp/layout"
	/usr/bin/time -f '%e %M' -o "$tmp/time" "$ocisync" push "oci-layout:$tmp/layout:v1" "$tree" --no-progress >/dev/null
	cat "$tmp/time"
}
pipeline() {
	# %M of a shell pipeline is the largest of its processes
	/usr/bin/time -f '%e %M' -o "$tmp/time" bash -c 'tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - -C "$1" . | gzip -6 -n | sha256sum >/dev/null' _ "$tree"
	cat "$tmp/time"
}

echo "tree: $(find "$tree" -type f | wc -l) files, $(du -sb --apparent-size "$tree" | cut -f1) bytes; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
ours >/dev/null; pipeline >/dev/null   # warm the page cache
: >"$tmp/ours"; : >"$tmp/pipe"
for i in $(seq 1 "$rounds"); do
	if [ $((i % 2)) -eq 1 ]; then a=$(ours); b=$(pipeline); else b=$(pipeline); a=$(ours); fi
	echo "$a" >>"$tmp/ours"; echo "$b" >>"$tmp/pipe"
	echo "round $i: ocisync push ${a% *} s (${a#* } KB), tar|gzip|sha256sum ${b% *} s (${b#* } KB)"
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mo=$(cut -d' ' -f1 "$tmp/ours" | median); mp=$(cut -d' ' -f1 "$tmp/pipe" | median)
ro=$(cut -d' ' -f2 "$tmp/ours" | sort -n | tail -1); rp=$(cut -d' ' -f2 "$tmp/pipe" | sort -n | tail -1)
echo "median: ocisync push $mo s, pipeline $mp s, ratio $(awk -v a="$mo" -v b="$mp" 'BEGIN { printf "%.2f", a / b }')x"
echo "peak RSS: ocisync push $ro KB, pipeline (largest process) $rp KB"
