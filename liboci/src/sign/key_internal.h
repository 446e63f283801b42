/* Private: the key type and cosign's encrypted-key format, shared by key.c,
 * key_encrypt.c, sign.c and verify.c (and reachable by unit tests). */
#ifndef OCI_KEY_INTERNAL_H
#define OCI_KEY_INTERNAL_H
#include <openssl/evp.h>
#include <stddef.h>
#include "oci/key.h"

struct oci_key {
	EVP_PKEY *pkey;
	int has_private;
};

/* cosign's KDF costs for new keys. */
#define OCI_COSIGN_SCRYPT_N 65536u
#define OCI_COSIGN_SCRYPT_R 8u
#define OCI_COSIGN_SCRYPT_P 1u
#define OCI_COSIGN_SALT_LEN 32u

/* Decrypts go-securesystemslib's "encrypted" JSON (what cosign puts in the
 * PEM body). The plaintext is allocated with sodium_malloc-like care: free
 * it with oci_cosign_plain_free, which wipes it. what names the source in
 * messages. OCI_EPASSWORD when the secretbox does not open. */
int oci_cosign_decrypt(unsigned char **plain, size_t *plain_len, const void *json, size_t json_len,
		       const char *password, const char *what);
void oci_cosign_plain_free(unsigned char *plain, size_t len);

/* Encrypts plain into compact JSON with a fresh salt and nonce, scrypt(N, r, p). */
int oci_cosign_encrypt(oci_buf *json, const void *plain, size_t plain_len, const char *password,
		       unsigned long long n, unsigned r, unsigned p);

/* Standard base64 with padding (strict when decoding). */
int oci_cosign_b64_encode(char **out, const void *data, size_t len);
int oci_cosign_b64_decode(unsigned char **out, size_t *out_len, const char *s, size_t len, const char *what);

#endif
