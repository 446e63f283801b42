/* Packing PATH into the artifact layer: a byte-reproducible tar+gzip.
 *
 * One pass: the walker (walk.c) visits the tree in artifact order,
 * libarchive writes the tar to a callback that hashes the tar bytes (the
 * diff_id) and feeds the parallel gzip writer (pgzip.c), which hashes the
 * gzip bytes (the layer digest) and hands them to the caller's sink.
 *
 * Reproducibility: every header is built from scratch -- path, type,
 * normalised mode, size, uid/gid 0, mtime 0, no names -- in "restricted
 * pax" format (plain ustar headers; a pax extended header only for what
 * ustar cannot hold, e.g. long names, and libarchive puts no time or pid in
 * it when mtime is 0 and atime/ctime are unset). */
#include "oci/bundle.h"
#include "bundle_internal.h"
#include "error_internal.h"
#include "contract.h"
#include "stream.h"
#include "pgzip.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (256 * 1024)

typedef struct pack_ctx {
	struct archive *a;
	struct archive_entry *entry;
	oci_sha256 *tar_sha;
	int64_t tar_size;
	oci_pgz *gz;
	int cb_error;        /* error from our write callback, kept for the caller */
	int aborted;         /* failed: drop what libarchive flushes while freed */
	char *buf;
	size_t entries;
	char *name;          /* scratch for "dir/" names */
	size_t name_cap;
	oci_pack_file_fn file_fn;
	void *file_ctx;
} pack_ctx;

static la_ssize_t tar_write_cb(struct archive *a, void *ud, const void *buf, size_t len)
{
	pack_ctx *c = ud;
	if (c->aborted)
		return (la_ssize_t)len;
	int rc = oci_sha256_update(c->tar_sha, buf, len);
	if (rc == 0)
		rc = oci__pgz_write(c->gz, buf, len);
	if (rc < 0) {
		c->cb_error = rc;
		archive_set_error(a, EIO, "%s", oci_error_last()->message);
		return -1;
	}
	c->tar_size += (int64_t)len;
	return (la_ssize_t)len;
}

/* An archive_* failure: our own callback's error when it caused it. */
static int archive_fail(pack_ctx *c, const char *what)
{
	if (c->cb_error)
		return c->cb_error;
	return oci_error_set(OCI_ERROR, "writing the tar entry for %s: %s", what, archive_error_string(c->a));
}

static int set_name(pack_ctx *c, const char *rel, int dir)
{
	size_t n = strlen(rel) + 2;
	if (n > c->name_cap) {
		char *p = realloc(c->name, n);
		if (!p)
			return OCI_ENOMEM_SET();
		c->name = p;
		c->name_cap = n;
	}
	snprintf(c->name, n, "%s%s", rel, dir ? "/" : "");
	archive_entry_copy_pathname(c->entry, c->name);
	return 0;
}

static int pack_file(pack_ctx *c, const oci__walk_item *it, struct archive_entry *e)
{
	int rc = 0;
	int fd = openat(it->dirfd, it->name, O_RDONLY | O_CLOEXEC | (it->follow ? 0 : O_NOFOLLOW));
	struct stat st;
	if (fd < 0)
		return oci_error_errno("opening %s", it->display);
	if (fstat(fd, &st) < 0) {
		rc = oci_error_errno("reading %s", it->display);
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = oci_error_set(OCI_ERROR, "%s changed while packing", it->display);
		goto cleanup;
	}
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, oci__norm_mode(st.st_mode));
	archive_entry_set_size(e, st.st_size);
	if (archive_write_header(c->a, e) != ARCHIVE_OK) {
		rc = archive_fail(c, it->display);
		goto cleanup;
	}
	if (c->file_fn && (rc = c->file_fn(c->file_ctx, it->rel, OCI_PACK_FILE_BEGIN, NULL, 0)) != 0)
		goto cleanup;
	int64_t done = 0;
	for (;;) {
		ssize_t n = oci_fd_read(fd, c->buf, READ_CHUNK, it->display);
		if (n < 0) {
			rc = (int)n;
			goto cleanup;
		}
		if (n == 0)
			break;
		if (done + n > st.st_size) {
			rc = oci_error_set(OCI_ERROR, "%s grew while packing", it->display);
			goto cleanup;
		}
		if (archive_write_data(c->a, c->buf, (size_t)n) != n) {
			rc = archive_fail(c, it->display);
			goto cleanup;
		}
		if (c->file_fn && (rc = c->file_fn(c->file_ctx, it->rel, OCI_PACK_FILE_DATA, c->buf, (size_t)n)) != 0)
			goto cleanup;
		done += n;
	}
	if (done != st.st_size)
		rc = oci_error_set(OCI_ERROR, "%s shrank while packing", it->display);
	else if (c->file_fn)
		rc = c->file_fn(c->file_ctx, it->rel, OCI_PACK_FILE_END, NULL, 0);
cleanup:
	close(fd);
	return rc;
}

static int pack_visit(void *ud, const oci__walk_item *it)
{
	pack_ctx *c = ud;
	struct archive_entry *e = archive_entry_clear(c->entry);
	int rc;
	if ((rc = set_name(c, it->rel, it->type == 'd')) < 0)
		return rc;
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, 0, 0);
	switch (it->type) {
	case 'd':
		archive_entry_set_filetype(e, AE_IFDIR);
		archive_entry_set_perm(e, 0755);
		archive_entry_set_size(e, 0);
		break;
	case 'l':
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_perm(e, 0777);
		archive_entry_set_size(e, 0);
		archive_entry_copy_symlink(e, it->link);
		break;
	default:
		if ((rc = pack_file(c, it, e)) < 0)
			return rc;
		c->entries++;
		return 0;
	}
	if (archive_write_header(c->a, e) != ARCHIVE_OK)
		return archive_fail(c, it->display);
	c->entries++;
	return 0;
}

/* The first pass: what pull and sync would refuse is refused before
 * anything is packed (and with their message). */
typedef struct count_ctx {
	int64_t entries, bytes, max_entries, max_size;
	int64_t files; /* everything but directories */
} count_ctx;

static int count_visit(void *ud, const oci__walk_item *it)
{
	count_ctx *c = ud;
	if (++c->entries > c->max_entries)
		return oci__limit_entries_error(c->max_entries);
	if (it->type != 'd')
		c->files++;
	if (it->type == 'f') {
		c->bytes += it->size;
		if (c->bytes > c->max_size)
			return oci__limit_size_error(c->max_size, it->rel);
	}
	return 0;
}

int oci_pack_opts_init(oci_pack_opts *opts)
{
	return oci__opts_init(opts, sizeof *opts, "oci_pack_opts", OCI_PACK_OPTS_VERSION);
}

int oci_bundle_pack(oci_pack_result *out, const char *path, const oci_pack_opts *opts,
		    oci_write_fn sink, void *sink_ctx)
{
	int rc = 0;
	int level = opts && opts->gzip_level ? opts->gzip_level : 6;
	pack_ctx c = { 0 };
	locale_t utf8 = (locale_t)0, old_locale = (locale_t)0;
	if (level < 1 || level > 9)
		return oci_error_set(OCI_EINVALID, "gzip level %d is not between 1 and 9", level);
	if (opts) {
		c.file_fn = opts->file_fn;
		c.file_ctx = opts->file_ctx;
	}
	count_ctx cnt = { 0, 0, oci__limit_entries(opts ? opts->max_entries : 0),
			  oci__limit_size(opts ? opts->max_size : 0), 0 };
	if ((rc = oci__walk(path, opts, count_visit, &cnt)) < 0)
		return rc;
	if (opts && opts->refuse_empty && cnt.files == 0)
		return oci_error_set(OCI_EINVALID, "%s holds no files (empty, or every file ignored): nothing to push",
				     path), oci_error_hint_set(OCI_HINT_ALLOW_EMPTY, NULL);
	if ((rc = oci_sha256_new(&c.tar_sha)) < 0)
		goto cleanup;
	if (!(c.buf = malloc(READ_CHUNK)) || !(c.entry = archive_entry_new()) || !(c.a = archive_write_new())) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if ((rc = oci__pgz_new(&c.gz, level, sink, sink_ctx)) < 0)
		goto cleanup;
	/* Not hdrcharset=BINARY: it would add a pax header to EVERY entry. */
	if (archive_write_set_format_pax_restricted(c.a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(c.a) != ARCHIVE_OK ||
	    archive_write_open2(c.a, &c, NULL, tar_write_cb, NULL, NULL) != ARCHIVE_OK) {
		rc = archive_fail(&c, path);
		goto cleanup;
	}
	/* Names are bytes; libarchive converts them through the locale to
	 * write non-ASCII ones as a UTF-8 pax "path" record. Pin this thread
	 * to C.UTF-8 while packing so the bytes (and the digest) are the
	 * same whatever the caller's locale, and non-ASCII names work even
	 * in the C locale. */
	if ((utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)))
		old_locale = uselocale(utf8);
	rc = oci__walk(path, opts, pack_visit, &c);
	if (rc < 0)
		goto cleanup;
	if (archive_write_close(c.a) != ARCHIVE_OK) {
		rc = archive_fail(&c, path);
		goto cleanup;
	}
	oci_pack_result r = { 0 };
	if ((rc = oci_sha256_final(r.diff_id, c.tar_sha)) < 0 ||
	    (rc = oci__pgz_finish(c.gz, r.digest, &r.size)) < 0)
		goto cleanup;
	r.tar_size = c.tar_size;
	r.entries = c.entries;
	*out = r;
cleanup:
	c.aborted = rc < 0;
	if (c.a)
		archive_write_free(c.a); /* closes it if still open (discarding) */
	if (utf8) {
		uselocale(old_locale);
		freelocale(utf8);
	}
	archive_entry_free(c.entry);
	oci__pgz_free(c.gz);
	oci_sha256_free(c.tar_sha);
	free(c.buf);
	free(c.name);
	return rc;
}

int oci_bundle_pack_file(oci_pack_result *out, const char *path, const oci_pack_opts *opts,
			 const char *dest_file)
{
	oci_ostream *o;
	int rc = oci_ostream_atomic(&o, AT_FDCWD, dest_file, 0644, 0, NULL);
	if (rc < 0)
		return rc;
	if ((rc = oci_bundle_pack(out, path, opts, oci_ostream_sink, o)) < 0) {
		oci_ostream_abort(o);
		return oci_error_wrap("writing %s", dest_file);
	}
	return oci_ostream_commit(o);
}

/* --- oci_bundle_list --- */

typedef struct list_ctx {
	oci_file_list *l;
	size_t cap;
} list_ctx;

static int hash_file(oci_file_entry *fe, const oci__walk_item *it)
{
	struct stat st;
	oci_istream *s;
	int fd = openat(it->dirfd, it->name, O_RDONLY | O_CLOEXEC | (it->follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return oci_error_errno("opening %s", it->display);
	if (fstat(fd, &st) < 0) {
		int rc = oci_error_errno("reading %s", it->display);
		close(fd);
		return rc;
	}
	fe->mode = oci__norm_mode(st.st_mode);
	int rc = oci_istream_fd(&s, fd, it->display, 1);
	if (rc < 0)
		return rc;
	rc = oci_istream_digest(fe->digest, &fe->size, s);
	oci_istream_close(s);
	return rc;
}

static int list_visit(void *ud, const oci__walk_item *it)
{
	list_ctx *c = ud;
	oci_file_list *l = c->l;
	if (l->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		oci_file_entry *p = realloc(l->items, cap * sizeof *p);
		if (!p)
			return OCI_ENOMEM_SET();
		l->items = p;
		c->cap = cap;
	}
	oci_file_entry *fe = &l->items[l->n];
	memset(fe, 0, sizeof *fe);
	if (!(fe->path = strdup(it->rel)))
		return OCI_ENOMEM_SET();
	l->n++;
	fe->type = it->type;
	switch (it->type) {
	case 'd':
		fe->mode = 0755;
		return 0;
	case 'l':
		fe->mode = 0777;
		if (!(fe->link = strdup(it->link)))
			return OCI_ENOMEM_SET();
		return oci_digest_buf(fe->digest, it->link, strlen(it->link));
	default:
		return hash_file(fe, it);
	}
}

void oci_file_list_dispose(oci_file_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].path);
		free(l->items[i].link);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

int oci_bundle_list(oci_file_list *out, const char *path, const oci_pack_opts *opts)
{
	oci_file_list l = { 0 };
	list_ctx c = { .l = &l };
	int rc = oci__walk(path, opts, list_visit, &c);
	if (rc < 0) {
		oci_file_list_dispose(&l);
		return rc;
	}
	*out = l;
	return 0;
}
