/* Replacing sync's small files (state, status, metrics) atomically: readers
 * see the old or the new content, never a mix. */
#include "sync_internal.h"
#include "fileutil.h"
#include "error_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sync_write_atomic(const char *path, const void *data, size_t len, int durable)
{
	/* A symlink in its place would be silently replaced by a file (rename
	 * does not follow it): refused instead, so a misplaced link is seen. */
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return oci_error_set(OCI_EUNSAFE, "%s is a symlink; refusing to replace it", path);
	/* 0644: node_exporter and operators read these files */
	return oci_write_file_atomic(path, data, len, 0644, durable);
}

/* name is a temporary that the atomic writer made for base and a killed
 * run left: "<base>.tmp.XXXXXX" (mkstemp, older versions) or
 * "<base>.tmp-<pid>-<8 hex>" (core/stream_atomic.c's tmp_name). */
int sync_is_atomic_tmp(const char *name, const char *base)
{
	size_t blen = strlen(base);
	if (strncmp(name, base, blen) || strncmp(name + blen, ".tmp", 4))
		return 0;
	const char *p = name + blen + 4;
	if (*p == '.')
		return strlen(p + 1) == 6;
	if (*p++ != '-' || !isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p++ != '-' || strlen(p) != 8)
		return 0;
	return strspn(p, "0123456789abcdef") == 8;
}

int sync_clean_file_leftovers(const char *path)
{
	char *dir = oci_dirname(path);
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int removed = 0;
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!sync_is_atomic_tmp(e->d_name, base))
			continue;
		char full[4096];
		snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
		if (unlink(full) == 0)
			removed++;
	}
	if (d)
		closedir(d);
	free(dir);
	return removed;
}

int sync_check_report_dir(const char *file, const char *what, oci_hint hint)
{
	char *dir = oci_dirname(file);
	struct stat st;
	int rc = 0;
	if (!dir)
		return OCI_ENOMEM_SET();
	/* checked before anything is published: a step that publishes and then
	 * cannot report would fail every run with the link already moved */
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		rc = oci_error_set(OCI_EINVALID, "the %s %s: directory %s does not exist", what, file, dir),
		oci_error_hint_set(hint, NULL);
	free(dir);
	return rc;
}
