/* ECDSA P-256 keys: generation, PEM reading and writing, raw sign/verify.
 * Private key bytes (DER, PEM of unencrypted keys) are wiped after use. */
#include "key_internal.h"
#include "error_internal.h"
#include "stream.h"
#include "oci/version.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LABEL_SIGSTORE "ENCRYPTED SIGSTORE PRIVATE KEY"
#define LABEL_COSIGN "ENCRYPTED COSIGN PRIVATE KEY"
#define LABEL_PKCS8 "PRIVATE KEY"
#define LABEL_PUBLIC "PUBLIC KEY"
#define KEY_FILE_MAX (64 * 1024)

void oci_key_free(oci_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey); /* OpenSSL clears private scalars when freeing */
	free(k);
}

int oci_key_has_private(const oci_key *k) { return k && k->has_private; }

static int wrap_pkey(oci_key **out, EVP_PKEY *pkey, int has_private)
{
	oci_key *k = calloc(1, sizeof *k);
	if (!k) {
		EVP_PKEY_free(pkey);
		return OCI_ENOMEM_SET();
	}
	k->pkey = pkey;
	k->has_private = has_private;
	*out = k;
	return 0;
}

/* cosign's keyed signing is ECDSA P-256 with SHA-256: refuse anything else
 * instead of producing signatures cosign would not check the same way. */
static int check_p256(EVP_PKEY *pkey, const char *what)
{
	char group[64] = "";
	size_t glen = 0;
	if (!EVP_PKEY_is_a(pkey, "EC"))
		return oci_error_set(OCI_EUNSUPPORTED, "%s: a %s key, not ECDSA (only ECDSA P-256 keys are supported)",
				     what, EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "non-EC");
	if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) ||
	    strcmp(group, "prime256v1") != 0) {
		ERR_clear_error();
		return oci_error_set(OCI_EUNSUPPORTED, "%s: an ECDSA key on curve %s, not P-256", what,
				     group[0] ? group : "(unknown)");
	}
	return 0;
}

int oci_key_generate(oci_key **out)
{
	*out = NULL;
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!pkey) {
		ERR_clear_error();
		return oci_error_set(OCI_ERROR, "generating an ECDSA P-256 key failed");
	}
	return wrap_pkey(out, pkey, 1);
}

/* Reads a small file whole (keys are a few hundred bytes). The caller wipes. */
static int read_small_file(oci_buf *out, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oci_error_errno("opening key %s", path);
	oci_istream *s;
	int rc = oci_istream_fd(&s, fd, path, 1);
	if (rc < 0)
		return rc;
	rc = oci_istream_read_all(s, out, KEY_FILE_MAX, path);
	oci_istream_close(s);
	if (rc == OCI_ELIMIT)
		rc = oci_error_set(OCI_ELIMIT, "key %s is larger than %d bytes: not a key", path, KEY_FILE_MAX);
	return rc;
}

static void wipe_buf(oci_buf *b)
{
	if (b->data)
		OPENSSL_cleanse(b->data, b->cap);
	oci_buf_dispose(b);
}

/* The first PEM block: its label and decoded body (free both with
 * free_pem, which wipes the body). */
static int read_pem(char **label, unsigned char **body, long *body_len, const void *pem, size_t len,
		    const char *what)
{
	char *header = NULL;
	*label = NULL;
	*body = NULL;
	*body_len = 0;
	if (len > KEY_FILE_MAX)
		return oci_error_set(OCI_ELIMIT, "%s: larger than %d bytes: not a key", what, KEY_FILE_MAX);
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return OCI_ENOMEM_SET();
	int ok = PEM_read_bio(bio, label, &header, body, body_len);
	BIO_free(bio);
	OPENSSL_free(header);
	if (!ok) {
		ERR_clear_error();
		return oci_error_set(OCI_EINVALID, "%s: no PEM block found (not a key file)", what);
	}
	return 0;
}

static void free_pem(char *label, unsigned char *body, long body_len)
{
	OPENSSL_free(label);
	if (body)
		OPENSSL_clear_free(body, (size_t)body_len);
}

/* A PKCS#8 EC key carries its public point beside the scalar, and
 * OpenSSL takes it as written: a key whose halves do not match would sign
 * with the scalar while its .pub (and any check against it) says another
 * key. The point must be the scalar times the generator. */
static int check_pair(EVP_PKEY *pkey, const char *what)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!ctx)
		return OCI_ENOMEM_SET();
	int ok = EVP_PKEY_public_check(ctx) == 1 && EVP_PKEY_pairwise_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	if (!ok)
		return oci_error_set(OCI_EINVALID, "%s: the private key is inconsistent: its embedded public key is not "
				     "the one its private scalar gives (a damaged or forged key); refused", what);
	return 0;
}

static int pkcs8_to_key(oci_key **out, const unsigned char *der, size_t len, const char *what)
{
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
	if (!p8 || p != der + len) {
		PKCS8_PRIV_KEY_INFO_free(p8);
		ERR_clear_error();
		return oci_error_set(OCI_EINVALID,
				     "%s: the private key is not PKCS#8 (SEC1 \"EC PRIVATE KEY\" keys are refused, "
				     "as cosign refuses them)", what);
	}
	EVP_PKEY *pkey = EVP_PKCS82PKEY(p8);
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (!pkey) {
		ERR_clear_error();
		return oci_error_set(OCI_EINVALID, "%s: the PKCS#8 private key cannot be read", what);
	}
	int rc = check_p256(pkey, what);
	if (rc == 0)
		rc = check_pair(pkey, what);
	if (rc < 0) {
		EVP_PKEY_free(pkey);
		return rc;
	}
	return wrap_pkey(out, pkey, 1);
}

int oci_key_parse_private(oci_key **out, const void *pem, size_t len, const char *password, const char *name)
{
	char *label = NULL;
	unsigned char *body = NULL, *plain = NULL;
	long body_len = 0;
	size_t plain_len = 0;
	const char *what = name ? name : "private key";
	*out = NULL;
	int rc = read_pem(&label, &body, &body_len, pem, len, what);
	if (rc < 0)
		return rc;
	if (strcmp(label, LABEL_SIGSTORE) == 0 || strcmp(label, LABEL_COSIGN) == 0) {
		if (!password) {
			rc = oci_error_set(OCI_EPASSWORD, "%s: the key is encrypted and no password was given", what);
			goto cleanup;
		}
		if ((rc = oci_cosign_decrypt(&plain, &plain_len, body, (size_t)body_len, password, what)) < 0)
			goto cleanup;
		rc = pkcs8_to_key(out, plain, plain_len, what);
	} else if (strcmp(label, LABEL_PKCS8) == 0) {
		rc = pkcs8_to_key(out, body, (size_t)body_len, what);
	} else if (strcmp(label, "EC PRIVATE KEY") == 0) {
		rc = oci_error_set(OCI_EINVALID, "%s: the private key is not PKCS#8 but SEC1 \"EC PRIVATE KEY\"; "
				   "convert it with: openssl pkcs8 -topk8 -nocrypt", what);
	} else {
		rc = oci_error_set(OCI_EINVALID, "%s: a PEM \"%s\", not a cosign private key", what, label);
	}
cleanup:
	oci_cosign_plain_free(plain, plain_len);
	free_pem(label, body, body_len);
	return rc;
}

int oci_key_parse_public(oci_key **out, const void *pem, size_t len, const char *name)
{
	char *label = NULL;
	unsigned char *body = NULL;
	long body_len = 0;
	const char *what = name ? name : "public key";
	*out = NULL;
	int rc = read_pem(&label, &body, &body_len, pem, len, what);
	if (rc < 0)
		return rc;
	if (strcmp(label, LABEL_PUBLIC) != 0) {
		rc = oci_error_set(OCI_EINVALID, "%s: a PEM \"%s\", not a \"PUBLIC KEY\"", what, label);
		goto cleanup;
	}
	const unsigned char *p = body;
	EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, body_len);
	if (!pkey || p != body + body_len) {
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		rc = oci_error_set(OCI_EINVALID, "%s: the public key cannot be read", what);
		goto cleanup;
	}
	if ((rc = check_p256(pkey, what)) < 0) {
		EVP_PKEY_free(pkey);
		goto cleanup;
	}
	rc = wrap_pkey(out, pkey, 0);
cleanup:
	free_pem(label, body, body_len);
	return rc;
}

int oci_key_load_private(oci_key **out, const char *path, const char *password)
{
	oci_buf b = OCI_BUF_INIT;
	*out = NULL;
	int rc = read_small_file(&b, path);
	if (rc == 0)
		rc = oci_key_parse_private(out, b.data ? b.data : "", b.len, password, path);
	wipe_buf(&b);
	return rc;
}

int oci_key_load_public(oci_key **out, const char *path)
{
	oci_buf b = OCI_BUF_INIT;
	*out = NULL;
	int rc = read_small_file(&b, path);
	if (rc == 0)
		rc = oci_key_parse_public(out, b.data ? b.data : "", b.len, path);
	oci_buf_dispose(&b);
	return rc;
}

int oci_key_is_encrypted_file(int *out, const char *path)
{
	oci_buf b = OCI_BUF_INIT;
	char *label = NULL;
	unsigned char *body = NULL;
	long body_len = 0;
	int rc = read_small_file(&b, path);
	if (rc < 0)
		goto cleanup;
	if ((rc = read_pem(&label, &body, &body_len, b.data ? b.data : "", b.len, path)) < 0)
		goto cleanup;
	if (strcmp(label, LABEL_SIGSTORE) == 0 || strcmp(label, LABEL_COSIGN) == 0)
		*out = 1;
	else if (strcmp(label, LABEL_PKCS8) == 0)
		*out = 0;
	else
		rc = oci_error_set(OCI_EINVALID, "%s: a PEM \"%s\", not a cosign private key", path, label);
cleanup:
	free_pem(label, body, body_len);
	wipe_buf(&b);
	return rc;
}

static int pem_encode(oci_buf *out, const char *label, const unsigned char *der, size_t len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *mem = NULL;
	int rc = 0;
	if (!bio)
		return OCI_ENOMEM_SET();
	if (PEM_write_bio(bio, label, "", der, (long)len) <= 0) {
		ERR_clear_error();
		rc = oci_error_set(OCI_ERROR, "PEM encoding of a %s failed", label);
		goto cleanup;
	}
	long n = BIO_get_mem_data(bio, &mem);
	rc = oci_buf_append(out, mem, (size_t)n);
cleanup:
	BIO_free(bio);
	return rc;
}

int oci_key_encode_public(oci_buf *out, const oci_key *k)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k->pkey, &der);
	if (n <= 0) {
		ERR_clear_error();
		return oci_error_set(OCI_ERROR, "encoding the public key failed");
	}
	int rc = pem_encode(out, LABEL_PUBLIC, der, (size_t)n);
	OPENSSL_free(der);
	return rc;
}

int oci_key_encode_private(oci_buf *out, const oci_key *k, const char *password)
{
	unsigned char *der = NULL;
	oci_buf json = OCI_BUF_INIT;
	int n = 0, rc;
	if (!k->has_private)
		return oci_error_set(OCI_EINVALID, "a public key has no private half to write");
	if (!password)
		return oci_error_set(OCI_EINVALID, "no password given to encrypt the private key with");
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k->pkey);
	if (!p8 || (n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0) {
		PKCS8_PRIV_KEY_INFO_free(p8);
		ERR_clear_error();
		return oci_error_set(OCI_ERROR, "encoding the private key as PKCS#8 failed");
	}
	PKCS8_PRIV_KEY_INFO_free(p8);
	rc = oci_cosign_encrypt(&json, der, (size_t)n, password, OCI_COSIGN_SCRYPT_N, OCI_COSIGN_SCRYPT_R,
				OCI_COSIGN_SCRYPT_P);
	OPENSSL_clear_free(der, (size_t)n);
	if (rc == 0)
		rc = pem_encode(out, LABEL_SIGSTORE, (const unsigned char *)json.data, json.len);
	oci_buf_dispose(&json);
	return rc;
}

/* Creates path exclusively with exactly mode (never a moment with a wider
 * one: O_EXCL with the final mode, and umask can only narrow it, then fchmod
 * sets it exactly) and writes data. */
static int create_file(const char *path, mode_t mode, const oci_buf *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		if (errno == EEXIST)
			return oci_error_set(OCI_EEXISTS, "%s already exists; refusing to overwrite it", path),
			       oci_error_hint_set(OCI_HINT_KEY_EXISTS, NULL);
		return oci_error_errno("creating %s", path);
	}
	int rc = 0;
	if (fchmod(fd, mode) < 0)
		rc = oci_error_errno("setting the mode of %s", path);
	if (rc == 0)
		rc = oci_fd_write_all(fd, data->data, data->len, path);
	if (rc == 0 && fsync(fd) < 0)
		rc = oci_error_errno("syncing %s", path);
	if (close(fd) < 0 && rc == 0)
		rc = oci_error_errno("closing %s", path);
	if (rc < 0)
		unlink(path);
	return rc;
}

static int refuse_existing(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		return oci_error_set(OCI_EEXISTS, "%s already exists; refusing to overwrite it", path),
		       oci_error_hint_set(OCI_HINT_KEY_EXISTS, NULL);
	if (errno != ENOENT)
		return oci_error_errno("checking %s", path);
	return 0;
}

int oci_key_write_pair(const oci_key *k, const char *private_path, const char *public_path, const char *password)
{
	oci_buf priv = OCI_BUF_INIT, pub = OCI_BUF_INIT;
	int rc;
	/* Both checked before the (slow) encryption and before anything is written. */
	if ((rc = refuse_existing(private_path)) < 0 || (rc = refuse_existing(public_path)) < 0)
		return rc;
	if ((rc = oci_key_encode_private(&priv, k, password)) < 0 || (rc = oci_key_encode_public(&pub, k)) < 0)
		goto cleanup;
	if ((rc = create_file(private_path, 0600, &priv)) < 0)
		goto cleanup;
	if ((rc = create_file(public_path, 0644, &pub)) < 0)
		unlink(private_path);
cleanup:
	wipe_buf(&priv);
	oci_buf_dispose(&pub);
	return rc;
}

int oci_key_sign(oci_buf *sig, const oci_key *k, const void *data, size_t len)
{
	unsigned char *s = NULL;
	size_t slen = 0;
	int rc = 0;
	if (!k->has_private)
		return oci_error_set(OCI_EINVALID, "signing needs a private key, not a public one");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return OCI_ENOMEM_SET();
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &slen, data, len) != 1 || !(s = OPENSSL_malloc(slen)) ||
	    EVP_DigestSign(ctx, s, &slen, data, len) != 1) {
		ERR_clear_error();
		rc = oci_error_set(OCI_ERROR, "ECDSA signing failed");
		goto cleanup;
	}
	rc = oci_buf_append(sig, s, slen);
cleanup:
	OPENSSL_free(s);
	EVP_MD_CTX_free(ctx);
	return rc;
}

int oci_key_verify(const oci_key *k, const void *data, size_t len, const void *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return OCI_ENOMEM_SET();
	int ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
		 EVP_DigestVerify(ctx, sig, siglen, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : oci_error_set(OCI_EVERIFY, "the signature does not verify");
}
