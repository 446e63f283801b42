#!/bin/bash
# Policy benchmark (issue 12): `ocisync push` with the default lint policy
# against `push --no-policy`, interleaved over ROUNDS rounds on the same
# ~10,000-file tree into an oci-layout: (target: <= 1.15x). Also times
# `ocisync lint` alone. Prints each round, the medians and the ratio.
#
# usage: bench/lint.sh BUILD_DIR [ROUNDS]      (default 7 rounds)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: bench/lint.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-7}
ocisync=$build/cli/ocisync
tree=$here/out/tree
[ -x "$ocisync" ] || { echo "no $ocisync: build first (ninja -C $build)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time: apt-get install time" >&2; exit 1; }
if [ ! -d "$tree" ]; then
	/usr/bin/python3 "$here/gen-tree.py" "$tree.tmp" && mv "$tree.tmp" "$tree"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SOURCE_DATE_EPOCH=1700000000

push() { # extra args
	rm -rf "$tmp/layout"
	/usr/bin/time -f '%e %U %M' -o "$tmp/time" "$ocisync" push "oci-layout:$tmp/layout:v1" "$tree" --no-progress -q "$@"
	cat "$tmp/time"
}
lint() {
	/usr/bin/time -f '%e %U %M' -o "$tmp/time" "$ocisync" lint "$tree" -q >/dev/null
	cat "$tmp/time"
}

echo "tree: $(find "$tree" -type f | wc -l) files, $(du -sb --apparent-size "$tree" | cut -f1) bytes; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
push >/dev/null; push --no-policy 2>/dev/null >/dev/null   # warm the page cache
: >"$tmp/with"; : >"$tmp/without"; : >"$tmp/lint"
for i in $(seq 1 "$rounds"); do
	if [ $((i % 2)) -eq 1 ]; then a=$(push); b=$(push --no-policy 2>/dev/null); else b=$(push --no-policy 2>/dev/null); a=$(push); fi
	c=$(lint)
	echo "$a" >>"$tmp/with"; echo "$b" >>"$tmp/without"; echo "$c" >>"$tmp/lint"
	echo "round $i: push ${a%% *} s, push --no-policy ${b%% *} s, lint alone ${c%% *} s"
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mw=$(cut -d' ' -f1 "$tmp/with" | median); mn=$(cut -d' ' -f1 "$tmp/without" | median)
ml=$(cut -d' ' -f1 "$tmp/lint" | median)
uw=$(cut -d' ' -f2 "$tmp/with" | median); un=$(cut -d' ' -f2 "$tmp/without" | median)
rw=$(cut -d' ' -f3 "$tmp/with" | sort -n | tail -1); rn=$(cut -d' ' -f3 "$tmp/without" | sort -n | tail -1)
echo "median wall: push $mw s, push --no-policy $mn s, ratio $(awk -v a="$mw" -v b="$mn" 'BEGIN { printf "%.2f", a / b }')x (target <= 1.15x); lint alone $ml s"
echo "median user CPU: push $uw s, push --no-policy $un s"
echo "peak RSS: push $rw KB, push --no-policy $rn KB"
