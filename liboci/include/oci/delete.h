/* delete: a manifest, or only its tags, from a target. */
#ifndef OCI_DELETE_H
#define OCI_DELETE_H
#include "oci/common.h"
#include "oci/digest.h"
#include "oci/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* oci_delete flags. */
#define OCI_DELETE_UNTAG 1 /* remove only the reference's tags; the manifest stays */

/* Deletes what the target's reference names. Without OCI_DELETE_UNTAG: the
 * manifest its digest names, or the digest its (first) tag resolves to --
 * every tag naming that digest goes with it. With OCI_DELETE_UNTAG: only
 * its tags (one or more; a reference without a tag is OCI_EINVALID); a
 * registry that cannot delete a tag alone is OCI_EUNSUPPORTED before any
 * tag is gone only for the first. digest_out receives the manifest's digest.
 * oci-layout: entries leave index.json under its lock; the blobs stay
 * until a garbage collection.
 * Returns 0; OCI_EUNSUPPORTED when the registry does not allow deletes
 * (405); OCI_ENOTFOUND when absent; OCI_EINVALID; network errors.
 * Thread-safety: t is used by one thread at a time. */
OCI_EXTERN int oci_delete(char digest_out[OCI_DIGEST_SIZE], oci_target *t, int flags);

#ifdef __cplusplus
}
#endif
#endif
