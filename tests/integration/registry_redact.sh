# -v never prints a query value the registry chose: every value of a
# redirect target and of an upload location is redacted, whatever its name
# (a name-based list let "pw=..." through); the parameters ocisync adds
# itself (digest, mount, from, n, last) stay readable.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"

start_registry reg
make_manifests "$WORK/tree"
ok push "$REG/team/app:v1" "$WORK/tree"

step "a redirect target: every query value redacted"
start_proxy '[{"method":"GET","path":"/blobs/sha256:","mode":"redirect","count":10}]'
ok -v pull "$PROXY/team/app:v1" "$WORK/p-redirect"
same_tree "$WORK/tree" "$WORK/p-redirect"
[ "$(proxy_count '^storage GET ')" -ge 1 ] || fail "the storage server saw no request"
assert_not_contains "$ERR" "hunter2pw" "verbose output"
assert_not_contains "$ERR" "secretsig0123" "verbose output"
assert_not_contains "$ERR" "=60" "verbose output (expires)"
assert_contains "$ERR" "pw=REDACTED"

step "an upload location carrying a secret: redacted"
start_proxy '[{"method":"POST","path":"/blobs/uploads/","mode":"location-param","value":"upl0adsecret","count":10}]'
echo changed >"$WORK/tree/changed.yaml"
ok -v push "$PROXY/team/app:v2" "$WORK/tree"
[ "$(proxy_count 'fault=location-param')" -ge 1 ] || fail "no upload session went through the proxy"
assert_not_contains "$ERR" "upl0adsecret" "verbose output"
assert_contains "$ERR" "pw=REDACTED"
assert_contains "$ERR" "&digest=sha256%3a" "verbose output (ocisync's own digest parameter)"
echo ok
