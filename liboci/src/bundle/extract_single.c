/* A layer that is not an archive: ORAS pushes a single file as a layer
 * (default media type application/vnd.oci.image.layer.v1.tar) whose bytes
 * are the raw file and whose org.opencontainers.image.title names it, and
 * `oras pull` writes it as that one file. Here the same: the file is
 * written under its title, with the limits, modes, reuse and index of an
 * archive extraction, so pull and sync treat it as a one-file tree.
 *
 * Which layers are archives is decided by libarchive itself, with the same
 * decompressors extraction uses: only a stream it does not recognise as a
 * (compressed) tar at all is a single file. A damaged archive (say, a
 * truncated gzip) stays an archive, so it is refused as corrupt rather
 * than written out as a file. */
#include "oci/extract.h"
#include "oci/digest.h"
#include "extract_internal.h"
#include "error_internal.h"
#include "contract.h"
#include "stream.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IO_CHUNK (256 * 1024)
#define SINGLE_TMP_NAME ".ocisync-reuse.tmp"

/* Whether libarchive, with extraction's decompressors, recognises the
 * stream opened by open_fn as a (compressed) tar. */
static int is_archive_open(int *is_archive, int (*open_fn)(struct archive *a, const void *arg), const void *arg)
{
	*is_archive = 1;
	struct archive *a = archive_read_new();
	if (!a)
		return OCI_ENOMEM_SET();
	archive_read_support_filter_gzip(a);
	if (archive_libzstd_version())
		archive_read_support_filter_zstd(a);
	if (archive_liblzma_version())
		archive_read_support_filter_xz(a);
	if (archive_bzlib_version())
		archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a);
	if (open_fn(a, arg) != ARCHIVE_OK) {
		/* "Unrecognized archive format": libarchive's private
		 * ARCHIVE_ERRNO_FILE_FORMAT, which is EILSEQ where EFTYPE does
		 * not exist (Linux); the tests pin this behaviour. Anything else
		 * (a damaged compressed stream): an archive whose extraction
		 * will say what is wrong with it. */
		if (archive_errno(a) == EILSEQ)
			*is_archive = 0;
	}
	archive_read_free(a);
	return 0;
}

static int open_fd(struct archive *a, const void *arg)
{
	return archive_read_open_fd(a, *(const int *)arg, 64 * 1024);
}

int oci_extract_is_archive_fd(int *is_archive, int fd)
{
	*is_archive = 1;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return oci_error_errno("reading the layer");
	int rc = is_archive_open(is_archive, open_fd, &fd);
	/* the caller reads the layer again from the start */
	if (rc == 0 && lseek(fd, 0, SEEK_SET) < 0)
		return oci_error_errno("reading the layer");
	return rc;
}

struct mem_arg {
	const void *data;
	size_t len;
};

static int open_mem(struct archive *a, const void *arg)
{
	const struct mem_arg *m = arg;
	return archive_read_open_memory(a, m->data, m->len);
}

int oci__extract_is_archive_mem(int *is_archive, const void *head, size_t len)
{
	struct mem_arg m = { head, len };
	return is_archive_open(is_archive, open_mem, &m);
}

int oci_extract_is_archive(int *is_archive, const char *path)
{
	*is_archive = 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oci_error_errno("opening %s", path);
	int rc = oci_extract_is_archive_fd(is_archive, fd);
	close(fd);
	return rc;
}

/* Why a title cannot name the one file (NULL: it can). */
static const char *title_unsafe(const char *name)
{
	if (!*name)
		return "is empty";
	if (name[0] == '/')
		return "is an absolute path";
	if (!strcmp(name, "."))
		return "is not a file name";
	for (const char *p = name; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			return "has a '..' component";
	if (strchr(name, '/'))
		return "is a path, not a file name";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "has a control character";
	return NULL;
}

/* 1 when a --path names the root ("", ".", "./", "//"): the file's folder. */
static int names_root(const char *sub)
{
	for (const char *p = sub; *p; p++)
		if (*p != '/' && !(*p == '.' && (p[1] == '/' || p[1] == '\0') && (p == sub || p[-1] == '/')))
			return 0;
	return 1;
}

/* Swaps the file just written for the previous revision's identical one
 * (see oci_extract_opts.reuse_dir); any doubt means keep what was written. */
static int try_reuse(int destfd, const char *name, const char *hex, unsigned final_mode, int64_t size,
		     const oci_extract_opts *o)
{
	oci__xtable prev = { 0 };
	int linked = 0, rfd = -1;
	if (oci__xtable_load_index(&prev, o->reuse_index) < 0) {
		oci_error_clear();
		return 0;
	}
	const oci__xfile *old = oci__xtable_get(&prev, name);
	struct stat st;
	if (old && old->mode == 0644 && !strcmp(old->hex, hex) &&
	    (rfd = open(o->reuse_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0 &&
	    fstatat(rfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && oci__xfile_unchanged(&st, &prev, final_mode, size) &&
	    linkat(rfd, name, destfd, SINGLE_TMP_NAME, 0) == 0) {
		if (renameat(destfd, SINGLE_TMP_NAME, destfd, name) == 0)
			linked = 1;
		else
			unlinkat(destfd, SINGLE_TMP_NAME, 0);
	}
	if (rfd >= 0)
		close(rfd);
	oci__xtable_dispose(&prev);
	return linked;
}

int oci_extract_single(oci_extract_stats *stats, oci_read_fn source, void *source_ctx, const char *name,
		       const char *dest_dir, const oci_extract_opts *opts)
{
	static const oci_extract_opts defaults = { .version = OCI_EXTRACT_OPTS_VERSION };
	const oci_extract_opts *o = opts ? opts : &defaults;
	if (oci__opts_check(opts, "oci_extract_opts", OCI_EXTRACT_OPTS_VERSION) < 0)
		return oci_error_last()->code;
	int64_t max_size = o->max_size > 0 ? o->max_size : OCI_DEFAULT_MAX_SIZE;
	oci_extract_stats st = { 0 };
	oci__xtable files = { 0 };
	oci_sha256 *h = NULL;
	char digest[OCI_DIGEST_SIZE] = "";
	char *buf = NULL;
	int destfd = -1, fd = -1, rc = 0;
	oci_ostream *out = NULL;
	const unsigned final_mode = o->read_only ? 0444 : 0644;

	const char *why = title_unsafe(name);
	if (why)
		return oci_error_set(OCI_EUNSAFE, "the layer is a single file whose title '%s' %s; refused", name, why);
	if (o->subpath && !names_root(o->subpath))
		return oci_error_set(OCI_ENOTFOUND, "path '%s' is not in the artifact: it holds the single file '%s'",
				     o->subpath, name);
	if ((destfd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return oci_error_errno("opening extraction directory %s", dest_dir);
	if ((rc = oci__check_empty(destfd, dest_dir)) < 0)
		goto cleanup;
	if (!(buf = malloc(IO_CHUNK)) || (rc = oci_sha256_new(&h)) < 0) {
		rc = rc < 0 ? rc : OCI_ENOMEM_SET();
		goto cleanup;
	}
	fd = openat(destfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = oci_error_errno("creating %s in %s", name, dest_dir);
		goto cleanup;
	}
	if ((rc = oci_ostream_fd(&out, fd, name)) < 0)
		goto cleanup;
	for (;;) {
		ssize_t n = source(source_ctx, buf, IO_CHUNK);
		if (n < 0) {
			rc = (int)n;
			goto cleanup;
		}
		if (n == 0)
			break;
		if (st.bytes + n > max_size) {
			oci_error_set(OCI_ELIMIT, "the file '%s' is larger than %lld bytes", name, (long long)max_size);
			rc = oci_error_hint_set(OCI_HINT_MAX_SIZE, NULL);
			goto cleanup;
		}
		st.bytes += n;
		if ((rc = oci_sha256_update(h, buf, (size_t)n)) < 0)
			goto cleanup;
		if ((rc = oci_ostream_write(out, buf, (size_t)n)) < 0)
			goto cleanup;
	}
	if ((rc = oci_sha256_final(digest, h)) < 0)
		goto cleanup;
	if (fchmod(fd, final_mode) < 0) {
		rc = oci_error_errno("setting the mode of %s", name);
		goto cleanup;
	}
	int closed = close(fd);
	fd = -1;
	if (closed < 0) {
		rc = oci_error_errno("writing %s", name);
		goto cleanup;
	}
	st.entries = 1;
	if (o->reuse_dir && o->reuse_index &&
	    try_reuse(destfd, name, oci_digest_hex(digest), final_mode, st.bytes, o))
		st.files_linked = 1;
	else
		st.files_written = 1;
	if (o->index_out) {
		if ((rc = oci__xtable_put(&files, name, oci_digest_hex(digest), 0644, st.bytes)) < 0 ||
		    (rc = oci__xtable_write_index(&files, o->index_out)) < 0)
			goto cleanup;
	}
cleanup:
	if (stats)
		*stats = st;
	oci_ostream_abort(out);
	if (fd >= 0)
		close(fd);
	if (destfd >= 0)
		close(destfd);
	oci_sha256_free(h);
	oci__xtable_dispose(&files);
	free(buf);
	return rc;
}

int oci_extract_single_file(oci_extract_stats *stats, const char *path, const char *name,
			    const char *dest_dir, const oci_extract_opts *opts)
{
	oci_istream *s;
	int rc = oci_istream_file(&s, path);
	if (rc < 0)
		return rc;
	rc = oci_extract_single(stats, oci_istream_source, s, name, dest_dir, opts);
	oci_istream_close(s);
	return rc;
}
