/* The stream layer's generic part: the byte loops every stream shares
 * (read with peek and sticky errors, read exactly, pump, write all), and
 * the plain ends: file descriptors, memory, and callback sources. The
 * filters are in stream_filter.c, atomic files in stream_atomic.c. */
#include "stream.h"
#include "error_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PUMP_CHUNK (256 * 1024)

/* ---- readable ---- */

/* Makes n (an error) the stream's sticky error, with its message and hint
 * (a timeout's hint must reach the caller as surely as its words). */
static ssize_t stick(oci_istream *s, ssize_t n)
{
	s->err = (int)n;
	if (!s->saved)
		s->saved = malloc(sizeof *s->saved);
	if (s->saved) {
		oci__error_save(s->saved);
		s->saved->error.code = (int)n; /* the stream's code, whatever was recorded */
	}
	return n;
}

int oci_istream_error(oci_istream *s)
{
	if (s->err && s->saved)
		oci__error_restore(s->saved);
	return s->err;
}

ssize_t oci_istream_read(oci_istream *s, void *buf, size_t len)
{
	if (s->peek_off < s->peek_len) {
		size_t n = s->peek_len - s->peek_off;
		if (n > len)
			n = len;
		memcpy(buf, s->peek + s->peek_off, n);
		s->peek_off += n;
		return (ssize_t)n;
	}
	if (s->err)
		return oci_istream_error(s);
	if (s->eof || !len)
		return 0;
	ssize_t n = s->ops->read(s, buf, len);
	if (n < 0)
		stick(s, n);
	else if (n == 0)
		s->eof = 1;
	return n;
}

int oci_istream_read_full(oci_istream *s, void *buf, size_t len, const char *what)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = oci_istream_read(s, (char *)buf + got, len - got);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return oci_error_set(OCI_EINVALID, "%s ends after %zu of %zu bytes", what, got, len);
		got += (size_t)n;
	}
	return 0;
}

ssize_t oci_istream_peek(oci_istream *s, const void **buf, size_t want)
{
	size_t have = s->peek_len - s->peek_off;
	if (have < want) {
		unsigned char *p = malloc(want);
		if (!p)
			return OCI_ENOMEM_SET();
		if (have)
			memcpy(p, s->peek + s->peek_off, have);
		free(s->peek);
		s->peek = p;
		s->peek_off = 0;
		s->peek_len = have;
		while (s->peek_len < want && !s->eof && !s->err) {
			ssize_t n = s->ops->read(s, p + s->peek_len, want - s->peek_len);
			if (n < 0)
				stick(s, n);
			else if (n == 0)
				s->eof = 1;
			else
				s->peek_len += (size_t)n;
		}
		have = s->peek_len;
		/* an error after some bytes shows once those are consumed */
		if (!have && s->err)
			return oci_istream_error(s);
	}
	*buf = s->peek + s->peek_off;
	return (ssize_t)(have < want ? have : want);
}

int oci_istream_pump(oci_istream *s, oci_write_fn sink, void *ctx)
{
	char *buf = malloc(PUMP_CHUNK);
	if (!buf)
		return OCI_ENOMEM_SET();
	int rc = 0;
	for (;;) {
		ssize_t n = oci_istream_read(s, buf, PUMP_CHUNK);
		if (n <= 0) {
			rc = (int)n;
			break;
		}
		if (sink && (rc = sink(ctx, buf, (size_t)n)) < 0)
			break;
	}
	free(buf);
	return rc;
}

struct limited_buf {
	oci_buf *out;
	size_t limit;
	const char *what;
};

static int limited_append(void *ctx, const void *buf, size_t len)
{
	struct limited_buf *l = ctx;
	if (l->limit && l->out->len + len > l->limit)
		return oci_error_set(OCI_ELIMIT, "%s is larger than the limit of %zu bytes", l->what, l->limit);
	return oci_buf_append(l->out, buf, len);
}

int oci_istream_read_all(oci_istream *s, oci_buf *out, size_t limit, const char *what)
{
	struct limited_buf l = { out, limit, what };
	int rc = oci_istream_pump(s, limited_append, &l);
	if (rc == 0 && !out->data)
		rc = oci_buf_append(out, "", 0);
	return rc;
}

struct hashing {
	oci_sha256 *h;
	int64_t n;
};

static int hash_sink(void *ctx, const void *buf, size_t len)
{
	struct hashing *c = ctx;
	c->n += (int64_t)len;
	return oci_sha256_update(c->h, buf, len);
}

int oci_istream_digest(char out[OCI_DIGEST_SIZE], int64_t *size, oci_istream *s)
{
	struct hashing c = { NULL, 0 };
	int rc = oci_sha256_new(&c.h);
	if (rc == 0 && (rc = oci_istream_pump(s, hash_sink, &c)) == 0)
		rc = oci_sha256_final(out, c.h);
	if (rc == 0 && size)
		*size = c.n;
	oci_sha256_free(c.h);
	return rc;
}

void oci_istream_close(oci_istream *s)
{
	if (!s)
		return;
	free(s->peek);
	free(s->saved);
	s->ops->close(s);
}

ssize_t oci_istream_source(void *ctx, void *buf, size_t len)
{
	return oci_istream_read(ctx, buf, len);
}

/* A file descriptor. */
struct fd_in {
	oci_istream s;
	int fd, own;
	char *name;
};

ssize_t oci_fd_read(int fd, void *buf, size_t len, const char *name)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return oci_error_errno("reading %s", name);
	}
}

static ssize_t fd_in_read(oci_istream *is, void *buf, size_t len)
{
	struct fd_in *f = (struct fd_in *)is;
	return oci_fd_read(f->fd, buf, len, f->name);
}

static void fd_in_close(oci_istream *is)
{
	struct fd_in *f = (struct fd_in *)is;
	if (f->own)
		close(f->fd);
	free(f->name);
	free(f);
}

static const oci_istream_ops fd_in_ops = { fd_in_read, fd_in_close };

int oci_istream_fd(oci_istream **out, int fd, const char *name, int own)
{
	struct fd_in *f = calloc(1, sizeof *f);
	if (!f || !(f->name = strdup(name))) {
		free(f);
		if (own)
			close(fd);
		return OCI_ENOMEM_SET();
	}
	f->s.ops = &fd_in_ops;
	f->fd = fd;
	f->own = own;
	*out = &f->s;
	return 0;
}

int oci_istream_file(oci_istream **out, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oci_error_errno("opening %s", path);
	return oci_istream_fd(out, fd, path, 1);
}

/* Memory (io.c's source). */
struct mem_in {
	oci_istream s;
	oci_mem_source m;
};

static ssize_t mem_in_read(oci_istream *is, void *buf, size_t len)
{
	return oci_mem_source_read(&((struct mem_in *)is)->m, buf, len);
}

static void free_self(oci_istream *is) { free(is); }

static const oci_istream_ops mem_in_ops = { mem_in_read, free_self };

int oci_istream_mem(oci_istream **out, const void *data, size_t len)
{
	struct mem_in *m = calloc(1, sizeof *m);
	if (!m)
		return OCI_ENOMEM_SET();
	m->s.ops = &mem_in_ops;
	m->m = (oci_mem_source){ data, len, 0 };
	*out = &m->s;
	return 0;
}

/* A callback source. */
struct fn_in {
	oci_istream s;
	oci_read_fn read;
	void *ctx;
};

static ssize_t fn_in_read(oci_istream *is, void *buf, size_t len)
{
	struct fn_in *f = (struct fn_in *)is;
	return f->read(f->ctx, buf, len);
}

static const oci_istream_ops fn_in_ops = { fn_in_read, free_self };

int oci_istream_fn(oci_istream **out, oci_read_fn read, void *ctx)
{
	struct fn_in *f = calloc(1, sizeof *f);
	if (!f)
		return OCI_ENOMEM_SET();
	f->s.ops = &fn_in_ops;
	f->read = read;
	f->ctx = ctx;
	*out = &f->s;
	return 0;
}

/* ---- writable ---- */

int oci_ostream_write(oci_ostream *s, const void *buf, size_t len)
{
	if (s->err)
		return s->err;
	if (!len)
		return 0;
	int rc = s->ops->write(s, buf, len);
	if (rc < 0)
		s->err = rc;
	return rc;
}

int oci_ostream_commit(oci_ostream *s)
{
	int rc = s->err ? s->err : s->ops->commit(s);
	s->ops->free(s);
	return rc;
}

void oci_ostream_abort(oci_ostream *s)
{
	if (s)
		s->ops->free(s);
}

int oci_ostream_sink(void *ctx, const void *buf, size_t len)
{
	return oci_ostream_write(ctx, buf, len);
}

/* A file descriptor: the one write-all loop. */
struct fd_out {
	oci_ostream s;
	int fd;
	char *name;
};

int oci_fd_write_all(int fd, const void *buf, size_t len, const char *name)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return oci_error_errno("writing %s", name);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fd_out_write(oci_ostream *os, const void *buf, size_t len)
{
	struct fd_out *f = (struct fd_out *)os;
	return oci_fd_write_all(f->fd, buf, len, f->name);
}

static int commit_nothing(oci_ostream *os)
{
	(void)os;
	return 0;
}

static void fd_out_free(oci_ostream *os)
{
	struct fd_out *f = (struct fd_out *)os;
	free(f->name);
	free(f);
}

static const oci_ostream_ops fd_out_ops = { fd_out_write, commit_nothing, fd_out_free };

int oci_ostream_fd(oci_ostream **out, int fd, const char *name)
{
	struct fd_out *f = calloc(1, sizeof *f);
	if (!f || !(f->name = strdup(name))) {
		free(f);
		return OCI_ENOMEM_SET();
	}
	f->s.ops = &fd_out_ops;
	f->fd = fd;
	*out = &f->s;
	return 0;
}

/* Memory. */
struct mem_out {
	oci_ostream s;
	struct limited_buf l;
};

static int mem_out_write(oci_ostream *os, const void *buf, size_t len)
{
	return limited_append(&((struct mem_out *)os)->l, buf, len);
}

static void mem_out_free(oci_ostream *os) { free(os); }

static const oci_ostream_ops mem_out_ops = { mem_out_write, commit_nothing, mem_out_free };

int oci_ostream_mem(oci_ostream **out, oci_buf *buf, size_t limit, const char *what)
{
	struct mem_out *m = calloc(1, sizeof *m);
	if (!m)
		return OCI_ENOMEM_SET();
	m->s.ops = &mem_out_ops;
	m->l = (struct limited_buf){ buf, limit, what };
	*out = &m->s;
	return 0;
}
