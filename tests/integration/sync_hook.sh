# sync hooks (environment, retry after failure, timeout kills the whole
# group), the lock between two syncs, and the loop (SIGHUP, SIGTERM,
# --max-failures).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

start_registry
cd "$WORK"
export T="$WORK"
src="$WORK/src"
make_manifests "$src"
REF="$REG/team/hooks:prod"
R="$WORK/root"
S="$WORK/status.json"
ok push "$REF" "$src"
d1=${OUT##*@}

step "the hook runs in the new revision with the documented environment"
ok sync "$REF" --root "$R" --once --exec 'env | grep ^OCISYNC_ | sort > "$T/env.txt"; pwd > "$T/pwd.txt"; echo out-line; echo err-line >&2'
assert_contains "$ERR" "hook: out-line"
assert_contains "$ERR" "hook[stderr]: err-line"
envs=$(cat env.txt)
assert_contains "$envs" "OCISYNC_DIGEST=$d1"
assert_contains "$envs" "OCISYNC_REF=$REG/team/hooks:prod"
assert_contains "$envs" "OCISYNC_REVISION_DIR=$R/.revisions/${d1#sha256:}"
assert_contains "$envs" "OCISYNC_PREVIOUS_DIGEST="
assert_eq "$(cat pwd.txt)" "$R/.revisions/${d1#sha256:}" "hook working directory"

step "a failing hook fails the sync and is retried next time with the digest unchanged"
echo v2 >"$src/apps/web/extra.yaml"
ok push "$REF" "$src"
d2=${OUT##*@}
expect_fail 1 "hook for $d2 failed with exit status 3" sync "$REF" --root "$R" --once --status-file "$S" \
	--exec 'echo run >> "$T/runs.txt"; echo "prev=$OCISYNC_PREVIOUS_DIGEST" >> "$T/runs.txt"; exit 3'
assert_eq "$(link_hex "$R")" "${d2#sha256:}" "the link moved (publish happened, the hook failed)"
assert_contains "$(cat "$S")" '"result": "error"'
assert_contains "$(cat "$S")" 'failed with exit status 3'
ok sync "$REF" --root "$R" --once --metrics-file "$WORK/m.prom" \
	--exec 'echo run >> "$T/runs.txt"; echo "prev=$OCISYNC_PREVIOUS_DIGEST" >> "$T/runs.txt"'
assert_eq "$OUT" "synced $d2 ($REF)"
assert_eq "$(grep -c run runs.txt)" 2 "hook runs"
assert_eq "$(grep -c "prev=$d1" runs.txt)" 2 "OCISYNC_PREVIOUS_DIGEST on the retry"
assert_contains "$(cat "$WORK/m.prom")" "ocisync_hook_failures_total{ref=\"$REF\",root=\"$R\",path=\"\"} 1"
ok sync "$REF" --root "$R" --once --exec 'echo run >> "$T/runs.txt"'
assert_eq "$OUT" "unchanged $d2"
assert_eq "$(grep -c run runs.txt)" 2 "a passed hook is not run again"

step "a hanging hook is killed at --exec-timeout with its children"
echo v3 >"$src/apps/web/extra.yaml"
ok push "$REF" "$src"
d3=${OUT##*@}
expect_fail 1 "timed out after 1 s and was killed" sync "$REF" --root "$R" --once --exec-timeout 1s \
	--exec 'sleep 1000 & echo $! > "$T/bg.pid"; echo $$ > "$T/sh.pid"; sleep 1000'
for p in $(cat bg.pid sh.pid); do
	for i in $(seq 1 50); do
		st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || true)
		[ -z "$st" ] || [ "$st" = Z ] && break
		sleep 0.1
	done
	[ -z "$st" ] || [ "$st" = Z ] || fail "hook process $p survived the timeout"
done
ok sync "$REF" --root "$R" --once --exec true
assert_eq "$OUT" "synced $d3 ($REF)"

# gone PID...: each process is gone (or a zombie) within 5 s, or the test fails.
all_gone() {
	local p i st
	for p in "$@"; do
		for i in $(seq 1 50); do
			st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || true)
			[ -z "$st" ] || [ "$st" = Z ] && break
			sleep 0.1
		done
		[ -z "$st" ] || [ "$st" = Z ] || fail "process $p survived"
	done
}

step "a SIGKILLed sync takes its hook's whole process group with it"
K="$WORK/killroot"
"$OCISYNC" sync "$REF" --root "$K" --once --exec 'sleep 1000 & echo $! > "$T/kbg.pid"; echo $$ > "$T/ksh.pid"; sleep 1000' \
	>/dev/null 2>&1 &
pk=$!
for i in $(seq 1 100); do [ -s kbg.pid ] && [ -s ksh.pid ] && break; sleep 0.1; done
[ -s kbg.pid ] || fail "the hook never started"
kill -KILL "$pk"
wait "$pk" 2>/dev/null || true
all_gone $(cat kbg.pid ksh.pid)

step "a sync ends a hook group its dead predecessor recorded in ROOT/.hook (and only that group)"
setsid sleep 1000 &
orphan=$!
_pids+=("$orphan")
setsid sleep 1000 &
other=$!
_pids+=("$other")
for i in $(seq 1 50); do [ "$(awk '{print $5}' "/proc/$other/stat" 2>/dev/null)" = "$other" ] && break; sleep 0.1; done
start=$(awk '{print $22}' "/proc/$orphan/stat")
echo "$orphan $start" >"$K/.hook"
ok sync "$REF" --root "$K" --once --exec true
assert_contains "$ERR" "a hook started by a sync that died is still running (process group $orphan): killing it"
all_gone "$orphan"
[ ! -e "$K/.hook" ] || fail "the record was left behind"
# the same pid with another start time is a reused pid: not ours, not killed
start=$(awk '{print $22}' "/proc/$other/stat")
echo "$other $((start + 1))" >"$K/.hook"
ok sync "$REF" --root "$K" --once --exec true
assert_not_contains "$ERR" "killing it"
[ -d "/proc/$other" ] || fail "an unrelated process group was killed"
[ ! -e "$K/.hook" ] || fail "the stale record was left behind"
kill "$other"

step "two syncs started together on one root: one works, the other gets the lock message"
L="$WORK/lockroot"
set +e
"$OCISYNC" sync "$REF" --root "$L" --once --exec 'sleep 2' --status-file "$WORK/a.status" >"$WORK/a.out" 2>"$WORK/a.err" &
pa=$!
"$OCISYNC" sync "$REF" --root "$L" --once --exec 'sleep 2' --status-file "$WORK/b.status" >"$WORK/b.out" 2>"$WORK/b.err" &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
set -e
assert_eq "$(printf '%s\n' $ra $rb | sort | tr '\n' ' ')" "0 1 " "exit codes of the two syncs"
lost=$(cat "$WORK/a.err" "$WORK/b.err")
assert_contains "$lost" "another ocisync sync holds $L/.lock"
assert_eq "$(cat "$WORK/a.out" "$WORK/b.out")" "synced $d3 ($REF)" "one sync published"
assert_eq "$(ls "$WORK"/*.status | wc -l)" 1 "status files (the locked-out sync writes none)"
check_link "$L"

step "loop: SIGHUP syncs now, SIGTERM between steps exits 0"
LP="$WORK/looproot"
"$OCISYNC" sync "$REF" --root "$LP" --interval 1h --status-file "$WORK/loop.json" >"$WORK/loop.out" 2>"$WORK/loop.err" &
lp=$!
_pids+=("$lp")
wait_for() { # file pattern
	local i
	for i in $(seq 1 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$1 never showed '$2': $(cat "$1" 2>/dev/null)"
}
wait_for "$WORK/loop.out" "synced $d3"
echo v4 >"$src/apps/web/extra.yaml"
ok push "$REF" "$src"
d4=${OUT##*@}
kill -HUP "$lp"
wait_for "$WORK/loop.out" "synced $d4"
kill -TERM "$lp"
set +e
wait "$lp"
rc=$?
set -e
assert_eq "$rc" 0 "loop exit code after SIGTERM"
assert_eq "$(link_hex "$LP")" "${d4#sha256:}"
check_link "$LP"

step "loop: a first Ctrl-C (SIGINT) during a hook lets the step finish, exit 0"
echo v5 >"$src/apps/web/extra.yaml"
ok push "$REF" "$src"
d5=${OUT##*@}
"$OCISYNC" sync "$REF" --root "$LP" --interval 1h --exec 'touch "$T/hook-started"; sleep 1; touch "$T/hook-done"' \
	>"$WORK/loop2.out" 2>"$WORK/loop2.err" &
lp=$!
_pids+=("$lp")
for i in $(seq 1 100); do [ -e hook-started ] && break; sleep 0.1; done
kill -INT "$lp"
set +e
wait "$lp"
rc=$?
set -e
assert_eq "$rc" 0 "exit code"
[ -e hook-done ] || fail "a first Ctrl-C cut the hook short"
assert_contains "$(cat "$WORK/loop2.out")" "synced $d5"

step "loop: SIGTERM during a hook stops it: SIGTERM to its group, SIGKILL after --exec-grace, exit 143"
echo v6 >"$src/apps/web/extra.yaml"
ok push "$REF" "$src"
d6=${OUT##*@}
rm -f hook-started hook-done
"$OCISYNC" sync "$REF" --root "$LP" --interval 1h --exec-grace 1s --status-file "$WORK/loop3.json" \
	--exec 'touch "$T/hook-started"; trap "echo got-term >> \"\$T/hook-term\"" TERM; sleep 60 & wait; sleep 60 & wait; touch "$T/hook-done"' \
	>"$WORK/loop3.out" 2>"$WORK/loop3.err" &
lp=$!
_pids+=("$lp")
for i in $(seq 1 100); do [ -e hook-started ] && break; sleep 0.1; done
t0=$(date +%s%N)
kill -TERM "$lp"
set +e
wait "$lp"
rc=$?
set -e
took=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "sync stopped ${took} ms after SIGTERM (hook ignoring it, --exec-grace 1s)" >&2
assert_eq "$rc" 143 "exit code after SIGTERM"
# a bound, not a benchmark: 1 s of grace, and slack for a loaded machine
[ "$took" -lt 6000 ] || fail "sync took ${took} ms to stop"
[ -e hook-term ] || fail "the hook never got SIGTERM"
[ ! -e hook-done ] || fail "the hook ran to its end"
assert_contains "$(cat "$WORK/loop3.err")" "interrupted: the hook for $d6 was stopped"
assert_contains "$(cat "$WORK/loop3.json")" '"result": "interrupted"'
# the revision was complete when the link moved; its hook runs again next time
assert_eq "$(link_hex "$LP")" "${d6#sha256:}"
check_link "$LP"
ok sync "$REF" --root "$LP" --once --exec 'touch "$T/hook-rerun"'
assert_eq "$OUT" "synced $d6 ($REF)"
[ -e hook-rerun ] || fail "the interrupted hook was not run again"

step "loop: --max-failures N exits 1 after N failures in a row"
expect_fail 1 "ocisync sync: --max-failures: 2 syncs failed in a row, as many as allowed; last: " sync "$REG/team/hooks:missing" --root "$WORK/failroot" --interval 1s --max-failures 2
assert_eq "$(grep -c 'missing' <<<"$ERR")" 3 "two step errors and the final message"
echo "sync_hook: ok"
