#include "fileutil.h"
#include "error_internal.h"
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int oci_mkdirs(const char *path, unsigned mode)
{
	return oci_mkdirs_noted(path, mode, NULL);
}

int oci_mkdirs_noted(const char *path, unsigned mode, char **created)
{
	if (created)
		*created = NULL;
	char *p = strdup(path);
	if (!p)
		return OCI_ENOMEM_SET();
	int rc = 0;
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, mode) == 0) {
				/* the first one made here: everything under it is ours too */
				if (created && !*created && !(*created = strdup(p))) {
					rc = OCI_ENOMEM_SET();
					break;
				}
			} else if (errno != EEXIST) {
				rc = oci_error_errno("creating directory %s", p);
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	if (rc == 0) {
		struct stat st;
		if (stat(path, &st) < 0)
			rc = oci_error_errno("creating directory %s", path);
		else if (!S_ISDIR(st.st_mode))
			rc = oci_error_set(OCI_EEXISTS, "%s exists and is not a directory", path);
	}
	free(p);
	return rc;
}

void oci_rmdirs_created(const char *path, const char *created)
{
	if (!created)
		return;
	size_t top = strlen(created);
	char *p = strdup(path);
	if (!p)
		return;
	/* rmdir removes only empty directories: nothing anyone put there since goes */
	while (strlen(p) >= top && strncmp(p, created, top) == 0) {
		while (strlen(p) > 1 && p[strlen(p) - 1] == '/')
			p[strlen(p) - 1] = '\0';
		if (rmdir(p) < 0)
			break;
		if (strlen(p) == top)
			break;
		char *slash = strrchr(p, '/');
		if (!slash || slash == p)
			break;
		*slash = '\0';
	}
	free(p);
}

char *oci_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

void oci_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int oci_fd_sink_write(void *ctx, const void *buf, size_t len)
{
	struct oci_fd_sink *s = ctx;
	return oci_fd_write_all(s->fd, buf, len, s->path);
}

ssize_t oci_fd_source_read(void *ctx, void *buf, size_t len)
{
	struct oci_fd_sink *s = ctx;
	return oci_fd_read(s->fd, buf, len, s->path);
}

int oci_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode, int durable)
{
	return oci_stream_write_file(path, data, len, mode, durable ? OCI_STREAM_DURABLE : 0);
}

int oci_read_file(oci_buf *out, const char *path, size_t limit)
{
	oci_istream *s;
	int rc = oci_istream_file(&s, path);
	if (rc < 0)
		return rc;
	rc = oci_istream_read_all(s, out, limit, path);
	oci_istream_close(s);
	return rc;
}

int oci_lock_exclusive(const char *lock_path, int private_file)
{
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, private_file ? 0600 : 0644);
	if (fd < 0)
		return oci_error_errno("opening lock file %s", lock_path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int rc = oci_error_errno("locking %s", lock_path);
		close(fd);
		return rc;
	}
	return fd;
}
