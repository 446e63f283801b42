/* Private: pieces shared by the packer (bundle.c, walk.c, ignore.c) and the
 * extractor (extract*.c). */
#ifndef OCI_BUNDLE_INTERNAL_H
#define OCI_BUNDLE_INTERNAL_H
#include <stdint.h>
#include <sys/stat.h>
#include "oci/bundle.h"

/* oci_ignore_match without looking at parent directories (the walker never
 * descends into an ignored one). */
int oci__ignore_match_one(const oci_ignore *ig, const char *rel_path, int is_dir);

/* Whether a symlink at link_rel (relative, '/'-separated) whose text is
 * target stays inside the tree, judged on the text alone: not absolute,
 * not empty, '..' only as leading components and never above the root.
 * ('..' after a name is refused because that name may itself be a symlink,
 * which makes the lexical answer wrong.) Returns NULL when safe, else a
 * short reason ("points outside", ...). Both pack and extract use it, so
 * ocisync never packs what it would refuse to extract. */
const char *oci__symlink_unsafe(const char *link_rel, const char *target);

/* One item met by the walker, in artifact order. */
typedef struct oci__walk_item {
	const char *rel;         /* relative path, no trailing '/' */
	char type;               /* 'f', 'd', 'l' */
	int dirfd;               /* open the item with openat(dirfd, name) */
	const char *name;
	int follow;              /* the single-file PATH may be a symlink to follow */
	const char *link;        /* symlink text */
	const char *display;     /* PATH/rel for messages */
	int64_t size;            /* regular files: the size seen by the walk */
} oci__walk_item;
typedef int (*oci__walk_fn)(void *ctx, const oci__walk_item *it);

/* Walks path (a directory or one file) in artifact order: byte order of
 * the relative path with '/' appended to directories, a directory right
 * before its contents. Skips .git, honours .sourceignore and opts->ignore,
 * refuses escaping symlinks and special files. */
int oci__walk(const char *path, const oci_pack_opts *opts, oci__walk_fn fn, void *ctx);

/* limits.c: the effective limit (0 = the default), and the one message
 * push and extraction both give when a tree goes over it. */
int64_t oci__limit_entries(int64_t v);
int64_t oci__limit_size(int64_t v);
int oci__limit_entries_error(int64_t max);
int oci__limit_size_error(int64_t max, const char *entry);

/* Normalised mode of a regular file: 0755 when any x bit is set, else 0644. */
static inline unsigned oci__norm_mode(mode_t m) { return (m & 0111) ? 0755 : 0644; }

#endif
