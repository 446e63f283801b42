/* Private: the stream layer, in the spirit of apk-tools' istream/ostream.
 *
 * A readable stream (oci_istream) is pulled from: read, peek, close. A
 * writable one (oci_ostream) is pushed into: write (always all of it),
 * then commit (finish: a verify stream checks, an atomic file is fsynced
 * and renamed into place) or abort (discard: an atomic file is unlinked).
 * Each kind is a small vtable; filters (verify, gunzip, progress) own the
 * stream they wrap, so closing the outermost closes the chain.
 *
 * Errors are oci_error codes with oci_error_last() set. A read error is
 * sticky: every later read returns it again, so a filter cannot lose it.
 * The byte loops of the library (write until all is written, read until
 * the end or a count, copy one stream into another) live here only. */
#ifndef OCI_STREAM_H
#define OCI_STREAM_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "oci/digest.h"
#include "oci/io.h"

/* Progress of a stream: bytes so far of total (-1 unknown); a non-zero
 * return cancels (the stream fails with OCI_EINTERRUPTED). */
typedef int (*oci_stream_progress_fn)(void *ctx, const char *what, int64_t done, int64_t total);

/* The library's byte loops on a descriptor (name is for messages):
 * writes all of buf ("writing NAME" on failure), and one read retried
 * when a signal interrupts it ("reading NAME"). */
int oci_fd_write_all(int fd, const void *buf, size_t len, const char *name);
ssize_t oci_fd_read(int fd, void *buf, size_t len, const char *name);

/* ---- readable streams ---- */

typedef struct oci_istream oci_istream;
typedef struct oci_istream_ops {
	/* Up to len bytes: a count, 0 at the end, or a negative error. */
	ssize_t (*read)(oci_istream *s, void *buf, size_t len);
	/* Releases the stream (and the one it wraps). */
	void (*close)(oci_istream *s);
} oci_istream_ops;

struct oci_istream {
	const oci_istream_ops *ops;
	unsigned char *peek;         /* bytes read ahead by oci_istream_peek */
	size_t peek_len, peek_off;
	int err;                     /* sticky error (0: none) */
	struct oci__error_saved *saved; /* its message and hint, set again with it */
	int eof;
};

/* Reads up to len bytes (fewer is not the end; 0 is). */
ssize_t oci_istream_read(oci_istream *s, void *buf, size_t len);
/* Reads exactly len bytes: OCI_EINVALID naming `what` when the stream
 * ends first (a short stream). */
int oci_istream_read_full(oci_istream *s, void *buf, size_t len, const char *what);
/* Makes up to want bytes from the current position available at *buf
 * without consuming them (fewer only at the end): a count or an error. */
ssize_t oci_istream_peek(oci_istream *s, const void **buf, size_t want);
/* Reads the rest of the stream into sink (NULL: discards it, which
 * still lets a verify stream check everything). */
int oci_istream_pump(oci_istream *s, oci_write_fn sink, void *ctx);
/* Reads the rest into out, refusing (OCI_ELIMIT naming what) more than
 * limit bytes (0: no limit). */
int oci_istream_read_all(oci_istream *s, oci_buf *out, size_t limit, const char *what);
/* The stream's sticky error (its message set again as the last error),
 * or 0: tells a failure of the stream from one of its consumer. */
int oci_istream_error(oci_istream *s);
/* The sha256 digest and size of the rest of the stream. */
int oci_istream_digest(char out[OCI_DIGEST_SIZE], int64_t *size, oci_istream *s);
/* Closes s (NULL is fine). */
void oci_istream_close(oci_istream *s);
/* An oci_read_fn over an istream (ctx: the istream). */
ssize_t oci_istream_source(void *ctx, void *buf, size_t len);

/* A file descriptor; name is for messages (copied). own: close it too. */
int oci_istream_fd(oci_istream **out, int fd, const char *name, int own);
/* A file opened for reading. */
int oci_istream_file(oci_istream **out, const char *path);
/* Memory (not copied: it must outlive the stream). */
int oci_istream_mem(oci_istream **out, const void *data, size_t len);
/* An oci_read_fn source. */
int oci_istream_fn(oci_istream **out, oci_read_fn read, void *ctx);
/* Checks size (when >= 0; more bytes fail as soon as they come) and
 * digest at the end of inner: the last read returns OCI_EDIGEST naming
 * what, the expected and the actual digest (or sizes) instead of 0.
 * Owns inner (closed on failure too). */
int oci_istream_verify(oci_istream **out, oci_istream *inner, int64_t size, const char *digest, const char *what);
/* Inflates gzip (every member, each trailer checked; trailing zeros
 * allowed). Owns inner. */
int oci_istream_gunzip(oci_istream **out, oci_istream *inner);
/* Reports progress under what (copied) after every read. Owns inner. */
int oci_istream_progress(oci_istream **out, oci_istream *inner, oci_stream_progress_fn fn, void *ctx,
			 const char *what, int64_t total);

/* The producer of a threaded stream: runs on a thread of its own and
 * writes its bytes into sink(sink_ctx, ...), which waits while the buffer
 * is full and fails (OCI_EINTERRUPTED) once the reader has closed;
 * returns 0 at the end, or an error with oci_error_last() set. */
typedef int (*oci_stream_produce_fn)(void *ctx, oci_write_fn sink, void *sink_ctx);
/* A readable stream fed by produce(ctx, ...) on a thread of its own
 * through a buffer of size bytes (stream_thread.c): its error (code,
 * message, hint) arrives after the bytes produced before it. Closing
 * stops and joins the thread, then calls free_ctx(ctx) (NULL: none; also
 * called when this fails). what names it in messages (copied). Whatever
 * produce calls must be safe to call from that thread. */
int oci_istream_thread(oci_istream **out, size_t size, oci_stream_produce_fn produce, void *ctx,
		       void (*free_ctx)(void *ctx), const char *what);
/* Reads inner ahead of the reader on a thread of its own (an
 * oci_istream_thread pumping inner): inner's work (inflating, hashing)
 * overlaps the reader's. Owns inner (closed on failure too). */
int oci_istream_readahead(oci_istream **out, oci_istream *inner, size_t size, const char *what);

/* ---- writable streams ---- */

typedef struct oci_ostream oci_ostream;
typedef struct oci_ostream_ops {
	int (*write)(oci_ostream *s, const void *buf, size_t len); /* all of it */
	int (*commit)(oci_ostream *s);  /* finish; does not free */
	void (*free)(oci_ostream *s);   /* discards what is not committed */
} oci_ostream_ops;

struct oci_ostream {
	const oci_ostream_ops *ops;
	int err;                     /* sticky */
};

/* Writes all of buf. */
int oci_ostream_write(oci_ostream *s, const void *buf, size_t len);
/* Finishes and frees s: 0, or the error (nothing published then). */
int oci_ostream_commit(oci_ostream *s);
/* Frees s, discarding what it wrote where that is possible (NULL is fine). */
void oci_ostream_abort(oci_ostream *s);
/* An oci_write_fn over an ostream (ctx: the ostream). */
int oci_ostream_sink(void *ctx, const void *buf, size_t len);

/* A file descriptor (not closed); name for messages (copied). */
int oci_ostream_fd(oci_ostream **out, int fd, const char *name);
enum {
	OCI_STREAM_DURABLE = 1,  /* atomic file: fsync the file, and the directory after the rename */
	OCI_STREAM_NOREPLACE = 2 /* atomic file: an existing name wins (the commit keeps it, no error) */
};
/* A file written under a temporary name in path's directory (dirfd:
 * AT_FDCWD or a directory descriptor path is relative to), given mode and
 * renamed over path on commit; abort (or a failed commit) removes it, so a
 * reader sees the old content or the new, and nothing half written. The
 * temporary is anonymous (O_TMPFILE) where the filesystem allows, named
 * only for the rename; else "<tmp_prefix>.<pid>-XXXXXX" (NULL:
 * "<name>.tmp"), which oci_tmp_sweep recognises once its writer is gone. */
int oci_ostream_atomic(oci_ostream **out, int dirfd, const char *path, unsigned mode, int flags,
		       const char *tmp_prefix);
/* Appends to out (owned by the caller), refusing more than limit bytes
 * (0: no limit) with OCI_ELIMIT naming what. */
int oci_ostream_mem(oci_ostream **out, oci_buf *buf, size_t limit, const char *what);
/* Hashes and counts what passes into inner; commit checks size (when
 * >= 0) and digest before committing inner, and aborts it on a mismatch.
 * Owns inner. */
int oci_ostream_verify(oci_ostream **out, oci_ostream *inner, int64_t size, const char *digest, const char *what);

/* Writes data to path atomically (an oci_ostream_atomic in one call). */
int oci_stream_write_file(const char *path, const void *data, size_t len, unsigned mode, int flags);

#endif
