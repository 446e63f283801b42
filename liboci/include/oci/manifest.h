/* OCI manifests and indexes: build the ocisync profiles, parse strictly.
 * Thread-safety: reentrant; a parsed oci_manifest is read-only and may be
 * shared between threads. */
#ifndef OCI_MANIFEST_H
#define OCI_MANIFEST_H
#include "oci/common.h"
#include <stddef.h>
#include <stdint.h>
#include "oci/digest.h"
#include "oci/io.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define OCI_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define OCI_MT_EMPTY "application/vnd.oci.empty.v1+json"
#define OCI_MT_IMAGE_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_MT_LAYER_TGZ "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_MT_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define OCI_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define OCI_MT_FLUX_CONFIG "application/vnd.cncf.flux.config.v1+json"
#define OCI_MT_FLUX_LAYER "application/vnd.cncf.flux.content.v1.tar+gzip"
#define OCI_ARTIFACT_TYPE "application/vnd.ocisync.manifests.v1"
#define OCI_MT_COSIGN_SIMPLESIGNING "application/vnd.dev.cosign.simplesigning.v1+json"
/* The Accept list for manifest requests. */
#define OCI_MANIFEST_ACCEPT OCI_MT_MANIFEST ", " OCI_MT_INDEX ", " OCI_MT_DOCKER_MANIFEST ", " OCI_MT_DOCKER_LIST
#define OCI_MANIFEST_MAX (4 * 1024 * 1024)
#define OCI_EMPTY_DIGEST "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

typedef struct oci_descriptor {
	char *media_type;
	char digest[OCI_DIGEST_SIZE];
	int64_t size;
	char *artifact_type;     /* may be NULL */
	oci_kvlist annotations;
} oci_descriptor;
/* Frees what d holds (d itself is the caller's); NULL-safe. */
OCI_EXTERN void oci_descriptor_dispose(oci_descriptor *d);
/* A deep copy into dst (caller disposes with oci_descriptor_dispose). 0, OCI_ENOMEM. */
OCI_EXTERN int oci_descriptor_copy(oci_descriptor *dst, const oci_descriptor *src);

/* A parsed manifest or index. */
typedef struct oci_manifest {
	char *media_type;        /* from the document, or the one it was served with */
	char *artifact_type;     /* may be NULL */
	int is_index;
	oci_descriptor config;   /* manifests only */
	oci_descriptor *layers;  /* manifests: layers; indexes: manifests */
	size_t nlayers;
	oci_descriptor *subject; /* may be NULL */
	oci_kvlist annotations;
} oci_manifest;

/* Parses strictly: at most OCI_MANIFEST_MAX bytes, valid JSON, schemaVersion 2,
 * required fields with the right types, valid digests, non-negative sizes.
 * served_type (may be NULL) is the Content-Type it came with. *out: caller
 * frees with oci_manifest_free. 0, OCI_ELIMIT (too large), OCI_EINVALID
 * naming the field. */
OCI_EXTERN int oci_manifest_parse(oci_manifest **out, const void *data, size_t len, const char *served_type);
/* NULL-safe. */
OCI_EXTERN void oci_manifest_free(oci_manifest *m);

typedef enum { OCI_PROFILE_PORTABLE = 0, OCI_PROFILE_FLUX = 1 } oci_profile;

/* What goes into a built manifest. */
typedef struct oci_manifest_spec {
	oci_profile profile;
	const oci_descriptor *layer;       /* digest, size; media type and annotations are set by the profile */
	const char *created;               /* RFC 3339; NULL = now, or SOURCE_DATE_EPOCH */
	const char *source;                /* may be NULL */
	const char *revision;              /* may be NULL */
	const oci_kvlist *annotations;     /* extra -a annotations, may be NULL */
} oci_manifest_spec;

/* The config blob a profile needs (bytes and its descriptor); the caller
 * disposes of both (oci_buf_dispose, oci_descriptor_dispose). 0, OCI_ENOMEM. */
OCI_EXTERN int oci_manifest_config(oci_buf *blob, oci_descriptor *desc, oci_profile profile);
/* Builds the manifest JSON (compact, deterministic key order) into out
 * (caller disposes). 0, OCI_EINVALID (a bad annotation, timestamp or
 * SOURCE_DATE_EPOCH), OCI_ENOMEM. */
OCI_EXTERN int oci_manifest_build(oci_buf *out, const oci_manifest_spec *spec);
/* The created timestamp to use: explicit_value, SOURCE_DATE_EPOCH, or now
 * (UTC, RFC 3339 "Z"). 0, or OCI_EINVALID for a malformed one. Reads the
 * environment: not to be called while another thread changes it. */
OCI_EXTERN int oci_created_timestamp(char out[32], const char *explicit_value);

#ifdef __cplusplus
}
#endif
#endif
