/* The operations behind the commands, written once against targets. */
#ifndef OCI_OPS_H
#define OCI_OPS_H
#include "oci/common.h"
#include <stddef.h>
#include <stdint.h>
#include "oci/bundle.h"
#include "oci/lint.h"
#include "oci/extract.h"
#include "oci/manifest.h"
#include "oci/target.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oci_push_opts {
	oci_profile profile;
	const char *source;
	const char *revision;
	const char *created;
	const oci_kvlist *annotations;
	const oci_strlist *ignore;
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
#define OCI_PUSH_OPTS_INIT { OCI_PROFILE_PORTABLE, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 }

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
 * digest only). A policy error is OCI_EPOLICY before anything is uploaded,
 * with every finding in out->lint. Dispose of out with
 * oci_push_result_dispose, whatever the return code. */
OCI_EXTERN int oci_push(oci_push_result *out, oci_target *t, const char *path, const oci_push_opts *opts);
OCI_EXTERN void oci_push_result_dispose(oci_push_result *r);

/* Finds the content layer of an artifact manifest: the first tar/tar+gzip
 * layer (ocisync, Flux, ORAS, Docker), else the first layer with an
 * org.opencontainers.image.title (ORAS's file of another media type).
 * OCI_EUNSUPPORTED when none. */
OCI_EXTERN int oci_artifact_layer(const oci_descriptor **out, const oci_manifest *m);

/* How a downloaded layer (open as blob_fd) of m is read: *title NULL when
 * it is an archive (or has no title) -- extract it; otherwise ORAS's single
 * file: a titled layer that is not an archive (oci_extract_is_archive_fd),
 * to be written as the one file *title (oci_extract_single; the title is
 * checked there). OCI_EUNSUPPORTED when such a layer is one of several
 * titled layers (ORAS's several files). *title points into m; blob_fd's
 * offset is 0 afterwards. */
OCI_EXTERN int oci_artifact_single_file(const char **title, const oci_manifest *m, const oci_descriptor *layer,
			     int blob_fd);

/* Signature verification callback for pull/sync: called with the resolved
 * manifest digest before anything is fetched or extracted; non-zero refuses. */
typedef int (*oci_verify_fn)(void *ctx, oci_target *t, const char *digest);

typedef struct oci_pull_opts {
	oci_extract_opts extract;
	int force;                /* replace a non-empty DIR */
	oci_verify_fn verify;     /* NULL: no verification */
	void *verify_ctx;
	/* Use the limits the manifest's annotations record (the publisher's,
	 * see oci_push_opts) instead of extract.max_entries / max_size. */
	int publisher_limits;
} oci_pull_opts;
#define OCI_PULL_OPTS_INIT { OCI_EXTRACT_OPTS_INIT, 0, NULL, NULL, 0 }

typedef struct oci_pull_result {
	char digest[OCI_DIGEST_SIZE];
	oci_extract_stats stats;
	oci_manifest *manifest;   /* caller frees (oci_manifest_free) */
} oci_pull_result;

/* Fetches by digest (resolving the tag once when digest is NULL), verifies
 * when asked, downloads the layer into a temporary file beside dest with
 * digest checks, extracts into a temporary directory beside dest, and
 * renames it into place. dest must not exist or be empty, unless force. */
OCI_EXTERN int oci_pull_digest(oci_pull_result *out, oci_target *t, const char *digest,
		    const char *dest, const oci_pull_opts *opts);
OCI_EXTERN int oci_pull(oci_pull_result *out, oci_target *t, const char *dest, const oci_pull_opts *opts);
OCI_EXTERN void oci_pull_result_dispose(oci_pull_result *r);

/* Resolves the target's reference: its digest if given, else its first tag
 * ("latest" when none). */
OCI_EXTERN int oci_resolve_ref(char digest[OCI_DIGEST_SIZE], char **media_type, oci_target *t);

/* oci_copy flags. */
#define OCI_COPY_SIGNATURES 1      /* also the cosign .sig tag and the OCI 1.1 referrers */
#define OCI_COPY_ALLOW_UNSIGNED 2  /* with OCI_COPY_SIGNATURES: a source with none is copied anyway */

/* Copies the manifest REF resolves to (and its blobs, and an index's
 * manifests) from src to dst, tagging with dst's tags, or src's first tag
 * when dst has none. OCI_COPY_SIGNATURES also copies the cosign .sig tag
 * and the OCI 1.1 referrers (Sigstore bundles, ...), listed on dst as it
 * needs; a source with neither is refused (OCI_ENOTFOUND, nothing
 * written: asking for signatures means expecting some) unless
 * OCI_COPY_ALLOW_UNSIGNED. */
OCI_EXTERN int oci_copy(char digest_out[OCI_DIGEST_SIZE], oci_target *src, oci_target *dst, int flags);

/* oci_delete flags. */
#define OCI_DELETE_UNTAG 1 /* remove only the reference's tags; the manifest stays */

/* Deletes what the target's reference names. Without OCI_DELETE_UNTAG: the
 * manifest its digest names, or the digest its (first) tag resolves to --
 * every tag naming that digest goes with it. With OCI_DELETE_UNTAG: only
 * its tags (one or more; a reference without a tag is OCI_EINVALID); a
 * registry that cannot delete a tag alone is OCI_EUNSUPPORTED before any
 * tag is gone only for the first. digest_out receives the manifest's digest.
 * oci-layout: entries leave index.json under its lock; the blobs stay
 * until a garbage collection. OCI_EUNSUPPORTED when the registry does not
 * allow deletes (405), OCI_ENOTFOUND when absent. */
OCI_EXTERN int oci_delete(char digest_out[OCI_DIGEST_SIZE], oci_target *t, int flags);

/* Adds tags pointing at the reference's digest. */
OCI_EXTERN int oci_tag_add(char digest_out[OCI_DIGEST_SIZE], oci_target *t, const oci_strlist *new_tags);

/* Compares what path would pack to with the artifact's layer.
 * Each change is reported through cb: '+' in path only, '-' in artifact only,
 * 'M' differs (content, mode, type or link). *differs set when any. */
typedef void (*oci_diff_fn)(void *ctx, char change, const char *path);
OCI_EXTERN int oci_diff(int *differs, oci_target *t, const char *path, const oci_pack_opts *pack,
	     oci_diff_fn cb, void *ctx);

/* The cosign signature tag for a digest: "sha256-<hex>.sig". */
OCI_EXTERN int oci_signature_tag(char **out, const char *digest);

#ifdef __cplusplus
}
#endif
#endif
