/* One sync per root: an exclusive flock on ROOT/.lock, taken without
 * waiting. The kernel drops it when the process dies, however it dies, so a
 * killed sync never leaves a stale lock behind. */
#include "sync_internal.h"
#include "error_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

int sync_lock_acquire(int *fd_out, const char *root)
{
	*fd_out = -1;
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", root, SYNC_LOCK_FILE) >= sizeof path)
		return oci_error_set(OCI_EINVALID, "root path too long: %s", root);
	int rootfd;
	int rc0 = sync_open_root(&rootfd, NULL, root, 0);
	if (rc0 < 0)
		return oci_error_wrap("opening lock file %s", path);
	/* O_CLOEXEC: the hook must not inherit (and so prolong) the lock */
	int fd = openat(rootfd, SYNC_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	close(rootfd);
	if (fd < 0)
		return oci_error_errno("opening lock file %s", path);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		int busy = errno == EWOULDBLOCK;
		int rc = busy ? oci_error_set(OCI_ELOCKED, "another ocisync sync holds %s", path)
			      : oci_error_errno("locking %s", path);
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

void sync_lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the only descriptor releases the flock */
}
