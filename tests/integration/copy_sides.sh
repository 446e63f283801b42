#!/bin/bash
# copy with per-side transport options (--src-*, --dest-*) from a plain-HTTP
# loopback registry to a TLS one with a private CA; the CA named for one side
# does not turn the other (loopback) side to HTTPS; options on the wrong side
# fail clearly. Then the same without flags, from the "ocisync" section of the
# Docker config (per-registry settings, what a CronJob uses), whose files are
# checked before any request (exit 2).
. "$(dirname "$0")/lib.sh"

start_registry plain
PLAIN=$REG
make_ca "$WORK/pki"
# The TLS registry's certificate also names ::ffff:127.0.0.1: reached by that
# (IPv4-mapped) address, it is a registry ocisync does not take for a
# loopback one, while the traffic stays on loopback.
printf 'subjectAltName=IP:127.0.0.1,IP:::ffff:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
	>"$WORK/pki/mapped.ext"
openssl x509 -req -in "$WORK/pki/server.csr" -CA "$CA_CERT" -CAkey "$WORK/pki/ca.key" -CAcreateserial -days 2 \
	-extfile "$WORK/pki/mapped.ext" -out "$WORK/pki/server.crt" 2>/dev/null || fail "openssl could not sign"
start_registry_tls tls
TLS=$REG
REMOTE="[::ffff:127.0.0.1]:$REG_PORT"
make_manifests "$WORK/tree"
ok push "$PLAIN/team/app:v1" "$WORK/tree"
DIGEST=${OUT##*@}

step "HTTP source, private-CA destination: --dest-ca-file is for DST only"
ok copy --dest-ca-file "$CA_CERT" "$PLAIN/team/app:v1" "$TLS/team/app:v1"
assert_eq "$OUT" "$TLS/team/app@$DIGEST"
ok --ca-file "$CA_CERT" resolve "$TLS/team/app:v1"
assert_eq "$OUT" "$DIGEST"

step "and back, with --src-ca-file and a client-side --dest-plain-http"
ok copy --src-ca-file "$CA_CERT" --dest-plain-http "$TLS/team/app:v1" "$PLAIN/team/back:v1"
assert_eq "$OUT" "$PLAIN/team/back@$DIGEST"

step "--dest-insecure (no CA at all)"
ok copy --dest-insecure "$PLAIN/team/app:v1" "$TLS/team/insecure:v1"

step "a side's option replaces the global one for that side only"
ok --ca-file "$CA_CERT" copy --src-plain-http "$PLAIN/team/app:v1" "$TLS/team/global:v1"

step "the global --ca-file: a loopback side stays plain HTTP when the other side is remote"
ok --ca-file "$CA_CERT" copy "$PLAIN/team/app:v1" "$REMOTE/team/remote:v1"
assert_eq "$OUT" "$REMOTE/team/remote@$DIGEST"
ok --ca-file "$CA_CERT" copy "$REMOTE/team/remote:v1" "$PLAIN/team/fromremote:v1"
# both loopback: which one the CA is for is not known, so it goes to both
expect_fail 1 "registry $PLAIN speaks plain HTTP, not HTTPS" --ca-file "$CA_CERT" copy "$PLAIN/team/app:v1" "$TLS/team/y:v1"
assert_contains "$ERR" "--src-ca-file"

step "the CA on the wrong side: each side says what is wrong with it"
expect_fail 1 "registry $PLAIN speaks plain HTTP, not HTTPS" copy --src-ca-file "$CA_CERT" "$PLAIN/team/app:v1" "$TLS/team/x:v1"
assert_contains "$ERR" "--src-* and --dest-*"
expect_fail 1 "registry $TLS speaks HTTPS" copy "$PLAIN/team/app:v1" "$TLS/team/x:v1"
assert_contains "$ERR" "--src-* and --dest-*"

step "side options are checked before any request"
expect_fail 2 "--dest-ca-file $WORK/nope.pem: no such file" copy --dest-ca-file "$WORK/nope.pem" "$PLAIN/team/app:v1" "$TLS/team/x:v1"
expect_fail 2 "--src-cert-file and --src-key-file go together" copy --src-cert-file "$CLIENT_CERT" "$TLS/team/app:v1" "$PLAIN/team/x:v1"
expect_fail 2 "--dest-plain-http contradicts" copy --dest-plain-http --dest-insecure "$PLAIN/team/app:v1" "$TLS/team/x:v1"
expect_fail 2 "and oci-layout:$WORK/lay:v1 is an oci-layout: directory" copy --dest-ca-file "$CA_CERT" "$PLAIN/team/app:v1" "oci-layout:$WORK/lay:v1"
[ ! -e "$WORK/lay" ] || fail "a refused copy wrote the layout"
expect_fail 2 "option --src-ca-file needs a value" copy "$PLAIN/team/app:v1" "$TLS/team/x:v1" --src-ca-file
assert_eq "$(grep -c 'team/x' "$WORK/tls/log" || true)" 0 "requests for the refused copies"

step "per-registry settings in the Docker config: no flags"
mkdir -p "$WORK/cfg"
cp "$CA_CERT" "$WORK/cfg/ca.crt"
cat >"$WORK/cfg/config.json" <<JSON
{"auths": {}, "ocisync": {"registries": {
  "$TLS": {"caFile": "ca.crt"},
  "$PLAIN": {"plainHTTP": true}}}}
JSON
ok --registry-config "$WORK/cfg/config.json" copy "$PLAIN/team/app:v1" "$TLS/team/cfg:v1"
assert_eq "$OUT" "$TLS/team/cfg@$DIGEST"
ok --registry-config "$WORK/cfg/config.json" resolve "$TLS/team/cfg:v1"
assert_eq "$OUT" "$DIGEST"
DOCKER_CONFIG="$WORK/cfg" ok pull "$TLS/team/cfg:v1" "$WORK/pulled"
same_tree "$WORK/tree" "$WORK/pulled"
DOCKER_CONFIG="$WORK/cfg" ok sync "$TLS/team/cfg:v1" --root "$WORK/root" --once
[ -d "$WORK/root/current/apps" ] || fail "sync through the config's settings published nothing"

step "a command-line option beats the config's setting"
expect_fail 1 "certificate" --registry-config "$WORK/cfg/config.json" --ca-file "$WORK/pki/client.crt" resolve "$TLS/team/cfg:v1"

step "the config's mistakes are usage errors, found before any request"
before=$(wc -l <"$WORK/tls/log")
printf '{"ocisync": {"registries": {"%s": {"caFile": "missing.crt"}}}}' "$TLS" >"$WORK/cfg/bad1.json"
expect_fail 2 "ocisync.registries[\"$TLS\"].caFile $WORK/cfg/missing.crt: no such file" --registry-config "$WORK/cfg/bad1.json" resolve "$TLS/team/cfg:v1"
printf '{"ocisync": {"registries": {"%s": {"cafile": "ca.crt"}}}}' "$TLS" >"$WORK/cfg/bad2.json"
expect_fail 2 "unknown setting \"cafile\"" --registry-config "$WORK/cfg/bad2.json" resolve "$TLS/team/cfg:v1"
printf '{"ocisync": {"registries": {"%s": {"plainHTTP": "yes"}}}}' "$TLS" >"$WORK/cfg/bad3.json"
expect_fail 2 "plainHTTP: expected true or false" --registry-config "$WORK/cfg/bad3.json" resolve "$TLS/team/cfg:v1"
printf '{"ocisync": {"registries": {"%s": {"plainHTTP": true, "caFile": "ca.crt"}}}}' "$TLS" >"$WORK/cfg/bad4.json"
expect_fail 2 "plainHTTP contradicts" --registry-config "$WORK/cfg/bad4.json" resolve "$TLS/team/cfg:v1"
printf '{"ocisync": {"registries": {"%s": {"certFile": "ca.crt"}}}}' "$TLS" >"$WORK/cfg/bad5.json"
expect_fail 2 "certFile and keyFile go together" --registry-config "$WORK/cfg/bad5.json" resolve "$TLS/team/cfg:v1"
expect_fail 2 "ocisync.registries" --registry-config "$WORK/cfg/bad1.json" -o json copy "$PLAIN/team/app:v1" "$TLS/team/y:v1"
assert_eq "$(jq -r .error.code <<<"$OUT")" usage
assert_eq "$(wc -l <"$WORK/tls/log")" "$before" "requests made despite a broken config"

step "oci-layout: alone does not read the settings"
ok --registry-config "$WORK/cfg/bad1.json" push "oci-layout:$WORK/lay2:v1" "$WORK/tree"
ok --registry-config "$WORK/cfg/bad1.json" copy "oci-layout:$WORK/lay2:v1" "oci-layout:$WORK/lay3:v1"
