#!/bin/bash
# How the HTTP layer answers registry challenges, through tests/faultproxy.py
# in front of a registry with token auth: Basic and Bearer offered in two
# WWW-Authenticate lines (both read, Bearer used), a bearer token refused
# once (one fresh token, then success), refused twice (given up after one
# fresh token), and 403 insufficient_scope (named, no new token).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"

PW='Chall-T0ken-pw'
printf 'alice:%s:pull,push\n' "$PW" >"$WORK/users"
start_registry_token reg --users "$WORK/users"
make_oci_image "$WORK/img" v1 >/dev/null
skopeo copy --quiet --dest-creds "alice:$PW" --dest-tls-verify=false "oci:$WORK/img:v1" "docker://$REG/team/app:v1"
DIGEST=$(skopeo inspect --format '{{.Digest}}' --tls-verify=false --creds "alice:$PW" "docker://$REG/team/app:v1")

# Credentials for the proxy's host:port (what ocisync looks up).
proxy_config() {
	CFG="$WORK/config-${PROXY##*:}.json"
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$PROXY" "$(printf 'alice:%s' "$PW" | base64)" >"$CFG"
}

step "Basic and Bearer in two WWW-Authenticate lines: both read, the token used"
start_proxy '[{"mode":"extra-challenge","count":100}]' --pass-auth
proxy_config
before=$(token_requests 'GET alice repository:team/app:pull$')
ok -v --registry-config "$CFG" resolve "$PROXY/team/app:v1"
assert_eq "$OUT" "$DIGEST" "digest through the proxy"
[ "$(proxy_count 'fault=extra-challenge')" -ge 1 ] || fail "the proxy added no second challenge line"
assert_eq "$(($(token_requests 'GET alice repository:team/app:pull$') - before))" 1 "token requests"
assert_contains "$(grep 'HEAD /v2/team/app/manifests/v1' "$PROXY_LOG" | tail -1)" "-> 200 auth=yes" "the request after the challenge"

step "a pull (manifest and blob requests) through the same two-line challenges"
ok --registry-config "$CFG" pull "$PROXY/team/app:v1" "$WORK/pulled"
assert_eq "$(cat "$WORK/pulled/hello.txt")" "hello from v1"

# A Bearer challenge as the registry sends it, for the proxy to answer with.
CHALLENGE="Bearer realm=\\\"$TOKEN_REALM\\\",service=\\\"ocisync-test\\\",scope=\\\"repository:team/app:pull\\\""

step "a bearer token refused once: one fresh token, then it works"
start_proxy "[{\"method\":\"HEAD\",\"path\":\"/manifests/v1\",\"auth\":true,\"mode\":\"challenge\",\"www\":\"$CHALLENGE\"}]" --pass-auth
proxy_config
before=$(token_requests 'GET alice repository:team/app:pull$')
ok -v --registry-config "$CFG" resolve "$PROXY/team/app:v1"
assert_eq "$OUT" "$DIGEST" "digest after a refused token"
assert_eq "$(proxy_count 'fault=challenge401')" 1 "refused requests"
assert_eq "$(($(token_requests 'GET alice repository:team/app:pull$') - before))" 2 "token requests (the first, a fresh one)"

step "a bearer token refused twice: given up after one fresh token"
start_proxy "[{\"method\":\"HEAD\",\"path\":\"/manifests/v1\",\"auth\":true,\"mode\":\"challenge\",\"www\":\"$CHALLENGE\",\"count\":100}]" --pass-auth
proxy_config
before=$(token_requests 'GET alice repository:team/app:pull$')
expect_fail 1 "registry $PROXY: manifest team/app:v1: a freshly issued token was refused too (401)" \
	--registry-config "$CFG" resolve "$PROXY/team/app:v1"
assert_eq "$(proxy_count 'fault=challenge401')" 2 "refused requests"
assert_eq "$(($(token_requests 'GET alice repository:team/app:pull$') - before))" 2 "token requests"

step "403 with insufficient_scope: named at once, no new token"
SCOPE_CHALLENGE="$CHALLENGE,error=\\\"insufficient_scope\\\""
start_proxy "[{\"method\":\"HEAD\",\"path\":\"/manifests/v1\",\"auth\":true,\"mode\":\"challenge\",\"status\":403,\"www\":\"$SCOPE_CHALLENGE\",\"count\":100}]" --pass-auth
proxy_config
before=$(token_requests 'GET alice repository:team/app:pull$')
expect_fail 1 "registry $PROXY refused access (repository:team/app:pull) for user alice: the token does not grant it" \
	--registry-config "$CFG" resolve "$PROXY/team/app:v1"
assert_eq "$(proxy_count 'fault=challenge403')" 1 "refused requests"
assert_eq "$(($(token_requests 'GET alice repository:team/app:pull$') - before))" 1 "token requests"

step "403 without a challenge: refused as before, no new token"
start_proxy '[{"method":"HEAD","path":"/manifests/v1","auth":true,"mode":"status","status":403,"count":100}]' --pass-auth
proxy_config
before=$(token_requests 'GET alice repository:team/app:pull$')
expect_fail 1 "(403)" --registry-config "$CFG" resolve "$PROXY/team/app:v1"
assert_eq "$(proxy_count 'fault=status403')" 1 "refused requests"
assert_eq "$(($(token_requests 'GET alice repository:team/app:pull$') - before))" 1 "token requests"

echo "auth_challenges: ok"
