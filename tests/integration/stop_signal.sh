# Stopping is quick and clean (issue 9, item 9): SIGTERM (or a second
# Ctrl-C) in the middle of a download, an upload or a hook ends ocisync
# within a couple of seconds, exit 128+signal, "interrupted" in the message
# and the sync status, nothing half published. The bound asserted is
# generous (a loaded machine); the measured time is printed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"
. "$(dirname "$0")/sync_lib.sh"
cd "$WORK"
export TMPDIR="$WORK/tmp"
export T="$WORK"
mkdir -p "$TMPDIR" dl

start_registry
make_manifests "$WORK/tree"
ok push "$REG/team/app:v1" "$WORK/tree"
d1=${OUT##*@}
echo v2 >"$WORK/tree/more.yaml"
ok push "$REG/team/app:v2" "$WORK/tree"
d2=${OUT##*@}

BOUND_MS=5000 # the goal is 2 s; slack for a loaded machine

# start_bg ocisync-args...: runs ocisync in the background (BG_PID).
start_bg() {
	[ -z "${PROXY_LOG:-}" ] || : >"$PROXY_LOG" # only this run's requests are waited for
	"$OCISYNC" "$@" >"$WORK/bg.out" 2>"$WORK/bg.err" &
	BG_PID=$!
	_pids+=("$BG_PID")
}
# wait_log PATTERN FILE: until FILE shows PATTERN (10 s at most), while BG_PID runs.
wait_log() {
	local i
	for i in $(seq 1 200); do
		grep -q -- "$1" "$2" 2>/dev/null && return 0
		kill -0 "$BG_PID" 2>/dev/null || fail "ocisync ended before the signal: $(cat "$WORK/bg.err")"
		sleep 0.05
	done
	fail "never saw '$1' in $2"
}
# stop_bg SIGNAL WHAT: sends SIGNAL, waits; STOP_RC, STOP_MS.
stop_bg() { stop_and_wait "$BG_PID" "$1" "$2" "$BOUND_MS"; }
ours() { find "$TMPDIR" "$WORK/dl" \( -name '*ocisync*' -o -name '*.tmp*' \) 2>/dev/null | sort; }

step "pull: SIGTERM mid-download (a dripping registry) aborts the transfer, exit 143, nothing written"
start_proxy '[{"method":"GET","path":"/blobs/sha256:","mode":"drip","rate":3,"count":100}]'
start_bg pull "$PROXY/team/app:v1" "$WORK/dl/out"
wait_log "/manifests/" "$PROXY_LOG"
sleep 1
stop_bg TERM pull
assert_eq "$STOP_RC" 143 "pull exit code"
assert_contains "$(cat "$WORK/bg.err")" "interrupted"
[ ! -e "$WORK/dl/out" ] || fail "the interrupted pull left its destination"
assert_eq "$(ours)" "" "temporaries after an interrupted pull"

step "push: SIGTERM while the registry stalls an upload, exit 143, the tag not created"
start_proxy '[{"method":"POST","path":"/blobs/uploads/","mode":"stall","seconds":30,"count":100}]'
echo v3 >"$WORK/tree/more.yaml"
start_bg push "$PROXY/team/app:v3" "$WORK/tree"
wait_log "fault=stall" "$PROXY_LOG"
stop_bg TERM push
assert_eq "$STOP_RC" 143 "push exit code"
assert_contains "$(cat "$WORK/bg.err")" "interrupted"
expect_fail 1 "" resolve "$REG/team/app:v3"
assert_eq "$(ours)" "" "temporaries after an interrupted push"

step "sync --once: SIGTERM mid-download: exit 143, status 'interrupted', the link unchanged"
R="$WORK/root"
ok sync "$REG/team/app:v1" --root "$R" --once
start_proxy '[{"method":"GET","path":"/blobs/sha256:","mode":"stall","seconds":30,"count":100}]'
start_bg sync "$PROXY/team/app:v2" --root "$R" --once --status-file "$WORK/s.json" --metrics-file "$WORK/m.prom"
wait_log "fault=stall" "$PROXY_LOG"
stop_bg TERM "sync --once"
assert_eq "$STOP_RC" 143 "sync --once exit code"
assert_contains "$(cat "$WORK/bg.err")" "interrupted"
assert_eq "$(link_hex "$R")" "${d1#sha256:}" "the link still names the old revision"
check_link "$R"
assert_contains "$(cat "$WORK/s.json")" '"result": "interrupted"'
assert_contains "$(cat "$WORK/m.prom")" ',result="interrupted"} 1'
[ -z "$(ls "$R/.revisions" | grep -v "^${d1#sha256:}")" ] || fail "half a revision left: $(ls "$R/.revisions")"

step "sync loop: SIGTERM mid-download stops at once, exit 143"
start_bg sync "$PROXY/team/app:v2" --root "$R" --interval 1h -o json
wait_log "fault=stall" "$PROXY_LOG"
sleep 0.5
stop_bg TERM "sync loop"
assert_eq "$STOP_RC" 143 "sync loop exit code"
assert_contains "$(cat "$WORK/bg.out")" '"result":"interrupted"'
assert_eq "$(link_hex "$R")" "${d1#sha256:}"

step "sync --once: a first Ctrl-C lets the download go on; a second one stops it, exit 130"
start_bg sync "$PROXY/team/app:v2" --root "$R" --once
wait_log "fault=stall" "$PROXY_LOG"
kill -INT "$BG_PID"
sleep 1.5
kill -0 "$BG_PID" 2>/dev/null || fail "a first Ctrl-C stopped the sync: $(cat "$WORK/bg.err")"
stop_bg INT "sync --once (second Ctrl-C)"
assert_eq "$STOP_RC" 130 "exit code after a second Ctrl-C"
assert_eq "$(link_hex "$R")" "${d1#sha256:}"

step "sync --once: SIGTERM mid-hook: the hook's group gets SIGTERM, then SIGKILL after --exec-grace"
start_bg sync "$REG/team/app:v2" --root "$R" --once --exec-grace 500ms --status-file "$WORK/s.json" \
	--exec 'trap "" TERM; echo started > "$T/hook.log"; sleep 60; echo done >> "$T/hook.log"'
wait_log started "$WORK/hook.log"
stop_bg TERM "sync --once (hook ignoring SIGTERM)"
assert_eq "$STOP_RC" 143 "exit code"
assert_contains "$(cat "$WORK/bg.err")" "interrupted: the hook for $d2 was stopped"
assert_contains "$(cat "$WORK/bg.err")" "still alive 500 ms after SIGTERM: killed"
assert_eq "$(cat "$WORK/hook.log")" "started" "the hook did not run to its end"
assert_eq "$(link_hex "$R")" "${d2#sha256:}" "the complete revision stays published"
assert_contains "$(cat "$WORK/s.json")" '"result": "interrupted"'

step "--exec-grace takes a duration"
expect_fail 2 "--exec-grace takes a duration like 10s or 500ms: 'soon'" sync "$REG/team/app:v2" --root "$R" --once --exec-grace soon
echo "stop_signal: ok"
