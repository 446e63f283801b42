#!/bin/bash
# sign and verify on oci-layout: targets, through the same target API as
# registries: the stored signature checked with openssl and Python, signatures
# appended, and tampering with the files refused with its reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_lib.sh"

cd "$WORK"
export COSIGN_PASSWORD=secret
ok keygen --prefix k1
# A cosign key from the shared vectors signs too (old label, N=32768).
L="$WORK/layout"
DIG=$(make_oci_image "$L" app)
TAG=$(sig_tag "$DIG")
blob() { echo "$L/blobs/sha256/${1#sha256:}"; }
tag_digest() { # tag → digest from index.json
	/usr/bin/python3 -c '
import json, sys
for m in json.load(open(sys.argv[1] + "/index.json"))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2]:
        print(m["digest"])' "$L" "$1"
}

step "sign on a layout"
ok sign --key k1.key "oci-layout:$L:app"
assert_eq "$OUT" "oci-layout:$L@$DIG"
SIGM=$(tag_digest "$TAG")
[ -n "$SIGM" ] || fail "no $TAG in index.json"
/usr/bin/python3 - "$(blob "$SIGM")" <<'PY' >sig.fields || fail "sig manifest shape"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["mediaType"] == "application/vnd.oci.image.manifest.v1+json" and len(m["layers"]) == 1, m
l = m["layers"][0]
assert l["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json", l
print(l["digest"], l["annotations"]["dev.cosignproject.cosign/signature"])
PY
read -r PD SIGB64 <sig.fields
echo "$SIGB64" | base64 -d >sig.der
assert_eq "$(openssl dgst -sha256 -verify k1.pub -signature sig.der "$(blob "$PD")")" "Verified OK" "openssl dgst -verify"
# The signed identity is the layout's name, not this machine's path to it.
/usr/bin/python3 - "$(blob "$PD")" "layout" "$DIG" <<'PY' || fail "payload fields"
import json, sys
p = json.load(open(sys.argv[1]))
assert p == {"critical": {"identity": {"docker-reference": sys.argv[2]},
                          "image": {"docker-manifest-digest": sys.argv[3]},
                          "type": "cosign container image signature"}, "optional": None}, p
PY
ok verify --key k1.pub "oci-layout:$L:app"
assert_verified "oci-layout:$L@$DIG" k1.pub
assert_eq "$OUT" "oci-layout:$L@$DIG"
assert_not_contains "$(cat "$(blob "$PD")")" "$WORK" "signed payload"

step "verification does not depend on the identity: the layout moved, and a payload naming the old path"
cp -a "$L" "$WORK/moved-elsewhere"
ok verify --key k1.pub "oci-layout:$WORK/moved-elsewhere:app"
# What earlier versions signed: docker-reference "oci-layout:/abs/path".
/usr/bin/python3 - "$WORK/moved-elsewhere" "$DIG" <<'PY' >old.payload
import json, sys
print(json.dumps({"critical": {"identity": {"docker-reference": "oci-layout:" + sys.argv[1]},
                               "image": {"docker-manifest-digest": sys.argv[2]},
                               "type": "cosign container image signature"}, "optional": None},
                 separators=(",", ":")), end="")
PY
/usr/bin/python3 "$SRCDIR/tests/decrypt_cosign_key.py" k1.key k1.der || fail "could not decrypt k1.key"
openssl dgst -sha256 -sign k1.der -keyform DER -out old.sig old.payload || fail "openssl could not sign"
O="$WORK/old-style"
cp -a "$WORK/moved-elsewhere" "$O"
make_sig_objects "$WORK/oldsig" old.payload "$(base64 -w0 old.sig)"
layout_put_blob "$O" old.payload >/dev/null
layout_put_blob "$O" "$WORK/oldsig/config.json" >/dev/null
layout_set_tag "$O" "$TAG" "$WORK/oldsig/manifest.json"
ok verify --key k1.pub "oci-layout:$O:app"
assert_eq "$OUT" "oci-layout:$O@$DIG"

step "a second key from cosign's vectors is appended; same key again is not"
COSIGN_PASSWORD=123 ok sign --key "$COSIGN_DATA/keys/password-123.key" "oci-layout:$L@$DIG"
COSIGN_PASSWORD=123 ok sign --key "$COSIGN_DATA/keys/password-123.key" "oci-layout:$L@$DIG"
assert_contains "$ERR" "already signed with this key"
/usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert len(m["layers"])==2, m' "$(blob "$(tag_digest "$TAG")")" ||
	fail "expected two signatures"
ok verify --key "$COSIGN_DATA/keys/password-123.pub" "oci-layout:$L:app"
assert_verified "oci-layout:$L@$DIG" "$COSIGN_DATA/keys/password-123.pub"
assert_contains "$ERR" "with key $COSIGN_DATA/keys/password-123.pub"
ok verify --key k1.pub "oci-layout:$L:app"
assert_verified "oci-layout:$L@$DIG" k1.pub
COSIGN_PASSWORD= ok sign --key "$COSIGN_DATA/keys/empty-password.key" -a ci=yes "oci-layout:$L:app"
ok verify --key "$COSIGN_DATA/keys/empty-password.pub" -a ci=yes "oci-layout:$L:app"
assert_verified "oci-layout:$L@$DIG" "$COSIGN_DATA/keys/empty-password.pub"

step "tampering with the files"
# A flipped byte in the stored payload: its digest no longer matches.
cp "$(blob "$PD")" payload.orig
chmod u+w "$(blob "$PD")"
/usr/bin/python3 -c '
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[30] ^= 1; open(p, "wb").write(b)' "$(blob "$PD")"
expect_fail 1 "does not match its digest" verify --key k1.pub "oci-layout:$L:app"
cp payload.orig "$(blob "$PD")"
ok verify --key k1.pub "oci-layout:$L:app"
assert_verified "oci-layout:$L@$DIG" k1.pub

# The .sig tag pointing at bytes that are not JSON.
printf 'garbage\x00\x01' >garbage.bin
cp "$(blob "$(tag_digest "$TAG")")" sig.good
layout_set_tag "$L" "$TAG" garbage.bin
expect_fail 1 ".sig manifest $TAG is not valid" verify --key k1.pub "oci-layout:$L:app"
expect_fail 1 "not signing $DIG, to keep its existing signatures" sign --key k1.key "oci-layout:$L:app"
layout_set_tag "$L" "$TAG" sig.good
ok verify --key k1.pub "oci-layout:$L:app"
assert_verified "oci-layout:$L@$DIG" k1.pub

# A signature moved to another digest.
OTHER=$(make_oci_image "$L" other)
layout_set_tag "$L" "$(sig_tag "$OTHER")" sig.good
expect_fail 1 "payload names digest $DIG, not $OTHER" verify --key k1.pub "oci-layout:$L:other"

# A pinned digest that is not in the layout.
expect_fail 1 "not found" verify --key k1.pub "oci-layout:$L@sha256:$(printf x | sha256sum | cut -d' ' -f1)"
echo PASS
