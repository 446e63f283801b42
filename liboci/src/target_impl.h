/* Private: how a target implementation plugs in. Each implementation fills
 * an oci_target_ops table; target.c dispatches and wraps errors. */
#ifndef OCI_TARGET_IMPL_H
#define OCI_TARGET_IMPL_H
#include "oci/target.h"

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
	int (*blob_get)(oci_target *t, const char *digest, int64_t size, oci_write_fn sink, void *ctx);
	int (*blob_put)(oci_target *t, const char *digest, int64_t size, oci_read_fn src, void *ctx);
	int (*blob_put_file)(oci_target *t, const char *digest, int64_t size, const char *path); /* NULL: via blob_put */
	int (*blob_mount)(oci_target *t, const char *digest, const oci_target *from); /* NULL: 0 */
	int (*tags)(oci_target *t, oci_strlist *out);
	void (*free)(oci_target *t);
} oci_target_ops;

struct oci_target {
	const oci_target_ops *ops;
	oci_ref *ref;              /* owned */
	oci_client_opts opts;      /* copied; strings borrowed from the caller */
	void *impl;                /* the implementation's state */
};

/* Implementations. */
int oci_layout_open(oci_target *t);    /* fills t->ops and t->impl */
int oci_registry_open(oci_target *t);

/* A sink wrapper that hashes and counts what passes, for blob_get implementations. */
typedef struct oci_verify_sink {
	oci_write_fn sink;
	void *ctx;
	struct oci_sha256 *h;
	int64_t seen;
	int64_t expect_size;    /* -1: unknown */
} oci_verify_sink;
int oci_verify_sink_init(oci_verify_sink *v, int64_t expect_size, oci_write_fn sink, void *ctx);
int oci_verify_sink_write(void *ctx, const void *buf, size_t len);
/* Compares digest and size; OCI_EDIGEST with a message naming both digests. */
int oci_verify_sink_finish(oci_verify_sink *v, const char *expect_digest, const char *what);
void oci_verify_sink_dispose(oci_verify_sink *v);

#endif
