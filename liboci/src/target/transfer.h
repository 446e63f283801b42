/* Private: moving several blobs at once. The calling thread works with the
 * given target(s) (their open connection takes the first job); each other
 * worker thread opens its own target from their reference and options (so
 * every worker has its own connection, auth state and thread-local error),
 * and the progress and log callbacks are serialised -- the given targets'
 * callbacks are swapped for the serialised ones until the call returns --
 * so the CLI's callbacks need not be thread-safe. Works for any target
 * kind. An oci_target itself stays single-threaded. */
#ifndef OCI_TRANSFER_H
#define OCI_TRANSFER_H
#include <stddef.h>
#include <stdint.h>
#include "oci/error.h"
#include "oci/target.h"

typedef struct oci_blob_job {
	const char *digest;
	int64_t size;          /* -1 when unknown (downloads only) */
	const char *path;      /* downloads: written here (created, 0644); uploads: read from here */
	int skip_existing;     /* uploads: HEAD first and skip a blob the target has */
	int result;            /* out: 0, or a negative oci_error_code */
	char message[512];     /* out: the error message when result < 0 */
	oci_hint hint;         /* out: and its hint (the worker's thread-local error does not cross) */
	char hint_subject[256];
	int skipped;           /* out: uploads skipped because the blob existed */
} oci_blob_job;

/* Downloads every job's blob from t into job->path (verified: digest and
 * size), at most `parallel` at a time (0: 4). A failed job's file is
 * removed. Returns 0 when all succeeded, else the first failed job's code
 * with its message as oci_error_last(). */
int oci_transfer_get(oci_target *t, oci_blob_job *jobs, size_t n, int parallel);
/* Uploads every job's file to t (blob_put_file), same rules. */
int oci_transfer_put(oci_target *t, oci_blob_job *jobs, size_t n, int parallel);
/* Copies every job's blob from src to dst through job->path: downloaded
 * and verified, uploaded, removed (so at most `parallel` blobs are on disk
 * at once). skip_existing is not looked at (the caller has checked). The
 * first failure stops the pool from starting further jobs (those keep
 * result 0 and skipped 0); returns that failure like the others. */
int oci_transfer_copy(oci_target *src, oci_target *dst, oci_blob_job *jobs, size_t n, int parallel);

#endif
