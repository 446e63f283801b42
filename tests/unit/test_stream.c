/* The stream layer (core/stream*.c): each stream kind, the verify and
 * gunzip failures, short reads, cancelling progress, and atomic files
 * that leave nothing when aborted or when verification fails; the
 * threaded stream and read-ahead (bytes, errors and early close across
 * the thread). */
#include "test.h"
#include "stream.h"
#include "error_internal.h"
#include "oci/digest.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char TEXT[] = "hello, stream layer\n";

/* Entries in dir besides . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static char *make_dir(void)
{
	char tmpl[] = "/tmp/test_stream-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

static void rm_dir(char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
	free(dir);
}

/* A source giving one byte per read: every reader must cope with short reads. */
struct dribble {
	const char *p;
	size_t left;
};

static ssize_t dribble_read(void *ctx, void *buf, size_t len)
{
	struct dribble *d = ctx;
	if (!d->left || !len)
		return 0;
	*(char *)buf = *d->p++;
	d->left--;
	return 1;
}

static void test_mem_and_read_all(void)
{
	oci_istream *s;
	CHECK_EQ_INT(oci_istream_mem(&s, TEXT, strlen(TEXT)), 0);
	oci_buf b = OCI_BUF_INIT;
	CHECK_EQ_INT(oci_istream_read_all(s, &b, 0, "text"), 0);
	CHECK_STR(b.data, TEXT);
	oci_istream_close(s);
	oci_buf_dispose(&b);

	CHECK_EQ_INT(oci_istream_mem(&s, TEXT, strlen(TEXT)), 0);
	CHECK_EQ_INT(oci_istream_read_all(s, &b, 5, "the text"), OCI_ELIMIT);
	CHECK_ERR_CONTAINS("the text is larger than the limit of 5 bytes");
	oci_istream_close(s);
	oci_buf_dispose(&b);
}

static void test_short_reads_and_peek(void)
{
	struct dribble d = { TEXT, strlen(TEXT) };
	oci_istream *s;
	CHECK_EQ_INT(oci_istream_fn(&s, dribble_read, &d), 0);
	const void *p;
	/* peek gathers the bytes a one-byte source gives, without consuming */
	CHECK_EQ_INT(oci_istream_peek(s, &p, 5), 5);
	CHECK(memcmp(p, "hello", 5) == 0);
	char buf[64] = { 0 };
	CHECK_EQ_INT(oci_istream_read_full(s, buf, 7, "the text"), 0);
	CHECK_STR(buf, "hello, ");
	/* asking for more than there is: a short stream, named */
	CHECK_EQ_INT(oci_istream_read_full(s, buf, 100, "the text"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("the text ends after 13 of 100 bytes");
	oci_istream_close(s);

	/* peek past the end returns what there is */
	CHECK_EQ_INT(oci_istream_mem(&s, "ab", 2), 0);
	CHECK_EQ_INT(oci_istream_peek(s, &p, 10), 2);
	CHECK_EQ_INT(oci_istream_read(s, buf, sizeof buf), 2);
	CHECK_EQ_INT(oci_istream_read(s, buf, sizeof buf), 0);
	oci_istream_close(s);
}

static void test_fd_streams(void)
{
	char *dir = make_dir();
	char path[600];
	snprintf(path, sizeof path, "%s/f", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	oci_ostream *o;
	CHECK_EQ_INT(oci_ostream_fd(&o, fd, path), 0);
	CHECK_EQ_INT(oci_ostream_write(o, TEXT, strlen(TEXT)), 0);
	CHECK_EQ_INT(oci_ostream_commit(o), 0);
	close(fd);
	oci_istream *s;
	CHECK_EQ_INT(oci_istream_file(&s, path), 0);
	oci_buf b = OCI_BUF_INIT;
	CHECK_EQ_INT(oci_istream_read_all(s, &b, 0, path), 0);
	CHECK_STR(b.data, TEXT);
	oci_istream_close(s);
	oci_buf_dispose(&b);
	/* writing to a closed descriptor: the error names the file and sticks */
	CHECK_EQ_INT(oci_ostream_fd(&o, 1000, "the-output"), 0);
	CHECK_EQ_INT(oci_ostream_write(o, "x", 1), OCI_EIO);
	CHECK_ERR_CONTAINS("writing the-output");
	CHECK_EQ_INT(oci_ostream_commit(o), OCI_EIO);
	CHECK_EQ_INT(oci_istream_file(&s, "/nonexistent/x"), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("opening /nonexistent/x");
	rm_dir(dir);
}

static void test_verify_in(void)
{
	char digest[OCI_DIGEST_SIZE];
	oci_digest_buf(digest, TEXT, strlen(TEXT));
	oci_istream *m, *v;
	oci_buf b = OCI_BUF_INIT;

	CHECK_EQ_INT(oci_istream_mem(&m, TEXT, strlen(TEXT)), 0);
	CHECK_EQ_INT(oci_istream_verify(&v, m, (int64_t)strlen(TEXT), digest, "blob"), 0);
	CHECK_EQ_INT(oci_istream_read_all(v, &b, 0, "blob"), 0);
	CHECK_STR(b.data, TEXT);
	oci_istream_close(v);
	oci_buf_dispose(&b);

	/* other content: the digest mismatch names both digests */
	CHECK_EQ_INT(oci_istream_mem(&m, "HELLO, stream layer\n", strlen(TEXT)), 0);
	CHECK_EQ_INT(oci_istream_verify(&v, m, (int64_t)strlen(TEXT), digest, "layer"), 0);
	CHECK_EQ_INT(oci_istream_pump(v, NULL, NULL), OCI_EDIGEST);
	CHECK_ERR_CONTAINS("content does not match its digest (got sha256:");
	CHECK_ERR_CONTAINS(digest);
	/* the error sticks */
	char c;
	CHECK_EQ_INT(oci_istream_read(v, &c, 1), OCI_EDIGEST);
	oci_istream_close(v);

	/* too short, and too long (refused as soon as the extra byte comes) */
	CHECK_EQ_INT(oci_istream_mem(&m, TEXT, 5), 0);
	CHECK_EQ_INT(oci_istream_verify(&v, m, (int64_t)strlen(TEXT), digest, "blob"), 0);
	CHECK_EQ_INT(oci_istream_pump(v, NULL, NULL), OCI_EDIGEST);
	CHECK_ERR_CONTAINS("received 5 bytes, expected 20");
	oci_istream_close(v);
	CHECK_EQ_INT(oci_istream_mem(&m, TEXT, strlen(TEXT)), 0);
	CHECK_EQ_INT(oci_istream_verify(&v, m, 3, digest, "blob"), 0);
	CHECK_EQ_INT(oci_istream_pump(v, NULL, NULL), OCI_EDIGEST);
	CHECK_ERR_CONTAINS("blob is larger than its descriptor's size of 3 bytes (sha256:");
	oci_istream_close(v);

	/* a malformed digest is refused up front (and inner closed: ASan) */
	CHECK_EQ_INT(oci_istream_mem(&m, TEXT, 1), 0);
	CHECK(oci_istream_verify(&v, m, 1, "sha256:nothex", "blob") < 0);
}

static void test_verify_out_atomic(void)
{
	char *dir = make_dir();
	char path[600], digest[OCI_DIGEST_SIZE];
	snprintf(path, sizeof path, "%s/blob", dir);
	oci_digest_buf(digest, TEXT, strlen(TEXT));
	oci_ostream *a, *v;

	/* a mismatch at commit: nothing published, no temporary left */
	CHECK_EQ_INT(oci_ostream_atomic(&a, AT_FDCWD, path, 0644, OCI_STREAM_DURABLE, NULL), 0);
	CHECK_EQ_INT(oci_ostream_verify(&v, a, (int64_t)strlen(TEXT), digest, "blob"), 0);
	CHECK_EQ_INT(oci_ostream_write(v, "HELLO, stream layer\n", strlen(TEXT)), 0);
	CHECK_EQ_INT(oci_ostream_commit(v), OCI_EDIGEST);
	CHECK_ERR_CONTAINS("content does not match its digest");
	CHECK_EQ_INT(count_entries(dir), 0);

	/* the right bytes: published with its mode, nothing else there */
	CHECK_EQ_INT(oci_ostream_atomic(&a, AT_FDCWD, path, 0640, 0, NULL), 0);
	CHECK_EQ_INT(oci_ostream_verify(&v, a, (int64_t)strlen(TEXT), digest, "blob"), 0);
	CHECK_EQ_INT(oci_ostream_write(v, TEXT, 4), 0);
	CHECK_EQ_INT(oci_ostream_write(v, TEXT + 4, strlen(TEXT) - 4), 0);
	CHECK_EQ_INT(oci_ostream_commit(v), 0);
	CHECK_EQ_INT(count_entries(dir), 1);
	struct stat st;
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0640);
	CHECK_EQ_INT(st.st_size, (long long)strlen(TEXT));
	rm_dir(dir);
}

static void test_atomic_abort_and_replace(void)
{
	char *dir = make_dir();
	char path[600];
	snprintf(path, sizeof path, "%s/file", dir);
	CHECK_EQ_INT(oci_stream_write_file(path, "old", 3, 0644, OCI_STREAM_DURABLE), 0);

	/* written, then aborted: the old content stays, no temporary left */
	oci_ostream *a;
	CHECK_EQ_INT(oci_ostream_atomic(&a, AT_FDCWD, path, 0644, 0, NULL), 0);
	CHECK_EQ_INT(oci_ostream_write(a, "new content", 11), 0);
	oci_ostream_abort(a);
	CHECK_EQ_INT(count_entries(dir), 1);
	oci_buf b = OCI_BUF_INIT;
	oci_istream *s;
	CHECK_EQ_INT(oci_istream_file(&s, path), 0);
	CHECK_EQ_INT(oci_istream_read_all(s, &b, 0, path), 0);
	CHECK_STR(b.data, "old");
	oci_istream_close(s);
	oci_buf_dispose(&b);

	/* replaced; and NOREPLACE keeps what is there without an error */
	CHECK_EQ_INT(oci_stream_write_file(path, "new", 3, 0644, 0), 0);
	CHECK_EQ_INT(oci_stream_write_file(path, "other", 5, 0644, OCI_STREAM_NOREPLACE), 0);
	CHECK_EQ_INT(count_entries(dir), 1);
	CHECK_EQ_INT(oci_istream_file(&s, path), 0);
	CHECK_EQ_INT(oci_istream_read_all(s, &b, 0, path), 0);
	CHECK_STR(b.data, "new");
	oci_istream_close(s);
	oci_buf_dispose(&b);

	/* a directory that does not exist: an error naming the file */
	CHECK_EQ_INT(oci_stream_write_file("/nonexistent-dir/f", "x", 1, 0644, 0), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("/nonexistent-dir/f");
	rm_dir(dir);
}

/* gzip of data in one member (or two, concatenated), into out. */
static size_t gzip(unsigned char *out, size_t cap, const char *data, size_t len)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (unsigned char *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	deflate(&zs, Z_FINISH);
	size_t n = cap - zs.avail_out;
	deflateEnd(&zs);
	return n;
}

static int gunzip_all(oci_buf *b, const unsigned char *gz, size_t len)
{
	struct dribble d = { (const char *)gz, len };
	oci_istream *s, *g;
	int rc = oci_istream_fn(&s, dribble_read, &d);
	if (rc == 0 && (rc = oci_istream_gunzip(&g, s)) == 0) {
		rc = oci_istream_read_all(g, b, 0, "gunzipped");
		oci_istream_close(g);
	}
	return rc;
}

static void test_gunzip(void)
{
	unsigned char gz[512];
	size_t n = gzip(gz, sizeof gz, TEXT, strlen(TEXT));
	size_t n2 = gzip(gz + n, sizeof gz - n, "more\n", 5);
	oci_buf b = OCI_BUF_INIT;
	/* two members and trailing zeros, fed a byte at a time */
	memset(gz + n + n2, 0, 10);
	CHECK_EQ_INT(gunzip_all(&b, gz, n + n2 + 10), 0);
	CHECK_STR(b.data, "hello, stream layer\nmore\n");
	oci_buf_dispose(&b);
	/* truncated */
	CHECK_EQ_INT(gunzip_all(&b, gz, n - 4), OCI_EINVALID);
	CHECK_ERR_CONTAINS("truncated gzip stream");
	oci_buf_dispose(&b);
	/* a damaged trailer (CRC-32) */
	unsigned char bad[512];
	memcpy(bad, gz, n);
	bad[n - 6] ^= 0xff;
	CHECK_EQ_INT(gunzip_all(&b, bad, n), OCI_EINVALID);
	CHECK_ERR_CONTAINS("corrupt gzip stream");
	oci_buf_dispose(&b);
	/* garbage after the data */
	memcpy(bad, gz, n);
	memcpy(bad + n, "junk", 4);
	CHECK_EQ_INT(gunzip_all(&b, bad, n + 4), OCI_EINVALID);
	CHECK_ERR_CONTAINS("unexpected data after the end of the compressed data");
	oci_buf_dispose(&b);
}

struct seen {
	int calls;
	int64_t last, total;
	int cancel_at;
};

static int on_progress(void *ctx, const char *what, int64_t done, int64_t total)
{
	struct seen *s = ctx;
	s->calls++;
	s->last = done;
	s->total = total;
	(void)what;
	return s->cancel_at && s->calls >= s->cancel_at;
}

static void test_progress(void)
{
	struct dribble d = { TEXT, strlen(TEXT) };
	struct seen seen = { 0 };
	oci_istream *s, *p;
	CHECK_EQ_INT(oci_istream_fn(&s, dribble_read, &d), 0);
	CHECK_EQ_INT(oci_istream_progress(&p, s, on_progress, &seen, "blob", 20), 0);
	CHECK_EQ_INT(oci_istream_pump(p, NULL, NULL), 0);
	CHECK_EQ_INT(seen.calls, 20);
	CHECK_EQ_INT(seen.last, 20);
	CHECK_EQ_INT(seen.total, 20);
	oci_istream_close(p);

	/* a non-zero return cancels */
	struct dribble d2 = { TEXT, strlen(TEXT) };
	struct seen stop = { .cancel_at = 3 };
	CHECK_EQ_INT(oci_istream_fn(&s, dribble_read, &d2), 0);
	CHECK_EQ_INT(oci_istream_progress(&p, s, on_progress, &stop, "the-blob", -1), 0);
	CHECK_EQ_INT(oci_istream_pump(p, NULL, NULL), OCI_EINTERRUPTED);
	CHECK_ERR_CONTAINS("the-blob: cancelled by the progress callback");
	CHECK_EQ_INT(stop.calls, 3);
	oci_istream_close(p);
}

/* A source that fails with a hint, as a download over the size limit does. */
static ssize_t limit_read(void *ctx, void *buf, size_t len)
{
	(void)ctx, (void)buf, (void)len;
	oci_error_set(OCI_ELIMIT, "blob x is larger than the size limit");
	return oci_error_hint_set(OCI_HINT_MAX_SIZE, NULL);
}

/* The sticky error comes back whole, hint included, after other errors. */
static void test_sticky_error_keeps_hint(void)
{
	oci_istream *s;
	char buf[8];
	CHECK_EQ_INT(oci_istream_fn(&s, limit_read, NULL), 0);
	CHECK_EQ_INT(oci_istream_read(s, buf, sizeof buf), OCI_ELIMIT);
	oci_error_set(OCI_EIO, "something else");
	CHECK_EQ_INT(oci_istream_read(s, buf, sizeof buf), OCI_ELIMIT);
	CHECK_EQ_INT(oci_istream_error(s), OCI_ELIMIT);
	CHECK_EQ_INT(oci_error_last()->code, OCI_ELIMIT);
	CHECK_ERR_CONTAINS("blob x is larger than the size limit");
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_MAX_SIZE);
	oci_istream_close(s);
}

static void test_mem_out(void)
{
	oci_buf b = OCI_BUF_INIT;
	oci_ostream *o;
	CHECK_EQ_INT(oci_ostream_mem(&o, &b, 8, "the manifest"), 0);
	CHECK_EQ_INT(oci_ostream_write(o, "1234", 4), 0);
	CHECK_EQ_INT(oci_ostream_sink(o, "5678", 4), 0);
	CHECK_EQ_INT(oci_ostream_write(o, "9", 1), OCI_ELIMIT);
	CHECK_ERR_CONTAINS("the manifest is larger than the limit of 8 bytes");
	CHECK_EQ_INT(oci_ostream_commit(o), OCI_ELIMIT);
	CHECK_STR(b.data, "12345678");
	oci_buf_dispose(&b);
}


/* ---- the threaded stream (stream_thread.c) ---- */

/* A producer writing n pseudo-random bytes in writes of varying sizes,
 * then failing with a hint when fail is set. */
struct produce {
	size_t n;
	int fail;
	int wrote_after_close; /* a write failed: the reader stopped */
};

static unsigned char pattern(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

static int produce_bytes(void *ctx, oci_write_fn sink, void *sink_ctx)
{
	struct produce *p = ctx;
	unsigned char buf[7001];
	size_t i = 0, step = 1;
	while (i < p->n) {
		size_t k = step < p->n - i ? step : p->n - i;
		for (size_t j = 0; j < k; j++)
			buf[j] = pattern(i + j);
		int rc = sink(sink_ctx, buf, k);
		if (rc < 0) {
			p->wrote_after_close = 1;
			return rc;
		}
		i += k;
		step = step * 3 % sizeof buf + 1; /* 1, 4, 13, ... crossing the ring's ends everywhere */
	}
	if (p->fail) {
		oci_error_set(OCI_ELIMIT, "blob y is larger than the size limit");
		return oci_error_hint_set(OCI_HINT_MAX_SIZE, NULL);
	}
	return 0;
}

/* Reads s to its end in reads of size chunk, checking every byte. */
static ssize_t read_checked(oci_istream *s, size_t chunk, size_t *got)
{
	unsigned char buf[4096];
	*got = 0;
	for (;;) {
		ssize_t n = oci_istream_read(s, buf, chunk);
		if (n <= 0)
			return n;
		for (ssize_t j = 0; j < n; j++)
			if (buf[j] != pattern(*got + (size_t)j))
				return -1000;
		*got += (size_t)n;
	}
}

/* Bytes arrive identical across many wraps of a ring, with reads of one
 * byte and of more than the ring: rings of 1 and 3 bytes (a low-water
 * mark of one byte), a small one, and one larger than twice the 64 KiB
 * mark, where each side sleeps until the mark is there (the stream's
 * last bytes, under the mark, still arrive). */
static void test_thread_bytes(void)
{
	struct {
		size_t ring, total;
	} rings[] = { { 1, 3001 }, { 3, 30001 }, { 1000, 300000 }, { 200000, 1000003 } };
	size_t chunks[] = { 1, 7, 4096 };
	for (size_t r = 0; r < sizeof rings / sizeof *rings; r++)
		for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
			struct produce p = { rings[r].total, 0, 0 };
			oci_istream *s;
			size_t got;
			CHECK_EQ_INT(oci_istream_thread(&s, rings[r].ring, produce_bytes, &p, NULL, "test"), 0);
			CHECK_EQ_INT(read_checked(s, chunks[c], &got), 0);
			CHECK_EQ_INT(got, rings[r].total);
			CHECK_EQ_INT(oci_istream_read(s, &got, 1), 0); /* the end stays the end */
			oci_istream_close(s);
		}
}

/* The producer's error arrives whole (code, message, hint) after every
 * byte written before it, and stays. */
static void test_thread_error(void)
{
	struct produce p = { 123457, 1, 0 };
	oci_istream *s;
	size_t got;
	CHECK_EQ_INT(oci_istream_thread(&s, 4096, produce_bytes, &p, NULL, "test"), 0);
	oci_error_set(OCI_EIO, "something on the reader's side");
	CHECK_EQ_INT(read_checked(s, 3000, &got), OCI_ELIMIT);
	CHECK_EQ_INT(got, 123457);
	CHECK_ERR_CONTAINS("blob y is larger than the size limit");
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_MAX_SIZE);
	oci_error_set(OCI_EIO, "something else");
	CHECK_EQ_INT(oci_istream_read(s, &got, 1), OCI_ELIMIT);
	CHECK_ERR_CONTAINS("blob y is larger than the size limit");
	oci_istream_close(s);
}

static int freed;
static void count_free(void *ctx)
{
	(void)ctx;
	freed++;
}

/* Closing before the end (the producer waiting on a full ring, or not
 * yet started) stops the producer and joins it; the context is freed
 * once, after the join. ASan's leak check covers the rest. */
static void test_thread_early_close(void)
{
	struct produce p = { 10000000, 0, 0 };
	oci_istream *s;
	unsigned char buf[100];
	freed = 0;
	CHECK_EQ_INT(oci_istream_thread(&s, 512, produce_bytes, &p, count_free, "test"), 0);
	CHECK(oci_istream_read(s, buf, sizeof buf) >= 1);
	CHECK_EQ_INT(buf[0], pattern(0));
	oci_istream_close(s);
	CHECK_EQ_INT(p.wrote_after_close, 1);
	CHECK_EQ_INT(freed, 1);

	struct produce q = { 10000000, 0, 0 };
	CHECK_EQ_INT(oci_istream_thread(&s, 512, produce_bytes, &q, count_free, "test"), 0);
	oci_istream_close(s); /* nothing read */
	CHECK_EQ_INT(q.wrote_after_close, 1);
	CHECK_EQ_INT(freed, 2);
}

/* Read-ahead of a gzip stream gives the inflated bytes; a damaged gzip's
 * error crosses the thread; closing it early closes the inner stream. */
static void test_readahead(void)
{
	size_t n = 200000;
	unsigned char *plain = malloc(n);
	for (size_t i = 0; i < n; i++)
		plain[i] = pattern(i);
	uLongf zlen = compressBound(n) + 64;
	unsigned char *gz = malloc(zlen);
	z_stream z = { 0 };
	CHECK_EQ_INT(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = plain, z.avail_in = (uInt)n, z.next_out = gz, z.avail_out = (uInt)zlen;
	CHECK_EQ_INT(deflate(&z, Z_FINISH), Z_STREAM_END);
	zlen = z.total_out;
	deflateEnd(&z);

	oci_istream *m, *g, *s;
	size_t got;
	CHECK_EQ_INT(oci_istream_mem(&m, gz, zlen), 0);
	CHECK_EQ_INT(oci_istream_gunzip(&g, m), 0);
	CHECK_EQ_INT(oci_istream_readahead(&s, g, 8192, "layer"), 0);
	CHECK_EQ_INT(read_checked(s, 1, &got), 0);
	CHECK_EQ_INT(got, n);
	oci_istream_close(s);

	CHECK_EQ_INT(oci_istream_mem(&m, gz, zlen), 0);
	CHECK_EQ_INT(oci_istream_gunzip(&g, m), 0);
	CHECK_EQ_INT(oci_istream_readahead(&s, g, 8192, "layer"), 0);
	CHECK_EQ_INT(oci_istream_read(s, &got, 1), 1);
	oci_istream_close(s);

	gz[zlen - 5] ^= 1; /* the trailer's length */
	CHECK_EQ_INT(oci_istream_mem(&m, gz, zlen), 0);
	CHECK_EQ_INT(oci_istream_gunzip(&g, m), 0);
	CHECK_EQ_INT(oci_istream_readahead(&s, g, 8192, "layer"), 0);
	CHECK(read_checked(s, 4096, &got) < 0); /* not -1000: no wrong byte */
	CHECK(got <= n);
	CHECK_ERR_CONTAINS("gzip");
	oci_istream_close(s);

	free(gz);
	free(plain);
}

int main(void)
{
	RUN(test_mem_and_read_all);
	RUN(test_short_reads_and_peek);
	RUN(test_fd_streams);
	RUN(test_verify_in);
	RUN(test_verify_out_atomic);
	RUN(test_atomic_abort_and_replace);
	RUN(test_gunzip);
	RUN(test_progress);
	RUN(test_mem_out);
	RUN(test_sticky_error_keeps_hint);
	RUN(test_thread_bytes);
	RUN(test_thread_error);
	RUN(test_thread_early_close);
	RUN(test_readahead);
	TEST_END();
}
