#!/bin/bash
# Before/after of a change, interleaved in one run: the same work with two
# ocisync binaries (e.g. a build of the branch point and one of HEAD).
#   noop  `sync --once` when nothing changed, against one local
#         docker-registry, beside one `curl -sI` of the same manifest
#   pack  `push` of bench/gen-tree.py's 10,000-file tree to a fresh
#         oci-layout: (--no-policy), checking both give the same digest
# usage: bench/before-after.sh OLD_OCISYNC NEW_OCISYNC [NOOP_ROUNDS] [PACK_ROUNDS]
set -euo pipefail
OLD=$(realpath "$1") NEW=$(realpath "$2")
NOOP_ROUNDS=${3:-31} PACK_ROUNDS=${4:-7}
OCISYNC=$NEW
. "$(dirname "$0")/common.sh"

# wall seconds of CMD appended to $WORK/t.NAME (no process around it)
wall() {
	local name=$1 t0
	shift
	t0=$EPOCHREALTIME
	"$@" >/dev/null 2>"$WORK/cmd.err" || { echo "$name failed: $(cat "$WORK/cmd.err")" >&2; exit 1; }
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f\n", b - a }' >>"$WORK/t.$name"
}
layout_digest() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$1/index.json"; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
start_registry bench
make_manifests "$WORK/small"
"$NEW" push "$REG/bench/small:prod" "$WORK/small" >/dev/null
"$OLD" sync "$REG/bench/small:prod" --root "$WORK/old" --once >/dev/null
"$NEW" sync "$REG/bench/small:prod" --root "$WORK/new" --once >/dev/null
URL="http://$REG/v2/bench/small/manifests/prod"
for i in $(seq 1 "$NOOP_ROUNDS"); do
	wall noop_old "$OLD" sync "$REG/bench/small:prod" --root "$WORK/old" --once
	wall noop_new "$NEW" sync "$REG/bench/small:prod" --root "$WORK/new" --once
	wall noop_curl curl -sI -H "Accept: application/vnd.oci.image.manifest.v1+json" "$URL"
done
/usr/bin/python3 "$SRCDIR/bench/gen-tree.py" "$WORK/tree" >/dev/null
for i in $(seq 1 "$PACK_ROUNDS"); do
	rm -rf "$WORK/po" "$WORK/pn"
	set -- "$OLD" po pack_old "$NEW" pn pack_new
	[ $((i % 2)) -eq 1 ] || set -- "$NEW" pn pack_new "$OLD" po pack_old
	wall "$3" "$1" push "oci-layout:$WORK/$2:v1" "$WORK/tree" --no-progress --no-policy
	wall "$6" "$4" push "oci-layout:$WORK/$5:v1" "$WORK/tree" --no-progress --no-policy
done
[ "$(layout_digest "$WORK/po")" = "$(layout_digest "$WORK/pn")" ] && same=same || same=DIFFERENT
echo "no-op sync: old $(median <"$WORK/t.noop_old") s, new $(median <"$WORK/t.noop_new") s, curl -sI $(median <"$WORK/t.noop_curl") s (medians of $NOOP_ROUNDS)"
echo "pack (push to oci-layout:): old $(median <"$WORK/t.pack_old") s, new $(median <"$WORK/t.pack_new") s (medians of $PACK_ROUNDS); manifest digests: $same"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
