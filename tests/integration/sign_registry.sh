#!/bin/bash
# sign and verify against a real docker-registry: the signature ocisync
# stores is checked by independent tools (curl, openssl dgst, Python json),
# signatures are appended and never duplicated, annotations are signed and
# required, and every tampering is refused with its reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_lib.sh"

cd "$WORK"
export COSIGN_PASSWORD=
ok keygen --prefix k1
ok keygen --prefix k2
start_registry
DIG=$(make_oci_image "$WORK/img" app)
reg_push_layout_image team/app v1 "$WORK/img" "$DIG"
TAG=$(sig_tag "$DIG")

step "sign"
ok sign --key k1.key "$REG/team/app:v1"
assert_eq "$OUT" "$REG/team/app@$DIG" "sign output"

step "independent check of what was stored"
reg_manifest_get team/app "$TAG" >sig-manifest.json
/usr/bin/python3 - sig-manifest.json <<'PY' || fail "sig manifest shape"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["schemaVersion"] == 2 and m["mediaType"] == "application/vnd.oci.image.manifest.v1+json", m
assert m["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json", m["config"]
assert len(m["layers"]) == 1, m["layers"]
l = m["layers"][0]
assert l["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json", l
assert list(l["annotations"]) == ["dev.cosignproject.cosign/signature"], l
open("payload.digest", "w").write(l["digest"])
open("config.digest", "w").write(m["config"]["digest"])
open("sig.b64", "w").write(l["annotations"]["dev.cosignproject.cosign/signature"])
PY
PD=$(cat payload.digest)
reg_blob_get team/app "$PD" >payload.json
assert_eq "sha256:$(sha256_of payload.json)" "$PD" "payload blob digest"
base64 -d sig.b64 >sig.der
assert_eq "$(openssl dgst -sha256 -verify k1.pub -signature sig.der payload.json)" "Verified OK" "openssl dgst -verify"
openssl dgst -sha256 -verify k2.pub -signature sig.der payload.json >/dev/null 2>&1 && fail "k2 verified k1's signature"
/usr/bin/python3 - payload.json "$REG/team/app" "$DIG" <<'PY' || fail "payload fields"
import json, sys
raw = open(sys.argv[1], "rb").read()
p = json.loads(raw)
assert sorted(p) == ["critical", "optional"], p
c = p["critical"]
assert sorted(c) == ["identity", "image", "type"], c
assert c["identity"] == {"docker-reference": sys.argv[2]}, c["identity"]
assert c["image"] == {"docker-manifest-digest": sys.argv[3]}, c["image"]
assert c["type"] == "cosign container image signature", c["type"]
assert p["optional"] is None, p["optional"]
# byte for byte what cosign writes (Go's encoding/json: compact, this key order)
assert raw == json.dumps(p, separators=(",", ":"), sort_keys=True).encode(), raw
PY
reg_blob_get team/app "$(cat config.digest)" >config.json
/usr/bin/python3 - config.json "$PD" <<'PY' || fail "signature config"
import json, sys
raw = open(sys.argv[1], "rb").read()
expect = ('{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],'
          '"os":"","rootfs":{"type":"layers","diff_ids":["%s"]},"config":{}}' % sys.argv[2]).encode()
assert raw == expect, raw
PY

step "verify"
ok verify --key k1.pub "$REG/team/app:v1"
assert_verified "$REG/team/app@$DIG" k1.pub
assert_eq "$OUT" "$REG/team/app@$DIG"
assert_contains "$ERR" "with key k1.pub"
expect_fail 1 "signature does not verify with any given key" verify --key k2.pub "$REG/team/app:v1"

step "the same signature is not added twice; another key is appended"
sum=$(reg_manifest_get team/app "$TAG" | sha256sum)
ok -o json sign --key k1.key "$REG/team/app:v1"
/usr/bin/python3 -c 'import json,sys; o=json.loads(sys.argv[1]); assert o["added"] is False and o["signature_tag"]==sys.argv[2], o' "$OUT" "$TAG" ||
	fail "sign -o json: $OUT"
assert_eq "$(reg_manifest_get team/app "$TAG" | sha256sum)" "$sum" ".sig manifest after signing twice"
ok sign --key k2.key "$REG/team/app@$DIG"
reg_manifest_get team/app "$TAG" >sig2.json
/usr/bin/python3 - sig-manifest.json sig2.json <<'PY' || fail "appended signature"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert len(b["layers"]) == 2 and b["layers"][0] == a["layers"][0], b
PY
ok verify --key k2.pub "$REG/team/app:v1"
assert_verified "$REG/team/app@$DIG" k2.pub
ok verify --key k1.pub "$REG/team/app:v1"
assert_verified "$REG/team/app@$DIG" k1.pub

step "annotations"
ok sign --key k1.key -a env=prod -a team=web "$REG/team/app:v1"
reg_manifest_get team/app "$TAG" >sig3.json
PD3=$(/usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert len(m["layers"])==3; print(m["layers"][2]["digest"])' sig3.json)
reg_blob_get team/app "$PD3" >payload3.json
/usr/bin/python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["optional"]=={"env":"prod","team":"web"}, p' payload3.json ||
	fail "annotations in the payload"
ok verify --key k1.pub -a env=prod -a team=web "$REG/team/app:v1"
assert_verified "$REG/team/app@$DIG" k1.pub
expect_fail 1 "annotation env=dev missing" verify --key k1.pub -a env=dev "$REG/team/app:v1"
# k2 signed without annotations: its signature does not satisfy them.
expect_fail 1 "annotation env=prod missing" verify --key k2.pub -a env=prod "$REG/team/app:v1"

step "tampering"
# Each case gets its own image (its own digest) in repository "tamper".
new_image() { # tag → digest, signed with k1
	local d
	d=$(make_oci_image "$WORK/img-$1" "$1")
	reg_push_layout_image tamper "$1" "$WORK/img-$1" "$d"
	ok sign --key k1.key "$REG/tamper:$1"
	echo "$d"
}
# edit_sig DIGEST OP: rewrites the .sig manifest of DIGEST with python.
edit_sig() {
	reg_manifest_get tamper "$(sig_tag "$1")" >"$WORK/edit.json"
	local pd
	pd=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' "$WORK/edit.json")
	reg_blob_get tamper "$pd" >"$WORK/edit-payload.json"
	/usr/bin/python3 - "$WORK/edit.json" "$WORK/edit-payload.json" "$2" <<'PY'
import base64, hashlib, json, sys
mp, pp, op = sys.argv[1:4]
m = json.load(open(mp))
l = m["layers"][0]
if op == "payload":
    data = bytearray(open(pp, "rb").read())
    data[30] ^= 0x01                      # one flipped bit inside the docker-reference
    open(pp, "wb").write(data)
    l["digest"] = "sha256:" + hashlib.sha256(data).hexdigest()
    l["size"] = len(data)
elif op == "signature":
    sig = bytearray(base64.b64decode(l["annotations"]["dev.cosignproject.cosign/signature"]))
    sig[len(sig) // 2] ^= 0x01
    l["annotations"]["dev.cosignproject.cosign/signature"] = base64.b64encode(bytes(sig)).decode()
elif op == "no-annotation":
    del l["annotations"]
elif op == "empty":
    m["layers"] = []
open(mp, "w").write(json.dumps(m, separators=(",", ":")))
PY
	reg_blob_put tamper "$WORK/edit-payload.json"
	reg_manifest_put tamper "$(sig_tag "$1")" "$WORK/edit.json"
}

T=$(new_image payload)
ok verify --key k1.pub "$REG/tamper:payload"
assert_verified "$REG/tamper@$T" k1.pub
edit_sig "$T" payload
expect_fail 1 "signature does not verify with any given key" verify --key k1.pub "$REG/tamper:payload"
assert_eq "$OUT" "" "stdout of a refused verify"

T=$(new_image signature)
edit_sig "$T" signature
expect_fail 1 "signature does not verify with any given key" verify --key k1.pub "$REG/tamper:signature"

T=$(new_image noannotation)
edit_sig "$T" no-annotation
expect_fail 1 "has no dev.cosignproject.cosign/signature annotation" verify --key k1.pub "$REG/tamper:noannotation"

# A valid signature of one digest moved to another digest's .sig tag.
A=$(new_image moved-from)
B=$(make_oci_image "$WORK/img-moved-to" moved-to)
reg_push_layout_image tamper moved-to "$WORK/img-moved-to" "$B"
reg_manifest_get tamper "$(sig_tag "$A")" >moved.json
reg_manifest_put tamper "$(sig_tag "$B")" moved.json
expect_fail 1 "payload names digest $A, not $B" verify --key k1.pub "$REG/tamper:moved-to"

# The .sig tag pointing at something that is not a signature manifest.
G=$(make_oci_image "$WORK/img-garbage" garbage)
reg_push_layout_image tamper garbage "$WORK/img-garbage" "$G"
reg_manifest_put tamper "$(sig_tag "$G")" "$WORK/img-garbage/blobs/sha256/${G#sha256:}"
expect_fail 1 "no signatures found for $G" verify --key k1.pub "$REG/tamper:garbage"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"%s","digest":"%s","size":%s}]}' \
	"$OCI_MT" "$G" "$(stat -c %s "$WORK/img-garbage/blobs/sha256/${G#sha256:}")" >index.json
reg_manifest_put tamper "$(sig_tag "$G")" index.json application/vnd.oci.image.index.v1+json
expect_fail 1 ".sig manifest $(sig_tag "$G") is not valid" verify --key k1.pub "$REG/tamper:garbage"
# ... and signing refuses to replace it (the signatures in it would be lost).
expect_fail 1 "is not valid" sign --key k1.key "$REG/tamper:garbage"
assert_eq "$(reg_manifest_get tamper "$(sig_tag "$G")" | sha256sum)" "$(sha256sum <index.json)" "garbage .sig after a refused sign"

# An empty .sig manifest: no layers.
T=$(new_image empty)
edit_sig "$T" empty
expect_fail 1 "no signatures found for $T" verify --key k1.pub "$REG/tamper:empty"
# Signing again starts from it and verifies.
ok sign --key k1.key "$REG/tamper:empty"
ok verify --key k1.pub "$REG/tamper:empty"
assert_verified "$REG/tamper@$T" k1.pub
echo PASS
