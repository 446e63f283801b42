/* The published side of ROOT: revision directories, their indexes, and the
 * link consumers read through. Every change here is a rename, so a process
 * killed at any instant leaves either the old or the new arrangement plus
 * leftovers under names no reader looks at. */
#include "sync_internal.h"
#include "error_internal.h"
#include "contract.h"
#include "fileutil.h"
#include "extract_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Paths are built in fixed buffers; prepare_root refuses roots long enough
 * to overflow them, so truncation cannot happen. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define PRUNE_PREFIX ".prune-"


static int remove_any(int dirfd, const char *name, const char *shown)
{
	return oci__rmtree_at(dirfd, name, shown);
}

static int is_revision_name(const char *name)
{
	return sync_is_hex(name, strlen(name));
}

/* "<hex>.index" → 1 */
static int is_index_name(const char *name)
{
	size_t l = strlen(name);
	return l == SYNC_HEX_LEN + 6 && !strcmp(name + SYNC_HEX_LEN, ".index") && sync_is_hex(name, SYNC_HEX_LEN);
}

/* A directory stream of its own on dirfd (a dup would share its offset). */
static DIR *open_stream(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	return d;
}

int sync_clean_leftovers(const char *root, const oci_callbacks *cb)
{
	int removed = 0, rc = 0, rootfd, revsfd = -1;
	char path[4096];
	if ((rc = sync_open_root(&rootfd, &revsfd, root, 0)) == OCI_ENOTFOUND) {
		oci_error_clear();
		rc = sync_open_root(&rootfd, NULL, root, 0);
		revsfd = -1;
	}
	if (rc < 0)
		return rc;
	DIR *d = open_stream(rootfd);
	if (!d) {
		rc = oci_error_errno("reading %s", root);
		goto cleanup;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, SYNC_LINK_TMP_PREFIX, strlen(SYNC_LINK_TMP_PREFIX)) &&
		    !sync_is_atomic_tmp(e->d_name, SYNC_STATE_FILE))
			continue;
		snprintf(path, sizeof path, "%s/%s", root, e->d_name);
		if ((rc = remove_any(rootfd, e->d_name, path)) < 0)
			break;
		oci__log(cb, OCI_LOG_INFO, "removed leftover %s", path);
		removed++;
	}
	closedir(d);
	if (rc < 0 || revsfd < 0)
		goto cleanup;

	char revs[4096];
	snprintf(revs, sizeof revs, "%s/%s", root, SYNC_REVISIONS);
	if (!(d = open_stream(revsfd))) {
		rc = oci_error_errno("reading %s", revs);
		goto cleanup;
	}
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", revs, n);
		struct stat st;
		if (fstatat(revsfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (is_revision_name(n) && S_ISDIR(st.st_mode))
			continue; /* complete: only ever renamed here once whole */
		if (is_index_name(n) && S_ISREG(st.st_mode)) {
			char dir[SYNC_HEX_LEN + 1];
			struct stat dst;
			memcpy(dir, n, SYNC_HEX_LEN);
			dir[SYNC_HEX_LEN] = '\0';
			if (fstatat(revsfd, dir, &dst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(dst.st_mode))
				continue;
		}
		/* anything else, a symlink named like a revision included, is removed
		 * itself: never followed */
		if ((rc = remove_any(revsfd, n, path)) < 0)
			break;
		oci__log(cb, OCI_LOG_INFO, "removed leftover %s", path);
		removed++;
	}
	closedir(d);
	if (removed)
		(void)fsync(revsfd);
cleanup:
	sync_close_root(rootfd, revsfd);
	return rc < 0 ? rc : removed;
}

int sync_link_read(char hex[SYNC_HEX_LEN + 1], const char *root, const char *link)
{
	hex[0] = '\0';
	char path[4096], target[4096];
	snprintf(path, sizeof path, "%s/%s", root, link);
	int rootfd;
	int rc = sync_open_root(&rootfd, NULL, root, 0);
	if (rc < 0)
		return rc;
	struct stat st;
	ssize_t n = -1;
	if (fstatat(rootfd, link, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = errno == ENOENT ? 1 : oci_error_errno("reading link %s", path);
	else if (!S_ISLNK(st.st_mode))
		rc = oci_error_set(OCI_EINVALID, "%s exists and is not a symlink (not made by ocisync sync)", path);
	else if ((n = readlinkat(rootfd, link, target, sizeof target - 1)) < 0)
		rc = oci_error_errno("reading link %s", path);
	close(rootfd);
	if (rc)
		return rc > 0 ? 0 : rc;
	target[n] = '\0';
	const char *prefix = SYNC_REVISIONS "/";
	size_t pl = strlen(prefix);
	if (strncmp(target, prefix, pl) != 0 || !is_revision_name(target + pl))
		return oci_error_set(OCI_EINVALID, "%s points to '%s', not to a revision made by ocisync sync",
				     path, target);
	memcpy(hex, target + pl, SYNC_HEX_LEN + 1);
	return 0;
}

int sync_link_swap(const char *root, const char *link, const char *hex)
{
	char target[128], tmp[128];
	snprintf(target, sizeof target, "%s/%s", SYNC_REVISIONS, hex);
	int rootfd;
	int rc = sync_open_root(&rootfd, NULL, root, 0);
	if (rc < 0)
		return rc;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	unsigned long seed = (unsigned long)getpid() ^ (unsigned long)ts.tv_nsec;
	for (int attempt = 0;; attempt++) {
		snprintf(tmp, sizeof tmp, "%s%08lx", SYNC_LINK_TMP_PREFIX, (seed + (unsigned long)attempt * 2654435761u) & 0xffffffffu);
		if (symlinkat(target, rootfd, tmp) == 0)
			break;
		if (errno != EEXIST || attempt > 100) {
			rc = oci_error_errno("creating link %s/%s", root, tmp);
			goto cleanup;
		}
	}
	/* rename(2) replaces the old link in one step: a reader resolves the
	 * old revision or the new one, never nothing */
	if (renameat(rootfd, tmp, rootfd, link) < 0) {
		rc = oci_error_errno("renaming %s/%s over %s/%s", root, tmp, root, link);
		unlinkat(rootfd, tmp, 0);
		goto cleanup;
	}
	(void)fsync(rootfd);
cleanup:
	close(rootfd);
	return rc;
}

int sync_link_remove(const char *root, const char *link)
{
	int rootfd;
	int rc = sync_open_root(&rootfd, NULL, root, 0);
	if (rc < 0)
		return rc;
	if (unlinkat(rootfd, link, 0) < 0 && errno != ENOENT)
		rc = oci_error_errno("removing link %s/%s", root, link);
	else
		(void)fsync(rootfd); /* withdrawn for good, also after a power cut */
	close(rootfd);
	return rc;
}

int sync_revision_exists(const char *root, const char *hex)
{
	int rootfd, revsfd;
	if (sync_open_root(&rootfd, &revsfd, root, 0) < 0) {
		oci_error_clear();
		return 0;
	}
	struct stat st;
	int yes = fstatat(revsfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
	sync_close_root(rootfd, revsfd);
	return yes;
}

typedef struct rev {
	char hex[SYNC_HEX_LEN + 1];
	int rank;         /* 0 current, 1.. history position, then unknown */
	double mtime;
} rev;

static int rev_cmp(const void *a, const void *b)
{
	const rev *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->mtime != y->mtime)
		return x->mtime > y->mtime ? -1 : 1; /* newer first */
	return strcmp(x->hex, y->hex);
}

/* Removes one revision: renamed out of the way first, so an interrupted
 * removal leaves a leftover, never a partial directory under a revision
 * name that a later run would take for complete. */
static int remove_revision(int revsfd, const char *revs, const char *hex)
{
	char from[4096], to[128], shown[4200];
	snprintf(from, sizeof from, "%s/%s", revs, hex);
	snprintf(to, sizeof to, "%s%s", PRUNE_PREFIX, hex);
	if (renameat(revsfd, hex, revsfd, to) < 0)
		return oci_error_errno("moving revision %s aside", from);
	char index[128];
	snprintf(index, sizeof index, "%s.index", hex);
	if (unlinkat(revsfd, index, 0) < 0 && errno != ENOENT)
		return oci_error_errno("removing %s/%s", revs, index);
	snprintf(shown, sizeof shown, "%s/%s", revs, to);
	return oci__rmtree_at(revsfd, to, shown);
}

/* The revisions under revsfd in prune order (kept first). */
static int list_revisions(rev **out, size_t *out_n, int revsfd, const char *revs, const char *current_hex,
			  const oci_strlist *history)
{
	*out = NULL;
	*out_n = 0;
	DIR *d = open_stream(revsfd);
	if (!d)
		return oci_error_errno("reading %s", revs);
	int rc = 0;
	rev *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_revision_name(e->d_name))
			continue;
		struct stat st;
		if (fstatat(revsfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			rev *l = realloc(list, cap * sizeof *l);
			if (!l) {
				rc = OCI_ENOMEM_SET();
				goto cleanup;
			}
			list = l;
		}
		rev *r = &list[n++];
		memcpy(r->hex, e->d_name, SYNC_HEX_LEN + 1);
		r->mtime = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
		r->rank = INT32_MAX;
		if (current_hex && !strcmp(current_hex, r->hex))
			r->rank = 0;
		else
			for (size_t i = 0; history && i < history->n; i++)
				if (!strcmp(history->items[i], r->hex)) {
					r->rank = (int)i + 1;
					break;
				}
	}
	if (n > 1)
		qsort(list, n, sizeof *list, rev_cmp);
cleanup:
	closedir(d);
	if (rc < 0) {
		free(list);
		return rc;
	}
	*out = list;
	*out_n = n;
	return 0;
}

/* ROOT/.revisions opened, and its revisions listed: 1; 0 when there is no
 * .revisions; negative on an error. */
static int open_revisions(int *rootfd, int *revsfd, rev **list, size_t *n, char revs[4096], const char *root,
			  const char *current_hex, const oci_strlist *history)
{
	snprintf(revs, 4096, "%s/%s", root, SYNC_REVISIONS);
	int rc = sync_open_root(rootfd, revsfd, root, 0);
	if (rc == OCI_ENOTFOUND) {
		oci_error_clear();
		return 0;
	}
	if (rc == 0 && (rc = list_revisions(list, n, *revsfd, revs, current_hex, history)) < 0)
		sync_close_root(*rootfd, *revsfd);
	return rc < 0 ? rc : 1;
}

int sync_prune(const char *root, int keep, const char *current_hex, const oci_strlist *history,
	       const oci_callbacks *cb)
{
	char revs[4096];
	int rootfd, revsfd;
	rev *list;
	size_t n;
	int rc = open_revisions(&rootfd, &revsfd, &list, &n, revs, root, current_hex, history);
	if (rc <= 0)
		return rc;
	rc = 0;
	if (keep < 1)
		keep = 1;
	for (size_t i = (size_t)keep; i < n; i++) {
		if (current_hex && !strcmp(list[i].hex, current_hex))
			continue; /* never the one the link names */
		if ((rc = remove_revision(revsfd, revs, list[i].hex)) < 0)
			break;
		oci__log(cb, OCI_LOG_INFO, "pruned revision %s", list[i].hex);
	}
	if (n > (size_t)keep)
		(void)fsync(revsfd);
	sync_close_root(rootfd, revsfd);
	free(list);
	return rc;
}

int sync_recycle_candidate(char hex[SYNC_HEX_LEN + 1], const char *root, int keep, const char *current_hex,
			   const oci_strlist *history)
{
	char revs[4096];
	int rootfd, revsfd;
	rev *list;
	size_t n;
	hex[0] = '\0';
	int rc = open_revisions(&rootfd, &revsfd, &list, &n, revs, root, current_hex, history);
	if (rc <= 0)
		return rc;
	rc = 0;
	/* with keep or more now, one more makes the last one go */
	if (n >= (size_t)(keep < 1 ? 1 : keep) && n && (!current_hex || strcmp(list[n - 1].hex, current_hex))) {
		char index[128];
		struct stat st;
		snprintf(index, sizeof index, "%s.index", list[n - 1].hex);
		if (fstatat(revsfd, index, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
			memcpy(hex, list[n - 1].hex, SYNC_HEX_LEN + 1);
			rc = 1;
		}
	}
	sync_close_root(rootfd, revsfd);
	free(list);
	return rc;
}

int sync_recycle_take(char dir[SYNC_HEX_LEN + 16], char index[4200], const char *root, const char *hex)
{
	int rootfd, revsfd;
	int rc = sync_open_root(&rootfd, &revsfd, root, 0);
	if (rc < 0)
		return rc;
	char from[128], to[128];
	snprintf(from, sizeof from, "%s.index", hex);
	snprintf(to, sizeof to, "%s%s.index", SYNC_RECYCLE_PREFIX, hex);
	snprintf(dir, SYNC_HEX_LEN + 16, "%s%s", SYNC_RECYCLE_PREFIX, hex);
	snprintf(index, 4200, "%s/%s/%s", root, SYNC_REVISIONS, to);
	/* index first: killed between the two, the revision stays whole (only
	 * without its index: no reuse from it) and the index is a leftover */
	if (renameat(revsfd, from, revsfd, to) < 0) {
		rc = oci_error_errno("moving %s/%s/%s aside", root, SYNC_REVISIONS, from);
	} else if (renameat(revsfd, hex, revsfd, dir) < 0) {
		rc = oci_error_errno("moving revision %s/%s/%s aside", root, SYNC_REVISIONS, hex);
		(void)renameat(revsfd, to, revsfd, from);
	}
	sync_close_root(rootfd, revsfd);
	return rc;
}
