/* Private: blobs as readable streams, for the operations that chain them
 * (pull, diff, copy). */
#ifndef OCI_TARGET_BLOB_H
#define OCI_TARGET_BLOB_H
#include "oci/target.h"
#include "stream.h"

/* Opens a blob for reading, verified (size when >= 0, and digest: the
 * read that reaches the end returns OCI_EDIGEST instead of 0 on a
 * mismatch, so a consumer must not publish before it saw the end) and
 * reporting the target's progress. Errors of the transfer itself may
 * come with a read rather than here. Close with oci_istream_close; the
 * target is not to be used otherwise while the stream is open. */
int oci_target_blob_open(oci_istream **out, oci_target *t, const char *digest, int64_t size);

/* After the consumer of a blob stream failed with rc: when rc says the
 * content is bad (corrupt, hostile, too large), the rest of the blob is
 * read (bounded by its size) to tell a blob that is not what its digest
 * says, which is then the error returned (wrapped "downloading layer
 * DIGEST"), as is a failure of the stream itself. Returns the error. */
int oci_target_blob_failed(oci_istream *blob, int rc, const char *digest);

/* oci_artifact_single_file on a blob stream (peeked at, not consumed). */
#include "oci/manifest.h"
int oci_artifact_single_file_stream(const char **title, const oci_manifest *m, const oci_descriptor *layer,
				    oci_istream *blob);

#endif
