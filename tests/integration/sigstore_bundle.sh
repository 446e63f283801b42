# Sigstore bundles (cosign v3's signature format) against a real peer,
# sigstore-js (tests/sigstore-js, pinned by its package-lock.json and
# installed here with npm ci from the npm registry): a bundle ocisync writes
# verifies with sigstore-js offline, a keyed bundle sigstore-js makes and
# @sigstore/oci attaches (referrers tag schema on docker-registry 2.8)
# verifies with ocisync; tampered, other-digest and keyless bundles are
# refused, each with its own message; bundles gate pull and sync and survive
# copy --with-signatures to another registry and into an oci-layout.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export COSIGN_PASSWORD=bundle-pass

step "install sigstore-js (npm ci, cached by lockfile digest)"
command -v node >/dev/null || fail "node is missing: run scripts/setup.sh (deps.txt lists nodejs and npm)"
command -v npm >/dev/null || fail "npm is missing: run scripts/setup.sh (deps.txt lists nodejs and npm)"
lockhash=$(cat "$SRCDIR/tests/sigstore-js/package.json" "$SRCDIR/tests/sigstore-js/package-lock.json" | sha256sum | cut -c1-16)
JS="${BUILDDIR:-$WORK}/sigstore-js-$lockhash"
if [ ! -e "$JS/.installed" ]; then
	rm -rf "$JS.tmp"
	mkdir -p "$JS.tmp"
	cp "$SRCDIR/tests/sigstore-js/package.json" "$SRCDIR/tests/sigstore-js/package-lock.json" "$JS.tmp/"
	(cd "$JS.tmp" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >"$WORK/npm.log" 2>&1 ||
		fail "npm ci of sigstore-js failed (is the npm registry reachable?): $(tail -5 "$WORK/npm.log")"
	touch "$JS.tmp/.installed"
	rm -rf "$JS"
	mv "$JS.tmp" "$JS" 2>/dev/null || rm -rf "$JS.tmp" # a concurrent run won the race
fi
cp "$SRCDIR/tests/sigstore-js/peer.js" "$WORK/peer.js"
peer() { NODE_PATH="$JS/node_modules" node "$WORK/peer.js" "$@"; }

json_get() { # JSON python-expression-on-d
	/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}
# bundle_of HOST REPO REFERRER: the bundle JSON a referrer manifest holds.
bundle_of() {
	local layer
	layer=$("$OCISYNC" manifest "$1/$2@$3" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
	curl -sf "http://$1/v2/$2/blobs/$layer"
}
# tamper IN OUT: the same bundle with its statement's subject changed (the signature kept).
tamper() {
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import base64, json, sys
b = json.load(open(sys.argv[1]))
st = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
st["subject"][0]["digest"]["sha256"] = "0" * 64
b["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
json.dump(b, open(sys.argv[2], "w"))
EOF
}

start_registry
A=$REG
ok keygen --prefix "$WORK/k"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out js.key 2>/dev/null
openssl pkey -in js.key -pubout -out js.pub 2>/dev/null

step "ocisync sign --signature-format bundle: what cosign v3 attaches"
ok push "$A/app:v1" "$TESTDATA/manifests"
D1=${OUT##*@}
ok -o json sign --signature-format bundle --key k.key "$A/app:v1"
R1=$(json_get "$OUT" 'd["referrer"]')
ok manifest "$A/app@$R1"
assert_eq "$(json_get "$OUT" '(d["artifactType"], d["config"]["mediaType"], d["config"]["size"], [l["mediaType"] for l in d["layers"]], d["subject"]["digest"], d["annotations"]["dev.sigstore.bundle.content"], d["annotations"]["dev.sigstore.bundle.predicateType"])')" \
	"('application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.oci.empty.v1+json', 2, ['application/vnd.dev.sigstore.bundle.v0.3+json'], '$D1', 'dsse-envelope', 'https://sigstore.dev/cosign/sign/v1')"
bundle_of "$A" app "$R1" >ours.json
assert_eq "$(json_get "$(cat ours.json)" '(d["mediaType"], d["dsseEnvelope"]["payloadType"], sorted(d["verificationMaterial"]))')" \
	"('application/vnd.dev.sigstore.bundle.v0.3+json', 'application/vnd.in-toto+json', ['publicKey'])"

step "sigstore-js verifies the bundle ocisync wrote (offline, empty trusted root + key)"
peer verify ours.json k.pub "$D1" >peer.out 2>&1 || fail "sigstore-js refused ocisync's bundle: $(cat peer.out)"
assert_contains "$(cat peer.out)" "verified"
step "... and refuses it tampered, and for another digest"
tamper ours.json ours-tampered.json
if peer verify ours-tampered.json k.pub "$D1" >peer.out 2>&1; then fail "sigstore-js accepted a tampered bundle"; fi
assert_contains "$(cat peer.out)" "signature verification failed"
if peer verify ours.json js.pub "$D1" >peer.out 2>&1; then fail "sigstore-js accepted the wrong key"; fi
ok push "$A/app:other" "$TESTDATA/manifests" -a other=1
DOTHER=${OUT##*@}
if peer verify ours.json k.pub "$DOTHER" >peer.out 2>&1; then fail "sigstore-js accepted a bundle for another digest"; fi
assert_contains "$(cat peer.out)" "statement subject is not $DOTHER"

step "ocisync verify: the bundle referrer, and says so"
ok -o json inspect "$A/app:v1"
assert_eq "$(json_get "$OUT" '(d["signatures"], d["bundles"])')" "(0, 1)"
ok inspect "$A/app:v1"
assert_contains "$OUT" "Sigstore bundles: 1 (OCI 1.1 referrers)"
assert_not_contains "$OUT" "(unsigned)"
ok verify --key k.pub "$A/app:v1"
assert_eq "$OUT" "$A/app@$D1"
assert_contains "$ERR" "with key k.pub (Sigstore bundle referrer $R1)"
ok -o json verify --key k.pub "$A/app:v1"
assert_eq "$(json_get "$OUT" 'd["signature"]')" "Sigstore bundle referrer $R1"
expect_fail 1 "the bundle's signature does not verify with any given key" verify --key js.pub "$A/app:v1"

step "annotations are signed in the statement's subject and can be required"
ok sign --signature-format bundle --key k.key -a env=prod "$A/app:other"
ok verify --key k.pub -a env=prod "$A/app:other"
assert_contains "$ERR" "Sigstore bundle referrer"
expect_fail 1 "the bundle for $DOTHER lacks a required annotation" verify --key k.pub -a env=dev "$A/app:other"

step "a keyed bundle sigstore-js makes and @sigstore/oci attaches verifies with ocisync"
ok push "$A/app:v2" "$TESTDATA/manifests" -a v=2
D2=${OUT##*@}
peer sign js.key "$D2" js.json >peer.out 2>&1 || fail "sigstore-js sign: $(cat peer.out)"
J2=$(peer attach "$A/app" "$D2" js.json) || fail "sigstore-js attach failed"
ok manifest "$A/app:sha256-${D2#sha256:}"
assert_contains "$OUT" "$J2"
ok verify --key js.pub "$A/app:v2"
assert_contains "$ERR" "(Sigstore bundle referrer $J2)"
expect_fail 1 "does not verify with any given key" verify --key k.pub "$A/app:v2"

step "refused, each with its own message: tampered, another digest, keyless"
ok push "$A/app:tampered" "$TESTDATA/manifests" -a v=tampered
DT=${OUT##*@}
peer sign js.key "$DT" t.json >/dev/null 2>&1 || fail "sigstore-js sign"
tamper t.json t-bad.json
# the tampered statement names 000..., put the right digest back so only the signature is wrong
/usr/bin/python3 - t-bad.json "$DT" <<'EOF'
import base64, json, sys
b = json.load(open(sys.argv[1]))
st = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
st["subject"][0]["digest"]["sha256"] = sys.argv[2][7:]
st["predicate"] = {"tampered": True}
b["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
json.dump(b, open(sys.argv[1], "w"))
EOF
peer attach "$A/app" "$DT" t-bad.json >/dev/null || fail "attach"
expect_fail 1 "the bundle's signature does not verify with any given key" verify --key js.pub "$A/app:tampered"
assert_contains "$ERR" "no valid signature for $DT"
if peer verify t-bad.json js.pub "$DT" >peer.out 2>&1; then fail "sigstore-js accepted the tampered bundle"; fi

ok push "$A/app:moved" "$TESTDATA/manifests" -a v=moved
DM=${OUT##*@}
peer attach "$A/app" "$DM" js.json >/dev/null || fail "attach" # js.json signs D2, not DM
expect_fail 1 "the bundle is for $D2, not $DM" verify --key js.pub "$A/app:moved"

ok push "$A/app:keyless" "$TESTDATA/manifests" -a v=keyless
DK=${OUT##*@}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout kl.key -out kl.pem -days 1 -subj /CN=ci 2>/dev/null
/usr/bin/python3 - js.json kl.pem keyless.json <<'EOF'
import base64, json, ssl, sys
b = json.load(open(sys.argv[1]))
der = ssl.PEM_cert_to_DER_cert(open(sys.argv[2]).read())
b["verificationMaterial"] = {"certificate": {"rawBytes": base64.b64encode(der).decode()},
                             "tlogEntries": [], "timestampVerificationData": {}}
json.dump(b, open(sys.argv[3], "w"))
EOF
peer attach "$A/app" "$DK" keyless.json >/dev/null || fail "attach"
expect_fail 1 "keyless is not supported" verify --key js.pub "$A/app:keyless"

step "a bundle with transparency-log entries verifies without contacting Rekor"
ok push "$A/app:tlog" "$TESTDATA/manifests" -a v=tlog
DL=${OUT##*@}
peer sign js.key "$DL" l.json >/dev/null 2>&1 || fail "sigstore-js sign"
/usr/bin/python3 - l.json <<'EOF'
import json, sys
b = json.load(open(sys.argv[1]))
b["verificationMaterial"]["tlogEntries"] = [{"logIndex": "1", "logId": {"keyId": "AAAA"},
    "kindVersion": {"kind": "dsse", "version": "0.0.1"}, "integratedTime": "1700000000",
    "inclusionPromise": {"signedEntryTimestamp": "AAAA"}, "canonicalizedBody": "e30="}]
json.dump(b, open(sys.argv[1], "w"))
EOF
peer attach "$A/app" "$DL" l.json >/dev/null || fail "attach"
ok verify --key js.pub "$A/app:tlog"

step "a legacy .sig and a bundle: either counts, verify says which"
ok sign --key k.key "$A/app:v2"
ok verify --key k.pub "$A/app:v2"
assert_contains "$ERR" "(signature tag sha256-${D2#sha256:}.sig)"
ok verify --key js.pub "$A/app:v2"
assert_contains "$ERR" "(Sigstore bundle referrer $J2)"

step "pull and sync are gated by bundles"
ok -o json pull --verify-key js.pub "$A/app:v2" "$WORK/out"
assert_eq "$(json_get "$OUT" 'd["signature"]')" "Sigstore bundle referrer $J2"
same_tree "$TESTDATA/manifests" "$WORK/out"
ok pull --verify-key k.pub "$A/app:v1" "$WORK/out1"
assert_contains "$ERR" "(Sigstore bundle referrer $R1)"
expect_fail 1 "the bundle's signature does not verify" pull --verify-key js.pub "$A/app:tampered" "$WORK/out2"
[ ! -e "$WORK/out2" ] || fail "pulled an artifact whose only bundle is tampered"
expect_fail 1 "keyless is not supported" pull --verify-key js.pub "$A/app:keyless" "$WORK/out3"
[ ! -e "$WORK/out3" ] || fail "pulled an artifact signed keyless"
ok sync --once --verify-key js.pub --root "$WORK/root" "$A/app:v2"
assert_contains "$OUT" "synced $D2"
assert_contains "$ERR" "verified $D2 with Sigstore bundle referrer $J2"
expect_fail 1 "the bundle is for $D2, not $DM" sync --once --verify-key js.pub --root "$WORK/root2" "$A/app:moved"
[ ! -e "$WORK/root2/current" ] || fail "sync published an artifact signed for another digest"

step "copy --with-signatures carries the bundle referrer to another registry and into a layout"
start_registry registry-b
B=$REG
ok copy --with-signatures "$A/app:v1" "$B/mirror:v1"
ok verify --key k.pub "$B/mirror:v1"
assert_contains "$ERR" "(Sigstore bundle referrer $R1)"
ok manifest "$B/mirror:sha256-${D1#sha256:}"
assert_contains "$OUT" "$R1"
ok copy --with-signatures "$A/app:v2" "oci-layout:$WORK/lay:v2"
ok verify --key js.pub "oci-layout:$WORK/lay:v2"
assert_contains "$ERR" "(Sigstore bundle referrer $J2)"
ok verify --key k.pub "oci-layout:$WORK/lay:v2"
assert_contains "$ERR" "(signature tag sha256-${D2#sha256:}.sig)"
ok pull --verify-key js.pub "oci-layout:$WORK/lay:v2" "$WORK/out-lay"
same_tree "$TESTDATA/manifests" "$WORK/out-lay"
# Without --with-signatures nothing of it travels.
ok copy "$A/app:v1" "$B/bare:v1"
expect_fail 1 "no signatures found" verify --key k.pub "$B/bare:v1"

step "push --sign-key --signature-format bundle, in a layout too; sigstore-js agrees"
ok push --sign-key k.key --signature-format bundle "$A/pushed:v1" "$TESTDATA/manifests"
DP=${OUT##*@}
ok -o json discover "$A/pushed:v1"
RP=$(json_get "$OUT" 'd["referrers"][0]["digest"]')
bundle_of "$A" pushed "$RP" >pushed.json
peer verify pushed.json k.pub "$DP" >peer.out 2>&1 || fail "sigstore-js refused: $(cat peer.out)"
ok verify --key k.pub "$A/pushed:v1"
assert_contains "$ERR" "Sigstore bundle referrer $RP"
run tags "$A/pushed"
assert_not_contains "$OUT" ".sig"
ok push --sign-key k.key --signature-format bundle "oci-layout:$WORK/signed:v1" "$TESTDATA/manifests"
ok verify --key k.pub "oci-layout:$WORK/signed:v1"
assert_contains "$ERR" "Sigstore bundle referrer"

step "usage errors"
expect_fail 2 "--signature-format takes sig or bundle, not 'jws'" sign --signature-format jws --key k.key "$A/app:v1"
expect_fail 2 "--signature-format takes sig or bundle, not 'x'" push --signature-format x "$A/app:v9" "$TESTDATA/manifests"
expect_fail 2 "--signature-format needs --sign-key KEY" push --signature-format bundle "$A/app:v9" "$TESTDATA/manifests"
echo "sigstore_bundle: ok"
