/* cosign's private-key encryption (go-securesystemslib "encrypted"):
 * key = scrypt(password, salt, N, r, p, 32), box = NaCl secretbox, all in a
 * compact JSON object. Only the scrypt costs cosign accepts are ever run,
 * so a hostile key file cannot make us allocate gigabytes. */
#include "key_internal.h"
#include "error_internal.h"
#include "oci/version.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int oci_cosign_b64_encode(char **out, const void *data, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(n);
	if (!s)
		return OCI_ENOMEM_SET();
	sodium_bin2base64(s, n, data, len, sodium_base64_VARIANT_ORIGINAL);
	*out = s;
	return 0;
}

int oci_cosign_b64_decode(unsigned char **out, size_t *out_len, const char *s, size_t len, const char *what)
{
	size_t cap = len / 4 * 3 + 3;
	unsigned char *b = malloc(cap + 1);
	size_t n = 0;
	const char *end = NULL;
	if (!b)
		return OCI_ENOMEM_SET();
	if (sodium_base642bin(b, cap, s, len, NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != s + len) {
		free(b);
		return oci_error_set(OCI_EINVALID, "%s is not valid base64", what);
	}
	*out = b;
	*out_len = n;
	return 0;
}

/* The costs cosign's LoadPrivateKey lets through (go-securesystemslib's
 * legacy, standard and OWASP-recommended settings). */
static int scrypt_params_allowed(json_int_t n, json_int_t r, json_int_t p)
{
	return (n == 32768 || n == 65536 || n == 131072) && r == 8 && p == 1;
}

static const char *get_string(json_t *obj, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int get_b64(unsigned char **out, size_t *len, json_t *obj, const char *key, const char *what)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	if (!json_is_string(v))
		return oci_error_set(OCI_EINVALID, "%s: encrypted key lacks the string field \"%s\"", what, key);
	char name[128];
	snprintf(name, sizeof name, "%s: encrypted key field \"%s\"", what, key);
	return oci_cosign_b64_decode(out, len, json_string_value(v), json_string_length(v), name);
}

void oci_cosign_plain_free(unsigned char *plain, size_t len)
{
	if (plain) {
		sodium_memzero(plain, len);
		free(plain);
	}
}

int oci_cosign_decrypt(unsigned char **plain, size_t *plain_len, const void *json, size_t json_len,
		       const char *password, const char *what)
{
	unsigned char key[crypto_secretbox_KEYBYTES];
	unsigned char *salt = NULL, *nonce = NULL, *ct = NULL, *pt = NULL;
	size_t salt_len = 0, nonce_len = 0, ct_len = 0;
	json_error_t jerr;
	int rc;

	*plain = NULL;
	*plain_len = 0;
	oci_init(); /* sodium_init */
	json_t *root = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		rc = oci_error_set(OCI_EINVALID, "%s: the encrypted key is not a JSON object (%s)", what,
				   root ? "wrong type" : jerr.text);
		goto cleanup;
	}
	json_t *kdf = json_object_get(root, "kdf");
	json_t *cipher = json_object_get(root, "cipher");
	const char *kdf_name = get_string(kdf, "name");
	if (!kdf_name || strcmp(kdf_name, "scrypt") != 0) {
		rc = oci_error_set(OCI_EUNSUPPORTED, "%s: unsupported key derivation '%s' (cosign keys use scrypt)",
				   what, kdf_name ? kdf_name : "(none)");
		goto cleanup;
	}
	json_t *params = json_object_get(kdf, "params");
	json_t *jn = json_object_get(params, "N"), *jr = json_object_get(params, "r"), *jp = json_object_get(params, "p");
	if (!json_is_integer(jn) || !json_is_integer(jr) || !json_is_integer(jp)) {
		rc = oci_error_set(OCI_EINVALID, "%s: the scrypt parameters N, r, p are missing", what);
		goto cleanup;
	}
	json_int_t n = json_integer_value(jn), r = json_integer_value(jr), p = json_integer_value(jp);
	if (!scrypt_params_allowed(n, r, p)) {
		rc = oci_error_set(OCI_EUNSUPPORTED,
				   "%s: unsupported scrypt parameters N=%lld r=%lld p=%lld "
				   "(cosign accepts N=32768, 65536 or 131072 with r=8 p=1)",
				   what, (long long)n, (long long)r, (long long)p);
		goto cleanup;
	}
	const char *cipher_name = get_string(cipher, "name");
	if (!cipher_name || strcmp(cipher_name, "nacl/secretbox") != 0) {
		rc = oci_error_set(OCI_EUNSUPPORTED, "%s: unsupported cipher '%s' (cosign keys use nacl/secretbox)",
				   what, cipher_name ? cipher_name : "(none)");
		goto cleanup;
	}
	if ((rc = get_b64(&salt, &salt_len, kdf, "salt", what)) < 0 ||
	    (rc = get_b64(&nonce, &nonce_len, cipher, "nonce", what)) < 0 ||
	    (rc = get_b64(&ct, &ct_len, root, "ciphertext", what)) < 0)
		goto cleanup;
	if (nonce_len != crypto_secretbox_NONCEBYTES) {
		rc = oci_error_set(OCI_EINVALID, "%s: the nonce has %zu bytes, not %d", what, nonce_len,
				   crypto_secretbox_NONCEBYTES);
		goto cleanup;
	}
	if (ct_len < crypto_secretbox_MACBYTES) {
		rc = oci_error_set(OCI_EPASSWORD, "%s: wrong password or corrupt key (ciphertext too short)", what);
		goto cleanup;
	}
	if (crypto_pwhash_scryptsalsa208sha256_ll((const uint8_t *)password, strlen(password), salt, salt_len,
						  (uint64_t)n, (uint32_t)r, (uint32_t)p, key, sizeof key) != 0) {
		rc = oci_error_set(OCI_ENOMEM, "%s: scrypt failed (not enough memory?)", what);
		goto cleanup;
	}
	size_t pt_len = ct_len - crypto_secretbox_MACBYTES;
	if (!(pt = malloc(pt_len + 1))) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if (crypto_secretbox_open_easy(pt, ct, ct_len, nonce, key) != 0) {
		rc = oci_error_set(OCI_EPASSWORD, "%s: wrong password or corrupt key", what);
		goto cleanup;
	}
	*plain = pt;
	*plain_len = pt_len;
	pt = NULL;
	rc = 0;
cleanup:
	sodium_memzero(key, sizeof key);
	if (pt)
		oci_cosign_plain_free(pt, ct_len - crypto_secretbox_MACBYTES);
	free(salt);
	free(nonce);
	free(ct);
	json_decref(root);
	return rc;
}

int oci_cosign_encrypt(oci_buf *out, const void *plain, size_t plain_len, const char *password,
		       unsigned long long n, unsigned r, unsigned p)
{
	unsigned char salt[OCI_COSIGN_SALT_LEN], nonce[crypto_secretbox_NONCEBYTES];
	unsigned char key[crypto_secretbox_KEYBYTES];
	unsigned char *ct = NULL;
	char *salt_b64 = NULL, *nonce_b64 = NULL, *ct_b64 = NULL, *text = NULL;
	json_t *root = NULL;
	int rc;

	if (oci_init() < 0 || sodium_init() < 0)
		return oci_error_set(OCI_ERROR, "libsodium could not be initialised (no entropy source?)");
	randombytes_buf(salt, sizeof salt);
	randombytes_buf(nonce, sizeof nonce);
	if (crypto_pwhash_scryptsalsa208sha256_ll((const uint8_t *)password, strlen(password), salt, sizeof salt,
						  n, r, p, key, sizeof key) != 0) {
		rc = oci_error_set(OCI_ENOMEM, "scrypt failed (not enough memory?)");
		goto cleanup;
	}
	if (!(ct = malloc(plain_len + crypto_secretbox_MACBYTES))) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	crypto_secretbox_easy(ct, plain, plain_len, nonce, key);
	if ((rc = oci_cosign_b64_encode(&salt_b64, salt, sizeof salt)) < 0 ||
	    (rc = oci_cosign_b64_encode(&nonce_b64, nonce, sizeof nonce)) < 0 ||
	    (rc = oci_cosign_b64_encode(&ct_b64, ct, plain_len + crypto_secretbox_MACBYTES)) < 0)
		goto cleanup;
	/* Field order as go-securesystemslib marshals its structs. */
	root = json_pack("{s:{s:s, s:{s:I, s:I, s:I}, s:s}, s:{s:s, s:s}, s:s}",
			 "kdf", "name", "scrypt", "params", "N", (json_int_t)n, "r", (json_int_t)r, "p", (json_int_t)p,
			 "salt", salt_b64, "cipher", "name", "nacl/secretbox", "nonce", nonce_b64, "ciphertext", ct_b64);
	if (!root || !(text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	rc = oci_buf_append(out, text, strlen(text));
cleanup:
	sodium_memzero(key, sizeof key);
	free(ct);
	free(salt_b64);
	free(nonce_b64);
	free(ct_b64);
	free(text);
	json_decref(root);
	return rc;
}
