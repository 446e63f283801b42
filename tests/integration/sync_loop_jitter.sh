#!/bin/bash
# sync --jitter: its values (usage errors exit 2), and a loop with the widest
# spread keeps syncing (the spread itself is tested in tests/unit/test_sync_jitter.c).
. "$(dirname "$0")/lib.sh"

start_registry reg
make_manifests "$WORK/tree"
ok push "$REG/team/app:v1" "$WORK/tree"

step "usage errors"
expect_fail 2 "--jitter takes a percentage from 0 to 50 (like 10 or 10%), not '51'" sync "$REG/team/app:v1" --root "$WORK/r" --jitter 51
expect_fail 2 "not '-1'" sync "$REG/team/app:v1" --root "$WORK/r" --jitter -1
expect_fail 2 "not '10%%'" sync "$REG/team/app:v1" --root "$WORK/r" --jitter 10%%
expect_fail 2 "not ''" sync "$REG/team/app:v1" --root "$WORK/r" --jitter ""
expect_fail 2 "it does not apply to --once" sync "$REG/team/app:v1" --root "$WORK/r" --once --jitter 10
[ ! -e "$WORK/r" ] || fail "a refused sync made its root"
ok sync --help
assert_contains "$OUT" "--jitter PERCENT"

step "a loop with --jitter 50% keeps syncing"
"$OCISYNC" sync "$REG/team/app:v1" --root "$WORK/r" --interval 200ms --jitter 50% \
	--status-file "$WORK/status.json" --metrics-file "$WORK/metrics.prom" >"$WORK/loop.out" 2>"$WORK/loop.err" &
LOOP=$!
_pids+=("$LOOP")
for _ in $(seq 1 300); do
	n=$(sed -n 's/^ocisync_sync_total{.*result="unchanged".*} \([0-9]*\)$/\1/p' "$WORK/metrics.prom" 2>/dev/null || true)
	[ "${n:-0}" -ge 3 ] && break
	sleep 0.1
done
[ "${n:-0}" -ge 3 ] || fail "the loop with --jitter did not sync again: $(cat "$WORK/loop.err")"
kill -TERM "$LOOP"
wait "$LOOP" || fail "the loop exited $? after SIGTERM between syncs"
assert_contains "$(cat "$WORK/loop.out")" "synced sha256:"
