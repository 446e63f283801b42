/* Private: how a target implementation plugs in. Each implementation fills
 * an oci_target_ops table; target.c dispatches and wraps errors. */
#ifndef OCI_TARGET_IMPL_H
#define OCI_TARGET_IMPL_H
#include "oci/target.h"
#include "stream.h"
#include <jansson.h>

typedef struct oci_target_ops {
	const char *kind;
	int (*resolve)(oci_target *t, const char *tag_or_digest, char digest[OCI_DIGEST_SIZE],
		       char **media_type, int64_t *size);
	int (*manifest_get)(oci_target *t, const char *tag_or_digest, oci_buf *out,
			    char **media_type, char digest_out[OCI_DIGEST_SIZE]);
	int (*manifest_put)(oci_target *t, const char *tag, const char *media_type,
			    const void *data, size_t len);
	int (*tag)(oci_target *t, const char *digest, const char *tag); /* NULL: get + put */
	int (*blob_exists)(oci_target *t, const char *digest, int64_t *size);
	/* The blob's bytes as they are stored or sent, unchecked: target.c
	 * adds verification and progress. size: the descriptor's (-1 unknown).
	 * An error may also come with the first read (a registry's answer). */
	int (*blob_open)(oci_target *t, const char *digest, int64_t size, oci_istream **out);
	/* Stores a blob, checking its digest. Progress is reported by target.c
	 * around src unless put_progress says the implementation does it (a
	 * registry counts what it sends, across retries and chunks). */
	int (*blob_put)(oci_target *t, const char *digest, int64_t size, oci_read_fn src, void *ctx);
	int put_progress;
	int (*blob_put_file)(oci_target *t, const char *digest, int64_t size, const char *path); /* NULL: via blob_put */
	int (*blob_mount)(oci_target *t, const char *digest, const oci_target *from); /* NULL: 0 */
	int (*tags)(oci_target *t, oci_strlist *out);
	void (*free)(oci_target *t);
	/* OCI 1.1 referrers (referrers.c builds on these three; each may be NULL).
	 * referrers: the registry's referrers API (distribution-spec v1.1
	 * "Listing Referrers"): appends the descriptors of every page to out (a
	 * JSON array); *filtered = 1 when the registry applied the artifactType
	 * filter (OCI-Filters-Applied). OCI_EUNSUPPORTED when the registry has no
	 * such API (it answers 404). NULL: the target has none (layouts). */
	int (*referrers)(oci_target *t, const char *digest, const char *artifact_type, json_t *out, int *filtered);
	/* 1 when the last manifest_put was answered with "OCI-Subject: subject"
	 * (the registry indexed the subject itself). NULL: never. */
	int (*subject_acked)(oci_target *t, const char *subject);
	/* Runs fn(ctx) under the target's exclusive write lock (a layout's
	 * index lock; writes inside fn take it again without blocking).
	 * NULL: fn runs unlocked (registries: read, merge, write, re-check). */
	int (*locked)(oci_target *t, int (*fn)(void *ctx), void *ctx);
	/* A conditional manifest_put under tag: only if the tag still holds
	 * read_digest (what the last manifest_get of that tag returned; "" for
	 * "the tag did not exist"), sent as If-Match with the ETag that read
	 * answered, or If-None-Match: *. OCI_EEXISTS when the registry refuses
	 * (412: changed meanwhile). A registry without ETags, or one that
	 * ignores the condition, stores unconditionally. NULL: manifest_put. */
	int (*manifest_put_if)(oci_target *t, const char *tag, const char *media_type, const void *data, size_t len,
			       const char *read_digest);
	/* Deletes a manifest by digest (every tag naming it goes with it), or
	 * only a tag. OCI_ENOTFOUND when absent, OCI_EUNSUPPORTED when the
	 * target does not allow it. NULL: OCI_EUNSUPPORTED. */
	int (*manifest_delete)(oci_target *t, const char *tag_or_digest);
} oci_target_ops;

struct oci_target {
	const oci_target_ops *ops;
	oci_ref *ref;              /* owned */
	oci_client_opts opts;      /* copied; strings borrowed from the caller */
	void *impl;                /* the implementation's state */
};

/* The caller's stop flag (opts.cancel) for local work -- a layout's blob
 * copies, push's packing -- that no libcurl callback watches: 0, or
 * OCI_EINTERRUPTED with "<what>: interrupted ..." once it is set. */
int oci_target_interrupted(const oci_target *t, const char *what);

/* Implementations. */
int oci_layout_open(oci_target *t);    /* fills t->ops and t->impl */
int oci_registry_open(oci_target *t);

#endif
