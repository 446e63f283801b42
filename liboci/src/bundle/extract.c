/* Safe extraction of untrusted tar / tar+gzip layers.
 *
 * libarchive only parses; every file is created by this code relative to
 * a directory descriptor of dest_dir: parents are opened component by
 * component with O_NOFOLLOW (so no entry can go through a symlink, even one
 * the same archive created), files with O_CREAT|O_EXCL|O_NOFOLLOW, links
 * with symlinkat/linkat after their targets are checked. Nothing can be
 * created outside dest_dir, and each refusal has its own message naming
 * the entry. On failure dest_dir is left half-written: the caller removes
 * it (oci_rmtree) -- it is a private temporary directory by contract.
 *
 * For sync, a regular file whose content and mode equal the previous
 * revision's file of the same path (per its index) is hard-linked from it
 * instead of written: published files are read-only and never modified in
 * place, so sharing inodes is safe and makes cost follow the change. */
#include "oci/extract.h"
#include "oci/digest.h"
#include "bundle_internal.h"
#include "extract_internal.h"
#include "error_internal.h"
#include "contract.h"
#include "stream.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract_ctx.h"

/* In list mode, hands an entry (its path relative to the root) on. */
int oci__x_listed(xctx *x, char type, const char *rel, unsigned mode, const char *hex, const char *link, int64_t size)
{
	return x->list ? x->list(x->list_ctx, type, rel, mode, hex, link, size) : 0;
}

/* What the whole stream may weigh after decompression: max_size of
 * content and, for the entries seen so far, their metadata. */
static int64_t stream_limit(const xctx *x)
{
	return x->max_size + (x->st.entries + 1) * (int64_t)META_PER_ENTRY + META_BASE;
}

static int stream_too_big(xctx *x, int64_t bytes)
{
	oci_error_set(OCI_ELIMIT, "the layer decompresses to more than %lld bytes (%lld entries, a size limit of %lld); refused",
		      (long long)bytes, (long long)x->st.entries, (long long)x->max_size);
	return oci_error_hint_set(OCI_HINT_MAX_SIZE, NULL);
}

static la_ssize_t read_cb(struct archive *a, void *ud, const void **buf)
{
	xctx *x = ud;
	ssize_t n = oci__xsource_read(x->xs, buf);
	if (n < 0) {
		x->src_err = (int)n;
		archive_set_error(a, EIO, "%s", oci_error_last()->message);
		return -1;
	}
	/* Every decompressed byte counts, wherever it sits: a layer of
	 * headers, padding or filler is refused as surely as one of content. */
	x->stream_bytes += n;
	if (x->stream_bytes > stream_limit(x)) {
		x->src_err = stream_too_big(x, x->stream_bytes);
		archive_set_error(a, EFBIG, "%s", oci_error_last()->message);
		return -1;
	}
	return n;
}

/* After the tar end marker: the rest of the stream is read (the gzip
 * trailer checked, a hashing source sees every byte), and what it
 * inflates to counts against max_size -- gigabytes of zeros after the end
 * marker were inflated without limit. */
static int finish_stream(xctx *x)
{
	const void *buf;
	ssize_t n;
	int64_t trailing = 0;
	while ((n = oci__xsource_read(x->xs, &buf)) > 0) {
		trailing += n;
		if (trailing > TRAILING_FREE && x->content_read + trailing - TRAILING_FREE > x->max_size)
			return oci_error_set(OCI_ELIMIT, "the layer holds more than %lld bytes after the end of its archive "
					     "(with %lld bytes of content, over the size limit of %lld); refused",
					     (long long)trailing, (long long)x->content_read, (long long)x->max_size),
			       oci_error_hint_set(OCI_HINT_MAX_SIZE, NULL);
	}
	return n < 0 ? (int)n : 0;
}

/* A libarchive failure: the source's own error when it caused it,
 * otherwise a corrupt or truncated stream. */
int oci__x_archive_fail(xctx *x)
{
	if (x->src_err)
		return x->src_err;
	const char *msg = archive_error_string(x->a);
	if (x->entry)
		return oci_error_set(OCI_EINVALID, "corrupt or truncated archive at entry '%s': %s",
				     x->entry, msg ? msg : "the stream ends early or is damaged");
	return oci_error_set(OCI_EINVALID, "corrupt or truncated archive: %s", msg ? msg : "the stream ends early or is damaged");
}

/* Normalises an archive path: drops "." components and repeated or
 * trailing slashes. Refuses absolute paths and ".." (what says which is
 * in *why). Returns a new string ("" for the root) or NULL. */
char *oci__x_norm_path(const char *raw, const char **why, int *oom)
{
	*why = NULL;
	*oom = 0;
	if (raw[0] == '/') {
		*why = "has an absolute path";
		return NULL;
	}
	char *out = malloc(strlen(raw) + 1);
	if (!out) {
		*oom = 1;
		return NULL;
	}
	size_t o = 0;
	const char *p = raw;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			*why = "has a '..' component";
			return NULL;
		}
		if (n && !(n == 1 && p[0] == '.')) {
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	out[o] = '\0';
	return out;
}

/* Maps a normalised archive path to the extracted tree (subpath
 * re-rooting): returns the relative path inside dest, "" for the subpath
 * folder itself, or NULL when the entry lies outside the subpath. */
const char *oci__x_reroot(xctx *x, const char *path)
{
	if (!x->sub)
		return path;
	if (strncmp(path, x->sub, x->sublen) != 0)
		return NULL;
	if (path[x->sublen] == '\0')
		return path + x->sublen;
	if (path[x->sublen] == '/')
		return path + x->sublen + 1;
	return NULL;
}

/* The parent directory of rel in the tree under rootfd (cached: archives
 * list a directory's files together). *leaf gets the last component. */
int oci__x_parent_of(xctx *x, int rootfd, char **cache_rel, int *cache_fd, const char *rel,
		     int create, const char **leaf, int *out_fd)
{
	const char *slash = strrchr(rel, '/');
	size_t dlen = slash ? (size_t)(slash - rel) : 0;
	*leaf = slash ? slash + 1 : rel;
	if (*cache_rel && strlen(*cache_rel) == dlen && strncmp(*cache_rel, rel, dlen) == 0) {
		*out_fd = *cache_fd;
		return 0;
	}
	char *dir = strndup(rel, dlen);
	if (!dir)
		return OCI_ENOMEM_SET();
	int fd = -1;
	int recycled = rootfd == x->destfd && x->recycle;
	int rc = recycled ? oci__x_recycle_parents(x, dir) : 0;
	if (rc == 0)
		rc = oci__open_dir_nofollow(&fd, rootfd, dir, create, x->entry);
	if (rc < 0) {
		free(dir);
		return rc;
	}
	if (*cache_fd >= 0)
		close(*cache_fd);
	free(*cache_rel);
	*cache_rel = dir;
	*cache_fd = fd;
	*out_fd = fd;
	return 0;
}

static const char *special_kind(mode_t type)
{
	switch (type) {
	case AE_IFCHR: return "a character device";
	case AE_IFBLK: return "a block device";
	case AE_IFIFO: return "a FIFO";
	case AE_IFSOCK: return "a socket";
	default: return NULL;
	}
}

static int extract_entry(xctx *x, struct archive_entry *e)
{
	int rc = 0, oom;
	const char *why;
	char *path = NULL;
	const char *raw = archive_entry_pathname(e);
	if (!raw)
		raw = archive_entry_pathname_utf8(e);
	if (!raw)
		return oci_error_set(OCI_EINVALID, "corrupt or truncated archive: entry %lld has no readable path",
				     (long long)x->st.entries + 1);
	free(x->entry);
	if (!(x->entry = strdup(raw)))
		return OCI_ENOMEM_SET();
	if (++x->st.entries > x->max_entries)
		return oci__limit_entries_error(x->max_entries);
	/* One entry must not be able to create thousands of directories. */
	if (strlen(raw) > EXTRACT_PATH_MAX)
		return oci_error_set(OCI_EUNSAFE, "entry '%.200s...' has a path longer than %d bytes; refused",
				     raw, EXTRACT_PATH_MAX);
	if (!(path = oci__x_norm_path(raw, &why, &oom))) {
		if (oom)
			return OCI_ENOMEM_SET();
		return oci_error_set(OCI_EUNSAFE, "entry '%s' %s; refused", raw, why);
	}
	const char *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	const char *special = hardlink ? NULL : special_kind(type);
	if (special) {
		rc = oci_error_set(OCI_EUNSAFE, "entry '%s' is %s; devices, FIFOs and sockets are refused", raw, special);
		goto cleanup;
	}
	if (!hardlink && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
		rc = oci_error_set(OCI_EUNSAFE, "entry '%s' has an unsupported type (0%o); refused", raw, (unsigned)type);
		goto cleanup;
	}
	const char *rel = oci__x_reroot(x, path);
	if (!rel) {
		rc = oci__x_drain(x); /* outside --path: verified, not written */
		goto cleanup;
	}
	if (x->sub)
		x->sub_found = 1;
	if (!*rel) {
		/* The root itself ("./" or the subpath folder). */
		if (!hardlink && type == AE_IFDIR)
			rc = oci__x_drain(x);
		else if (x->sub)
			rc = oci_error_set(OCI_EINVALID, "path '%s' in the artifact is not a folder", x->sub);
		else
			rc = oci_error_set(OCI_EUNSAFE, "entry '%s' has an empty name; refused", raw);
		goto cleanup;
	}
	if (hardlink) {
		if ((rc = oci__x_hardlink(x, hardlink, rel)) == 0)
			rc = oci__x_drain(x);
	} else if (type == AE_IFDIR) {
		if ((rc = oci__x_dir(x, rel)) == 0)
			rc = oci__x_drain(x);
	} else if (type == AE_IFLNK) {
		if ((rc = oci__x_symlink(x, e, rel)) == 0)
			rc = oci__x_drain(x);
	} else {
		rc = oci__x_file(x, e, rel);
	}
cleanup:
	free(path);
	return rc;
}

int oci__check_empty(int fd, const char *dest)
{
	int fd2 = dup(fd);
	DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
	if (!d) {
		if (fd2 >= 0)
			close(fd2);
		return oci_error_errno("reading %s", dest);
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			rc = oci_error_set(OCI_EEXISTS, "extraction directory %s is not empty", dest);
			break;
		}
	closedir(d);
	return rc;
}

int oci_extract_opts_init(oci_extract_opts *opts)
{
	return oci__opts_init(opts, sizeof *opts, "oci_extract_opts", OCI_EXTRACT_OPTS_VERSION);
}

int oci_extract(oci_extract_stats *stats, oci_read_fn source, void *source_ctx,
		const char *dest_dir, const oci_extract_opts *opts)
{
	return oci__extract_at(stats, source, source_ctx, AT_FDCWD, dest_dir, dest_dir, opts);
}

static int extract(oci_extract_stats *stats, oci_read_fn source, void *source_ctx, int dirfd, const char *dest_name,
		   const char *dest_dir, const oci_extract_opts *opts, oci__xlist_fn list, void *list_ctx,
		   const char *recycle_index, int64_t *durable);

int oci__extract_at(oci_extract_stats *stats, oci_read_fn source, void *source_ctx,
		    int dirfd, const char *dest_name, const char *dest_dir, const oci_extract_opts *opts)
{
	return extract(stats, source, source_ctx, dirfd, dest_name, dest_dir, opts, NULL, NULL, NULL, NULL);
}

int oci__extract_recycle_at(oci_extract_stats *stats, oci_read_fn source, void *source_ctx, int dirfd,
			    const char *dest_name, const char *dest_dir, const oci_extract_opts *opts,
			    const char *recycle_index, int64_t *durable)
{
	return extract(stats, source, source_ctx, dirfd, dest_name, dest_dir, opts, NULL, NULL, recycle_index, durable);
}

int oci__extract_list(oci_extract_stats *stats, oci_read_fn source, void *source_ctx, const char *dest_dir,
		      const oci_extract_opts *opts, oci__xlist_fn fn, void *fn_ctx)
{
	oci_extract_opts o;
	if (opts)
		o = *opts;
	else
		oci_extract_opts_init(&o);
	o.reuse_dir = o.reuse_index = o.index_out = NULL;
	return extract(stats, source, source_ctx, AT_FDCWD, dest_dir, dest_dir, &o, fn, fn_ctx, NULL, NULL);
}

static int extract(oci_extract_stats *stats, oci_read_fn source, void *source_ctx, int dirfd, const char *dest_name,
		   const char *dest_dir, const oci_extract_opts *opts, oci__xlist_fn list, void *list_ctx,
		   const char *recycle_index, int64_t *durable)
{
	static const oci_extract_opts defaults = { .version = OCI_EXTRACT_OPTS_VERSION };
	const oci_extract_opts *o = opts ? opts : &defaults;
	int rc = oci__opts_check(opts, "oci_extract_opts", OCI_EXTRACT_OPTS_VERSION), oom;
	if (rc < 0)
		return rc;
	locale_t utf8 = (locale_t)0, old_locale = (locale_t)0;
	xctx x = { .o = o, .dest = dest_dir, .destfd = -1, .reusefd = -1, .cache_fd = -1,
		   .rcache_fd = -1, .list = list, .list_ctx = list_ctx, .durable = -1 };
	x.max_size = oci__limit_size(o->max_size);
	x.max_entries = oci__limit_entries(o->max_entries);
	x.recycle = recycle_index != NULL && !list;
	x.need_hash = list || x.recycle || o->index_out != NULL || (o->reuse_dir && o->reuse_index);

	if (o->subpath) {
		const char *why;
		if (!(x.sub = oci__x_norm_path(o->subpath, &why, &oom))) {
			if (oom)
				return OCI_ENOMEM_SET();
			return oci_error_set(OCI_EINVALID, "path '%s' %s; give a folder inside the artifact", o->subpath, why);
		}
		if (!*x.sub) {
			free(x.sub);
			x.sub = NULL;
		} else {
			x.sublen = strlen(x.sub);
		}
	}
	if ((x.destfd = openat(dirfd, dest_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = oci_error_errno("opening extraction directory %s", dest_dir);
		goto cleanup;
	}
	if (x.recycle)
		rc = oci__xtable_load_index(&x.old, recycle_index);
	else
		rc = oci__check_empty(x.destfd, dest_dir);
	if (rc < 0)
		goto cleanup;
	if (o->reuse_dir && o->reuse_index) {
		if ((rc = oci__xtable_load_index(&x.reuse, o->reuse_index)) < 0)
			goto cleanup;
		/* A previous revision that is gone just means no reuse. */
		if (x.reuse.n)
			x.reusefd = open(o->reuse_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	/* the new tree is mostly the old one: its table sized once */
	if ((rc = oci__xtable_reserve(&x.files, x.old.n > x.reuse.n ? x.old.n : x.reuse.n)) < 0)
		goto cleanup;
	if ((rc = oci__xsource_new(&x.xs, source, source_ctx)) < 0)
		goto cleanup;
	if (!(x.iobuf = malloc(IO_CHUNK)) || !(x.a = archive_read_new())) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	/* Only decompressors built into libarchive: never one that would run
	 * an external program on untrusted bytes. */
	archive_read_support_filter_gzip(x.a);
	if (archive_libzstd_version())
		archive_read_support_filter_zstd(x.a);
	if (archive_liblzma_version())
		archive_read_support_filter_xz(x.a);
	if (archive_bzlib_version())
		archive_read_support_filter_bzip2(x.a);
	archive_read_support_format_tar(x.a);
	/* Decode non-ASCII names (UTF-8 pax records) the same way whatever
	 * the caller's locale; see oci_bundle_pack. */
	if ((utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)))
		old_locale = uselocale(utf8);
	if (archive_read_open(x.a, &x, NULL, read_cb, NULL) != ARCHIVE_OK) {
		rc = oci__x_archive_fail(&x);
		oci_error_wrap("reading the layer");
		goto cleanup;
	}
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(x.a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = oci__x_archive_fail(&x);
			goto cleanup;
		}
		/* what libarchive decompressed itself (zstd, xz, bzip2) */
		int64_t pos = archive_filter_bytes(x.a, 0);
		if (pos > stream_limit(&x)) {
			rc = stream_too_big(&x, pos);
			goto cleanup;
		}
		if ((rc = extract_entry(&x, e)) < 0)
			goto cleanup;
	}
	if (x.sub && !x.sub_found) {
		rc = oci_error_set(OCI_ENOTFOUND, "path '%s' is not in the artifact", x.sub);
		goto cleanup;
	}
	/* Read the source to its end: the tar end marker comes before the
	 * end of the stream; the gzip trailer must still be verified, and a
	 * hashing source must see every byte for its check to mean anything. */
	if ((rc = finish_stream(&x)) < 0)
		goto cleanup;
	/* verified: what the new revision does not hold goes */
	if ((rc = oci__x_sweep(&x)) < 0)
		goto cleanup;
	if (o->index_out && (rc = oci__xtable_write_index(&x.files, o->index_out)) < 0)
		goto cleanup;
	rc = oci__x_make_durable(&x, o->index_out);
cleanup:
	if (stats)
		*stats = x.st;
	if (durable)
		*durable = rc < 0 ? -1 : x.durable;
	if (x.a)
		archive_read_free(x.a);
	if (utf8) {
		uselocale(old_locale);
		freelocale(utf8);
	}
	if (x.destfd >= 0)
		close(x.destfd);
	if (x.reusefd >= 0)
		close(x.reusefd);
	if (x.cache_fd >= 0)
		close(x.cache_fd);
	if (x.rcache_fd >= 0)
		close(x.rcache_fd);
	free(x.cache_rel);
	free(x.rcache_rel);
	oci__xtable_dispose(&x.reuse);
	oci__xtable_dispose(&x.files);
	oci__xtable_dispose(&x.old);
	oci__xtable_dispose(&x.seen);
	oci__xtable_dispose(&x.dirty);
	free(x.sub);
	oci__xsource_free(x.xs);
	free(x.iobuf);
	free(x.fbuf);
	free(x.entry);
	return rc;
}

/* The most a layer may weigh, compressed, when it may extract to at most
 * max_size bytes: its content plus tar headers and padding (an eighth)
 * and some slack for small artifacts. A descriptor declaring more is
 * refused before a byte is fetched, and a download stops at the
 * descriptor's size (the verifying sink), so never past this. */
static int64_t download_cap(int64_t max_size)
{
	int64_t m = max_size > 0 ? max_size : OCI_DEFAULT_MAX_SIZE;
	if (m > INT64_MAX / 2)
		return INT64_MAX;
	return m + m / 8 + ((int64_t)16 << 20);
}

int oci__layer_size_check(const char *digest, int64_t size, int64_t max_size)
{
	if (size <= download_cap(max_size))
		return 0;
	oci_error_set(OCI_ELIMIT, "layer %s declares %lld bytes, more than a layer extracting to at most "
		      "%lld bytes (the size limit) can be (%lld); refused before downloading it",
		      digest, (long long)size, (long long)(max_size > 0 ? max_size : OCI_DEFAULT_MAX_SIZE),
		      (long long)download_cap(max_size));
	return oci_error_hint_set(OCI_HINT_MAX_SIZE, NULL);
}

int oci_extract_file(oci_extract_stats *stats, const char *archive_path,
		     const char *dest_dir, const oci_extract_opts *opts)
{
	oci_istream *s;
	int rc = oci_istream_file(&s, archive_path);
	if (rc < 0)
		return rc;
	rc = oci_extract(stats, oci_istream_source, s, dest_dir, opts);
	oci_istream_close(s);
	return rc;
}
