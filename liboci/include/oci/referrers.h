/* OCI 1.1 referrers: manifests whose "subject" names another manifest
 * (Sigstore bundles, SBOMs, other tools' signatures), on both targets.
 *
 * Reading: a registry's referrers API (distribution-spec v1.1 "Listing
 * Referrers": GET /v2/<name>/referrers/<digest>[?artifactType=T], an image
 * index, paginated with Link rel="next"); a registry that answers 404 has no
 * API, and then, as in oci-layout directories, the referrers tag schema is
 * read: tag "sha256-<hex>" holding an image index of the referrers
 * (distribution-spec "Referrers Tag Schema").
 *
 * Writing: the manifest is stored by digest; unless the registry answered
 * "OCI-Subject: <subject>" (it indexes the subject itself), the referrers tag
 * is updated as the spec's "Pushing Manifests with Subject" says: read,
 * append a descriptor (artifactType from the manifest, else its config's
 * media type; the manifest's annotations), write. Entries of other tools are
 * kept as they are; a concurrent change seen before or after the write is
 * merged again (bounded retries); in a layout the update holds the layout's
 * index lock.
 * Ownership: lists and strings coming back are the caller's (dispose or
 * free as each says). Thread-safety: as the target (one thread at a time).
 * Returns: as oci/target.h. */
#ifndef OCI_REFERRERS_H
#define OCI_REFERRERS_H
#include "oci/common.h"
#include <stddef.h>
#include <stdint.h>
#include "oci/digest.h"
#include "oci/io.h"
#include "oci/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One referrer, as its descriptor in the referrers index says. */
typedef struct oci_referrer {
	char digest[OCI_DIGEST_SIZE];
	char *media_type;      /* of the referrer manifest */
	char *artifact_type;   /* NULL when absent */
	int64_t size;
	oci_kvlist annotations;
} oci_referrer;

typedef struct oci_referrers {
	oci_referrer *items;
	size_t n;
	int via_api;           /* 1: the registry's referrers API; 0: the referrers tag */
} oci_referrers;
#define OCI_REFERRERS_INIT { NULL, 0, 0 }

/* The referrers of digest stored on t, those of artifact_type only when it
 * is not NULL (filtered here when the registry did not). None is not an
 * error (n = 0). out: caller disposes with oci_referrers_dispose. */
OCI_EXTERN int oci_referrers_list(oci_referrers *out, oci_target *t, const char *digest, const char *artifact_type);
/* NULL-safe. */
OCI_EXTERN void oci_referrers_dispose(oci_referrers *r);

/* The referrers tag of a digest: "sha256-<hex>" (caller frees with free()).
 * 0, or OCI_EINVALID for a malformed digest. Thread-safe. */
OCI_EXTERN int oci_referrers_tag(char **out, const char *digest);

/* 1 when the manifest (JSON bytes) names subject_digest in "subject", else
 * 0 (also for bytes that are not JSON). Thread-safe. */
OCI_EXTERN int oci_referrers_names_subject(const void *data, size_t len, const char *subject_digest);

/* Stores a manifest whose subject is subject_digest and makes it findable
 * as its referrer (the referrers tag updated when the target needs it).
 * The manifest must name subject_digest in "subject": OCI_EINVALID. */
OCI_EXTERN int oci_referrers_put(oci_target *t, const char *subject_digest, const char *media_type, const void *data,
		      size_t len);

#ifdef __cplusplus
}
#endif
#endif
