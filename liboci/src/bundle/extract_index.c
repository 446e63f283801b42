/* The file table of an extraction and its on-disk form, the index kept
 * beside each sync revision: "<hex sha256> <octal mode> <path>\n", sorted
 * by path. It is what lets the next revision hard-link unchanged files
 * instead of writing them. */
#include "extract_internal.h"
#include "error_internal.h"
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (uint32_t)(h ^ (h >> 32));
}

/* Rehashed into cap slots (a power of two, above the count); the stored
 * hashes spare hashing every path again. */
static int resize(oci__xtable *t, size_t cap)
{
	oci__xfile *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return OCI_ENOMEM_SET();
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->slots[i].path)
			continue;
		size_t j = t->slots[i].hash & (cap - 1);
		while (slots[j].path)
			j = (j + 1) & (cap - 1);
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

int oci__xtable_reserve(oci__xtable *t, size_t n)
{
	size_t cap = t->cap ? t->cap : 1024;
	while ((n + 1) * 2 > cap)
		cap *= 2;
	return cap > t->cap ? resize(t, cap) : 0;
}

int oci__xtable_put(oci__xtable *t, const char *path, const char *hex, unsigned mode, int64_t size)
{
	int rc;
	if ((t->n + 1) * 2 > t->cap && (rc = resize(t, t->cap ? t->cap * 2 : 1024)) < 0)
		return rc;
	uint32_t h = hash_path(path);
	size_t j = h & (t->cap - 1);
	while (t->slots[j].path && (t->slots[j].hash != h || strcmp(t->slots[j].path, path) != 0))
		j = (j + 1) & (t->cap - 1);
	oci__xfile *f = &t->slots[j];
	if (!f->path) {
		if (!(f->path = strdup(path)))
			return OCI_ENOMEM_SET();
		f->hash = h;
		t->n++;
	}
	snprintf(f->hex, sizeof f->hex, "%s", hex);
	f->mode = mode;
	f->size = size;
	return 0;
}

const oci__xfile *oci__xtable_get(const oci__xtable *t, const char *path)
{
	if (!t->cap)
		return NULL;
	uint32_t h = hash_path(path);
	size_t j = h & (t->cap - 1);
	while (t->slots[j].path) {
		if (t->slots[j].hash == h && strcmp(t->slots[j].path, path) == 0)
			return &t->slots[j];
		j = (j + 1) & (t->cap - 1);
	}
	return NULL;
}

void oci__xtable_dispose(oci__xtable *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i].path);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

static int by_path(const void *a, const void *b)
{
	return strcmp((*(const oci__xfile *const *)a)->path, (*(const oci__xfile *const *)b)->path);
}

int oci__xtable_write_index(const oci__xtable *t, const char *file)
{
	const oci__xfile **v = calloc(t->n ? t->n : 1, sizeof *v);
	if (!v)
		return OCI_ENOMEM_SET();
	size_t n = 0;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].path)
			v[n++] = &t->slots[i];
	if (n > 1)
		qsort(v, n, sizeof *v, by_path);
	oci_ostream *o = NULL;
	int rc = oci_ostream_atomic(&o, AT_FDCWD, file, 0644, 0, NULL);
	/* lines gathered and written in pieces of 64 KiB: three writes per
	 * file were 30,000 system calls for a 10,000-file revision */
	oci_buf b = OCI_BUF_INIT;
	char line[96];
	for (size_t i = 0; rc == 0 && i < n; i++) {
		/* A name with a newline cannot be an index line; such a file
		 * is simply never reused. */
		if (strchr(v[i]->path, '\n'))
			continue;
		snprintf(line, sizeof line, "%s %o ", v[i]->hex, v[i]->mode);
		if ((rc = oci_buf_append(&b, line, strlen(line))) < 0 ||
		    (rc = oci_buf_append(&b, v[i]->path, strlen(v[i]->path))) < 0 ||
		    (rc = oci_buf_append(&b, "\n", 1)) < 0)
			break;
		if (b.len >= 64 * 1024) {
			rc = oci_ostream_write(o, b.data, b.len);
			b.len = 0;
		}
	}
	if (rc == 0 && b.len)
		rc = oci_ostream_write(o, b.data, b.len);
	oci_buf_dispose(&b);
	if (o)
		rc = rc < 0 ? (oci_ostream_abort(o), rc) : oci_ostream_commit(o);
	free(v);
	return rc;
}

int oci__xtable_load_index(oci__xtable *t, const char *file)
{
	/* never through a symlink: an index names files to hard-link */
	int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return errno == ENOENT || errno == ELOOP ? 0 : oci_error_errno("reading index %s", file);
	}
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) == 0) {
		t->stamp = st.st_mtim;
		/* a line is at least 69 bytes: one table of the right size */
		rc = oci__xtable_reserve(t, (size_t)st.st_size / 69);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		/* 64 hex, ' ', octal mode, ' ', path */
		if (len < 68 || line[64] != ' ')
			continue;
		int hex_ok = 1;
		for (int i = 0; i < 64; i++)
			if (!((line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f')))
				hex_ok = 0;
		char *end = NULL;
		unsigned long mode = strtoul(line + 65, &end, 8);
		if (!hex_ok || end == line + 65 || *end != ' ' || !end[1] || (mode != 0644 && mode != 0755))
			continue;
		line[64] = '\0';
		if ((rc = oci__xtable_put(t, end + 1, line, (unsigned)mode, -1)) < 0)
			break;
	}
	free(line);
	fclose(f);
	return rc;
}

int oci__xfile_unchanged(const struct stat *st, const oci__xtable *t, unsigned final_mode, int64_t size)
{
	if (!S_ISREG(st->st_mode) || (st->st_mode & 07777) != final_mode || st->st_size != size)
		return 0;
	/* Written before its index (or linked from a tree that was): a later
	 * mtime means the content changed after the revision was made. */
	return st->st_mtim.tv_sec < t->stamp.tv_sec ||
	       (st->st_mtim.tv_sec == t->stamp.tv_sec && st->st_mtim.tv_nsec <= t->stamp.tv_nsec);
}
