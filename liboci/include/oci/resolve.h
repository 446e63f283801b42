/* resolve and tag: what a reference names, and more names for it. */
#ifndef OCI_RESOLVE_H
#define OCI_RESOLVE_H
#include "oci/common.h"
#include "oci/digest.h"
#include "oci/io.h"
#include "oci/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Resolves the target's reference: its digest if given, else its first tag
 * ("latest" when none). *media_type (may be NULL): caller frees with
 * free(). Returns 0, OCI_ENOTFOUND, or a network error. Thread-safety: t
 * is used by one thread at a time. */
OCI_EXTERN int oci_resolve_ref(char digest[OCI_DIGEST_SIZE], char **media_type, oci_target *t);

/* Adds new_tags pointing at the digest the target's reference resolves to
 * (no blob moves); digest_out receives it. Returns 0, OCI_ENOTFOUND,
 * OCI_EINVALID (a malformed tag), or a network error. Thread-safety: t is
 * used by one thread at a time. */
OCI_EXTERN int oci_tag_add(char digest_out[OCI_DIGEST_SIZE], oci_target *t, const oci_strlist *new_tags);

#ifdef __cplusplus
}
#endif
#endif
