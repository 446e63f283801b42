/* The byte stream under the tar reader. A gzip stream is inflated here
 * (the stream layer's gunzip) rather than by libarchive, because
 * libarchive does not check the gzip trailer (CRC-32 and length) and
 * stops reading at the tar end marker: here every member is inflated to
 * its end and its trailer verified, so a damaged layer is refused even
 * when the digest of the blob was not checked by the caller. Other
 * streams (plain tar, zstd, xz, bzip2) pass through to libarchive's own
 * readers. */
#include "extract_internal.h"
#include "error_internal.h"
#include "stream.h"

#include <stdlib.h>

#define XS_CHUNK (256 * 1024)

struct oci__xsource {
	oci_istream *s;
	unsigned char *buf;
	int started;
};

int oci__xsource_new(oci__xsource **out, oci_read_fn src, void *ctx)
{
	oci__xsource *x = calloc(1, sizeof *x);
	if (!x || !(x->buf = malloc(XS_CHUNK)) || oci_istream_fn(&x->s, src, ctx) < 0) {
		if (x)
			free(x->buf);
		free(x);
		return OCI_ENOMEM_SET();
	}
	*out = x;
	return 0;
}

void oci__xsource_free(oci__xsource *x)
{
	if (!x)
		return;
	oci_istream_close(x->s);
	free(x->buf);
	free(x);
}

/* gzip magic; a stream shorter than that cannot be gzip anyway */
static int start(oci__xsource *x)
{
	const void *head;
	x->started = 1;
	ssize_t n = oci_istream_peek(x->s, &head, 2);
	if (n < 0)
		return (int)n;
	const unsigned char *h = head;
	if (n < 2 || h[0] != 0x1f || h[1] != 0x8b)
		return 0;
	oci_istream *g;
	int rc = oci_istream_gunzip(&g, x->s);
	x->s = rc < 0 ? NULL : g; /* closed on failure */
	return rc;
}

ssize_t oci__xsource_read(oci__xsource *x, const void **buf)
{
	int rc;
	if (!x->started && (rc = start(x)) < 0)
		return rc;
	*buf = x->buf;
	return oci_istream_read(x->s, x->buf, XS_CHUNK);
}
