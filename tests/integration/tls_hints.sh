#!/bin/bash
# Every transport error hint names its actual cause (issue 9, items 3 and
# 5): HTTPS to a plain-HTTP registry is not a client-certificate problem; a
# host-name mismatch is not an unknown CA; a dead HTTPS_PROXY is not the
# registry being unreachable; files named by options are checked before any
# network traffic (usage error, exit 2).
. "$(dirname "$0")/lib.sh"

start_registry plain
PLAIN=$REG
PLAIN_LOG=$REG_LOG
make_ca "$WORK/other-pki"
OTHER_CA=$CA_CERT
make_ca "$WORK/pki"
d="$WORK/pki"
# a server certificate from the same CA for another name only
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/misnamed.key" \
	-out "$d/misnamed.csr" -subj "/CN=registry.example" 2>/dev/null || fail "openssl req"
printf 'subjectAltName=DNS:registry.example\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$d/misnamed.ext"
openssl x509 -req -in "$d/misnamed.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
	-extfile "$d/misnamed.ext" -out "$d/misnamed.crt" 2>/dev/null || fail "openssl x509"
start_registry_tls good
GOOD=$REG
SERVER_CERT=$d/misnamed.crt SERVER_KEY=$d/misnamed.key start_registry_tls misnamed
MISNAMED=$REG
make_oci_image "$WORK/img" v1 >/dev/null
skopeo copy --quiet --dest-tls-verify=false "oci:$WORK/img:v1" "docker://$GOOD/team/app:v1"
DEAD=$(free_port) # a closed loopback port: the dead proxy

step "HTTPS to a plain-HTTP registry: --plain-http, no client certificate"
for opt in "--ca-file $CA_CERT" --insecure; do
	# shellcheck disable=SC2086 # two words on purpose
	expect_fail 1 "registry $PLAIN speaks plain HTTP, not HTTPS: pass --plain-http" $opt resolve "$PLAIN/team/app:v1"
	assert_not_contains "$ERR" "client certificate"
	assert_not_contains "$ERR" "--cert-file"
done
STDIN=pw
expect_fail 1 "plain HTTP, not HTTPS: pass --plain-http" --insecure login "$PLAIN" -u alice --password-stdin <<<"$STDIN"
assert_not_contains "$ERR" "client certificate"

step "a host-name mismatch and an unknown CA are told apart"
expect_fail 1 "the server's certificate is not issued for this host name: connect by a name it lists" \
	--ca-file "$CA_CERT" resolve "$MISNAMED/team/app:v1"
assert_not_contains "$ERR" "not signed by the CA"
expect_fail 1 "the server's certificate is not signed by the CA in --ca-file" --ca-file "$OTHER_CA" resolve "$GOOD/team/app:v1"
assert_not_contains "$ERR" "host name"
ok --ca-file "$CA_CERT" resolve "$GOOD/team/app:v1"

step "a dead HTTPS_PROXY is the proxy, not the registry"
export HTTPS_PROXY="http://user:proxy-secret@127.0.0.1:$DEAD"
expect_fail 1 "the proxy 127.0.0.1:$DEAD (from HTTPS_PROXY) is unreachable" --min-speed 1K/1s --ca-file "$CA_CERT" resolve "$GOOD/team/app:v1"
assert_contains "$ERR" "the registry $GOOD was not contacted"
assert_not_contains "$ERR" "cannot connect to $GOOD"
assert_not_contains "$ERR" "proxy-secret" "the proxy's password"
expect_fail 1 "the proxy 127.0.0.1:$DEAD (from HTTPS_PROXY) is unreachable" --ca-file "$CA_CERT" login "$GOOD" -u alice --password-stdin <<<"$STDIN"
# a registry the proxy is not for (no_proxy) is reached directly
NO_PROXY=127.0.0.1 ok --ca-file "$CA_CERT" resolve "$GOOD/team/app:v1"
unset HTTPS_PROXY
# a registry that is itself down is still reported as such
expect_fail 1 "cannot connect to 127.0.0.1:$DEAD" --min-speed 1K/1s --ca-file "$CA_CERT" resolve "127.0.0.1:$DEAD/team/app:v1"
assert_not_contains "$ERR" "proxy"

step "files named by options are checked before any network traffic (exit 2)"
before=$(wc -l <"$PLAIN_LOG")
for opt in --ca-file --registry-config; do
	expect_fail 2 "ocisync: $opt $WORK/missing.pem: no such file" $opt "$WORK/missing.pem" resolve "$PLAIN/team/app:v1"
done
expect_fail 2 "ocisync: --cert-file $WORK/missing.pem: no such file" --cert-file "$WORK/missing.pem" --key-file "$CLIENT_KEY" resolve "$PLAIN/team/app:v1"
expect_fail 2 "ocisync: --key-file $WORK/missing.pem: no such file" --cert-file "$CLIENT_CERT" --key-file "$WORK/missing.pem" resolve "$PLAIN/team/app:v1"
expect_fail 2 "ocisync: --ca-file $WORK: is a directory, not a file" --ca-file "$WORK" tags "$PLAIN/team/app"
expect_fail 2 "ocisync: --registry-config $WORK/missing.json: no such file" --registry-config "$WORK/missing.json" pull "$PLAIN/team/app:v1" "$WORK/out"
[ ! -e "$WORK/out" ] || fail "pull with a missing --registry-config wrote $WORK/out"
assert_eq "$(wc -l <"$PLAIN_LOG")" "$before" "requests the registry saw"
# login creates the --registry-config it stores into
run --registry-config "$WORK/new-config.json" login "$PLAIN" -u alice --password-stdin <<<"$STDIN"
assert_not_contains "$ERR" "no such file"
echo "tls_hints: ok"
