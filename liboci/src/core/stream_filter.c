/* Stream filters: verify (size + sha256, readable and writable), gunzip,
 * progress. Each owns the stream it wraps. */
#include "stream.h"
#include "error_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- verification, shared by both directions ---- */

struct check {
	oci_sha256 *h;
	int64_t seen, size;
	char digest[OCI_DIGEST_SIZE];
	char *what;
};

static int check_init(struct check *c, int64_t size, const char *digest, const char *what)
{
	int rc = oci_digest_validate(digest);
	if (rc < 0)
		return rc;
	c->size = size;
	snprintf(c->digest, sizeof c->digest, "%s", digest);
	if (!(c->what = strdup(what ? what : "blob")))
		return OCI_ENOMEM_SET();
	return oci_sha256_new(&c->h);
}

static int check_update(struct check *c, const void *buf, size_t len)
{
	c->seen += (int64_t)len;
	if (c->size >= 0 && c->seen > c->size)
		return oci_error_set(OCI_EDIGEST, "%s is larger than its descriptor's size of %lld bytes (%s)", c->what,
				     (long long)c->size, c->digest);
	return oci_sha256_update(c->h, buf, len);
}

static int check_final(struct check *c)
{
	char got[OCI_DIGEST_SIZE];
	int rc = oci_sha256_final(got, c->h);
	if (rc < 0)
		return rc;
	if (c->size >= 0 && c->seen != c->size)
		return oci_error_set(OCI_EDIGEST, "%s %s: received %lld bytes, expected %lld", c->what, c->digest,
				     (long long)c->seen, (long long)c->size);
	if (strcmp(got, c->digest) != 0)
		return oci_error_set(OCI_EDIGEST, "%s %s: content does not match its digest (got %s)", c->what,
				     c->digest, got);
	return 0;
}

static void check_dispose(struct check *c)
{
	oci_sha256_free(c->h);
	free(c->what);
}

struct verify_in {
	oci_istream s;
	oci_istream *inner;
	struct check c;
};

static ssize_t verify_read(oci_istream *is, void *buf, size_t len)
{
	struct verify_in *v = (struct verify_in *)is;
	ssize_t n = oci_istream_read(v->inner, buf, len);
	if (n < 0)
		return n;
	if (n == 0) {
		int rc = check_final(&v->c);
		return rc < 0 ? rc : 0;
	}
	int rc = check_update(&v->c, buf, (size_t)n);
	return rc < 0 ? rc : n;
}

static void verify_close(oci_istream *is)
{
	struct verify_in *v = (struct verify_in *)is;
	oci_istream_close(v->inner);
	check_dispose(&v->c);
	free(v);
}

static const oci_istream_ops verify_in_ops = { verify_read, verify_close };

int oci_istream_verify(oci_istream **out, oci_istream *inner, int64_t size, const char *digest, const char *what)
{
	struct verify_in *v = calloc(1, sizeof *v);
	int rc = v ? check_init(&v->c, size, digest, what) : OCI_ENOMEM_SET();
	if (rc < 0) {
		if (v)
			check_dispose(&v->c);
		free(v);
		oci_istream_close(inner);
		return rc;
	}
	v->s.ops = &verify_in_ops;
	v->inner = inner;
	*out = &v->s;
	return 0;
}

struct verify_out {
	oci_ostream s;
	oci_ostream *inner;
	struct check c;
};

static int verify_write(oci_ostream *os, const void *buf, size_t len)
{
	struct verify_out *v = (struct verify_out *)os;
	int rc = check_update(&v->c, buf, len);
	return rc < 0 ? rc : oci_ostream_write(v->inner, buf, len);
}

static int verify_commit(oci_ostream *os)
{
	struct verify_out *v = (struct verify_out *)os;
	int rc = check_final(&v->c);
	oci_ostream *inner = v->inner;
	v->inner = NULL;
	if (rc < 0) {
		oci_ostream_abort(inner);
		return rc;
	}
	return oci_ostream_commit(inner);
}

static void verify_out_free(oci_ostream *os)
{
	struct verify_out *v = (struct verify_out *)os;
	oci_ostream_abort(v->inner);
	check_dispose(&v->c);
	free(v);
}

static const oci_ostream_ops verify_out_ops = { verify_write, verify_commit, verify_out_free };

int oci_ostream_verify(oci_ostream **out, oci_ostream *inner, int64_t size, const char *digest, const char *what)
{
	struct verify_out *v = calloc(1, sizeof *v);
	int rc = v ? check_init(&v->c, size, digest, what) : OCI_ENOMEM_SET();
	if (rc < 0) {
		if (v)
			check_dispose(&v->c);
		free(v);
		oci_ostream_abort(inner);
		return rc;
	}
	v->s.ops = &verify_out_ops;
	v->inner = inner;
	*out = &v->s;
	return 0;
}

/* ---- gunzip ----
 * Every member is inflated to its end and its trailer (CRC-32, length)
 * checked by zlib; zeros after the last member (tape padding some tools
 * add) are allowed, anything else refused. */

#define GZ_CHUNK (256 * 1024)

struct gunzip_in {
	oci_istream s;
	oci_istream *inner;
	unsigned char *in;
	z_stream zs;
	int zinit, src_eof, member_end, zeros;
};

static int gz_fill(struct gunzip_in *g)
{
	ssize_t n = oci_istream_read(g->inner, g->in, GZ_CHUNK);
	if (n < 0)
		return (int)n;
	if (n == 0)
		g->src_eof = 1;
	g->zs.next_in = g->in;
	g->zs.avail_in = (uInt)n;
	return 0;
}

/* After a member: 1 when another starts, 0 at the end, or an error. */
static int gz_next_member(struct gunzip_in *g)
{
	for (;;) {
		while (g->zs.avail_in && *g->zs.next_in == 0) {
			g->zs.next_in++;
			g->zs.avail_in--;
			g->zeros = 1; /* only zeros from now on */
		}
		if (g->zs.avail_in) {
			if (g->zeros || *g->zs.next_in != 0x1f)
				return oci_error_set(OCI_EINVALID, "corrupt gzip stream: unexpected data after the end of the compressed data");
			if (inflateReset(&g->zs) != Z_OK)
				return oci_error_set(OCI_ERROR, "gzip: cannot reset the decompressor");
			return 1;
		}
		if (g->src_eof)
			return 0;
		int rc = gz_fill(g);
		if (rc < 0)
			return rc;
	}
}

static ssize_t gunzip_read(oci_istream *is, void *buf, size_t len)
{
	struct gunzip_in *g = (struct gunzip_in *)is;
	int rc;
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	for (;;) {
		if (g->member_end) {
			if ((rc = gz_next_member(g)) <= 0)
				return rc;
			g->member_end = 0;
		}
		if (!g->zs.avail_in && !g->src_eof && (rc = gz_fill(g)) < 0)
			return rc;
		g->zs.next_out = buf;
		g->zs.avail_out = (uInt)len;
		int zr = inflate(&g->zs, Z_NO_FLUSH);
		size_t produced = len - g->zs.avail_out;
		if (zr == Z_STREAM_END)
			g->member_end = 1;
		else if (zr == Z_BUF_ERROR && g->src_eof && !g->zs.avail_in && !produced)
			return oci_error_set(OCI_EINVALID, "truncated gzip stream: it ends before its end marker");
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			return oci_error_set(OCI_EINVALID, "corrupt gzip stream: %s",
					     g->zs.msg ? g->zs.msg : "invalid compressed data");
		if (produced)
			return (ssize_t)produced;
	}
}

static void gunzip_close(oci_istream *is)
{
	struct gunzip_in *g = (struct gunzip_in *)is;
	if (g->zinit)
		inflateEnd(&g->zs);
	oci_istream_close(g->inner);
	free(g->in);
	free(g);
}

static const oci_istream_ops gunzip_ops = { gunzip_read, gunzip_close };

int oci_istream_gunzip(oci_istream **out, oci_istream *inner)
{
	struct gunzip_in *g = calloc(1, sizeof *g);
	if (!g || !(g->in = malloc(GZ_CHUNK)) || inflateInit2(&g->zs, 15 + 16) != Z_OK) {
		if (g)
			free(g->in);
		free(g);
		oci_istream_close(inner);
		return OCI_ENOMEM_SET();
	}
	g->zinit = 1;
	g->s.ops = &gunzip_ops;
	g->inner = inner;
	*out = &g->s;
	return 0;
}

/* ---- progress ---- */

struct progress_in {
	oci_istream s;
	oci_istream *inner;
	oci_stream_progress_fn fn;
	void *ctx;
	char *what;
	int64_t done, total;
};

static ssize_t progress_read(oci_istream *is, void *buf, size_t len)
{
	struct progress_in *p = (struct progress_in *)is;
	ssize_t n = oci_istream_read(p->inner, buf, len);
	if (n <= 0)
		return n;
	p->done += n;
	if (p->fn(p->ctx, p->what, p->done, p->total) != 0)
		return oci_error_set(OCI_EINTERRUPTED, "%s: cancelled by the progress callback", p->what);
	return n;
}

static void progress_close(oci_istream *is)
{
	struct progress_in *p = (struct progress_in *)is;
	oci_istream_close(p->inner);
	free(p->what);
	free(p);
}

static const oci_istream_ops progress_ops = { progress_read, progress_close };

int oci_istream_progress(oci_istream **out, oci_istream *inner, oci_stream_progress_fn fn, void *ctx,
			 const char *what, int64_t total)
{
	struct progress_in *p = calloc(1, sizeof *p);
	if (!p || !(p->what = strdup(what))) {
		free(p);
		oci_istream_close(inner);
		return OCI_ENOMEM_SET();
	}
	p->s.ops = &progress_ops;
	p->inner = inner;
	p->fn = fn;
	p->ctx = ctx;
	p->total = total;
	*out = &p->s;
	return 0;
}
