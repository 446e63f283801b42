#!/bin/bash
# Token auth: the registry (auth: token) sends clients to tests/tokenserver.py.
# Anonymous access is refused with a login hint, a wrong password is named,
# alice (pull,push) works, reader (pull only) gets a clear refusal on push,
# one token serves every request of a command, identity tokens go through the
# OAuth2 POST and fall back to GET where the service has no OAuth2.
. "$(dirname "$0")/lib.sh"

PW='Alice-T0ken-pw'
RPW='Reader-T0ken-pw'
IDT='idtok-alice-9f8e7d'
printf 'alice:%s:pull,push\nreader:%s:pull\n' "$PW" "$RPW" >"$WORK/users"
printf '%s:alice\n' "$IDT" >"$WORK/refresh"
start_registry_token reg --users "$WORK/users" --refresh "$WORK/refresh"
make_oci_image "$WORK/img" v1 >/dev/null
skopeo copy --quiet --dest-creds "alice:$PW" --dest-tls-verify=false "oci:$WORK/img:v1" "docker://$REG/team/app:v1"
DIGEST=$(skopeo inspect --format '{{.Digest}}' --tls-verify=false --creds "alice:$PW" "docker://$REG/team/app:v1")
CONFIG="$HOME/.docker/config.json"

no_secret() {
	assert_not_contains "$OUT$ERR" "$PW" "$1"
	assert_not_contains "$OUT$ERR" "$RPW" "$1"
	assert_not_contains "$OUT$ERR" "$IDT" "$1"
	assert_not_contains "$OUT$ERR" "eyJ" "$1 (a JWT)"
}

step "anonymous: refused with a login hint"
expect_fail 1 "registry $REG requires authentication: run 'ocisync login $REG'" resolve "$REG/team/app:v1"

step "wrong password: named, nothing stored"
run login "$REG" -u alice --password-stdin <<<"wrong-password"
[ "$RC" -eq 1 ] || fail "exit $RC: $ERR"
assert_contains "$ERR" "login to $REG failed: $REG: authentication failed for user alice (401 from token service 127.0.0.1:$TOKEN_PORT)"
[ ! -e "$CONFIG" ] || fail "a failed login wrote $CONFIG"

step "login and use"
run -v login "$REG" -u alice --password-stdin <<<"$PW"
[ "$RC" -eq 0 ] || fail "login exited $RC: $ERR"
assert_eq "$OUT" "Login succeeded: $REG"
no_secret "login -v"
run -v resolve "$REG/team/app:v1"
[ "$RC" -eq 0 ] || fail "resolve exited $RC: $ERR"
assert_eq "$OUT" "$DIGEST"
no_secret "resolve -v"

step "one token per scope per process"
before=$(token_requests 'GET alice repository:team/app:pull$')
run -v pull "$REG/team/app:v1" "$WORK/pulled1"
[ "$RC" -eq 0 ] || fail "pull exited $RC: $ERR"
no_secret "pull -v"
assert_eq "$(cat "$WORK/pulled1/hello.txt")" "hello from v1"
after=$(token_requests 'GET alice repository:team/app:pull$')
assert_eq "$((after - before))" 1 "token requests for one pull (manifest and blobs)"

step "push round trip with alice"
make_manifests "$WORK/src"
before=$(token_requests 'GET alice repository:team/app:pull,push$')
ok push "$REG/team/app:v2" "$WORK/src"
after=$(token_requests 'GET alice repository:team/app:pull,push$')
assert_eq "$((after - before))" 1 "push tokens for one push (every blob, parallel workers included)"
ok pull "$REG/team/app:v2" "$WORK/pulled2"
same_tree "$WORK/src" "$WORK/pulled2"

step "a copy within the registry: the mount token also serves the plain push"
ok copy "$REG/team/app:v2" "$REG/team/other:v2"
assert_eq "$(token_requests 'GET alice repository:team/other:pull,push repository:team/app:pull$')" 1 "mount tokens"
assert_eq "$(token_requests 'GET alice repository:team/other:pull,push$')" 0 "separate push tokens"
ok pull "$REG/team/other:v2" "$WORK/pulled3"
same_tree "$WORK/src" "$WORK/pulled3"

step "reader may pull but not push"
RCFG="$WORK/reader.json"
run --registry-config "$RCFG" login "$REG" -u reader --password-stdin <<<"$RPW"
[ "$RC" -eq 0 ] || fail "reader login exited $RC: $ERR"
ok --registry-config "$RCFG" resolve "$REG/team/app:v1"
assert_eq "$OUT" "$DIGEST"
run -v --registry-config "$RCFG" push "$REG/team/app:v3" "$WORK/src"
[ "$RC" -eq 1 ] || fail "reader push exited $RC: $ERR"
assert_contains "$ERR" "registry $REG refused push access to repository team/app for user reader (the token service granted: pull)"
no_secret "refused push"
ok tags "$REG/team/app"
assert_not_contains "$OUT" "v3" "tags after the refused push"

step "identity token: OAuth2 refresh-token POST"
ICFG="$WORK/identity.json"
printf '{"auths":{"%s":{"auth":"%s","identitytoken":"%s"}}}' "$REG" "$(printf '<token>:' | base64)" "$IDT" >"$ICFG"
run -v --registry-config "$ICFG" resolve "$REG/team/app:v1"
[ "$RC" -eq 0 ] || fail "resolve with an identity token exited $RC: $ERR"
assert_eq "$OUT" "$DIGEST"
no_secret "identity token -v"
assert_eq "$(token_requests 'POST refresh_token alice repository:team/app:pull$')" 1 "OAuth2 POSTs"

step "identity token: GET fallback when the service has no OAuth2 (404)"
TOKEN_NAME=tok2 start_registry_token reg2 --users "$WORK/users" --refresh "$WORK/refresh" --no-oauth
skopeo copy --quiet --dest-creds "alice:$PW" --dest-tls-verify=false "oci:$WORK/img:v1" "docker://$REG/team/app:v1"
printf '{"auths":{"%s":{"auth":"%s","identitytoken":"%s"}}}' "$REG" "$(printf '<token>:' | base64)" "$IDT" >"$ICFG"
run --registry-config "$ICFG" resolve "$REG/team/app:v1"
[ "$RC" -eq 0 ] || fail "resolve with the GET fallback exited $RC: $ERR"
assert_eq "$(token_requests 'POST 404')" 1 "refused OAuth2 POSTs"
assert_eq "$(token_requests 'GET alice repository:team/app:pull$')" 1 "fallback GETs"

step "an unreachable token service is named"
kill "$TOKEN_PID"
wait "$TOKEN_PID" 2>/dev/null || true
expect_fail 1 "cannot reach the token service at 127.0.0.1:$TOKEN_PORT" --registry-config "$ICFG" resolve "$REG/team/app:v1"

step "an oversized token answer is refused"
TOKEN_NAME=tok3 start_registry_token reg3 --users "$WORK/users" --oversize
expect_fail 1 "token service at 127.0.0.1:$TOKEN_PORT answered with more than 1048576 bytes" resolve "$REG/team/app:v1"
echo "auth_token: ok"
