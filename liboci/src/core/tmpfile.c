/* Temporaries a killed process cannot leave behind for ever.
 *
 * Files are anonymous where the filesystem allows (O_TMPFILE: they vanish
 * with their last descriptor, however the process ends). What must have a
 * name (a directory, or a file on a filesystem without O_TMPFILE) is named
 * "<prefix>-<pid>-<random>", and the next operation writing in the same
 * directory removes the ones whose process no longer runs (tmp_sweep):
 * recognisable, and only ours (same owner, that prefix). A pid reused by
 * another process keeps its leftovers until that process is gone too.
 * Processes in another pid namespace sharing the directory (two containers
 * on one volume, same uid) cannot be told apart from dead ones: such a
 * setup should give each its own TMPDIR. */
#include "fileutil.h"
#include "error_internal.h"
#include "oci/extract.h"
#include "extract_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int oci_tmp_template(char **out, const char *dir, const char *prefix)
{
	if (asprintf(out, "%s/%s-%ld-XXXXXX", dir, prefix, (long)getpid()) < 0) {
		*out = NULL;
		return OCI_ENOMEM_SET();
	}
	return 0;
}

/* The owner pid in "<prefix>-<pid>-..." (or "<prefix>.<pid>-...", as
 * oci_write_file_atomic names its files), or 0. */
static pid_t owner_pid(const char *name, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (strncmp(name, prefix, pl) != 0 || (name[pl] != '-' && name[pl] != '.'))
		return 0;
	const char *p = name + pl + 1;
	long v = 0;
	const char *digits = p;
	while (*p >= '0' && *p <= '9' && v < 1L << 30)
		v = v * 10 + (*p++ - '0');
	if (p == digits || *p != '-')
		return 0;
	return (pid_t)v;
}

int oci_tmp_sweep_at(int dirfd, const char *dir, const char *prefix)
{
	/* a description of its own: a dup would share (and move) dirfd's offset */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0; /* nothing to sweep where nothing can be read */
	}
	int removed = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		pid_t pid = owner_pid(e->d_name, prefix);
		if (pid <= 0 || pid == getpid())
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue; /* running (or not ours to signal): in use */
		struct stat st;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_uid != geteuid())
			continue;
		char *shown = NULL;
		if (asprintf(&shown, "%s/%s", dir, e->d_name) < 0)
			break;
		if (oci__rmtree_at(dirfd, e->d_name, shown) == 0)
			removed++;
		else
			oci_error_clear();
		free(shown);
	}
	closedir(d);
	return removed;
}

int oci_tmp_sweep(const char *dir, const char *prefix)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int n = oci_tmp_sweep_at(fd, dir, prefix);
	close(fd);
	return n;
}

/* "<prefix>-<pid>-<6 random>" */
static int tmp_name(char **out, const char *prefix)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[6];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		for (size_t i = 0; i < sizeof r; i++)
			r[i] = (unsigned char)(ts.tv_nsec >> (i * 5));
	}
	char sfx[7];
	for (size_t i = 0; i < sizeof r; i++)
		sfx[i] = chars[r[i] % (sizeof chars - 1)];
	sfx[6] = '\0';
	if (asprintf(out, "%s-%ld-%s", prefix, (long)getpid(), sfx) < 0) {
		*out = NULL;
		return OCI_ENOMEM_SET();
	}
	return 0;
}

int oci_tmp_file_at(int *fd_out, char **name, int *named, int dirfd, const char *dir, const char *prefix)
{
	*fd_out = -1;
	*name = NULL;
	*named = 0;
	int fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0) {
		*fd_out = fd;
		return 0;
	}
	for (int attempt = 0; attempt < 100; attempt++) {
		int rc = tmp_name(name, prefix);
		if (rc < 0)
			return rc;
		fd = openat(dirfd, *name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*fd_out = fd;
			*named = 1;
			return 0;
		}
		int err = errno;
		free(*name);
		*name = NULL;
		if (err != EEXIST) {
			errno = err;
			return oci_error_errno("creating a temporary file in %s", dir);
		}
	}
	return oci_error_set(OCI_EIO, "creating a temporary file in %s: every name taken", dir);
}

int oci_tmp_dir_at(char **name, int dirfd, const char *dir, const char *prefix)
{
	*name = NULL;
	for (int attempt = 0; attempt < 100; attempt++) {
		int rc = tmp_name(name, prefix);
		if (rc < 0)
			return rc;
		if (mkdirat(dirfd, *name, 0700) == 0)
			return 0;
		int err = errno;
		free(*name);
		*name = NULL;
		if (err != EEXIST) {
			errno = err;
			return oci_error_errno("creating a temporary directory in %s", dir);
		}
	}
	return oci_error_set(OCI_EIO, "creating a temporary directory in %s: every name taken", dir);
}

int oci_tmp_file(int *fd_out, char **path_out, int *named, const char *dir, const char *prefix)
{
	*fd_out = -1;
	*path_out = NULL;
	*named = 0;
	/* Reopening by /proc/self/fd (a registry upload reads the file again
	 * for a retry) needs /proc. */
	int fd = access("/proc/self/fd", X_OK) == 0 ? open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) : -1;
	if (fd >= 0) {
		if (asprintf(path_out, "/proc/self/fd/%d", fd) < 0) {
			close(fd);
			*path_out = NULL;
			return OCI_ENOMEM_SET();
		}
		*fd_out = fd;
		return 0;
	}
	/* No O_TMPFILE here (EOPNOTSUPP, EISDIR on old kernels): a name. */
	char *tmp;
	int rc = oci_tmp_template(&tmp, dir, prefix);
	if (rc < 0)
		return rc;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = oci_error_errno("creating a temporary file in %s", dir);
		free(tmp);
		return rc;
	}
	*fd_out = fd;
	*path_out = tmp;
	*named = 1;
	return 0;
}
