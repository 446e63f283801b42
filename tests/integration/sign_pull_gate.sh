# push --sign-key signs what it pushed; pull --verify-key extracts nothing
# unless a trusted key signed the exact digest it then downloads.
. "$(dirname "$0")/lib.sh"
start_registry
cd "$WORK"
export COSIGN_PASSWORD=gate-pass
ok keygen --prefix "$WORK/good"
ok keygen --prefix "$WORK/other"
REF="$REG/shop/deploy"

step "push --sign-key signs the pushed digest"
ok push "$REF:v1" "$TESTDATA/manifests" --sign-key "$WORK/good.key"
digest=${OUT##*@}
ok inspect -o json "$REF:v1"
assert_contains "$OUT" '"signatures":1'
ok verify --key "$WORK/good.pub" "$REF:v1"
assert_eq "$OUT" "$REF@$digest"

step "pull --verify-key with the right key extracts, and says which key"
ok -o json pull --verify-key "$WORK/other.pub" --verify-key "$WORK/good.pub" "$REF:v1" "$WORK/out"
/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["verified"] and d["verified_by"].endswith("good.pub"), d' "$OUT"
same_tree "$TESTDATA/manifests" "$WORK/out"

step "a wrong key: exit 1, nothing extracted, no layer downloaded"
before=$(registry_requests "GET /v2/shop/deploy/blobs/")
expect_fail 1 "no valid signature" pull --verify-key "$WORK/other.pub" "$REF:v1" "$WORK/out2"
[ ! -e "$WORK/out2" ] || fail "extracted although no trusted key signed"
after=$(registry_requests "GET /v2/shop/deploy/blobs/")
# Only the signature payload may be fetched; the layer never.
layer=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["layers"][0]["digest"])' "$("$OCISYNC" manifest "$REF:v1")")
assert_eq "$(grep -c "GET /v2/shop/deploy/blobs/$layer" "$REG_LOG" || true)" "1" "layer downloads (only the successful pull)"

step "an unsigned push: refused with the reason, nothing extracted"
echo "extra: 1" >"$WORK/extra.yaml"
mkdir -p "$WORK/src2" && cp -a "$TESTDATA/manifests/." "$WORK/src2/" && cp "$WORK/extra.yaml" "$WORK/src2/"
ok push "$REF:v2" "$WORK/src2"
expect_fail 1 "no signatures found" pull --verify-key "$WORK/good.pub" "$REF:v2" "$WORK/out3"
[ ! -e "$WORK/out3" ] || fail "extracted an unsigned artifact"

step "a signature of v1 does not cover v2 even when moved to v2's tag"
d2=$("$OCISYNC" resolve "$REF:v2")
sig1="sha256-${digest#sha256:}.sig"
sig2="sha256-${d2#sha256:}.sig"
ok tag "$REF:$sig1" "$sig2"
expect_fail 1 "payload names digest" pull --verify-key "$WORK/good.pub" "$REF:v2" "$WORK/out4"
[ ! -e "$WORK/out4" ] || fail "extracted with a signature of another digest"

step "a bad --sign-key fails before anything is pushed"
COSIGN_PASSWORD=wrong expect_fail 1 "wrong password or corrupt key" push "$REF:v3" "$WORK/src2" --sign-key "$WORK/good.key"
expect_fail 1 "not found" resolve "$REF:v3"
echo ok
