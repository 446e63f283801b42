/* Packing a directory (or one file) into a byte-reproducible tar+gzip layer.
 * Thread-safety: reentrant (the packer runs worker threads of its own);
 * an oci_ignore is used by one thread at a time. opts: NULL = the
 * defaults; an options version this liboci does not know is OCI_EINVALID
 * before the tree is read. */
#ifndef OCI_BUNDLE_H
#define OCI_BUNDLE_H
#include "oci/common.h"
#include <stddef.h>
#include <stdint.h>
#include "oci/digest.h"
#include "oci/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sees each regular file's bytes as the packer reads them, so another
 * pass over the tree (lint) needs no second read and checks exactly the
 * bytes that are packed: BEGIN (data NULL), DATA chunks, then END. A
 * non-zero return stops the pack with that code. */
typedef enum oci_pack_file_event {
	OCI_PACK_FILE_BEGIN,
	OCI_PACK_FILE_DATA,
	OCI_PACK_FILE_END,
} oci_pack_file_event;
typedef int (*oci_pack_file_fn)(void *ctx, const char *rel, oci_pack_file_event ev, const void *data, size_t len);

/* Initialise with oci_pack_opts_init. */
#define OCI_PACK_OPTS_VERSION 1
typedef struct oci_pack_opts {
	int version;               /* OCI_PACK_OPTS_VERSION */
	const oci_strlist *ignore; /* gitignore-style patterns, may be NULL */
	int gzip_level;            /* 0 = default (6) */
	oci_pack_file_fn file_fn;  /* may be NULL */
	void *file_ctx;
	/* The limits extraction applies (oci_extract_opts; 0 = the defaults):
	 * a tree over them is refused before anything is packed, with the
	 * message extraction would give. */
	int64_t max_entries;
	int64_t max_size;
	/* Refuse (OCI_EINVALID, before packing) a tree without one file or
	 * symlink: an empty directory, or everything ignored. */
	int refuse_empty;
} oci_pack_opts;

/* Sets *opts to the defaults (all zero: no extra ignore patterns, gzip
 * level 6, default limits, an empty tree allowed) and opts->version to
 * OCI_PACK_OPTS_VERSION. Returns 0, or OCI_EINVALID when opts is NULL.
 * Thread-safe. */
OCI_EXTERN int oci_pack_opts_init(oci_pack_opts *opts);

typedef struct oci_pack_result {
	char digest[OCI_DIGEST_SIZE];  /* sha256 of the gzip stream (the layer) */
	int64_t size;                  /* gzip bytes */
	char diff_id[OCI_DIGEST_SIZE]; /* sha256 of the uncompressed tar */
	int64_t tar_size;
	size_t entries;                /* files, dirs and symlinks packed */
} oci_pack_result;

/* Packs path into tar+gzip, written to sink in one pass; both digests come
 * out of that same pass. Entries sorted, modes normalised, times zero,
 * uid/gid 0 without names; gzip header without name or time. .git/ is
 * skipped, .sourceignore at the root and opts->ignore patterns honoured.
 * A symlink that points outside path is OCI_EUNSAFE; a name that is not
 * valid UTF-8 is OCI_EINVALID (it names the file, escaped); more entries
 * or content than opts' limits is OCI_ELIMIT, before anything is written;
 * OCI_EINVALID also for an empty tree with opts->refuse_empty (hint
 * OCI_HINT_ALLOW_EMPTY). A sink's error stops the pack with its code.
 * Returns 0 with *out filled. */
OCI_EXTERN int oci_bundle_pack(oci_pack_result *out, const char *path, const oci_pack_opts *opts,
		    oci_write_fn sink, void *sink_ctx);

/* Packs into a file (created with mode 0644, written to a temporary name and
 * renamed).
 *
 * Byte-level contract (changing any of it changes every digest): restricted
 * pax tar (ustar headers, a pax record only for long or non-ASCII names,
 * which are taken as UTF-8 whatever the locale), libarchive's 10240-byte
 * blocking; gzip header 1f 8b 08 00 00000000 00 03; the deflate stream is
 * cut into 256 KiB chunks compressed in parallel with the previous 32 KiB
 * as dictionary and joined with sync flushes (one gzip member, output
 * independent of the number of threads). Any entry named .git is skipped.
 * Sockets, FIFOs and devices are OCI_EUNSUPPORTED unless ignored. On
 * failure dest_file is left as it was. Other returns as oci_bundle_pack. */
OCI_EXTERN int oci_bundle_pack_file(oci_pack_result *out, const char *path, const oci_pack_opts *opts,
			 const char *dest_file);

/* Lists what path would pack to: one entry per packed item, sorted, with the
 * same normalisation ("path", type 'f'/'d'/'l', mode, sha256 of content or
 * link target). Used by diff.
 * Paths carry no trailing '/' (directories included); the order is the
 * layer's: byte order of the path with '/' appended to directories.
 * Symlinks have mode 0777, directories 0755. */
typedef struct oci_file_entry {
	char *path;
	char type;                      /* 'f' file, 'd' dir, 'l' symlink, 'h' hardlink */
	unsigned mode;                  /* normalised: 0644, 0755 */
	int64_t size;
	char digest[OCI_DIGEST_SIZE];   /* files: content sha256; symlinks: of the target text */
	char *link;                     /* symlink / hardlink target, or NULL */
} oci_file_entry;
typedef struct oci_file_list {
	oci_file_entry *items;
	size_t n;
} oci_file_list;
/* Frees what l holds; NULL-safe. */
OCI_EXTERN void oci_file_list_dispose(oci_file_list *l);
/* *out: caller disposes with oci_file_list_dispose. Returns as
 * oci_bundle_pack. */
OCI_EXTERN int oci_bundle_list(oci_file_list *out, const char *path, const oci_pack_opts *opts);

/* What Flux's source-controller would do differently with what path packs
 * to (see flux_check.c): symlinks it drops when it extracts (skipped,
 * "a symlink ..."), names with a backslash or a '../' that make it refuse
 * the whole artifact. cb gets each entry's relative path and why; *count
 * the number found. Nothing is packed or pushed. 0 (issues are not an
 * error), or the walk's errors as oci_bundle_pack. */
typedef void (*oci_bundle_issue_fn)(void *ctx, const char *path, const char *why);
OCI_EXTERN int oci_bundle_flux_check(size_t *count, const char *path, const oci_pack_opts *opts,
			  oci_bundle_issue_fn cb, void *ctx);

/* gitignore-style matching (used by pack; public for tests and diff). */
typedef struct oci_ignore oci_ignore;
/* *out: caller frees with oci_ignore_free. 0, OCI_ENOMEM. */
OCI_EXTERN int oci_ignore_new(oci_ignore **out);
/* Adds one pattern (copied). 0, OCI_ENOMEM. */
OCI_EXTERN int oci_ignore_add(oci_ignore *ig, const char *pattern);
/* Reads patterns from a file (missing file is not an error). 0, OCI_EIO. */
OCI_EXTERN int oci_ignore_add_file(oci_ignore *ig, const char *file);
/* 1 ignored, 0 not; rel_path is relative, '/'-separated. */
OCI_EXTERN int oci_ignore_match(const oci_ignore *ig, const char *rel_path, int is_dir);
/* NULL-safe. */
OCI_EXTERN void oci_ignore_free(oci_ignore *ig);

#ifdef __cplusplus
}
#endif
#endif
