#!/bin/bash
# A no-op sync against a password-protected registry is one request: the
# state remembers that the registry asked for Basic credentials (its host
# and the scheme, never a secret), and the next run sends them up front
# instead of trying anonymously, taking the 401 and checking the password.
# Without that memory (the state's "auth" removed) the same sync costs 3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

PW='Sync-basic-Pw-7'
B64=$(printf 'alice:%s' "$PW" | base64)
start_registry_basic reg "alice:$PW"
run login "$REG" -u alice --password-stdin <<<"$PW"
[ "$RC" -eq 0 ] || fail "login exited $RC: $ERR"
make_manifests "$WORK/src"
REF="$REG/team/app:v1"
R="$WORK/root"
ok push "$REF" "$WORK/src"

step "the first sync learns the scheme; the state holds no secret"
ok sync "$REF" --root "$R" --once
assert_contains "$OUT" "synced"
/usr/bin/python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["auth"]; assert a=={"host":sys.argv[2],"scheme":"basic"}, a' \
	"$R/.state.json" "$REG" || fail "state auth: $(cat "$R/.state.json")"
assert_not_contains "$(cat "$R/.state.json")" "$PW" "state file"
assert_not_contains "$(cat "$R/.state.json")" "$B64" "state file"
assert_not_contains "$(cat "$R/.state.json")" "alice" "state file"

step "a no-op sync is one request, with the credentials"
reg_mark a
ok sync "$REF" --root "$R" --once
reg_mark b
assert_contains "$OUT" "unchanged"
assert_eq "$(requests_between a b)" "HEAD /v2/team/app/manifests/v1" "requests of a no-op sync"
grep -q '"auth"' "$R/.state.json" || fail "the state lost its auth entry"

step "without the remembered scheme: anonymous try, 401, check, retry"
/usr/bin/python3 -c 'import json,sys; p=sys.argv[1]; s=json.load(open(p)); s["auth"]=None; json.dump(s,open(p,"w"))' "$R/.state.json"
reg_mark c
ok sync "$REF" --root "$R" --once
reg_mark d
assert_eq "$(requests_between c d)" "HEAD /v2/team/app/manifests/v1
GET /v2/
HEAD /v2/team/app/manifests/v1" "requests of a no-op sync without the remembered scheme"
/usr/bin/python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["auth"]; assert a["scheme"]=="basic", a' \
	"$R/.state.json" || fail "the scheme was not learnt again"

step "a remembered scheme with a changed password: named as before"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG" "$(printf 'alice:stale' | base64)" >"$HOME/.docker/config.json"
expect_fail 1 "$REG: authentication failed for user alice (401 from registry)" sync "$REF" --root "$R" --once
echo "sync_auth: ok"
