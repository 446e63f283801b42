/* Filesystem helpers for extraction: walking into a directory without ever
 * following a symlink, and removing a tree (also read-only published ones). */
#include "oci/extract.h"
#include "extract_internal.h"
#include "error_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2_H 1
#endif
#endif

/* openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): the kernel itself refuses
 * any symlink and any way out of dirfd, for every component at once.
 * Kernels before 5.6 (and seccomp filters that do not know it) answer
 * ENOSYS: remembered, and callers walk component by component instead. */
static int openat2_missing;

void oci__openat2_disable(int off)
{
	openat2_missing = off;
}
static int rm_contents(int dirfd, const char *path);

int oci__openat_beneath(int dirfd, const char *rel, int flags, unsigned mode)
{
#if defined(HAVE_OPENAT2_H) && defined(SYS_openat2)
	if (!openat2_missing) {
		struct open_how how;
		memset(&how, 0, sizeof how);
		how.flags = (unsigned long long)(flags | O_CLOEXEC);
		how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
		long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM && errno != E2BIG))
			return (int)fd;
		openat2_missing = 1;
	}
#endif
	/* The fallback: every directory component opened with O_NOFOLLOW, the
	 * last one too; ".." and absolute paths refused outright. */
	if (rel[0] == '/') {
		errno = EXDEV;
		return -1;
	}
	char *copy = strdup(rel);
	if (!copy) {
		errno = ENOMEM;
		return -1;
	}
	int fd = dirfd, result = -1;
	char *save = NULL, *comp = strtok_r(copy, "/", &save);
	while (comp) {
		char *next = strtok_r(NULL, "/", &save);
		if (!strcmp(comp, "..")) {
			errno = EXDEV;
			break;
		}
		if (!next) {
			result = openat(fd, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
			break;
		}
		int sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd != dirfd)
			close(fd);
		if (sub < 0) {
			fd = dirfd;
			break;
		}
		fd = sub;
		comp = next;
	}
	if (!comp && result < 0) /* "" or only slashes: dirfd itself */
		result = openat(dirfd, ".", flags | O_CLOEXEC, mode);
	int err = errno;
	if (fd != dirfd)
		close(fd);
	free(copy);
	errno = err;
	return result;
}

int oci__rmtree_at(int dirfd, const char *name, const char *shown)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : oci_error_errno("removing %s", shown);
	if (!S_ISDIR(st.st_mode)) {
		/* a symlink is removed itself, never what it points to */
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return oci_error_errno("removing %s", shown);
		return 0;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		if (fchmodat(dirfd, name, (st.st_mode & 07777) | 0700, 0) < 0) {
			/* removal below says what failed */
		}
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return oci_error_errno("removing %s", shown);
	fchmod(fd, (st.st_mode & 07777) | 0700);
	int rc = rm_contents(fd, shown);
	close(fd);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = oci_error_errno("removing %s", shown);
	return rc;
}

int oci__open_dir_nofollow(int *out_fd, int rootfd, const char *rel, int create, const char *entry)
{
	if (*rel) {
		/* the common case in one call; any refusal is walked again below
		 * for its message (and to create what is missing) */
		int fast = oci__openat_beneath(rootfd, rel, O_RDONLY | O_DIRECTORY, 0);
		if (fast >= 0) {
			*out_fd = fast;
			return 0;
		}
	}
	int rc = 0;
	char *copy = strdup(rel);
	int fd = dup(rootfd);
	if (!copy || fd < 0) {
		rc = copy ? oci_error_errno("duplicating a directory descriptor") : OCI_ENOMEM_SET();
		goto cleanup;
	}
	char *save = NULL;
	for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
				rc = oci_error_errno("creating the directory for entry '%s'", entry);
				goto cleanup;
			}
			/* umask must not decide the published modes */
			if (fchmodat(fd, comp, 0755, 0) < 0) {
				/* the open below says what failed */
			}
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			int err = errno;
			struct stat st;
			/* Name the offending component: everything up to it. */
			size_t upto = (size_t)(comp - copy) + strlen(comp);
			if ((err == ELOOP || err == ENOTDIR) && fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
				if (S_ISLNK(st.st_mode))
					rc = oci_error_set(OCI_EUNSAFE, "entry '%s' goes through the symlink '%.*s'; refused",
							   entry, (int)upto, rel);
				else
					rc = oci_error_set(OCI_EUNSAFE, "entry '%s' goes through '%.*s', which is not a directory; refused",
							   entry, (int)upto, rel);
			} else {
				errno = err;
				rc = oci_error_errno("opening the directory '%.*s' for entry '%s'", (int)upto, rel, entry);
			}
			goto cleanup;
		}
		close(fd);
		fd = next;
	}
	*out_fd = fd;
	fd = -1;
cleanup:
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

/* Empties the directory open as dirfd; path is for messages. */
static int rm_contents(int dirfd, const char *path)
{
	int rc = 0;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int fd2 = dup(dirfd);
	DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
	if (!d) {
		if (fd2 >= 0)
			close(fd2);
		return oci_error_errno("reading directory %s", path);
	}
	/* Collect first: removing while readdir runs may skip entries. */
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **p = realloc(names, cap * sizeof *p);
			if (!p) {
				rc = OCI_ENOMEM_SET();
				goto cleanup;
			}
			names = p;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
		n++;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct stat st;
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				rc = oci_error_errno("removing %s/%s", path, names[i]);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0 && errno == EACCES) {
				if (fchmodat(dirfd, names[i], 0700, 0) < 0) {
					/* removal below says what failed */
				}
				sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			}
			if (sub < 0) {
				rc = oci_error_errno("removing %s/%s", path, names[i]);
				continue;
			}
			fchmod(sub, (st.st_mode & 07777) | 0700);
			char *subpath = NULL;
			if (asprintf(&subpath, "%s/%s", path, names[i]) < 0) {
				close(sub);
				rc = OCI_ENOMEM_SET();
				continue;
			}
			rc = rm_contents(sub, subpath);
			close(sub);
			if (rc == 0 && unlinkat(dirfd, names[i], AT_REMOVEDIR) < 0)
				rc = oci_error_errno("removing %s", subpath);
			free(subpath);
		} else if (unlinkat(dirfd, names[i], 0) < 0 && errno != ENOENT) {
			rc = oci_error_errno("removing %s/%s", path, names[i]);
		}
	}
cleanup:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int oci_rmtree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : oci_error_errno("removing %s", path);
	if (!S_ISDIR(st.st_mode)) {
		/* A symlink is removed itself, never what it points to. */
		if (unlink(path) < 0 && errno != ENOENT)
			return oci_error_errno("removing %s", path);
		return 0;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		chmod(path, (st.st_mode & 07777) | 0700);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return oci_error_errno("removing %s", path);
	fchmod(fd, (st.st_mode & 07777) | 0700);
	int rc = rm_contents(fd, path);
	close(fd);
	if (rc == 0 && rmdir(path) < 0)
		rc = oci_error_errno("removing %s", path);
	return rc;
}
