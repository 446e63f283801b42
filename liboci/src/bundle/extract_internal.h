/* Private: bookkeeping for safe extraction (extract.c) -- the table of
 * regular files written so far and the per-file index used to reuse the
 * previous revision's files (extract_index.c), and the filesystem helpers
 * (fsutil.c). */
#ifndef OCI_EXTRACT_INTERNAL_H
#define OCI_EXTRACT_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <time.h>
#include "oci/extract.h"
#include "oci/io.h"

/* One regular file of an extracted tree, as an index line holds it:
 * "<hex sha256> <octal mode> <path>". mode is the normalised 0644/0755. */
typedef struct oci__xfile {
	char *path;
	char hex[65];
	unsigned mode;
	uint32_t hash;       /* of path: compared before the path itself */
	int64_t size;
} oci__xfile;

/* A hash set of files by path (the files written so far: hard links may
 * only point at them, and they become index_out). */
typedef struct oci__xtable {
	oci__xfile *slots;   /* path == NULL: empty */
	size_t cap, n;
	struct timespec stamp; /* a loaded index's mtime: its tree was whole then */
} oci__xtable;
int oci__xtable_put(oci__xtable *t, const char *path, const char *hex, unsigned mode, int64_t size);
/* Room for n entries without growing (a table about to receive as many
 * files as an index it was loaded beside holds). */
int oci__xtable_reserve(oci__xtable *t, size_t n);
const oci__xfile *oci__xtable_get(const oci__xtable *t, const char *path);
void oci__xtable_dispose(oci__xtable *t);
/* Writes the table as an index (sorted by path) to file, atomically. */
int oci__xtable_write_index(const oci__xtable *t, const char *file);
/* Loads an index; a missing file gives an empty table (reuse is only an
 * optimisation), malformed lines are skipped. */
int oci__xtable_load_index(oci__xtable *t, const char *file);
/* 1 when st (a file of the tree t indexes) is still the file the index
 * describes: a regular file of final_mode and size, not modified since the
 * index was written (a file someone changed in place, even to the same
 * size, is never reused); 0 otherwise. */
int oci__xfile_unchanged(const struct stat *st, const oci__xtable *t, unsigned final_mode, int64_t size);

/* Opens the directory rel (relative, '/'-separated, "" = root) under
 * rootfd without following any symlink. create: make missing directories
 * (0755). On failure sets an error naming entry and returns it. */
int oci__open_dir_nofollow(int *out_fd, int rootfd, const char *rel, int create, const char *entry);

/* Opens rel under dirfd without following any symlink or leaving dirfd:
 * openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) where the kernel has it,
 * else component by component with O_NOFOLLOW. An fd, or -1 with errno
 * (ELOOP/ENOTDIR for a symlink, EXDEV for a way out). */
int oci__openat_beneath(int dirfd, const char *rel, int flags, unsigned mode);
/* Tests: 1 forces the fallback walk (as on a kernel without openat2). */
void oci__openat2_disable(int off);
/* Removes dirfd's entry name (a tree, a file, or a symlink itself), never
 * following a symlink; a missing entry is success. shown: for messages. */
int oci__rmtree_at(int dirfd, const char *name, const char *shown);

/* oci_extract into dest_name under dirfd (AT_FDCWD: a path), which must
 * not be a symlink; dest_dir names it in messages. */
int oci__extract_at(oci_extract_stats *stats, oci_read_fn source, void *source_ctx,
		    int dirfd, const char *dest_name, const char *dest_dir, const oci_extract_opts *opts);

/* oci__extract_at into a directory that holds an earlier extraction (a
 * sync revision about to be pruned) whose index is recycle_index: updated
 * in place into exactly what oci__extract_at into an empty directory
 * gives, without writing into any inode it held (extract_recycle.c). On
 * failure the directory is half-updated: the caller removes it. *durable
 * (may be NULL): how many files and directories were fsynced because this
 * changed them (the new index included), which makes the tree durable
 * provided the revision it started as was; -1 when that would have been
 * more than 64 and none were: the caller syncs the filesystem. */
int oci__extract_recycle_at(oci_extract_stats *stats, oci_read_fn source, void *source_ctx, int dirfd,
			    const char *dest_name, const char *dest_dir, const oci_extract_opts *opts,
			    const char *recycle_index, int64_t *durable);

/* List mode: the same extraction, with every check and limit, except
 * that regular files are created empty (their content read, counted and
 * hashed, not written) -- so a listing refuses exactly what an extraction
 * refuses, including what only the filesystem tells (a path through a
 * symlink the archive made, an entry twice) -- and each entry written is
 * handed to fn: type 'f' (mode 0644/0755, hex digest, size), 'd', 'l'
 * (link: the target), 'h' (link: the earlier file's path; its mode,
 * digest and size). dest_dir: an empty private directory (the caller
 * removes it). */
typedef int (*oci__xlist_fn)(void *ctx, char type, const char *path, unsigned mode, const char *hex,
			     const char *link, int64_t size);
int oci__extract_list(oci_extract_stats *stats, oci_read_fn source, void *source_ctx, const char *dest_dir,
		      const oci_extract_opts *opts, oci__xlist_fn fn, void *fn_ctx);

/* Downloads are bounded twice: by the descriptor's size (the verifying
 * sink) and by this, before a byte is fetched: a layer extracting to at
 * most max_size bytes (0: the default) cannot sensibly weigh more than
 * max_size + 1/8 + 16 MiB compressed. OCI_ELIMIT naming the layer. */
/* 0 when the directory open as fd holds nothing; OCI_EEXISTS naming dest
 * otherwise (extraction, archive or single file, starts in an empty one). */
int oci__check_empty(int fd, const char *dest);
int oci__layer_size_check(const char *digest, int64_t size, int64_t max_size);

/* oci_extract_is_archive_fd on the first bytes of a stream (enough for
 * libarchive to recognise the format and compression: 64 KiB). */
#define OCI__ARCHIVE_HEAD (64 * 1024)
int oci__extract_is_archive_mem(int *is_archive, const void *head, size_t len);

/* The stream under the tar reader: gzip inflated (and its trailer
 * checked) here, anything else passed through (extract_source.c). */
typedef struct oci__xsource oci__xsource;
int oci__xsource_new(oci__xsource **out, oci_read_fn src, void *ctx);
/* Next bytes: count, 0 at the end, or a negative oci_error_code. */
ssize_t oci__xsource_read(oci__xsource *s, const void **buf);
void oci__xsource_free(oci__xsource *s);

#endif
