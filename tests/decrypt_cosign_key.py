#!/usr/bin/python3
"""Independent decryptor for cosign encrypted private keys, for the tests.

Shares no code with liboci: Python's hashlib.scrypt and Debian's python3-nacl
SecretBox. Reads the PEM key, decrypts it with the password from
COSIGN_PASSWORD (may be empty), checks the parameters and writes the
plaintext (PKCS#8 DER) to the output file, or stdout.

usage: decrypt_cosign_key.py KEY.pem [OUT.der]
"""
import base64
import hashlib
import json
import os
import sys

import nacl.secret

LABELS = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")


def pem_body(text):
    lines = text.strip().splitlines()
    begin, end = lines[0], lines[-1]
    for label in LABELS:
        if begin == "-----BEGIN %s-----" % label and end == "-----END %s-----" % label:
            break
    else:
        sys.exit("not an encrypted cosign key: %r" % begin)
    body = lines[1:-1]
    if any(len(l) > 64 for l in body) or any(len(l) != 64 for l in body[:-1]):
        sys.exit("PEM body is not wrapped at 64 columns")
    return base64.b64decode("".join(body), validate=True)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        doc = json.loads(pem_body(f.read()))
    kdf, cipher = doc["kdf"], doc["cipher"]
    assert kdf["name"] == "scrypt", kdf["name"]
    assert cipher["name"] == "nacl/secretbox", cipher["name"]
    n, r, p = kdf["params"]["N"], kdf["params"]["r"], kdf["params"]["p"]
    assert (n, r, p) in ((32768, 8, 1), (65536, 8, 1), (131072, 8, 1)), (n, r, p)
    salt = base64.b64decode(kdf["salt"], validate=True)
    nonce = base64.b64decode(cipher["nonce"], validate=True)
    ciphertext = base64.b64decode(doc["ciphertext"], validate=True)
    password = os.environ.get("COSIGN_PASSWORD", "").encode()
    key = hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * 1024 * 1024)
    plain = nacl.secret.SecretBox(key).decrypt(ciphertext, nonce)
    print("N=%d r=%d p=%d salt=%d nonce=%d plaintext=%d" % (n, r, p, len(salt), len(nonce), len(plain)),
          file=sys.stderr)
    if len(sys.argv) == 3:
        with open(sys.argv[2], "wb") as f:
            f.write(plain)
    else:
        sys.stdout.buffer.write(plain)


if __name__ == "__main__":
    main()
