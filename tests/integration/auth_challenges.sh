#!/bin/bash
# How the HTTP layer answers registry challenges, through tests/faultproxy.py
# in front of a registry with token auth: Basic and Bearer offered in two
# WWW-Authenticate lines (both read, Bearer used), a bearer token refused
# once (one fresh token, then success), refused twice (given up), and 403
# insufficient_scope (named, no new token).
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

echo "auth_challenges: ok"
