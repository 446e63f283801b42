# Every wait bounded: a registry dripping the layer at 3 bytes/s (above
# libcurl's low-speed limit) used to keep sync --once running for days,
# holding the lock. Now --timeout ends it (status error, kind "timeout"),
# the lock is released and the next run proceeds; --min-speed fails a
# transfer slower than SIZE per window; the loop's deadline is per sync.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"
cd "$WORK"

start_registry reg
make_manifests "$WORK/tree"
ok push "$REG/team/app:v1" "$WORK/tree"
DRIP='{"method":"GET","path":"/blobs/sha256:","mode":"drip","rate":3'

step "sync --once against a dripping registry: ends at --timeout with a timeout status"
start_proxy "[$DRIP,\"count\":1}]"
expect_fail 1 "timeout: registry $PROXY: blob sha256:" \
	sync "$PROXY/team/app:v1" --root "$WORK/root" --once --timeout 3s --status-file "$WORK/status.json"
assert_contains "$ERR" "was not done within the 3 s timeout; gave up; raise --timeout if it needs longer"
/usr/bin/python3 - "$WORK/status.json" <<'PY' || fail "status file after a timeout"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["result"] == "error", s
assert s["error_kind"] == "timeout", s
# the library's words (no flag) and the hint's name, for an operator
assert s["error"].endswith("was not done within the 3 s timeout; gave up"), s
assert s["hint"] == "raise_timeout", s
PY
[ ! -e "$WORK/root/current" ] || fail "published after a timeout"
assert_not_contains "$ERR" "retrying" "stderr (no retry after the deadline)"

step "the lock was released: the next run proceeds"
ok sync "$PROXY/team/app:v1" --root "$WORK/root" --once --timeout 30s --status-file "$WORK/status.json"
assert_contains "$OUT" "synced sha256:"
same_tree "$WORK/tree" "$WORK/root/current"
/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["result"]=="synced" and s["error_kind"] is None and s["hint"] is None, s' \
	"$WORK/status.json" || fail "status after the next run"
assert_eq "$(find "$WORK/root" -maxdepth 2 -name '.*ocisync*' -o -maxdepth 2 -name '*.tmp*' | wc -l)" 0 "temporaries after the runs"

step "pull --timeout"
start_proxy "[$DRIP,\"count\":100}]"
expect_fail 1 "was not done within the 2 s timeout; gave up; raise --timeout if it needs longer" pull --timeout 2s "$PROXY/team/app:v1" "$WORK/p1"
[ ! -e "$WORK/p1" ] || fail "published"
assert_eq "$(find "$WORK" -maxdepth 1 -name '.p1.ocisync*' | wc -l)" 0 "temporaries beside the destination"

step "--min-speed: a transfer under SIZE per window fails, after its retries"
expect_fail 1 "fewer than 1024 bytes moved in 1 s (the minimum speed) (gave up after 5 attempts)" \
	pull --min-speed 1K/1s "$PROXY/team/app:v1" "$WORK/p2" 2>/dev/null
assert_contains "$ERR" "blob sha256:"
[ ! -e "$WORK/p2" ] || fail "published"

step "a layout whose index lock another process holds: bounded by --timeout"
ok push "oci-layout:$WORK/store:v1" "$WORK/tree"
/usr/bin/python3 -c 'import fcntl, sys, time; f = open(sys.argv[1], "a"); fcntl.flock(f, fcntl.LOCK_EX); time.sleep(60)' \
	"$WORK/store/.ocisync.lock" </dev/null >/dev/null 2>&1 &
holder=$!
_pids+=("$holder")
for _ in $(seq 1 100); do
	flock -n "$WORK/store/.ocisync.lock" true 2>/dev/null || break
	sleep 0.05
done
expect_fail 1 "timeout: oci-layout:$WORK/store: another process held its index lock past the deadline; gave up; raise --timeout if it needs longer" \
	--timeout 1s tag "oci-layout:$WORK/store:v1" v9
kill "$holder"
wait "$holder" 2>/dev/null || true
ok tag "oci-layout:$WORK/store:v1" v9

step "the hook is bounded by the sync's deadline too"
expect_fail 1 "timed out after" sync "oci-layout:$WORK/store:v1" --root "$WORK/root3" --once --timeout 2s \
	--exec 'sleep 60' --exec-timeout 10m --status-file "$WORK/status3.json"
/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["hook"]["timed_out"] is True, s' \
	"$WORK/status3.json" || fail "status after a hook past the deadline"

step "bad values are usage errors"
expect_fail 2 "--timeout takes a duration" pull --timeout soon "$PROXY/team/app:v1" "$WORK/p3"
expect_fail 2 "--min-speed takes SIZE/DURATION (like 64K/60s): '10K' needs the form SIZE/DURATION" pull --min-speed 10K "$PROXY/team/app:v1" "$WORK/p3"
expect_fail 2 "needs a window of at least 1s" pull --min-speed 10K/10ms "$PROXY/team/app:v1" "$WORK/p3"

step "the loop: the deadline is per sync; a stalled step ends, the next one syncs"
start_proxy "[$DRIP,\"count\":1}]"
"$OCISYNC" sync "$PROXY/team/app:v1" --root "$WORK/root2" --interval 1s --timeout 2s >"$WORK/loop.out" 2>"$WORK/loop.err" &
loop=$!
_pids+=("$loop")
for _ in $(seq 1 300); do
	grep -q '^synced ' "$WORK/loop.out" && break
	kill -0 "$loop" 2>/dev/null || fail "the loop exited: $(cat "$WORK/loop.err")"
	sleep 0.1
done
grep -q '^synced ' "$WORK/loop.out" || fail "the loop never synced: $(cat "$WORK/loop.err")"
kill -TERM "$loop"
wait "$loop" || fail "the loop did not exit 0 on SIGTERM"
assert_contains "$(cat "$WORK/loop.err")" "was not done within the 2 s timeout; gave up; raise --timeout if it needs longer"
same_tree "$WORK/tree" "$WORK/root2/current"
echo ok
