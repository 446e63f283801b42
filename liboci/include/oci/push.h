/* push: pack a directory and upload it as an artifact. */
#ifndef OCI_PUSH_H
#define OCI_PUSH_H
#include "oci/common.h"
#include <stddef.h>
#include <stdint.h>
#include "oci/bundle.h"
#include "oci/digest.h"
#include "oci/lint.h"
#include "oci/manifest.h"
#include "oci/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Initialise with oci_push_opts_init. Strings and lists are borrowed for
 * the call. */
#define OCI_PUSH_OPTS_VERSION 1
typedef struct oci_push_opts {
	int version;                 /* OCI_PUSH_OPTS_VERSION */
	oci_profile profile;
	const char *source;          /* org.opencontainers.image.source; may be NULL */
	const char *revision;        /* org.opencontainers.image.revision; may be NULL */
	const char *created;         /* RFC 3339; NULL = SOURCE_DATE_EPOCH or now */
	const oci_kvlist *annotations; /* extra manifest annotations; may be NULL */
	const oci_strlist *ignore;   /* gitignore-style patterns; may be NULL */
	/* Lint policy checked while packing (the same read of each file); NULL
	 * skips the checks and records io.ocisync.policy: skipped. */
	const oci_lint_policy *policy;
	/* The limits pull and sync apply (0 = the defaults): a tree over them
	 * is refused before packing; limits other than the defaults are
	 * recorded in the manifest (OCI_ANN_MAX_ENTRIES, OCI_ANN_MAX_SIZE). */
	int64_t max_entries;
	int64_t max_size;
	/* 0: a tree without a single file is refused (OCI_EINVALID) before
	 * anything is packed or sent; 1: pushed anyway. */
	int allow_empty;
} oci_push_opts;

/* Sets *opts to the defaults (the portable profile, everything else zero
 * or NULL) and opts->version to OCI_PUSH_OPTS_VERSION. Returns 0, or
 * OCI_EINVALID when opts is NULL. Thread-safe. */
OCI_EXTERN int oci_push_opts_init(oci_push_opts *opts);

/* Manifest annotations push adds about the policy check. */
#define OCI_ANNOTATION_POLICY "io.ocisync.policy"                   /* sha256:<policy digest>, or "skipped" */
#define OCI_ANNOTATION_POLICY_FINDINGS "io.ocisync.policy.findings" /* {"error":N,"warning":N} */

typedef struct oci_push_result {
	char digest[OCI_DIGEST_SIZE];        /* manifest digest */
	int64_t manifest_size;
	oci_pack_result layer;
	int layer_uploaded;                  /* 0 when it already existed */
	int policy_checked;                  /* a policy was given */
	oci_lint_report lint;                /* its findings (also on OCI_EPOLICY) */
} oci_push_result;

/* Packs path (linting it when opts->policy is set) and pushes blobs, then
 * the manifest, tagged with every tag of the target's reference (none: by
 * digest only).
 * out: filled in; dispose of it with oci_push_result_dispose, whatever the
 * return code. opts: NULL = the defaults.
 * Returns 0; OCI_EPOLICY (before anything is uploaded, every finding in
 * out->lint); OCI_EINVALID for an empty tree or an options version this
 * liboci does not know; OCI_ELIMIT, OCI_EUNSAFE, OCI_EIO for the tree;
 * OCI_ENET, OCI_EAUTH, OCI_ETIMEOUT, OCI_EINTERRUPTED for the upload.
 * Thread-safety: t is used by one thread at a time. */
OCI_EXTERN int oci_push(oci_push_result *out, oci_target *t, const char *path, const oci_push_opts *opts);
/* Frees what r holds (r itself is the caller's); NULL-safe. */
OCI_EXTERN void oci_push_result_dispose(oci_push_result *r);

#ifdef __cplusplus
}
#endif
#endif
