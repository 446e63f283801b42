/* Keys for cosign-compatible signing: ECDSA P-256, the private half stored
 * as PKCS#8 DER encrypted exactly as cosign does (scrypt + NaCl secretbox,
 * JSON in PEM "ENCRYPTED SIGSTORE PRIVATE KEY"), the public half as PEM
 * "PUBLIC KEY" (SubjectPublicKeyInfo).
 * Ownership: every oci_key coming back through *out is the caller's, freed
 * with oci_key_free (which wipes it). Thread-safety: reentrant; a key is
 * read-only once made and may be shared between threads. */
#ifndef OCI_KEY_H
#define OCI_KEY_H
#include "oci/common.h"
#include <stddef.h>
#include "oci/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An ECDSA P-256 private key (can sign and verify) or public key (verify only). */
typedef struct oci_key oci_key;

/* A fresh P-256 key pair. 0, or OCI_ERROR when OpenSSL fails. */
OCI_EXTERN int oci_key_generate(oci_key **out);

/* Reads a private key: PEM "ENCRYPTED SIGSTORE PRIVATE KEY" or the older
 * "ENCRYPTED COSIGN PRIVATE KEY" (password required, may be ""), or an
 * unencrypted PKCS#8 PEM "PRIVATE KEY" (password ignored). Only the scrypt
 * costs cosign accepts are run; the plaintext must be PKCS#8 of a P-256 key.
 * A wrong password: OCI_EPASSWORD ("wrong password or corrupt key"). */
OCI_EXTERN int oci_key_load_private(oci_key **out, const char *path, const char *password);

/* Reads a public key: PEM "PUBLIC KEY" holding a P-256 SubjectPublicKeyInfo.
 * 0, OCI_ENOTFOUND, OCI_EINVALID (not such a key). */
OCI_EXTERN int oci_key_load_public(oci_key **out, const char *path);

/* The same from memory (the name is used in messages); same returns. */
OCI_EXTERN int oci_key_parse_private(oci_key **out, const void *pem, size_t len, const char *password, const char *name);
OCI_EXTERN int oci_key_parse_public(oci_key **out, const void *pem, size_t len, const char *name);

/* Writes private_path (mode 0600, encrypted with password; created with
 * O_EXCL, never wider) and public_path (0644). Neither may exist yet:
 * OCI_EEXISTS, and nothing is written. On any failure nothing is left behind. */
OCI_EXTERN int oci_key_write_pair(const oci_key *k, const char *private_path, const char *public_path, const char *password);

/* PEM encodings into out (caller disposes): the encrypted private key (new
 * salt and nonce each call, scrypt N=65536 r=8 p=1; OCI_EINVALID for a
 * public-only key) and the public key. */
OCI_EXTERN int oci_key_encode_private(oci_buf *out, const oci_key *k, const char *password);
OCI_EXTERN int oci_key_encode_public(oci_buf *out, const oci_key *k);

/* *out = 1 when path holds an encrypted cosign key (a password is needed),
 * 0 for an unencrypted "PRIVATE KEY"; OCI_EINVALID for anything else. */
OCI_EXTERN int oci_key_is_encrypted_file(int *out, const char *path);

/* 1 when k holds a private key. */
OCI_EXTERN int oci_key_has_private(const oci_key *k);

/* ECDSA over SHA-256 of data: an ASN.1 DER signature appended to sig
 * (caller disposes). 0, OCI_EINVALID (a public-only key). */
OCI_EXTERN int oci_key_sign(oci_buf *sig, const oci_key *k, const void *data, size_t len);
/* 0 when sig (DER) is a valid signature of data; OCI_EVERIFY otherwise. */
OCI_EXTERN int oci_key_verify(const oci_key *k, const void *data, size_t len, const void *sig, size_t siglen);

/* Wipes and frees (NULL is fine). */
OCI_EXTERN void oci_key_free(oci_key *k);

#ifdef __cplusplus
}
#endif
#endif
