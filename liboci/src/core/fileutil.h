/* Private: small file helpers shared by the layout target and operations. */
#ifndef OCI_FILEUTIL_H
#define OCI_FILEUTIL_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "oci/io.h"

/* mkdir -p with mode for new directories. */
int oci_mkdirs(const char *path, unsigned mode);
/* oci_mkdirs, and *created the topmost directory it made (malloc'd; NULL
 * when all were there), so that a failure can take back what it made. */
int oci_mkdirs_noted(const char *path, unsigned mode, char **created);
/* Removes path and its parents up to created (oci_mkdirs_noted), each only
 * while it is empty; nothing when created is NULL. */
void oci_rmdirs_created(const char *path, const char *created);
/* Writes data to path atomically (the stream layer's atomic file: an
 * anonymous or "path.tmp-<pid>-<hex>" temporary in the same directory),
 * renamed over path, so readers see the old or the new content. mode
 * applies to the new file. durable: fsync the file and its directory too
 * (skip it for files rewritten on every run where losing the last write
 * to a crash is harmless). */
int oci_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode, int durable);
/* Reads a whole file of at most limit bytes into out (NUL-terminated).
 * OCI_ELIMIT naming the file when larger. */
int oci_read_file(oci_buf *out, const char *path, size_t limit);
/* fsync a directory (after a rename in it), ignoring filesystems that refuse. */
void oci_fsync_dir(const char *dir);
/* A sink writing to a file descriptor. ctx: struct oci_fd_sink. */
struct oci_fd_sink {
	int fd;
	const char *path;
};
int oci_fd_sink_write(void *ctx, const void *buf, size_t len);
/* A source reading a file descriptor. ctx: struct oci_fd_sink. */
ssize_t oci_fd_source_read(void *ctx, void *buf, size_t len);
/* Read-modify-write of a shared file: opens (creating, mode 0600 for a
 * private file, else 0644) the sibling lock file lock_path and takes an
 * exclusive flock on it, waiting for other writers. Returns the descriptor
 * (close it to unlock) or a negative error. The lock file is never removed:
 * a writer that opened it before the removal would lock a file nobody else
 * sees. The file that is rewritten must be read again after this returns. */
int oci_lock_exclusive(const char *lock_path, int private_file);
/* The directory part of path ("." when none); caller frees. */
char *oci_dirname(const char *path);

/* Temporaries (tmpfile.c). A template "dir/<prefix>-<pid>-XXXXXX" for
 * mkstemp/mkdtemp; caller frees. */
int oci_tmp_template(char **out, const char *dir, const char *prefix);
/* Removes dir's "<prefix>-<pid>-*" entries (files or trees) of ours whose
 * process is gone; returns how many. */
int oci_tmp_sweep(const char *dir, const char *prefix);
int oci_tmp_sweep_at(int dirfd, const char *dir, const char *prefix);
/* The same under a directory descriptor (dir names it in messages): an
 * anonymous file (*name NULL), or "<prefix>-<pid>-XXXXXX" (*name, *named = 1;
 * the caller unlinks it). Never through a symlink. */
int oci_tmp_file_at(int *fd, char **name, int *named, int dirfd, const char *dir, const char *prefix);
/* mkdirat "<prefix>-<pid>-XXXXXX" (mode 0700) under dirfd; *name: its name. */
int oci_tmp_dir_at(char **name, int dirfd, const char *dir, const char *prefix);
/* A read-write temporary file in dir: anonymous (O_TMPFILE) when the
 * filesystem allows, *path "/proc/self/fd/N" to reopen it by; else named
 * from the template, *named = 1 (the caller unlinks *path). Caller frees
 * *path and closes *fd. */
int oci_tmp_file(int *fd, char **path, int *named, const char *dir, const char *prefix);

#endif
