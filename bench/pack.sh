#!/bin/bash
# Pack benchmark (issues 2 and 13): `ocisync push --no-policy` into an
# oci-layout: against the shell pipelines doing the same work (tar sorted
# and normalised, gzip -6 -- single-threaded gzip, and pigz on every CPU --
# then sha256), interleaved over ROUNDS rounds on the same ~10,000-file tree
# (the order rotates every round). Prints each round, the medians, the
# ratios, the CPU seconds and the peak memory of each. pigz comes from the
# Debian package `pigz` (scripts/deps.txt).
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
command -v pigz >/dev/null || { echo "needs pigz: apt-get install pigz" >&2; exit 1; }
ncpu=$(nproc)
if [ ! -d "$tree" ]; then
	/usr/bin/python3 "$here/gen-tree.py" "$tree.tmp" && mv "$tree.tmp" "$tree"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ours() {
	rm -rf "$tmp/layout"
	# --no-policy: the packing alone (bench/lint.sh measures the policy)
	/usr/bin/time -f '%e %M %U %S' -o "$tmp/time" "$ocisync" push "oci-layout:$tmp/layout:v1" "$tree" --no-progress --no-policy >/dev/null 2>&1
	cat "$tmp/time"
}
pipeline() {
	# %M of a shell pipeline is the largest of its processes
	/usr/bin/time -f '%e %M %U %S' -o "$tmp/time" bash -c 'tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - -C "$1" . | gzip -6 -n | sha256sum >/dev/null' _ "$tree"
	cat "$tmp/time"
}
pigz_pipeline() {
	/usr/bin/time -f '%e %M %U %S' -o "$tmp/time" bash -c 'tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - -C "$1" . | pigz -p "$2" -6 -n | sha256sum >/dev/null' _ "$tree" "$ncpu"
	cat "$tmp/time"
}

echo "tree: $(find "$tree" -type f | wc -l) files, $(du -sb --apparent-size "$tree" | cut -f1) bytes; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
ours >/dev/null; pipeline >/dev/null; pigz_pipeline >/dev/null   # warm the page cache
: >"$tmp/ours"; : >"$tmp/pipe"; : >"$tmp/pigz"
# "wall s (peak KB, CPU s)" of a "%e %M %U %S" line
show() { awk '{ printf "%s s (%s KB, CPU %.2f s)", $1, $2, $3 + $4 }' <<<"$1"; }
for i in $(seq 1 "$rounds"); do
	case $((i % 3)) in
	1) a=$(ours); c=$(pigz_pipeline); b=$(pipeline) ;;
	2) c=$(pigz_pipeline); b=$(pipeline); a=$(ours) ;;
	0) b=$(pipeline); a=$(ours); c=$(pigz_pipeline) ;;
	esac
	echo "$a" >>"$tmp/ours"; echo "$b" >>"$tmp/pipe"; echo "$c" >>"$tmp/pigz"
	echo "round $i: ocisync push $(show "$a"), tar|pigz -p$ncpu|sha256sum $(show "$c"), tar|gzip|sha256sum $(show "$b")"
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mo=$(cut -d' ' -f1 "$tmp/ours" | median); mp=$(cut -d' ' -f1 "$tmp/pipe" | median); mz=$(cut -d' ' -f1 "$tmp/pigz" | median)
ro=$(cut -d' ' -f2 "$tmp/ours" | sort -n | tail -1); rp=$(cut -d' ' -f2 "$tmp/pipe" | sort -n | tail -1)
rz=$(cut -d' ' -f2 "$tmp/pigz" | sort -n | tail -1)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cpu() { awk '{ print $3 + $4 }' "$1" | median; }
co=$(cpu "$tmp/ours"); cz=$(cpu "$tmp/pigz"); cp_=$(cpu "$tmp/pipe")
echo "median: ocisync push $mo s, pigz pipeline $mz s (ratio $(ratio "$mo" "$mz")x, target <= 0.8x), gzip pipeline $mp s (ratio $(ratio "$mo" "$mp")x)"
echo "median CPU (user + system, all processes): ocisync push $co s, pigz pipeline $cz s (ratio $(ratio "$co" "$cz")x), gzip pipeline $cp_ s"
echo "peak RSS: ocisync push $ro KB, pigz pipeline $rz KB, gzip pipeline $rp KB (largest process of a pipeline)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
