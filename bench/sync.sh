#!/bin/bash
# sync benchmark (issue 5), against a local docker-registry, interleaved in
# one run:
#   noop  `ocisync sync --once` when nothing changed (process start included)
#         vs one `curl -sI` of the same manifest        (target <= 1.2x)
#   incr  a sync after a one-file change of bench/gen-tree.py's 10,000-file
#         artifact vs a fresh full sync of it           (target <= 0.10x)
#         and vs `cp -al` of the published tree (the floor on ext4: one
#         mkdir per directory, one link per file)
#   steady the third sync after a fresh root (a then b then c, each a
#         one-file change, default --keep 2): the revision it would prune
#         (a) is recycled in place into c -- what every sync of a running
#         node does -- vs the same fresh full sync (target <= 0.10x)
# Each round runs both sides (alternating who goes first); wall time is
# taken with bash's EPOCHREALTIME (no extra process around the command).
# The report gives medians and ratios.
#
# usage: bench/sync.sh [NOOP_ROUNDS] [TREE_ROUNDS]
#        (OCISYNC=path/to/ocisync, default build/cli/ocisync)
set -euo pipefail
NOOP_ROUNDS=${1:-31}
TREE_ROUNDS=${2:-5}
. "$(dirname "$0")/common.sh"

# timed NAME CMD...: wall seconds appended to $WORK/t.NAME.
timed() {
	local name=$1 t0 t1
	shift
	t0=$EPOCHREALTIME
	"$@" >"$WORK/last.out" 2>"$WORK/cmd.err" || { echo "$name failed: $(cat "$WORK/cmd.err")" >&2; exit 1; }
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' >>"$WORK/t.$name"
}

start_registry bench
echo "registry $REG, ocisync $OCISYNC" >&2

# --- no-op sync vs one HEAD -------------------------------------------------
small="$WORK/small"
make_manifests "$small"
"$OCISYNC" push "$REG/bench/small:prod" "$small" >/dev/null
"$OCISYNC" sync "$REG/bench/small:prod" --root "$WORK/noop" --once >/dev/null
ACCEPT='application/vnd.oci.image.manifest.v1+json'
URL="http://$REG/v2/bench/small/manifests/prod"
for i in $(seq 1 "$NOOP_ROUNDS"); do
	if [ $((i % 2)) -eq 1 ]; then
		timed noop_sync "$OCISYNC" sync "$REG/bench/small:prod" --root "$WORK/noop" --once
		timed noop_curl curl -sI -H "Accept: $ACCEPT" "$URL"
	else
		timed noop_curl curl -sI -H "Accept: $ACCEPT" "$URL"
		timed noop_sync "$OCISYNC" sync "$REG/bench/small:prod" --root "$WORK/noop" --once
	fi
done
grep -q '^unchanged' <("$OCISYNC" sync "$REG/bench/small:prod" --root "$WORK/noop" --once) ||
	{ echo "the no-op sync was not a no-op" >&2; exit 1; }

# --- one-file change vs fresh full sync on 10,000 files ---------------------
/usr/bin/python3 "$SRCDIR/bench/gen-tree.py" "$WORK/tree" >/dev/null
files=$(find "$WORK/tree" -type f | wc -l)
bytes=$(du -sb "$WORK/tree" | cut -f1)
echo "tree: $files files, $bytes bytes" >&2
"$OCISYNC" push "$REG/bench/tree:a" "$WORK/tree" >/dev/null
one=$(find "$WORK/tree" -type f -name '*.yaml' | sort | sed -n 5000p)
echo "# one changed line" >>"$one"
"$OCISYNC" push "$REG/bench/tree:b" "$WORK/tree" >/dev/null
two=$(find "$WORK/tree" -type f -name '*.yaml' | sort | sed -n 2500p)
echo "# another changed line" >>"$two"
"$OCISYNC" push "$REG/bench/tree:c" "$WORK/tree" >/dev/null
stats() { /usr/bin/python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print(o["files_written"], o["files_linked"])' "$1"; }
# each round: a fresh full sync of a into an empty root, then the sync of b
# (a one-file change) into that root: the first incremental, with the
# default --keep 2 (nothing to prune yet, so a new tree of links); then c
# (one more file changed): the steady state, a recycled in place into c
for i in $(seq 1 "$TREE_ROUNDS"); do
	chmod -R u+w "$WORK/fresh" 2>/dev/null || true
	rm -rf "$WORK/fresh"
	timed tree_fresh "$OCISYNC" sync "$REG/bench/tree:a" --root "$WORK/fresh" --once
	timed tree_incr "$OCISYNC" -o json sync "$REG/bench/tree:b" --root "$WORK/fresh" --once
	cp "$WORK/last.out" "$WORK/incr.out"
	timed tree_steady "$OCISYNC" -o json sync "$REG/bench/tree:c" --root "$WORK/fresh" --once
	cp "$WORK/last.out" "$WORK/steady.out"
	grep -q "recycled revision" "$WORK/cmd.err" || { echo "the third sync recycled nothing: $(cat "$WORK/cmd.err")" >&2; exit 1; }
	rm -rf "$WORK/cpal"
	timed tree_cpal cp -al "$(readlink -f "$WORK/fresh/current")" "$WORK/cpal"
done
linked=$(stats "$WORK/incr.out")
steady_linked=$(stats "$WORK/steady.out")

ns=$(median <"$WORK/t.noop_sync")
nc=$(median <"$WORK/t.noop_curl")
ti=$(median <"$WORK/t.tree_incr")
ts=$(median <"$WORK/t.tree_steady")
tf=$(median <"$WORK/t.tree_fresh")
tc=$(median <"$WORK/t.tree_cpal")
cat <<REPORT
sync benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))
no-op sync (process start included): median ${ns}s over $NOOP_ROUNDS runs
one curl -sI of the same manifest:    median ${nc}s over $NOOP_ROUNDS runs
  ratio no-op sync / curl -sI: $(awk -v a="$ns" -v b="$nc" 'BEGIN { printf "%.2f", a / b }')x (target <= 1.2x)
first incremental after a fresh root (one-file change, $files files): median ${ti}s over $TREE_ROUNDS runs (files written/hard-linked: $linked)
fresh full sync of the same tree:     median ${tf}s over $TREE_ROUNDS runs
  ratio incremental / fresh: $(awk -v a="$ti" -v b="$tf" 'BEGIN { printf "%.3f", a / b }')x (target <= 0.10x)
cp -al of the published tree (floor):  median ${tc}s over $TREE_ROUNDS runs
  ratio incremental / cp -al: $(awk -v a="$ti" -v b="$tc" 'BEGIN { printf "%.2f", a / b }')x, cp -al / fresh: $(awk -v a="$tc" -v b="$tf" 'BEGIN { printf "%.3f", a / b }')x
steady state (third sync: a one-file change, the oldest revision recycled in place): median ${ts}s over $TREE_ROUNDS runs (files written/kept or linked: $steady_linked)
  ratio steady / fresh: $(awk -v a="$ts" -v b="$tf" 'BEGIN { printf "%.3f", a / b }')x (target <= 0.10x), steady / cp -al: $(awk -v a="$ts" -v b="$tc" 'BEGIN { printf "%.2f", a / b }')x
REPORT
