/* Helpers for the bundle and extract tests: temporary trees, files,
 * in-memory sinks and sources, and archives built with libarchive's writer
 * (so hostile archives are made by the test itself, nothing binary is
 * committed). */
#ifndef OCI_TREE_UTIL_H
#define OCI_TREE_UTIL_H
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "oci/oci.h"

/* printf into one of a few rotating static buffers (paths in tests). */
static const char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *P(const char *fmt, ...)
{
	static char bufs[16][4096];
	static int next;
	char *b = bufs[next++ % 16];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, 4096, fmt, ap);
	va_end(ap);
	return b;
}

static __attribute__((unused)) void mkdir_p(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *s = tmp + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(tmp, 0755);
			*s = '/';
		}
	mkdir(tmp, 0755);
}

/* Writes root/rel with content and mode, creating parents. */
static __attribute__((unused)) void put(const char *root, const char *rel, const char *content, mode_t mode)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", root, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	mkdir_p(path);
	*slash = '/';
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content)) {
		perror(path);
		exit(2);
	}
	fchmod(fd, mode);
	close(fd);
}

static char *make_tmpdir(const char *tag)
{
	char *p = NULL;
	if (asprintf(&p, "/tmp/oci-%s-XXXXXX", tag) < 0 || !mkdtemp(p)) {
		perror("mkdtemp");
		exit(2);
	}
	return p;
}

/* Number of entries in a directory (-1 when it cannot be read). */
static __attribute__((unused)) int dir_count(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static __attribute__((unused)) int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Reads a whole (small) file; caller frees. */
static char *slurp(const char *path)
{
	oci_buf b = OCI_BUF_INIT;
	char tmp[4096];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	ssize_t n;
	while ((n = read(fd, tmp, sizeof tmp)) > 0)
		oci_buf_append(&b, tmp, (size_t)n);
	close(fd);
	if (!b.data)
		oci_buf_append(&b, "", 0);
	return b.data;
}

/* A source reading from memory. */
typedef struct mem_src {
	const unsigned char *data;
	size_t len, off;
} mem_src;
static __attribute__((unused)) ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	mem_src *m = ctx;
	size_t n = m->len - m->off;
	if (n > len)
		n = len;
	memcpy(buf, m->data + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

/* Packs path into memory (buf must be zero-initialised). */
static __attribute__((unused)) int pack_mem(oci_buf_sink *out, oci_pack_result *r, const char *path, const oci_strlist *ignore)
{
	oci_pack_opts o; oci_pack_opts_init(&o);
	o.ignore = ignore;
	return oci_bundle_pack(r, path, &o, oci_buf_sink_write, out);
}

static __attribute__((unused)) int extract_mem(oci_extract_stats *st, const oci_buf *b, const char *dest, const oci_extract_opts *o)
{
	mem_src m = { (const unsigned char *)b->data, b->len, 0 };
	return oci_extract(st, mem_read, &m, dest, o);
}

/* --- archives made with libarchive's writer --- */

typedef struct tar_maker {
	struct archive *a;
	oci_buf out;
} tar_maker;

static __attribute__((unused)) la_ssize_t maker_write(struct archive *a, void *ud, const void *buf, size_t len)
{
	(void)a;
	oci_buf_append(&((tar_maker *)ud)->out, buf, len);
	return (la_ssize_t)len;
}

static __attribute__((unused)) void maker_open(tar_maker *m, int gzip)
{
	memset(m, 0, sizeof *m);
	m->a = archive_write_new();
	archive_write_set_format_pax_restricted(m->a);
	if (gzip)
		archive_write_add_filter_gzip(m->a);
	archive_write_open2(m->a, m, NULL, maker_write, NULL, NULL);
}

/* type: 'f' file, 'd' dir, 'l' symlink (data = target), 'h' hard link
 * (data = target path), 'c' char device, 'b' block device, 'p' FIFO. */
static __attribute__((unused)) void maker_add(tar_maker *m, char type, const char *path, const char *data, unsigned mode)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_perm(e, mode);
	switch (type) {
	case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
	case 'l': archive_entry_set_filetype(e, AE_IFLNK); archive_entry_set_symlink(e, data); break;
	case 'h': archive_entry_set_filetype(e, AE_IFREG); archive_entry_set_hardlink(e, data); break;
	case 'c': archive_entry_set_filetype(e, AE_IFCHR); archive_entry_set_rdev(e, makedev(1, 3)); break;
	case 'b': archive_entry_set_filetype(e, AE_IFBLK); archive_entry_set_rdev(e, makedev(8, 0)); break;
	case 'p': archive_entry_set_filetype(e, AE_IFIFO); break;
	default:
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, data ? (la_int64_t)strlen(data) : 0);
	}
	archive_write_header(m->a, e);
	if (type == 'f' && data)
		archive_write_data(m->a, data, strlen(data));
	archive_entry_free(e);
}

/* A regular file of size bytes of zeros (written in pieces). */
static __attribute__((unused)) void maker_add_zeros(tar_maker *m, const char *path, int64_t size)
{
	static char zeros[65536];
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, size);
	archive_write_header(m->a, e);
	for (int64_t done = 0; done < size;) {
		size_t n = size - done > (int64_t)sizeof zeros ? sizeof zeros : (size_t)(size - done);
		archive_write_data(m->a, zeros, n);
		done += (int64_t)n;
	}
	archive_entry_free(e);
}

static __attribute__((unused)) void maker_close(tar_maker *m)
{
	archive_write_close(m->a);
	archive_write_free(m->a);
	m->a = NULL;
}

#endif
