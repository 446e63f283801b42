/* Safe extraction of untrusted tar / tar+gzip layers.
 * Thread-safety: reentrant; distinct extractions (distinct dest_dir) may
 * run on distinct threads at once. stats may be NULL everywhere. */
#ifndef OCI_EXTRACT_H
#define OCI_EXTRACT_H
#include "oci/common.h"
#include <stddef.h>
#include <stdint.h>
#include "oci/io.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OCI_DEFAULT_MAX_SIZE ((int64_t)1 << 30)
#define OCI_DEFAULT_MAX_ENTRIES 100000
/* Manifest annotations recording the limits a push was made with (only
 * those that differ from the defaults); decimal numbers. */
#define OCI_ANN_MAX_ENTRIES "io.ocisync.limits.max-entries"
#define OCI_ANN_MAX_SIZE "io.ocisync.limits.max-size"

/* Initialise with oci_extract_opts_init. */
#define OCI_EXTRACT_OPTS_VERSION 1
typedef struct oci_extract_opts {
	int version;               /* OCI_EXTRACT_OPTS_VERSION */
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

/* Sets *opts to the defaults (all zero: default limits, the whole archive,
 * no reuse, no index) and opts->version to OCI_EXTRACT_OPTS_VERSION.
 * Returns 0, or OCI_EINVALID when opts is NULL. Thread-safe. */
OCI_EXTERN int oci_extract_opts_init(oci_extract_opts *opts);

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
/*
 * Details:
 * - On failure dest_dir may hold part of the tree: the caller removes it
 *   (oci_rmtree). Nothing is ever created outside it.
 * - The source is read to its end even after the tar end marker, so a
 *   source that hashes what it delivers sees every byte.
 * - max_size counts the content bytes actually read from the stream (of
 *   every entry, also those outside subpath, which are read but not
 *   written); a header announcing more than is left is refused before
 *   anything is written. max_entries counts every header.
 * - Every decompressed byte counts, wherever it sits: the whole stream may
 *   weigh max_size plus 8 KiB of headers and padding per entry (plus
 *   1 MiB), and what follows the tar end marker counts against max_size
 *   (after 64 KiB of free record padding).
 * - Directories are 0755; files 0644/0755 (0444/0555 with read_only);
 *   setuid/setgid/sticky bits, owners and times are ignored.
 * - A duplicate path is refused (a directory listed twice is allowed).
 * - Symlink targets must be relative, with '..' only as leading
 *   components, and stay inside dest_dir (inside the subpath when one is
 *   given).
 * - Reuse: same path, same content digest and same normalised mode, and
 *   the file in reuse_dir still a regular file with the mode this
 *   extraction would give it, not modified since reuse_index was written;
 *   a missing index or directory means no reuse.
 *   stats->files_linked counts the files linked.
 * - gzip is inflated to the end of its last member with every trailer
 *   (CRC-32, length) checked, even past the tar end marker; data after it
 *   other than zero padding is refused. zstd, xz and bzip2 go through
 *   libarchive's built-in readers (never an external program).
 */
/* Returns 0; OCI_EUNSAFE (a hostile entry), OCI_ELIMIT (a limit),
 * OCI_EINVALID (a corrupt or truncated stream, an options version this
 * liboci does not know), OCI_EIO, or the source's own code. opts: NULL =
 * the defaults. */
OCI_EXTERN int oci_extract(oci_extract_stats *stats, oci_read_fn source, void *source_ctx,
		const char *dest_dir, const oci_extract_opts *opts);
/* oci_extract reading the file at archive_path (OCI_ENOTFOUND when missing). */
OCI_EXTERN int oci_extract_file(oci_extract_stats *stats, const char *archive_path,
		     const char *dest_dir, const oci_extract_opts *opts);

/* *is_archive = 0 when the file is not a tar archive at all (plain or
 * compressed with what extraction reads: gzip, zstd, xz, bzip2) as
 * libarchive judges it; 1 otherwise, a damaged archive included.
 * 0, OCI_ENOTFOUND, OCI_EIO. */
OCI_EXTERN int oci_extract_is_archive(int *is_archive, const char *path);
/* The same for an open file (read from its start; the offset is back at 0
 * afterwards): a layer downloaded into an anonymous file has no path. */
OCI_EXTERN int oci_extract_is_archive_fd(int *is_archive, int fd);

/* Writes the stream as the one file `name` in dest_dir (empty, as for
 * oci_extract): ORAS's single-file layer, raw bytes named by their
 * org.opencontainers.image.title. name must be a plain file name: empty,
 * absolute, '.', '..', a '/' or a control character is refused
 * (OCI_EUNSAFE). The file is 0644 (0444 read_only); max_size, index_out
 * and reuse apply as for an archive; a subpath other than the root is
 * OCI_ENOTFOUND. Other returns as oci_extract. */
OCI_EXTERN int oci_extract_single(oci_extract_stats *stats, oci_read_fn source, void *source_ctx, const char *name,
		       const char *dest_dir, const oci_extract_opts *opts);

/* oci_extract_single reading the file at path. */
OCI_EXTERN int oci_extract_single_file(oci_extract_stats *stats, const char *path, const char *name,
			    const char *dest_dir, const oci_extract_opts *opts);
/* The limits a manifest's annotations record, over *max_entries and
 * *max_size (left alone when absent). OCI_EINVALID naming the annotation
 * when one is not a positive whole number. */
OCI_EXTERN int oci_limits_from_annotations(int64_t *max_entries, int64_t *max_size, const oci_kvlist *annotations);
/* Adds the annotations for limits that differ from the defaults (0 = the
 * default). 0, OCI_ENOMEM. */
OCI_EXTERN int oci_limits_annotate(oci_kvlist *annotations, int64_t max_entries, int64_t max_size);

/* Removes a directory tree (making read-only dirs writable first), never
 * following symlinks (a symlink path is removed itself); a path that does
 * not exist is success. 0, or OCI_EIO naming what could not be removed. */
OCI_EXTERN int oci_rmtree(const char *path);

#ifdef __cplusplus
}
#endif
#endif
