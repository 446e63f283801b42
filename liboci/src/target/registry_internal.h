/* Private: the registry target's state, shared by its files: registry.c
 * (manifests, tags, referrers, lifecycle), registry_blob.c (reading blobs)
 * and registry_upload.c (uploads and mounts). */
#ifndef OCI_REGISTRY_INTERNAL_H
#define OCI_REGISTRY_INTERNAL_H
#include "target_impl.h"
#include "http.h"

struct registry {
	oci_http *http;
	char *repo_url;    /* <base>/v2/<repository> */
	char *scope_pull;  /* repository:<repo>:pull */
	char *scope_push;  /* repository:<repo>:pull,push */
	char last_subject[OCI_DIGEST_SIZE]; /* OCI-Subject of the last manifest PUT ("" none) */
	/* Single-request uploads (POST ...?digest= with the body): 0 not
	 * tried yet, 1 the registry stored the blob from one, -1 it refused
	 * (opened a session or answered an error) -- remembered for the
	 * target's lifetime, so only the first upload of a run pays a try (a
	 * transfer pool has one target per worker: one try per worker). A
	 * large streamed body goes with libcurl's "Expect: 100-continue"
	 * (http.c keeps it), so a registry answering 202 at once need not be
	 * sent the bytes; push makes its first try with the small config.
	 * Over HTTP/2 a file is not tried until a small blob was taken (such
	 * an early 202 resets the stream: registry_upload.c). */
	int post_monolithic;
	/* The last manifest GET by tag: tag, content digest and ETag, for
	 * conditional writes of the referrers tag. */
	char *get_tag;
	char get_digest[OCI_DIGEST_SIZE];
	char *get_etag;
};

static inline struct registry *R(oci_target *t) { return t->impl; }

/* Content-Length of a response, -1 when absent or malformed. */
int64_t oci__reg_content_length(const oci_http_resp *resp);

/* registry_blob.c */
int oci__reg_blob_open(oci_target *t, const char *digest, int64_t size, oci_istream **out);
/* registry_upload.c */
int oci__reg_blob_put(oci_target *t, const char *digest, int64_t size, oci_read_fn read, void *ctx);
int oci__reg_blob_put_file(oci_target *t, const char *digest, int64_t size, const char *path);
int oci__reg_blob_mount(oci_target *t, const char *digest, const oci_target *from);

#endif
