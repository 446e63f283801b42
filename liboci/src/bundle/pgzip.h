/* Private: deterministic parallel gzip writer used by the bundle packer
 * (see pgzip.c for why and how the output stays byte-reproducible). */
#ifndef OCI_PGZIP_H
#define OCI_PGZIP_H
#include <stdint.h>
#include "oci/digest.h"
#include "oci/io.h"

typedef struct oci_pgz oci_pgz;

/* Starts a gzip stream at level 1-9 written to sink (always on the
 * caller's thread); the 10-byte header is written at once. */
int oci__pgz_new(oci_pgz **out, int level, oci_write_fn sink, void *sink_ctx);
/* Feeds uncompressed bytes. */
int oci__pgz_write(oci_pgz *z, const void *buf, size_t len);
/* Flushes, writes the trailer and gives the sha256 and size of the gzip bytes. */
int oci__pgz_finish(oci_pgz *z, char digest[OCI_DIGEST_SIZE], int64_t *size);
void oci__pgz_free(oci_pgz *z);

#endif
