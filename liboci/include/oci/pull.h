/* pull: download an artifact and publish its tree as a directory. */
#ifndef OCI_PULL_H
#define OCI_PULL_H
#include "oci/common.h"
#include "oci/digest.h"
#include "oci/extract.h"
#include "oci/manifest.h"
#include "oci/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Signature verification callback for pull and sync: called with the
 * resolved manifest digest before anything is fetched or extracted; a
 * non-zero return refuses (the callback sets oci_error_last(), e.g. with
 * oci_error_set_str). oci_verifier_check (sign.h) is one. */
typedef int (*oci_verify_fn)(void *ctx, oci_target *t, const char *digest);

/* Initialise with oci_pull_opts_init (which initialises extract too). */
#define OCI_PULL_OPTS_VERSION 1
typedef struct oci_pull_opts {
	int version;              /* OCI_PULL_OPTS_VERSION */
	oci_extract_opts extract; /* its own version: OCI_EXTRACT_OPTS_VERSION */
	int force;                /* replace a non-empty DIR */
	oci_verify_fn verify;     /* NULL: no verification */
	void *verify_ctx;
	/* Use the limits the manifest's annotations record (the publisher's,
	 * see oci_push_opts) instead of extract.max_entries / max_size. */
	int publisher_limits;
} oci_pull_opts;

/* Sets *opts (extract included) to the defaults (all zero: no force, no
 * verification) and the versions. Returns 0, or OCI_EINVALID when opts is
 * NULL. Thread-safe. */
OCI_EXTERN int oci_pull_opts_init(oci_pull_opts *opts);

typedef struct oci_pull_result {
	char digest[OCI_DIGEST_SIZE];
	oci_extract_stats stats;
	oci_manifest *manifest;   /* caller frees (oci_pull_result_dispose or oci_manifest_free) */
} oci_pull_result;

/* Fetches by digest (resolving the tag once when digest is NULL), verifies
 * when asked, downloads the layer with digest checks, extracts into a
 * temporary directory beside dest, and renames it into place. dest must
 * not exist or be empty, unless opts->force. opts: NULL = the defaults.
 * Returns 0; OCI_EEXISTS (dest not empty, hint OCI_HINT_FORCE);
 * OCI_EVERIFY (refused by opts->verify); OCI_ENOTFOUND; OCI_EDIGEST;
 * OCI_ELIMIT, OCI_EUNSAFE (the layer); OCI_EINVALID (also an options
 * version this liboci does not know); OCI_ENET, OCI_EAUTH, OCI_ETIMEOUT,
 * OCI_EINTERRUPTED. On failure nothing is left beside dest.
 * Thread-safety: t is used by one thread at a time. */
OCI_EXTERN int oci_pull_digest(oci_pull_result *out, oci_target *t, const char *digest,
		    const char *dest, const oci_pull_opts *opts);
/* oci_pull_digest of the target's reference. */
OCI_EXTERN int oci_pull(oci_pull_result *out, oci_target *t, const char *dest, const oci_pull_opts *opts);
/* Frees what r holds (r itself is the caller's); NULL-safe. */
OCI_EXTERN void oci_pull_result_dispose(oci_pull_result *r);

#ifdef __cplusplus
}
#endif
#endif
