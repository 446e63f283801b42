#!/bin/bash
# keygen: file modes, never overwriting, COSIGN_PASSWORD (even empty), no
# terminal and no password; the key decrypts with an independent
# implementation (Python hashlib.scrypt + PyNaCl) and matches the .pub;
# keys that must not load are refused with their reason before any network use.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_lib.sh"

cd "$WORK"
DECRYPT="$SRCDIR/tests/decrypt_cosign_key.py"

step "keygen with COSIGN_PASSWORD"
export COSIGN_PASSWORD='pw with spaces'
umask 022
ok keygen
assert_eq "$OUT" "Private key written to cosign.key
Public key written to cosign.pub"
assert_eq "$(stat -c %a cosign.key)" 600 "mode of cosign.key"
assert_eq "$(stat -c %a cosign.pub)" 644 "mode of cosign.pub"
head -1 cosign.key | grep -qx -- '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----' || fail "private key label"
head -1 cosign.pub | grep -qx -- '-----BEGIN PUBLIC KEY-----' || fail "public key label"
# A permissive umask does not widen the private key; a strict one does not narrow the public one.
umask 000
ok keygen --prefix wide
assert_eq "$(stat -c %a wide.key)" 600 "mode of wide.key under umask 000"
umask 077
ok keygen --prefix narrow
assert_eq "$(stat -c %a narrow.pub)" 644 "mode of narrow.pub under umask 077"
umask 022

step "independent decryption"
/usr/bin/python3 "$DECRYPT" cosign.key cosign.der 2>"$WORK/py.err" || fail "python decryptor: $(cat "$WORK/py.err")"
assert_contains "$(cat "$WORK/py.err")" "N=65536 r=8 p=1 salt=32 nonce=24 plaintext=138"
openssl pkey -inform DER -in cosign.der -pubout -out derived.pub || fail "plaintext is not a PKCS#8 key"
cmp derived.pub cosign.pub || fail "public half of the decrypted key differs from cosign.pub"
openssl pkey -inform DER -in cosign.der -noout -text | grep -q 'NIST CURVE: P-256' || fail "not a P-256 key"
COSIGN_PASSWORD=wrong /usr/bin/python3 "$DECRYPT" cosign.key /dev/null 2>/dev/null && fail "python decrypted with a wrong password"

step "never overwrites"
sum=$(sha256sum cosign.key cosign.pub)
expect_fail 1 "cosign.key already exists; refusing to overwrite it" keygen
assert_eq "$(sha256sum cosign.key cosign.pub)" "$sum" "key files after a refused keygen"
rm -f only.key
touch only.pub
expect_fail 1 "only.pub already exists" keygen --prefix only
[ ! -e only.key ] || fail "only.key was written although only.pub exists"
ln -s /nonexistent/target dangling.key
expect_fail 1 "dangling.key already exists" keygen --prefix dangling
[ ! -e dangling.pub ] || fail "dangling.pub written"
expect_fail 1 "missing-dir/k.key" keygen --prefix missing-dir/k
[ ! -e missing-dir ] || fail "missing-dir created"

step "empty password; JSON output; a directory prefix"
mkdir keys
COSIGN_PASSWORD= ok -o json keygen --prefix keys/empty
/usr/bin/python3 -c 'import json,sys; o=json.loads(sys.argv[1]); assert o=={"private_key":"keys/empty.key","public_key":"keys/empty.pub"}, o' "$OUT" ||
	fail "keygen -o json: $OUT"
COSIGN_PASSWORD= /usr/bin/python3 "$DECRYPT" keys/empty.key keys/empty.der 2>/dev/null || fail "empty-password key does not decrypt"
openssl pkey -inform DER -in keys/empty.der -pubout | cmp - keys/empty.pub || fail "empty-password public half"

step "no password and no terminal"
run_notty() { # like run, without COSIGN_PASSWORD and without a controlling terminal
	set +e
	env -u COSIGN_PASSWORD setsid -w "$OCISYNC" "$@" </dev/null >"$WORK/out" 2>"$WORK/err"
	RC=$?
	set -e
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}
run_notty keygen --prefix notty
assert_eq "$RC" 1 "exit code without terminal"
assert_contains "$ERR" "there is no terminal to ask on: set COSIGN_PASSWORD"
[ ! -e notty.key ] && [ ! -e notty.pub ] || fail "keygen without a password wrote files"
run_notty sign --key cosign.key "oci-layout:$WORK/never:v1"
assert_eq "$RC" 1 "sign exit code without terminal"
assert_contains "$ERR" "cosign.key needs a password and there is no terminal to ask on"

step "keys that do not load: exit 1, nothing touched"
COSIGN_PASSWORD=nope run sign --key cosign.key "oci-layout:$WORK/never:v1"
assert_eq "$RC" 1
assert_contains "$ERR" "cosign.key: wrong password or corrupt key"
COSIGN_PASSWORD=hello run sign --key "$COSIGN_DATA/keys/sec1-plaintext-reject.key" "oci-layout:$WORK/never:v1"
assert_eq "$RC" 1
assert_contains "$ERR" "not PKCS#8"
COSIGN_PASSWORD=123 run sign --key cosign.pub "oci-layout:$WORK/never:v1"
assert_eq "$RC" 1
assert_contains "$ERR" "not a cosign private key"
[ ! -e "$WORK/never" ] || fail "a refused key still created the layout"

step "usage"
expect_fail 2 "keygen takes no arguments" keygen extra
expect_fail 2 "unknown option --bogus" keygen --bogus
expect_fail 2 "sign needs --key" sign "oci-layout:$WORK/never:v1"
expect_fail 2 "sign takes one REF" sign --key cosign.key
ok keygen --help
assert_contains "$OUT" "COSIGN_PASSWORD"
ok sign --help
assert_contains "$OUT" "sha256-<hex>.sig"
ok verify --help
assert_contains "$OUT" "--key PUB"
echo PASS
