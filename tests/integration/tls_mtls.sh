#!/bin/bash
# Mutual TLS: the registry requires a client certificate signed by the test
# CA. With --cert-file/--key-file it works; without, it fails clearly.
. "$(dirname "$0")/lib.sh"

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
ok "${TLS[@]}" logout "$REG"

step "without a client certificate"
run --ca-file "$CA_CERT" resolve "$REG/team/app:v1"
[ "$RC" -eq 1 ] || fail "exit $RC: $ERR"
assert_contains "$ERR" "$REG"
run --ca-file "$CA_CERT" login "$REG" -u anyone --password-stdin <<<"pw"
[ "$RC" -eq 1 ] || fail "exit $RC: $ERR"
assert_contains "$ERR" "client certificate"
! grep -q "$REG" "$HOME/.docker/config.json" || fail "a failed login stored credentials"

step "a key that does not match the certificate"
expect_fail 2 "--cert-file and --key-file go together" --ca-file "$CA_CERT" --cert-file "$CLIENT_CERT" resolve "$REG/team/app:v1"
run --ca-file "$CA_CERT" --cert-file "$CLIENT_CERT" --key-file "$SERVER_KEY" login "$REG" -u anyone --password-stdin <<<"pw"
[ "$RC" -eq 1 ] || fail "exit $RC: $ERR"
assert_contains "$ERR" "--cert-file"
echo "tls_mtls: ok"
