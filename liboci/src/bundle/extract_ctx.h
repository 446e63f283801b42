/* Private to the extractor (extract.c, extract_file.c, extract_links.c):
 * its state while one archive is extracted, and the helpers its parts
 * share. */
#ifndef OCI_EXTRACT_CTX_H
#define OCI_EXTRACT_CTX_H
#include <archive.h>
#include <archive_entry.h>
#include "oci/extract.h"
#include "extract_internal.h"

#define IO_CHUNK (256 * 1024)
/* Files up to this size are hashed in memory before being written, so a
 * file that can be reused is never written at all; larger ones are
 * written while hashed and swapped for a link afterwards. */
#define REUSE_BUFFER_MAX (1024 * 1024)
#define REUSE_TMP_NAME ".ocisync-reuse.tmp"
#define EXTRACT_PATH_MAX 4096
/* Bytes of the (decompressed) stream that are not entry content -- tar
 * headers, pax records, padding -- allowed per entry, plus a base; past
 * that they count as content would. */
#define META_PER_ENTRY (8 * 1024)
#define META_BASE (1024 * 1024)
/* Zeros after the tar end marker (record padding up to a 64 KiB block)
 * are free; beyond that, trailing bytes count against max_size. */
#define TRAILING_FREE (64 * 1024)

typedef struct xctx {
	const oci_extract_opts *o;
	int64_t max_size, max_entries;
	const char *dest;
	int destfd;
	int reusefd;                 /* -1: reuse off */
	oci__xtable reuse;           /* previous revision's index */
	oci__xtable files;           /* regular files written here */
	int recycle;                 /* dest holds an earlier revision, updated in place */
	oci__xtable old;             /* its index (recycle) */
	oci__xtable seen;            /* directories and symlinks made or kept here (recycle) */
	oci__xtable dirty;           /* files ('f') and directories ('d') changed here (recycle) */
	int dirty_over;              /* more than fit: the caller syncs the filesystem */
	int64_t durable;             /* objects fsynced by oci__x_make_durable, -1 none */
	int need_hash;
	char *sub;                   /* normalised subpath or NULL */
	size_t sublen;
	int sub_found;
	oci_extract_stats st;
	int64_t content_read;        /* bytes of entry data read so far */
	int64_t stream_bytes;        /* bytes handed to libarchive (decompressed when gzip) */

	char *cache_rel;             /* parent-directory cache (dest) */
	int cache_fd;
	char *rcache_rel;            /* same, in reuse_dir */
	int rcache_fd;

	struct archive *a;
	oci__xsource *xs;            /* the stream, gunzipped when gzip */
	int src_err;                 /* error code from the stream */
	char *iobuf;
	unsigned char *fbuf;         /* small-file buffer for reuse */
	size_t fbuf_cap;
	char *entry;                 /* the entry's path as in the archive, for messages */
	oci__xlist_fn list;          /* list mode (see oci__extract_list) */
	void *list_ctx;
} xctx;

/* In list mode, hands an entry (its path relative to the root) on. */
int oci__x_listed(xctx *x, char type, const char *rel, unsigned mode, const char *hex, const char *link, int64_t size);
/* A libarchive failure: the source's own error when it caused it,
 * otherwise a corrupt or truncated stream. */
int oci__x_archive_fail(xctx *x);
/* An archive path normalised (NULL: refused, *why says why; *oom). */
char *oci__x_norm_path(const char *raw, const char **why, int *oom);
/* path relative to the extracted subpath, or NULL when outside it. */
const char *oci__x_reroot(xctx *x, const char *path);
/* The directory rel's leaf goes in, opened without following symlinks
 * (cached), made when create. */
int oci__x_parent_of(xctx *x, int rootfd, char **cache_rel, int *cache_fd, const char *rel, int create,
		     const char **leaf, int *pfd);
/* Counts n bytes of content against max_size. */
int oci__x_count_content(xctx *x, size_t n);
/* Reads (and counts) an entry's data without writing it. */
int oci__x_drain(xctx *x);
/* The entry kinds (extract_file.c, extract_links.c). */
int oci__x_file(xctx *x, struct archive_entry *e, const char *rel);
int oci__x_dir(xctx *x, const char *rel);
int oci__x_symlink(xctx *x, struct archive_entry *e, const char *rel);
int oci__x_hardlink(xctx *x, const char *raw_target, const char *rel);

/* Recycle mode (extract_recycle.c): dest starts as an earlier revision and
 * ends as exactly what a fresh extraction into an empty directory gives.
 * What this extraction has not made or kept yet is stale; a stale entry in
 * the way of a new one is removed first (never written into: its inode may
 * be shared with other revisions), so everything after runs the fresh
 * extraction's code, refusals included (an entry twice still meets what
 * it made the first time). */
/* Before the parent directories of a path are opened (and made): stale
 * files or symlinks where the path needs directories are removed, and the
 * directories count as the new tree's. */
int oci__x_recycle_parents(xctx *x, const char *dir);
/* Removes whatever stale entry sits at leaf (rel) of pfd; a stale
 * directory stays when keep_dir (then 1). A no-op (0) outside recycle mode
 * or for what this extraction made. */
int oci__x_clear_stale(xctx *x, int pfd, const char *leaf, const char *rel, int keep_dir);
/* Records rel as a directory ('d') or symlink ('l') of the new tree. */
int oci__x_mark(xctx *x, const char *rel, char type);
/* 1 when the stale file at leaf is already the entry (same content and
 * mode per the old index, and unchanged since): it stays as it is. */
int oci__x_keep(xctx *x, int pfd, const char *leaf, const char *rel, const char *hex, unsigned mode,
		unsigned final_mode, int64_t size);
/* 1 when the stale symlink at leaf already points at target. */
int oci__x_keep_symlink(xctx *x, int pfd, const char *leaf, const char *rel, const char *target);
/* Once the stream ended verified: removes everything of dest the new tree
 * does not hold (strays included), directories back to 0755. */
int oci__x_sweep(xctx *x);
/* Records what an entry changed: rel itself when type ('f' a file written
 * or linked, 'd' a directory made or whose mode changed; 0: nothing), and
 * always rel's parent directory, whose entries changed. */
int oci__x_dirty(xctx *x, const char *rel, char type);
/* Once the tree and its index (index, may be NULL) are complete: fsyncs
 * exactly what changed, and sets x->durable to their count; leaves it -1
 * (the caller syncs the whole filesystem) when that is more than 64 objects. */
int oci__x_make_durable(xctx *x, const char *index);

#endif
