/* SHA-256 digests in the OCI form "sha256:<64 lowercase hex>".
 * Thread-safety: the functions are reentrant; an oci_sha256 is used by one
 * thread at a time. */
#ifndef OCI_DIGEST_H
#define OCI_DIGEST_H
#include "oci/common.h"
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OCI_DIGEST_LEN 71          /* strlen("sha256:") + 64 */
#define OCI_DIGEST_SIZE 72         /* with the NUL */

typedef struct oci_sha256 oci_sha256;

/* A new hasher in *out; caller frees with oci_sha256_free. 0, OCI_ENOMEM. */
OCI_EXTERN int oci_sha256_new(oci_sha256 **out);
/* Hashes len bytes of data. 0, or OCI_ERROR when the hasher failed. */
OCI_EXTERN int oci_sha256_update(oci_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" into out; the hasher may be reused after
 * oci_sha256_reset. 0, or OCI_ERROR. */
OCI_EXTERN int oci_sha256_final(char out[OCI_DIGEST_SIZE], oci_sha256 *h);
/* Starts a new digest with the same hasher. 0, or OCI_ERROR. */
OCI_EXTERN int oci_sha256_reset(oci_sha256 *h);
/* NULL-safe. */
OCI_EXTERN void oci_sha256_free(oci_sha256 *h);

/* 0 when s is "sha256:" followed by exactly 64 lowercase hex digits;
 * OCI_EINVALID with a message naming the problem otherwise. */
OCI_EXTERN int oci_digest_validate(const char *s);
/* Digest of a buffer. 0, OCI_ENOMEM. */
OCI_EXTERN int oci_digest_buf(char out[OCI_DIGEST_SIZE], const void *data, size_t len);
/* Digest and size (may be NULL) of a file, streamed. 0, OCI_ENOTFOUND,
 * OCI_EIO. */
OCI_EXTERN int oci_digest_file(char out[OCI_DIGEST_SIZE], int64_t *size, const char *path);
/* The hex part of a validated digest (points into d; belongs to d's owner). */
OCI_EXTERN const char *oci_digest_hex(const char *d);

#ifdef __cplusplus
}
#endif
#endif
