#!/bin/bash
# The signature cosign made for containers/image's dir-img-cosign-valid
# fixture, rebuilt as cosign stores it, in a real docker-registry and in an
# oci-layout directory: `ocisync verify --key cosign.pub` accepts it; the
# unknown-key signature and cosign's signature under another digest are refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_lib.sh"

V="$COSIGN_DATA/signatures/cosign-valid"
PUB="$COSIGN_DATA/signatures/cosign.pub"
DIG=sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00
TAG=$(sig_tag "$DIG")
assert_eq "sha256:$(sha256_of "$V/manifest.json")" "$DIG" "fixture manifest digest"

step "registry: the cosign-valid objects"
start_registry
REPO=cosign-signed-single-sample
reg_store_raw_manifest "$REPO" signed "$V/manifest.json"
reg_blob_put "$REPO" "$V/payload.json"
reg_blob_put "$REPO" "$V/sig-config.json"
reg_manifest_put "$REPO" "$TAG" "$V/sig-manifest.json"
# The registry serves exactly cosign's bytes.
reg_manifest_get "$REPO" "$TAG" >"$WORK/got-sig-manifest.json"
cmp "$WORK/got-sig-manifest.json" "$V/sig-manifest.json" || fail "sig manifest changed in the registry"

ok verify --key "$PUB" "$REG/$REPO@$DIG"
assert_eq "$OUT" "$REG/$REPO@$DIG" "verify output"
assert_contains "$ERR" "Verified $REG/$REPO@$DIG with key $PUB"
ok verify --key "$PUB" "$REG/$REPO:signed"
assert_eq "$OUT" "$REG/$REPO@$DIG" "verify by tag"
# Several keys: the one that verified is named.
ok -o json verify --key "$COSIGN_DATA/keys/empty-password.pub" --key "$PUB" "$REG/$REPO:signed"
/usr/bin/python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert o["verified"] is True and o["digest"] == sys.argv[2] and o["key"] == sys.argv[3], o
' "$OUT" "$DIG" "$PUB" || fail "verify -o json: $OUT"

step "registry: refusals"
expect_fail 1 "signature does not verify with any given key" verify --key "$COSIGN_DATA/keys/empty-password.pub" "$REG/$REPO@$DIG"
assert_eq "$OUT" "" "stdout of a refused verify"
expect_fail 1 "annotation env=prod missing" verify --key "$PUB" -a env=prod "$REG/$REPO@$DIG"
expect_fail 2 "verify needs at least one --key" verify "$REG/$REPO@$DIG"
expect_fail 1 "cosign.pub" verify --key "$WORK/missing/cosign.pub" "$REG/$REPO@$DIG"

# unknown-key.signature: same manifest digest, a key that is not published.
SIG=$(extract_wrapped "$COSIGN_DATA/signatures/unknown-key.signature" "$WORK/unknown-payload.json")
make_sig_objects "$WORK/unknown" "$WORK/unknown-payload.json" "$SIG"
reg_store_raw_manifest unknown-signer signed "$V/manifest.json"
reg_put_sig unknown-signer "$DIG" "$WORK/unknown" "$WORK/unknown-payload.json"
expect_fail 1 "signature does not verify with any given key" verify --key "$PUB" "$REG/unknown-signer@$DIG"

# cosign's valid signature stored under another image's .sig tag.
OTHER=$(make_oci_image "$WORK/img" other)
reg_push_layout_image other v1 "$WORK/img" "$OTHER"
reg_blob_put other "$V/payload.json"
reg_blob_put other "$V/sig-config.json"
reg_manifest_put other "$(sig_tag "$OTHER")" "$V/sig-manifest.json"
expect_fail 1 "payload names digest $DIG, not $OTHER" verify --key "$PUB" "$REG/other:v1"
# An image with no .sig tag at all.
reg_push_layout_image unsigned v1 "$WORK/img" "$OTHER"
expect_fail 1 "no signatures found for $OTHER" verify --key "$PUB" "$REG/unsigned:v1"

step "oci-layout: the same objects"
L="$WORK/layout"
layout_set_tag "$L" signed "$V/manifest.json" application/vnd.docker.distribution.manifest.v2+json
layout_put_blob "$L" "$V/payload.json" >/dev/null
layout_put_blob "$L" "$V/sig-config.json" >/dev/null
layout_set_tag "$L" "$TAG" "$V/sig-manifest.json"
ok verify --key "$PUB" "oci-layout:$L@$DIG"
assert_eq "$OUT" "oci-layout:$L@$DIG"
assert_contains "$ERR" "with key $PUB"
ok verify --key "$PUB" "oci-layout:$L:signed"
expect_fail 1 "signature does not verify with any given key" verify --key "$COSIGN_DATA/keys/password-123.pub" "oci-layout:$L:signed"

L2="$WORK/layout-unknown"
layout_set_tag "$L2" signed "$V/manifest.json" application/vnd.docker.distribution.manifest.v2+json
layout_put_blob "$L2" "$WORK/unknown-payload.json" >/dev/null
layout_put_blob "$L2" "$WORK/unknown/config.json" >/dev/null
layout_set_tag "$L2" "$TAG" "$WORK/unknown/manifest.json"
expect_fail 1 "signature does not verify with any given key" verify --key "$PUB" "oci-layout:$L2:signed"

OTHER=$(make_oci_image "$L" other)
layout_set_tag "$L" "$(sig_tag "$OTHER")" "$V/sig-manifest.json"
expect_fail 1 "payload names digest $DIG, not $OTHER" verify --key "$PUB" "oci-layout:$L:other"

# verify never writes: the layouts are as they were.
before=$(cd "$L" && find . -type f | sort | xargs sha256sum)
run verify --key "$PUB" "oci-layout:$L:signed"
after=$(cd "$L" && find . -type f | sort | xargs sha256sum)
assert_eq "$after" "$before" "layout after verify"
echo "PASS"
