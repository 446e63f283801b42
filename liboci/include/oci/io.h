/* Streams: data flows through callbacks so no whole blob is held in memory.
 * The containers here (oci_buf, oci_strlist, oci_kvlist) belong to whoever
 * declares them and are released with their _dispose (NULL-safe, leaves
 * them empty and reusable). Thread-safety: reentrant; a container is used
 * by one thread at a time. */
#ifndef OCI_IO_H
#define OCI_IO_H
#include "oci/common.h"
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A sink: consumes len bytes; returns 0, or a negative oci_error_code
 * (with oci_error_last() set) to abort the transfer. */
typedef int (*oci_write_fn)(void *ctx, const void *buf, size_t len);

/* A source: fills up to len bytes; returns the count, 0 at the end, or a
 * negative oci_error_code. */
typedef ssize_t (*oci_read_fn)(void *ctx, void *buf, size_t len);

/* A growable byte buffer (owned by whoever holds it; free with oci_buf_dispose). */
typedef struct oci_buf {
	char *data;   /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
} oci_buf;
#define OCI_BUF_INIT { NULL, 0, 0 }
/* Appends len bytes (copied). 0, OCI_ENOMEM. */
OCI_EXTERN int oci_buf_append(oci_buf *b, const void *data, size_t len);
OCI_EXTERN void oci_buf_dispose(oci_buf *b);
/* An oci_write_fn that appends to an oci_buf_sink's buf (ctx), refusing
 * growth past `limit` bytes with OCI_ELIMIT naming `what`. The caller
 * disposes of sink.buf. */
typedef struct oci_buf_sink {
	oci_buf buf;
	size_t limit;  /* 0 = unlimited */
	const char *what; /* for the limit error message */
} oci_buf_sink;
OCI_EXTERN int oci_buf_sink_write(void *ctx, const void *data, size_t len);

/* A source reading from memory (ctx: oci_mem_source, data borrowed), for
 * small blobs such as configs and manifests; returns the count, 0 at the
 * end. */
typedef struct oci_mem_source {
	const void *data;
	size_t len;
	size_t off;
} oci_mem_source;
OCI_EXTERN ssize_t oci_mem_source_read(void *ctx, void *buf, size_t len);

/* A list of strings (tags, patterns). */
typedef struct oci_strlist {
	char **items;
	size_t n;
} oci_strlist;
#define OCI_STRLIST_INIT { NULL, 0 }
/* Appends a copy of s. 0, OCI_ENOMEM. */
OCI_EXTERN int oci_strlist_push(oci_strlist *l, const char *s);
OCI_EXTERN void oci_strlist_dispose(oci_strlist *l);

/* Key/value pairs (annotations), kept in insertion order. */
typedef struct oci_kv {
	char *key;
	char *value;
} oci_kv;
typedef struct oci_kvlist {
	oci_kv *items;
	size_t n;
} oci_kvlist;
#define OCI_KVLIST_INIT { NULL, 0 }
/* Sets key to a copy of value (replacing an existing value). 0, OCI_ENOMEM. */
OCI_EXTERN int oci_kvlist_set(oci_kvlist *l, const char *key, const char *value);
/* The value of key (belongs to l), or NULL. */
OCI_EXTERN const char *oci_kvlist_get(const oci_kvlist *l, const char *key);
/* Parses "KEY=VALUE" and sets it. 0, or OCI_EINVALID without '=' or with an
 * empty key. */
OCI_EXTERN int oci_kvlist_set_pair(oci_kvlist *l, const char *pair);
OCI_EXTERN void oci_kvlist_dispose(oci_kvlist *l);

#ifdef __cplusplus
}
#endif
#endif
