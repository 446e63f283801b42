/* ROOT and ROOT/.revisions opened as directory descriptors, so sync works
 * under them with *at() calls: no component under ROOT is ever followed if
 * it is a symlink (a symlinked .revisions made sync clean out, and publish
 * into, whatever it pointed to). ROOT itself is the operator's choice of
 * path, but not a symlink either: opened with O_NOFOLLOW. */
#include "sync_internal.h"
#include "error_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wformat-truncation"

static int refuse(int dirfd, const char *name, const char *shown, const char *what)
{
	struct stat st;
	int err = errno;
	if ((err == ELOOP || err == ENOTDIR) && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return oci_error_set(OCI_EUNSAFE, "%s is %s, not a directory made by ocisync sync; refusing to use it",
				     shown, S_ISLNK(st.st_mode) ? "a symlink" : "not a directory");
	errno = err;
	return oci_error_errno("opening %s %s", what, shown);
}

int sync_open_root(int *rootfd, int *revsfd, const char *root, int create_revs)
{
	*rootfd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*rootfd < 0)
		return refuse(AT_FDCWD, root, root, "root directory");
	if (!revsfd)
		return 0;
	char shown[4200];
	snprintf(shown, sizeof shown, "%s/%s", root, SYNC_REVISIONS);
	if (create_revs && mkdirat(*rootfd, SYNC_REVISIONS, 0755) < 0 && errno != EEXIST) {
		int rc = oci_error_errno("creating %s", shown);
		close(*rootfd);
		*rootfd = -1;
		return rc;
	}
	*revsfd = openat(*rootfd, SYNC_REVISIONS, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*revsfd < 0) {
		int rc = (errno == ENOENT && !create_revs) ? OCI_ENOTFOUND : refuse(*rootfd, SYNC_REVISIONS, shown, "directory");
		if (rc == OCI_ENOTFOUND)
			oci_error_set(OCI_ENOTFOUND, "%s does not exist", shown);
		close(*rootfd);
		*rootfd = -1;
		return rc;
	}
	return 0;
}

void sync_close_root(int rootfd, int revsfd)
{
	if (revsfd >= 0)
		close(revsfd);
	if (rootfd >= 0)
		close(rootfd);
}
