/* Recycle mode of the extractor (sync): dest is an earlier revision that
 * was about to be pruned, and is turned in place into the new one. A file
 * that is already what the entry says stays (no link, no write); anything
 * else stale is removed before the entry is made the fresh way, and what
 * the new tree does not hold is swept once the stream ended verified. The
 * result is exactly a fresh extraction's. No stale inode is ever written
 * into: files are hard-linked across revisions. See extract_ctx.h. */
#include "extract_ctx.h"
#include "error_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What this extraction made or kept at rel: 'f' a regular file, 'd', 'l',
 * or 0 (nothing yet: whatever is there is stale). */
static char made(const xctx *x, const char *rel)
{
	if (oci__xtable_get(&x->files, rel))
		return 'f';
	const oci__xfile *s = oci__xtable_get(&x->seen, rel);
	return s ? (char)s->mode : 0;
}

int oci__x_mark(xctx *x, const char *rel, char type)
{
	return x->recycle ? oci__xtable_put(&x->seen, rel, "", (unsigned)type, 0) : 0;
}

int oci__x_recycle_parents(xctx *x, const char *dir)
{
	if (!x->recycle || !*dir)
		return 0;
	char *p = strdup(dir);
	if (!p)
		return OCI_ENOMEM_SET();
	int rc = 0, missing = 0;
	for (char *end = p;; end++) {
		if (*end && *end != '/')
			continue;
		char c = *end;
		*end = '\0';
		char type = made(x, p);
		struct stat st;
		if (type && type != 'd')
			break; /* the open refuses it, as a fresh extraction does */
		if (!type) {
			/* every shorter prefix is a directory here: nothing is
			 * resolved through a symlink; what is missing the open
			 * makes (and if it fails, so does the extraction) */
			if (!missing && fstatat(x->destfd, p, &st, AT_SYMLINK_NOFOLLOW) < 0)
				missing = 1;
			if (!missing && !S_ISDIR(st.st_mode) && unlinkat(x->destfd, p, 0) < 0) {
				rc = oci_error_errno("removing %s/%s of the recycled revision", x->dest, p);
				break;
			}
			if ((rc = oci__x_mark(x, p, 'd')) < 0)
				break;
		}
		if (!c)
			break;
		*end = c;
	}
	free(p);
	return rc;
}

int oci__x_clear_stale(xctx *x, int pfd, const char *leaf, const char *rel, int keep_dir)
{
	if (!x->recycle || made(x, rel))
		return 0;
	struct stat st;
	if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : oci_error_errno("reading %s/%s of the recycled revision", x->dest, rel);
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir)
			return 1;
		char shown[2 * EXTRACT_PATH_MAX + 2];
		snprintf(shown, sizeof shown, "%s/%s", x->dest, rel);
		return oci__rmtree_at(pfd, leaf, shown);
	}
	if (unlinkat(pfd, leaf, 0) < 0)
		return oci_error_errno("removing %s/%s of the recycled revision", x->dest, rel);
	return 0;
}

int oci__x_keep(xctx *x, int pfd, const char *leaf, const char *rel, const char *hex, unsigned mode,
		unsigned final_mode, int64_t size)
{
	if (!x->recycle || made(x, rel))
		return 0;
	const oci__xfile *old = oci__xtable_get(&x->old, rel);
	struct stat st;
	if (!old || old->mode != mode || strcmp(old->hex, hex) != 0 ||
	    fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return oci__xfile_unchanged(&st, &x->old, final_mode, size);
}

int oci__x_keep_symlink(xctx *x, int pfd, const char *leaf, const char *rel, const char *target)
{
	if (!x->recycle || made(x, rel))
		return 0;
	char buf[EXTRACT_PATH_MAX + 1];
	ssize_t n = readlinkat(pfd, leaf, buf, sizeof buf);
	return n >= 0 && (size_t)n == strlen(target) && memcmp(buf, target, (size_t)n) == 0;
}

/* A stray of the directory rel (len bytes) open as dfd; the message
 * buffer lives only for this call, not in every frame of the walk. */
static __attribute__((noinline)) int remove_stray(xctx *x, int dfd, const char *rel, size_t len, const char *name)
{
	char shown[2 * EXTRACT_PATH_MAX + 2];
	snprintf(shown, sizeof shown, "%s/%.*s%s%s", x->dest, (int)len, rel, len ? "/" : "", name);
	return oci__rmtree_at(dfd, name, shown);
}

/* rel: the directory open as dfd, relative to dest ("" for dest), in a
 * buffer of EXTRACT_PATH_MAX + 1 bytes. */
static int sweep_dir(xctx *x, int dfd, char *rel, size_t len)
{
	/* dest's descriptor stays the extractor's; a subdirectory's becomes
	 * the stream's own */
	int fd = len ? dfd : openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return oci_error_errno("reading %s/%s of the recycled revision", x->dest, rel);
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		const char *name = e->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		size_t nl = strlen(name), sub = len + (len ? 1 : 0) + nl;
		char type = 0;
		if (sub <= EXTRACT_PATH_MAX) { /* longer: no entry's path, a stray */
			snprintf(rel + len, EXTRACT_PATH_MAX + 1 - len, "%s%s", len ? "/" : "", name);
			type = made(x, rel);
		}
		if (!type) {
			rc = remove_stray(x, dfd, rel, len, name);
		} else if (type == 'd') {
			int cfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			struct stat st;
			if (cfd < 0 || fstat(cfd, &st) < 0)
				rc = oci_error_errno("reading %s/%s of the recycled revision", x->dest, rel);
			else if ((st.st_mode & 07777) != 0755 && fchmod(cfd, 0755) < 0)
				rc = oci_error_errno("setting the mode of %s/%s", x->dest, rel);
			if (rc == 0)
				rc = sweep_dir(x, cfd, rel, sub); /* closes cfd */
			else if (cfd >= 0)
				close(cfd);
		}
		rel[len] = '\0';
	}
	closedir(d);
	return rc;
}

int oci__x_sweep(xctx *x)
{
	char rel[EXTRACT_PATH_MAX + 1] = "";
	if (!x->recycle)
		return 0;
	/* as new as a fresh tree: revisions no history names are ordered by
	 * their mtime when pruned */
	if (futimens(x->destfd, NULL) < 0)
		return oci_error_errno("setting the time of %s", x->dest);
	return sweep_dir(x, x->destfd, rel, 0);
}
