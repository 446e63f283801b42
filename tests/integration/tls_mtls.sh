#!/bin/bash
# Mutual TLS: the registry requires a client certificate signed by the test
# CA. With --cert-file/--key-file it works; without, it fails clearly, at
# once (a TLS refusal is not retried); a certificate from another CA is
# refused the same way.
. "$(dirname "$0")/lib.sh"

make_ca "$WORK/other-pki"
OTHER_CLIENT_CERT=$CLIENT_CERT OTHER_CLIENT_KEY=$CLIENT_KEY
make_ca "$WORK/pki"
start_registry_tls reg mtls
mkdir -p "$WORK/certs.d"
cp "$CA_CERT" "$WORK/certs.d/ca.crt"
cp "$CLIENT_CERT" "$WORK/certs.d/client.cert"
cp "$CLIENT_KEY" "$WORK/certs.d/client.key"
make_oci_image "$WORK/img" v1 >/dev/null
skopeo copy --quiet --dest-cert-dir "$WORK/certs.d" "oci:$WORK/img:v1" "docker://$REG/team/app:v1"
DIGEST=$(skopeo inspect --format '{{.Digest}}' --cert-dir "$WORK/certs.d" "docker://$REG/team/app:v1")
TLS=(--ca-file "$CA_CERT" --cert-file "$CLIENT_CERT" --key-file "$CLIENT_KEY")

step "with a client certificate"
ok "${TLS[@]}" resolve "$REG/team/app:v1"
assert_eq "$OUT" "$DIGEST"
run "${TLS[@]}" login "$REG" -u anyone --password-stdin <<<"pw"
[ "$RC" -eq 0 ] || fail "login exited $RC: $ERR"
/usr/bin/python3 -c 'import json,sys; assert sys.argv[2] in json.load(open(sys.argv[1]))["auths"]' "$HOME/.docker/config.json" "$REG" ||
	fail "login stored no credential for $REG"
ok "${TLS[@]}" logout "$REG"
assert_eq "$OUT" "Removed credentials for $REG"
/usr/bin/python3 -c 'import json,sys; assert sys.argv[2] not in json.load(open(sys.argv[1])).get("auths", {})' "$HOME/.docker/config.json" "$REG" ||
	fail "logout left the credential for $REG in config.json"

step "without a client certificate: said so, one attempt"
run -v --ca-file "$CA_CERT" resolve "$REG/team/app:v1"
[ "$RC" -eq 1 ] || fail "exit $RC: $ERR"
assert_contains "$ERR" "TLS connection to $REG failed: the server asked for a client certificate and none was given: pass --cert-file and --key-file"
assert_not_contains "$ERR" "retrying" "a TLS refusal"
assert_not_contains "$ERR" "gave up after" "a TLS refusal"
assert_eq "$(grep -c "HEAD https://$REG/" <<<"$ERR")" 1 "requests"
run --ca-file "$CA_CERT" pull "$REG/team/app:v1" "$WORK/nocert"
[ "$RC" -eq 1 ] || fail "exit $RC: $ERR"
assert_contains "$ERR" "the server asked for a client certificate"
[ ! -e "$WORK/nocert" ] || fail "a refused pull created its destination"
run --ca-file "$CA_CERT" login "$REG" -u anyone --password-stdin <<<"pw"
[ "$RC" -eq 1 ] || fail "exit $RC: $ERR"
assert_contains "$ERR" "client certificate"
! grep -q "$REG" "$HOME/.docker/config.json" || fail "a failed login stored credentials"

step "a client certificate from another CA: refused, one attempt"
run -v --ca-file "$CA_CERT" --cert-file "$OTHER_CLIENT_CERT" --key-file "$OTHER_CLIENT_KEY" resolve "$REG/team/app:v1"
[ "$RC" -eq 1 ] || fail "exit $RC: $ERR"
assert_contains "$ERR" "TLS connection to $REG failed: the server refused the client certificate $OTHER_CLIENT_CERT"
assert_contains "$ERR" "): check --cert-file and --key-file"
assert_not_contains "$ERR" "retrying" "a TLS refusal"
assert_eq "$(grep -c "HEAD https://$REG/" <<<"$ERR")" 1 "requests"

step "a key that does not match the certificate"
expect_fail 2 "--cert-file and --key-file go together" --ca-file "$CA_CERT" --cert-file "$CLIENT_CERT" resolve "$REG/team/app:v1"
run --ca-file "$CA_CERT" --cert-file "$CLIENT_CERT" --key-file "$SERVER_KEY" login "$REG" -u anyone --password-stdin <<<"pw"
[ "$RC" -eq 1 ] || fail "exit $RC: $ERR"
assert_contains "$ERR" "--cert-file"
echo "tls_mtls: ok"
