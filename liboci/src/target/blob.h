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

#endif
