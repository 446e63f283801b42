/* diff: a local tree against an artifact. */
#ifndef OCI_DIFF_H
#define OCI_DIFF_H
#include "oci/common.h"
#include "oci/bundle.h"
#include "oci/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One change: '+' in path only, '-' in the artifact only, 'M' differs
 * (content, mode, type or link). path belongs to the library (valid
 * during the call). */
typedef void (*oci_diff_fn)(void *ctx, char change, const char *path);

/* Compares what path would pack to (with pack's ignore rules; NULL = the
 * defaults) with the artifact's layer, reporting each change through cb
 * with ctx, sorted by path. *differs is set when there is any.
 * Returns 0 (differences are not an error); OCI_EINVALID, OCI_EUNSAFE,
 * OCI_ELIMIT (the layer or the tree); network errors. Thread-safety: t is
 * used by one thread at a time. */
OCI_EXTERN int oci_diff(int *differs, oci_target *t, const char *path, const oci_pack_opts *pack,
	     oci_diff_fn cb, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
