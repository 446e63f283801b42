# A PKCS#8 P-256 private key whose embedded public key is not the one its
# scalar gives is refused on load: sign used to exit 0 and store a signature
# that its own public key could not verify.
. "$(dirname "$0")/lib.sh"
cd "$WORK"

/usr/bin/python3 - <<'PY' || fail "python3-cryptography could not build the keys"
import base64
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import serialization as s
a = ec.generate_private_key(ec.SECP256R1())
b = ec.generate_private_key(ec.SECP256R1())
der = a.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption())
pa = a.public_key().public_bytes(s.Encoding.X962, s.PublicFormat.UncompressedPoint)
pb = b.public_key().public_bytes(s.Encoding.X962, s.PublicFormat.UncompressedPoint)
assert der.count(pa) == 1, "the PKCS#8 encoding carries the public point once"
def pem(d, label="PRIVATE KEY"):
    return f"-----BEGIN {label}-----\n" + base64.encodebytes(d).decode() + f"-----END {label}-----\n"
# Same length, so every DER length stays right: only the point differs.
open("mismatched.key", "w").write(pem(der.replace(pa, pb)))
open("good.key", "w").write(pem(der))
open("good.pub", "w").write(a.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode())
PY

make_manifests "$WORK/tree"
ok push "oci-layout:$WORK/store:v1" "$WORK/tree"
before=$(cat store/index.json)

step "the mismatched key is refused, nothing is stored"
expect_fail 1 "mismatched.key: the private key is inconsistent: its embedded public key is not the one its private scalar gives" \
	sign --key mismatched.key "oci-layout:$WORK/store:v1"
assert_eq "$(cat store/index.json)" "$before" "index.json after a refused sign"

step "the consistent key signs, and its public key verifies"
ok sign --key good.key "oci-layout:$WORK/store:v1"
ok verify --key good.pub "oci-layout:$WORK/store:v1"
echo ok
