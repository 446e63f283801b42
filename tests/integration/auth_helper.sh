#!/bin/bash
# Credential helpers: with credHelpers (or credsStore) naming "test", login
# stores through docker-credential-test, commands get from it, logout erases;
# the config file itself keeps no secret.
. "$(dirname "$0")/lib.sh"

export PATH="$SRCDIR/tests/integration:$PATH"
export OCISYNC_TEST_CRED_STORE="$WORK/helper-store.json"
export OCISYNC_TEST_CRED_LOG="$WORK/helper.log"
PW='Helper-kept-pW'
start_registry_basic reg "alice:$PW"
make_oci_image "$WORK/img" v1 >/dev/null
skopeo copy --quiet --dest-creds "alice:$PW" --dest-tls-verify=false "oci:$WORK/img:v1" "docker://$REG/team/app:v1"
DIGEST=$(skopeo inspect --format '{{.Digest}}' --tls-verify=false --creds "alice:$PW" "docker://$REG/team/app:v1")
CONFIG="$HOME/.docker/config.json"
mkdir -p "$HOME/.docker"
printf '{"credHelpers":{"%s":"test"},"psFormat":"table"}\n' "$REG" >"$CONFIG"
cp "$CONFIG" "$WORK/config.before"

helper_log_has() { grep -qx "$1" "$OCISYNC_TEST_CRED_LOG" || fail "the helper was not asked '$1': $(cat "$OCISYNC_TEST_CRED_LOG")"; }
no_secret() { assert_not_contains "$OUT$ERR" "$PW" "$1"; }

step "credHelpers: login stores through the helper"
run -v login "$REG" -u alice --password-stdin <<<"$PW"
[ "$RC" -eq 0 ] || fail "login exited $RC: $ERR"
assert_eq "$OUT" "Login succeeded: $REG"
no_secret "login -v"
helper_log_has "store $REG"
cmp -s "$CONFIG" "$WORK/config.before" || fail "login through a helper changed $CONFIG"
/usr/bin/python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))[sys.argv[2]]; assert e=={"Username":"alice","Secret":sys.argv[3]}, e' \
	"$OCISYNC_TEST_CRED_STORE" "$REG" "$PW" || fail "the helper did not receive alice's credentials"
run -o json login "$REG" -u alice --password-stdin <<<"$PW"
assert_contains "$OUT" '"stored_in":"credential helper docker-credential-test"'

step "a wrong password stores nothing in the helper either"
: >"$OCISYNC_TEST_CRED_LOG"
expect_fail 1 "login to $REG failed" login "$REG" -u bob --password-stdin <<<"nope"
assert_not_contains "$(cat "$OCISYNC_TEST_CRED_LOG")" "store" "helper log"

step "commands get credentials from the helper"
: >"$OCISYNC_TEST_CRED_LOG"
run -v resolve "$REG/team/app:v1"
[ "$RC" -eq 0 ] || fail "resolve exited $RC: $ERR"
assert_eq "$OUT" "$DIGEST"
no_secret "resolve -v"
helper_log_has "get $REG"
make_manifests "$WORK/src"
run -v push "$REG/team/app:v2" "$WORK/src"
[ "$RC" -eq 0 ] || fail "push exited $RC: $ERR"
no_secret "push -v"
run -v pull "$REG/team/app:v2" "$WORK/pulled"
[ "$RC" -eq 0 ] || fail "pull exited $RC: $ERR"
no_secret "pull -v"
same_tree "$WORK/src" "$WORK/pulled"

step "logout erases through the helper"
: >"$OCISYNC_TEST_CRED_LOG"
ok logout "$REG"
assert_eq "$OUT" "Removed credentials for $REG"
helper_log_has "erase $REG"
/usr/bin/python3 -c 'import json,sys; assert sys.argv[2] not in json.load(open(sys.argv[1]))' "$OCISYNC_TEST_CRED_STORE" "$REG" ||
	fail "the helper still holds the credentials"
expect_fail 1 "not logged in to $REG (credential helper docker-credential-test has nothing for it)" logout "$REG"
expect_fail 1 "requires authentication: run 'ocisync login $REG'" resolve "$REG/team/app:v1"
cmp -s "$CONFIG" "$WORK/config.before" || fail "logout through a helper changed $CONFIG"

step "credsStore serves every host"
printf '{"credsStore":"test"}\n' >"$CONFIG"
run login "$REG" -u alice --password-stdin <<<"$PW"
[ "$RC" -eq 0 ] || fail "login exited $RC: $ERR"
ok resolve "$REG/team/app:v1"
assert_eq "$OUT" "$DIGEST"
/usr/bin/python3 -c 'import json,sys; assert sys.argv[2] in json.load(open(sys.argv[1]))' "$OCISYNC_TEST_CRED_STORE" "$REG" ||
	fail "login did not store through credsStore"
ok logout "$REG"
assert_eq "$OUT" "Removed credentials for $REG"
/usr/bin/python3 -c 'import json,sys; assert sys.argv[2] not in json.load(open(sys.argv[1]))' "$OCISYNC_TEST_CRED_STORE" "$REG" ||
	fail "credsStore still holds the credentials after logout"
expect_fail 1 "requires authentication: run 'ocisync login $REG'" resolve "$REG/team/app:v1"

step "a missing helper is named"
printf '{"credsStore":"absent"}\n' >"$CONFIG"
expect_fail 1 "registry $REG requires authentication, and its stored credentials cannot be read" resolve "$REG/team/app:v1"
assert_contains "$ERR" "credential helper docker-credential-absent is not installed"
step "a missing helper does not block anonymous pulls where they are allowed"
printf 'alice:%s:pull,push\n' "$PW" >"$WORK/users"
start_registry_token open --users "$WORK/users" --anonymous pull
skopeo copy --quiet --dest-creds "alice:$PW" --dest-tls-verify=false "oci:$WORK/img:v1" "docker://$REG/team/app:v1"
ok resolve "$REG/team/app:v1"
assert_eq "$OUT" "$DIGEST"
assert_eq "$(token_requests 'GET None repository:team/app:pull$')" 1 "anonymous token requests"
echo "auth_helper: ok"
