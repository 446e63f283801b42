/* A target stores content-addressed blobs and manifests under tags: an OCI
 * image layout directory or a remote registry. Every operation (push, pull,
 * copy, tag, sign, verify, sync) is written once against this interface.
 *
 * Returns, for every function here unless it says otherwise: 0;
 * OCI_ENOTFOUND (no such tag, manifest or blob); OCI_EAUTH; OCI_ENET (with
 * a hint, oci_error_hint, for TLS and plain-HTTP mix-ups); OCI_ETIMEOUT
 * (the deadline); OCI_EINTERRUPTED (opts.cancel, or a progress callback
 * asked to stop); OCI_EIO (a layout's files).
 * Thread-safety: a target is used by one thread at a time (it runs worker
 * threads of its own for parallel transfers, serialising the callbacks);
 * distinct targets may be used on distinct threads at once. */
#ifndef OCI_TARGET_H
#define OCI_TARGET_H
#include <signal.h>
#include "oci/common.h"
#include "oci/callbacks.h"
#include <stddef.h>
#include <stdint.h>
#include "oci/digest.h"
#include "oci/io.h"
#include "oci/ref.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oci_target oci_target;

/* Connection options for registries (ignored by layouts); the callbacks
 * apply to both. Initialise with oci_client_opts_init. */
#define OCI_CLIENT_OPTS_VERSION 1
typedef struct oci_client_opts {
	int version;               /* OCI_CLIENT_OPTS_VERSION */
	int plain_http;            /* force HTTP */
	int insecure;              /* HTTPS without certificate checks */
	const char *ca_file;
	const char *cert_file;     /* mutual TLS */
	const char *key_file;
	const char *registry_config; /* Docker config.json; NULL = default lookup */
	int verbose;               /* log requests (never credentials) at OCI_LOG_DEBUG */
	oci_callbacks callbacks;   /* log and progress (a non-zero progress return cancels) */
	int max_retries;           /* 0 = default */
	const char *user_agent;
	/* Every wait bounded. timeout_ms: a deadline for everything done
	 * through the target, from oci_target_open (0 = none; see
	 * oci_target_set_timeout). A transfer moving fewer than
	 * min_speed_bytes in any min_speed_window_ms fails (and is retried,
	 * resuming); 0 = 64 KiB per 60 s. */
	int64_t timeout_ms;
	int64_t min_speed_bytes;
	int64_t min_speed_window_ms;
	int64_t deadline_ms;       /* absolute (oci_clock_ms); set from timeout_ms, inherited when nonzero */
	/* Set by the caller (typically its SIGTERM handler) to stop: a transfer
	 * in progress aborts within about a second (libcurl's progress
	 * callback), a retry's wait ends, and no new request starts; the
	 * operation fails with OCI_EINTERRUPTED after its usual cleanup
	 * (temporaries removed, nothing half written). NULL: never. */
	volatile sig_atomic_t *cancel;
} oci_client_opts;

/* Sets *opts to the defaults (all zero: HTTPS, default lookups, no
 * callbacks) and opts->version to OCI_CLIENT_OPTS_VERSION. Returns 0, or
 * OCI_EINVALID when opts is NULL. Thread-safe. */
OCI_EXTERN int oci_client_opts_init(oci_client_opts *opts);

/* Opens the target a reference names (layout directory or registry repository).
 * A layout directory is created on the first write, not here. *out: caller
 * frees with oci_target_free. ref is copied; opts (NULL = the defaults) is
 * copied, its strings and callbacks' payload borrowed for the target's
 * life. OCI_EINVALID for an options version this liboci does not know. */
OCI_EXTERN int oci_target_open(oci_target **out, const oci_ref *ref, const oci_client_opts *opts);
/* NULL-safe. */
OCI_EXTERN void oci_target_free(oci_target *t);
/* Starts a new deadline of timeout_ms from now for every request made
 * through t (0: none); OCI_ETIMEOUT once it passes. sync calls it per step. */
OCI_EXTERN void oci_target_set_timeout(oci_target *t, int64_t timeout_ms);
/* Milliseconds of CLOCK_MONOTONIC, the clock deadlines are on. Thread-safe. */
OCI_EXTERN int64_t oci_clock_ms(void);
/* "oci-layout" or "registry" (static). */
OCI_EXTERN const char *oci_target_kind(const oci_target *t);

/* Tag or digest → digest, media type and size of the manifest.
 * Registry: one HEAD (Docker-Content-Digest), falling back to GET + local hash.
 * OCI_ENOTFOUND when the tag does not exist. Any out pointer may be NULL;
 * *media_type: caller frees with free(). */
OCI_EXTERN int oci_target_resolve(char digest[OCI_DIGEST_SIZE], char **media_type, int64_t *size,
		       oci_target *t, const char *tag_or_digest);

/* Fetches a manifest's exact bytes (at most OCI_MANIFEST_MAX), verified against
 * the digest when fetched by digest; hashed locally when fetched by tag.
 * digest_out (may be NULL) receives its digest. out: caller disposes
 * (oci_buf_dispose); *media_type: caller frees with free(). OCI_EDIGEST
 * when the bytes do not match the digest asked for, OCI_ELIMIT when too
 * large. */
OCI_EXTERN int oci_target_manifest_get(oci_buf *out, char **media_type, char digest_out[OCI_DIGEST_SIZE],
			    oci_target *t, const char *tag_or_digest);

/* Stores a manifest (by digest) and, when tag is not NULL, points tag at
 * it. OCI_EINVALID for a malformed tag. */
OCI_EXTERN int oci_target_manifest_put(oci_target *t, const char *tag, const char *media_type,
			    const void *data, size_t len);

/* Points tag at an existing manifest (the registry re-PUTs the bytes; no blob moves). */
OCI_EXTERN int oci_target_tag(oci_target *t, const char *digest, const char *tag);

/* Deletes the manifest a digest names, with every tag naming it (a registry:
 * DELETE /v2/<name>/manifests/<digest>; an oci-layout: its index entries,
 * the blobs are left for a garbage collection), or, given a tag, only that
 * tag (a registry that cannot delete tags alone answers OCI_EUNSUPPORTED).
 * OCI_ENOTFOUND when absent; OCI_EUNSUPPORTED when deletes are disabled
 * (405). */
OCI_EXTERN int oci_target_manifest_delete(oci_target *t, const char *tag_or_digest);

/* 1 present, 0 absent, negative on error. */
OCI_EXTERN int oci_target_blob_exists(oci_target *t, const char *digest, int64_t *size);

/* Streams a blob into sink, checking size (when >= 0) and digest while it
 * streams: a mismatch returns OCI_EDIGEST after the last byte (the sink must
 * not publish before this returns 0). Progress goes to the callbacks;
 * a sink's error stops the transfer with its code. */
OCI_EXTERN int oci_target_blob_get(oci_target *t, const char *digest, int64_t size,
			oci_write_fn sink, void *sink_ctx);

/* Uploads a blob of known digest and size from a source. The target checks
 * the digest of what it received; skipping existing blobs is the caller's
 * choice (oci_target_blob_exists). OCI_EDIGEST when the bytes do not match;
 * the source's own error stops the upload with its code. */
OCI_EXTERN int oci_target_blob_put(oci_target *t, const char *digest, int64_t size,
			oci_read_fn source, void *source_ctx);

/* Uploads a blob from a file (lets a registry seek for chunked retries). */
OCI_EXTERN int oci_target_blob_put_file(oci_target *t, const char *digest, int64_t size, const char *path);

/* Cross-repository mount from another repository of the same registry:
 * 1 mounted, 0 not possible (caller uploads), negative on error. */
OCI_EXTERN int oci_target_blob_mount(oci_target *t, const char *digest, const oci_target *from);

/* All tags, following pagination, appended to out (caller disposes with
 * oci_strlist_dispose). */
OCI_EXTERN int oci_target_tags(oci_strlist *out, oci_target *t);

/* The reference this target was opened from (belongs to the target). */
OCI_EXTERN const oci_ref *oci_target_ref(const oci_target *t);

/* True when both targets are repositories on the same registry host. */
OCI_EXTERN int oci_target_same_registry(const oci_target *a, const oci_target *b);

#ifdef __cplusplus
}
#endif
#endif
