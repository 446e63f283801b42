/* Replacing a small file atomically: a temporary file beside it, renamed
 * over it. Readers see the old or the new content, never a mix. */
#include "sync_internal.h"
#include "error_internal.h"
#include "fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sync_write_atomic(const char *path, const void *data, size_t len, int durable)
{
	char *tmp = NULL, *dir = NULL;
	int fd = -1, rc = 0;
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return OCI_ENOMEM_SET();
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = oci_error_errno("creating %s", tmp);
		free(tmp);
		return rc;
	}
	struct oci_fd_sink sink = { fd, path };
	if ((rc = oci_fd_sink_write(&sink, data, len)) < 0)
		goto fail;
	/* 0644: node_exporter and operators read these files */
	if (fchmod(fd, 0644) < 0 || (durable && fsync(fd) < 0)) {
		rc = oci_error_errno("writing %s", path);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = oci_error_errno("writing %s", path);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = oci_error_errno("renaming %s into place", path);
		goto fail;
	}
	if (durable && (dir = oci_dirname(path)))
		oci_fsync_dir(dir);
	free(dir);
	free(tmp);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return rc;
}
