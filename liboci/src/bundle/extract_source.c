/* The byte stream under the tar reader. A gzip stream is inflated here
 * with zlib rather than by libarchive, because libarchive does not check
 * the gzip trailer (CRC-32 and length) and stops reading at the tar end
 * marker: here every member is inflated to its end and its trailer
 * verified, so a damaged layer is refused even when the digest of the
 * blob was not checked by the caller. Other streams (plain tar, zstd, xz,
 * bzip2) pass through to libarchive's own readers. */
#include "extract_internal.h"
#include "error_internal.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define XS_CHUNK (256 * 1024)

struct oci__xsource {
	oci_read_fn src;
	void *ctx;
	unsigned char *in, *out;
	size_t in_len;       /* bytes in `in` not yet handed on (raw mode) */
	int started, gzip, src_eof, stream_end, done;
	z_stream zs;
	int zinit;
};

int oci__xsource_new(oci__xsource **out, oci_read_fn src, void *ctx)
{
	oci__xsource *s = calloc(1, sizeof *s);
	if (!s || !(s->in = malloc(XS_CHUNK)) || !(s->out = malloc(XS_CHUNK))) {
		if (s) {
			free(s->in);
			free(s);
		}
		return OCI_ENOMEM_SET();
	}
	s->src = src;
	s->ctx = ctx;
	*out = s;
	return 0;
}

void oci__xsource_free(oci__xsource *s)
{
	if (!s)
		return;
	if (s->zinit)
		inflateEnd(&s->zs);
	free(s->in);
	free(s->out);
	free(s);
}

/* Refills `in` from the source; sets src_eof at the end. */
static int fill(oci__xsource *s)
{
	ssize_t n = s->src(s->ctx, s->in, XS_CHUNK);
	if (n < 0)
		return (int)n;
	if (n == 0)
		s->src_eof = 1;
	s->zs.next_in = s->in;
	s->zs.avail_in = (uInt)n;
	s->in_len = (size_t)n;
	return 0;
}

static int start(oci__xsource *s)
{
	s->started = 1;
	/* Enough bytes to see the magic, however little a read returns. */
	while (s->in_len < 2 && !s->src_eof) {
		ssize_t n = s->src(s->ctx, s->in + s->in_len, XS_CHUNK - s->in_len);
		if (n < 0)
			return (int)n;
		if (n == 0)
			s->src_eof = 1;
		s->in_len += (size_t)n;
	}
	s->zs.next_in = s->in;
	s->zs.avail_in = (uInt)s->in_len;
	/* gzip magic; a short first read cannot be a gzip header anyway */
	s->gzip = s->in_len >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b;
	if (s->gzip) {
		if (inflateInit2(&s->zs, 15 + 16) != Z_OK)
			return OCI_ENOMEM_SET();
		s->zinit = 1;
	}
	return 0;
}

/* After a member ends: another member, trailing zeros (tape padding some
 * tools add), or the end. Anything else is refused. */
static int after_member(oci__xsource *s)
{
	int rc;
	for (;;) {
		while (s->zs.avail_in && *s->zs.next_in == 0) {
			s->zs.next_in++;
			s->zs.avail_in--;
			s->stream_end = 2; /* only zeros from now on */
		}
		if (s->zs.avail_in) {
			if (s->stream_end == 2 || *s->zs.next_in != 0x1f)
				return oci_error_set(OCI_EINVALID, "corrupt gzip stream: unexpected data after the end of the compressed data");
			if (inflateReset(&s->zs) != Z_OK)
				return oci_error_set(OCI_ERROR, "gzip: cannot reset the decompressor");
			s->stream_end = 0;
			return 0;
		}
		if (s->src_eof) {
			s->done = 1;
			return 0;
		}
		if ((rc = fill(s)) < 0)
			return rc;
	}
}

ssize_t oci__xsource_read(oci__xsource *s, const void **buf)
{
	int rc;
	if (!s->started && (rc = start(s)) < 0)
		return rc;
	if (!s->gzip) {
		if (!s->in_len && !s->src_eof && (rc = fill(s)) < 0)
			return rc;
		size_t n = s->in_len;
		s->in_len = 0;
		*buf = s->in;
		return (ssize_t)n;
	}
	for (;;) {
		if (s->done)
			return 0;
		if (s->stream_end) {
			if ((rc = after_member(s)) < 0)
				return rc;
			continue;
		}
		if (!s->zs.avail_in && !s->src_eof && (rc = fill(s)) < 0)
			return rc;
		s->zs.next_out = s->out;
		s->zs.avail_out = XS_CHUNK;
		int zr = inflate(&s->zs, Z_NO_FLUSH);
		size_t produced = XS_CHUNK - s->zs.avail_out;
		if (zr == Z_STREAM_END) {
			s->stream_end = 1; /* trailer checked by zlib */
		} else if (zr == Z_BUF_ERROR && s->src_eof && !s->zs.avail_in && !produced) {
			return oci_error_set(OCI_EINVALID, "truncated gzip stream: it ends before its end marker");
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			return oci_error_set(OCI_EINVALID, "corrupt gzip stream: %s",
					     s->zs.msg ? s->zs.msg : "invalid compressed data");
		}
		if (produced) {
			*buf = s->out;
			return (ssize_t)produced;
		}
	}
}
