/* copy: a manifest and everything it names from one target to another. */
#ifndef OCI_COPY_H
#define OCI_COPY_H
#include "oci/common.h"
#include "oci/digest.h"
#include "oci/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* oci_copy flags. */
#define OCI_COPY_SIGNATURES 1      /* also the cosign .sig tag and the OCI 1.1 referrers */
#define OCI_COPY_ALLOW_UNSIGNED 2  /* with OCI_COPY_SIGNATURES: a source with none is copied anyway */

/* Copies the manifest src's reference resolves to (and its blobs, and an
 * index's manifests) to dst, tagging with dst's tags, or src's first tag
 * when dst has none; digest_out receives the digest. OCI_COPY_SIGNATURES
 * also copies the cosign .sig tag and the OCI 1.1 referrers (Sigstore
 * bundles, ...), listed on dst as it needs.
 * Returns 0; OCI_ENOTFOUND (also: signatures asked for and the source has
 * none, nothing written, hint OCI_HINT_ALLOW_UNSIGNED, unless
 * OCI_COPY_ALLOW_UNSIGNED); OCI_EDIGEST; network errors of either side.
 * Thread-safety: src and dst are used by one thread at a time. */
OCI_EXTERN int oci_copy(char digest_out[OCI_DIGEST_SIZE], oci_target *src, oci_target *dst, int flags);

#ifdef __cplusplus
}
#endif
#endif
