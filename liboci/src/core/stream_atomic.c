/* The atomic file: the one "temporary + fsync + rename" writer. A reader
 * of the final name sees the old content or the new, never a part, and a
 * failed or aborted write leaves nothing: the temporary is anonymous
 * (O_TMPFILE, gone with its descriptor however the process ends) and only
 * linked under a name for the rename, or, where the filesystem or a
 * missing /proc rules that out, named "<prefix>-<pid>-<random>" so that
 * oci_tmp_sweep removes it once its writer is gone. */
#include "stream.h"
#include "error_internal.h"
#include "fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

struct atomic_out {
	oci_ostream s;
	oci_ostream *fd_out;  /* the write-all loop on fd */
	int dfd, fd, flags;
	unsigned mode;
	char *path;           /* as given, for messages */
	char *base;           /* the final name in dfd */
	char *prefix;         /* of temporary names */
	char *tmp;            /* the temporary's name, NULL while anonymous */
};

/* "<prefix>-<pid>-<random>": unique across threads and processes. */
static int tmp_name(char **out, const char *prefix)
{
	static atomic_uint counter;
	unsigned r = 0;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = 0;
	r ^= atomic_fetch_add(&counter, 1) * 2654435761u;
	if (asprintf(out, "%s-%ld-%08x", prefix, (long)getpid(), r) < 0) {
		*out = NULL;
		return OCI_ENOMEM_SET();
	}
	return 0;
}

static int atomic_write(oci_ostream *os, const void *buf, size_t len)
{
	return oci_ostream_write(((struct atomic_out *)os)->fd_out, buf, len);
}

/* Runs fn under fresh temporary names until one is free (fn fails with
 * EEXIST while taken): 0 with a->tmp set, or an error "DOING PATH: ...". */
static int under_tmp_name(struct atomic_out *a, int (*fn)(struct atomic_out *a), const char *doing)
{
	for (int attempt = 0; attempt < 10; attempt++) {
		int rc = tmp_name(&a->tmp, a->prefix);
		if (rc < 0)
			return rc;
		if (fn(a) == 0)
			return 0;
		int err = errno;
		free(a->tmp);
		a->tmp = NULL;
		if (err != EEXIST) {
			errno = err;
			return oci_error_errno("%s %s", doing, a->path);
		}
	}
	return oci_error_set(OCI_EIO, "%s %s: every temporary name taken", doing, a->path);
}

/* Names the anonymous file a->tmp (to rename from). */
static int link_tmp(struct atomic_out *a)
{
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", a->fd);
	return linkat(AT_FDCWD, proc, a->dfd, a->tmp, AT_SYMLINK_FOLLOW);
}

/* Creates the named temporary a->tmp. */
static int create_tmp(struct atomic_out *a)
{
	a->fd = openat(a->dfd, a->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	return a->fd < 0 ? -1 : 0;
}

static int atomic_commit(oci_ostream *os)
{
	struct atomic_out *a = (struct atomic_out *)os;
	int rc = oci_ostream_commit(a->fd_out);
	a->fd_out = NULL;
	if (rc < 0)
		return rc;
	if (fchmod(a->fd, a->mode) < 0 || ((a->flags & OCI_STREAM_DURABLE) && fsync(a->fd) < 0))
		return oci_error_errno("writing %s", a->path);
	if (!a->tmp && (rc = under_tmp_name(a, link_tmp, "naming")) < 0)
		return rc;
	if (close(a->fd) < 0) {
		a->fd = -1;
		return oci_error_errno("writing %s", a->path);
	}
	a->fd = -1;
	if (a->flags & OCI_STREAM_NOREPLACE) {
		if (renameat2(a->dfd, a->tmp, a->dfd, a->base, RENAME_NOREPLACE) < 0 && errno != EEXIST)
			return oci_error_errno("renaming %s into place", a->path);
	} else if (renameat(a->dfd, a->tmp, a->dfd, a->base) < 0) {
		return oci_error_errno("renaming %s into place", a->path);
	}
	/* renamed: nothing left to remove (an EEXIST left it, free removes it) */
	struct stat st;
	if (fstatat(a->dfd, a->tmp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		free(a->tmp);
		a->tmp = NULL;
	}
	if (a->flags & OCI_STREAM_DURABLE)
		(void)fsync(a->dfd);
	return 0;
}

static void atomic_free(oci_ostream *os)
{
	struct atomic_out *a = (struct atomic_out *)os;
	oci_ostream_abort(a->fd_out);
	if (a->fd >= 0)
		close(a->fd);
	if (a->tmp)
		unlinkat(a->dfd, a->tmp, 0);
	if (a->dfd >= 0)
		close(a->dfd);
	free(a->path);
	free(a->base);
	free(a->prefix);
	free(a->tmp);
	free(a);
}

static const oci_ostream_ops atomic_ops = { atomic_write, atomic_commit, atomic_free };

static int open_temporary(struct atomic_out *a)
{
	if (access("/proc/self/fd", X_OK) == 0 &&
	    (a->fd = openat(a->dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0)
		return 0;
	return under_tmp_name(a, create_tmp, "creating a temporary file for");
}

int oci_ostream_atomic(oci_ostream **out, int dirfd, const char *path, unsigned mode, int flags,
		       const char *tmp_prefix)
{
	struct atomic_out *a = calloc(1, sizeof *a);
	if (!a)
		return OCI_ENOMEM_SET();
	a->s.ops = &atomic_ops;
	a->dfd = a->fd = -1;
	a->mode = mode;
	a->flags = flags;
	const char *slash = strrchr(path, '/');
	char *dir = oci_dirname(path);
	int rc = 0;
	if (!dir || !(a->path = strdup(path)) || !(a->base = strdup(slash ? slash + 1 : path)) ||
	    (tmp_prefix ? !(a->prefix = strdup(tmp_prefix)) : asprintf(&a->prefix, "%s.tmp", a->base) < 0)) {
		if (!tmp_prefix && a->base)
			a->prefix = NULL; /* asprintf leaves it undefined */
		rc = OCI_ENOMEM_SET();
		goto fail;
	}
	if ((a->dfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = oci_error_errno("opening the directory of %s", path);
		goto fail;
	}
	if ((rc = open_temporary(a)) < 0 || (rc = oci_ostream_fd(&a->fd_out, a->fd, path)) < 0)
		goto fail;
	free(dir);
	*out = &a->s;
	return 0;
fail:
	free(dir);
	atomic_free(&a->s);
	return rc;
}

int oci_stream_write_file(const char *path, const void *data, size_t len, unsigned mode, int flags)
{
	oci_ostream *s;
	int rc = oci_ostream_atomic(&s, AT_FDCWD, path, mode, flags, NULL);
	if (rc < 0)
		return rc;
	if ((rc = oci_ostream_write(s, data, len)) < 0) {
		oci_ostream_abort(s);
		return rc;
	}
	return oci_ostream_commit(s);
}
