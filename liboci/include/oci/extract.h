/* Safe extraction of untrusted tar / tar+gzip layers. */
#ifndef OCI_EXTRACT_H
#define OCI_EXTRACT_H
#include <stddef.h>
#include <stdint.h>
#include "oci/io.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OCI_DEFAULT_MAX_SIZE ((int64_t)1 << 30)
#define OCI_DEFAULT_MAX_ENTRIES 100000

typedef struct oci_extract_opts {
	int64_t max_size;          /* extracted bytes; 0 = OCI_DEFAULT_MAX_SIZE */
	int64_t max_entries;       /* 0 = OCI_DEFAULT_MAX_ENTRIES */
	const char *subpath;       /* only this folder of the archive, re-rooted; NULL = all */
	int read_only;             /* published files 0444/0555, dirs stay writable by owner */
	/* Incremental extraction (sync): a previous revision directory and its
	 * file index; a regular file whose content and mode match an entry there
	 * is hard-linked from it instead of written. Both NULL = off. */
	const char *reuse_dir;
	const char *reuse_index;
	/* When set, the index of what was extracted is written here
	 * (one line per regular file: "<hex sha256> <octal mode> <path>", sorted). */
	const char *index_out;
} oci_extract_opts;
#define OCI_EXTRACT_OPTS_INIT { 0 }

typedef struct oci_extract_stats {
	int64_t bytes;             /* bytes of file content extracted */
	int64_t entries;
	int64_t files_written;
	int64_t files_linked;      /* reused through hard links */
} oci_extract_stats;

/* Extracts the archive (tar or tar+gzip, detected) read from source into
 * dest_dir, which must exist and be empty (the caller creates it as a
 * temporary directory beside the final destination and renames it).
 * Refused, each with its own message: absolute paths, "..", paths through a
 * symlink, symlinks resolving outside, hard links to anything but an earlier
 * regular file inside, devices, FIFOs, sockets, more than max_entries
 * entries, more than max_size bytes, a truncated or corrupt stream. */
int oci_extract(oci_extract_stats *stats, oci_read_fn source, void *source_ctx,
		const char *dest_dir, const oci_extract_opts *opts);
int oci_extract_file(oci_extract_stats *stats, const char *archive_path,
		     const char *dest_dir, const oci_extract_opts *opts);

/* Removes a directory tree (making read-only dirs writable first). */
int oci_rmtree(const char *path);

#ifdef __cplusplus
}
#endif
#endif
