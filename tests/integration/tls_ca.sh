#!/bin/bash
# TLS with a private CA: --ca-file works, another CA fails with a message
# about the certificate, --insecure works; a token service behind HTTPS is
# reached with the same TLS options.
. "$(dirname "$0")/lib.sh"

make_ca "$WORK/other-pki"
OTHER_CA=$CA_CERT
make_ca "$WORK/pki"
start_registry_tls reg
make_oci_image "$WORK/img" v1 >/dev/null
skopeo copy --quiet --dest-tls-verify=false "oci:$WORK/img:v1" "docker://$REG/team/app:v1"
DIGEST=$(skopeo inspect --format '{{.Digest}}' --tls-verify=false "docker://$REG/team/app:v1")

step "--ca-file"
ok --ca-file "$CA_CERT" resolve "$REG/team/app:v1"
assert_eq "$OUT" "$DIGEST"
ok --ca-file "$CA_CERT" tags "$REG/team/app"
assert_contains "$OUT" "v1"

step "a certificate from another CA is refused"
expect_fail 1 "certificate" --ca-file "$OTHER_CA" resolve "$REG/team/app:v1"
expect_fail 1 "certificate" --ca-file "$OTHER_CA" login "$REG" -u alice --password-stdin <<<"pw"
assert_contains "$ERR" "login to $REG failed"
[ ! -e "$HOME/.docker/config.json" ] || fail "a failed login stored credentials"

step "plain HTTP to an HTTPS registry (the loopback default) fails clearly"
expect_fail 1 "registry $REG speaks HTTPS: pass its CA with --ca-file (or use --insecure)" resolve "$REG/team/app:v1"
assert_not_contains "$ERR" "400 Bad Request"
expect_fail 1 "registry $REG speaks HTTPS: pass its CA with --ca-file (or use --insecure)" manifest "$REG/team/app:v1"
expect_fail 1 "registry $REG speaks HTTPS: pass its CA with --ca-file (or use --insecure)" tags "$REG/team/app"
expect_fail 1 "speaks HTTPS: pass its CA with --ca-file" login "$REG" -u alice --password-stdin <<<"pw"

step "--insecure"
ok --insecure resolve "$REG/team/app:v1"
assert_eq "$OUT" "$DIGEST"

step "token service over HTTPS with the same CA"
PW='Tls-t0ken-pw'
printf 'alice:%s:pull,push\n' "$PW" >"$WORK/users"
TOKEN_NAME=tlstok start_token_server --users "$WORK/users" --tls-cert "$SERVER_CERT" --tls-key "$SERVER_KEY"
assert_contains "$TOKEN_REALM" "https://"
start_registry_tls treg "" "auth:
  token:
    realm: $TOKEN_REALM
    service: ocisync-test
    issuer: ocisync-test-issuer
    rootcertbundle: $TOKEN_DIR/sign.crt"
skopeo copy --quiet --dest-creds "alice:$PW" --dest-tls-verify=false "oci:$WORK/img:v1" "docker://$REG/team/app:v1"
run --ca-file "$CA_CERT" login "$REG" -u alice --password-stdin <<<"$PW"
[ "$RC" -eq 0 ] || fail "login exited $RC: $ERR"
ok --ca-file "$CA_CERT" resolve "$REG/team/app:v1"
assert_eq "$OUT" "$DIGEST"
run --ca-file "$OTHER_CA" login "$REG" -u alice --password-stdin <<<"$PW"
[ "$RC" -eq 1 ] || fail "login with the wrong CA exited $RC: $ERR"
assert_contains "$ERR" "certificate"

step "credentials never go from an HTTPS registry to a plain-HTTP token service elsewhere"
start_registry_tls downgrade "" "auth:
  token:
    realm: http://token.example.invalid/token
    service: ocisync-test
    issuer: ocisync-test-issuer
    rootcertbundle: $TOKEN_DIR/sign.crt"
CFG="$WORK/downgrade.json"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG" "$(printf 'alice:%s' "$PW" | base64)" >"$CFG"
expect_fail 1 "sends clients to the token service http://token.example.invalid without TLS: refusing to send the credentials of user alice there" \
	--ca-file "$CA_CERT" --registry-config "$CFG" resolve "$REG/team/app:v1"
echo "tls_ca: ok"
