#!/bin/bash
# A credential helper that hangs (or whose child holds its stdout) cannot
# block ocisync: resolve and sync --once fail at the helper deadline
# (OCISYNC_CREDENTIAL_HELPER_TIMEOUT), a sync loop stops on SIGTERM while
# it waits for a helper, and nothing the helper started survives.
. "$(dirname "$0")/lib.sh"

PW='deadline-pW'
start_registry_basic reg "alice:$PW"
make_manifests "$WORK/src"
mkdir -p "$WORK/bin"
export PATH="$WORK/bin:$PATH"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG" "$(printf 'alice:%s' "$PW" | base64)" >"$WORK/push.json"
ok --registry-config "$WORK/push.json" push "$REG/team/app:v1" "$WORK/src"
printf '{"credHelpers":{"%s":"hang"}}\n' "$REG" >"$WORK/hang.json"
cat >"$WORK/bin/docker-credential-hang" <<SH
#!/bin/sh
sleep 1000 &
echo \$! > "$WORK/helper.pid"
echo \$\$ >> "$WORK/helper.pid"
wait
SH
chmod 755 "$WORK/bin/docker-credential-hang"

# gone PID...: each process is gone (or a zombie) within 5 s
all_gone() {
	local p i st
	for p in "$@"; do
		for i in $(seq 1 50); do
			st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || true)
			[ -z "$st" ] || [ "$st" = Z ] && break
			sleep 0.1
		done
		[ -z "$st" ] || [ "$st" = Z ] || fail "helper process $p survived"
	done
}

step "resolve and sync --once fail at the helper deadline, the helper's group killed"
export OCISYNC_CREDENTIAL_HELPER_TIMEOUT=1
expect_fail 1 "credential helper docker-credential-hang did not finish within 1 s and was killed (OCISYNC_CREDENTIAL_HELPER_TIMEOUT sets the limit)" \
	--registry-config "$WORK/hang.json" resolve "$REG/team/app:v1"
all_gone $(cat "$WORK/helper.pid")
rm -f "$WORK/helper.pid"
expect_fail 1 "did not finish within 1 s" --registry-config "$WORK/hang.json" sync "$REG/team/app:v1" --root "$WORK/root" --once
all_gone $(cat "$WORK/helper.pid")
export OCISYNC_CREDENTIAL_HELPER_TIMEOUT=0
expect_fail 1 "OCISYNC_CREDENTIAL_HELPER_TIMEOUT must be a whole number of seconds between 1 and 86400, not '0'" \
	--registry-config "$WORK/hang.json" resolve "$REG/team/app:v1"
unset OCISYNC_CREDENTIAL_HELPER_TIMEOUT

step "a sync loop waiting for a hung helper stops on SIGTERM, and the helper with it"
rm -f "$WORK/helper.pid"
"$OCISYNC" --registry-config "$WORK/hang.json" sync "$REG/team/app:v1" --root "$WORK/root" --interval 1h \
	>"$WORK/loop.out" 2>"$WORK/loop.err" &
lp=$!
_pids+=("$lp")
for i in $(seq 1 100); do [ -s "$WORK/helper.pid" ] && break; sleep 0.1; done
[ -s "$WORK/helper.pid" ] || fail "the helper never ran"
kill -TERM "$lp"
for i in $(seq 1 100); do kill -0 "$lp" 2>/dev/null || break; sleep 0.1; done
kill -0 "$lp" 2>/dev/null && fail "sync ignored SIGTERM while waiting for the helper"
set +e
wait "$lp"
rc=$?
set -e
assert_eq "$rc" 143 "exit code of a sync stopped by SIGTERM in the middle of a step"
assert_contains "$(cat "$WORK/loop.err")" "credential helper docker-credential-hang was stopped: ocisync received a signal to stop"
all_gone $(cat "$WORK/helper.pid")
echo "helper_deadline: ok"
