/* Regular files of an extraction: written sparse (zero blocks left as
 * holes), hashed while written, or hard-linked from the previous revision
 * when content and mode match its index (sync); in list mode created
 * empty, their content only counted and hashed. */
#include "extract_ctx.h"
#include "bundle_internal.h"
#include "error_internal.h"
#include "stream.h"
#include "oci/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Content is bounded by max_size as it is read: every entry counts. */
int oci__x_count_content(xctx *x, size_t n)
{
	x->content_read += (int64_t)n;
	if (x->content_read > x->max_size)
		return oci__limit_size_error(x->max_size, x->entry);
	return 0;
}

/* The entry's next bytes into buf, counted against max_size: a count, 0
 * at the entry's end, or an error. */
static la_ssize_t entry_data(xctx *x, void *buf, size_t cap)
{
	la_ssize_t n = archive_read_data(x->a, buf, cap);
	if (n < 0)
		return oci__x_archive_fail(x);
	int rc = n ? oci__x_count_content(x, (size_t)n) : 0;
	return rc < 0 ? rc : n;
}

int oci__x_drain(xctx *x)
{
	la_ssize_t n;
	while ((n = entry_data(x, x->iobuf, IO_CHUNK)) > 0)
		;
	return (int)n;
}

/* Sparse files: a whole 4 KiB block of zeros is seeked over instead of
 * written, so it stays a hole where the filesystem supports them (a 200 MiB
 * file holding 4 KiB of data comes back using 4 KiB, not 200 MiB); the
 * size is set with ftruncate at the end (finish_sparse). Runs of data
 * blocks go out in one write. */
#define SPARSE_BLOCK 4096

static int zero_block(const unsigned char *p)
{
	return p[0] == 0 && memcmp(p, p + 1, SPARSE_BLOCK - 1) == 0;
}

static int write_sparse(int fd, const void *buf, size_t len, int64_t off, const char *rel, int *holes)
{
	const unsigned char *p = buf;
	while (len) {
		/* pieces end at the file's block boundaries; a run of pieces of
		 * one kind (data, or whole zero blocks) goes out at once */
		size_t run = SPARSE_BLOCK - (size_t)(off % SPARSE_BLOCK);
		if (run > len)
			run = len;
		int zero = run == SPARSE_BLOCK && zero_block(p);
		while (run < len) {
			size_t next = len - run >= SPARSE_BLOCK ? SPARSE_BLOCK : len - run;
			if ((next == SPARSE_BLOCK && zero_block(p + run)) != zero)
				break;
			run += next;
		}
		if (zero) {
			if (lseek(fd, (off_t)run, SEEK_CUR) < 0)
				return oci_error_errno("writing %s", rel);
			*holes = 1;
		} else {
			int rc = oci_fd_write_all(fd, p, run, rel);
			if (rc < 0)
				return rc;
		}
		p += run;
		len -= run;
		off += (int64_t)run;
	}
	return 0;
}

/* A file that ends in a hole gets its size from ftruncate. */
static int finish_sparse(int fd, int64_t len, const char *rel, int holes)
{
	if (holes && ftruncate(fd, (off_t)len) < 0)
		return oci_error_errno("writing %s", rel);
	return 0;
}

/* Links rel from the previous revision when it has the same content and
 * mode there. Returns 1 linked, 0 not (for whatever reason: reuse is an
 * optimisation, any doubt means write), <0 error. tmp: link under a
 * temporary name and rename over rel (which exists, just written). */
static int try_reuse(xctx *x, int pfd, const char *rel, const char *leaf, const char *hex,
		     unsigned mode, unsigned final_mode, int64_t size, int over_existing)
{
	const oci__xfile *old = oci__xtable_get(&x->reuse, rel);
	if (!old || old->mode != mode || strcmp(old->hex, hex) != 0)
		return 0;
	int rfd;
	const char *rleaf;
	if (oci__x_parent_of(x, x->reusefd, &x->rcache_rel, &x->rcache_fd, rel, 0, &rleaf, &rfd) < 0) {
		oci_error_clear();
		return 0;
	}
	struct stat st;
	/* The old file must still be the one the index describes. */
	if (fstatat(rfd, rleaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !oci__xfile_unchanged(&st, &x->reuse, final_mode, size))
		return 0;
	if (!over_existing)
		return linkat(rfd, rleaf, pfd, leaf, 0) == 0;
	if (linkat(rfd, rleaf, pfd, REUSE_TMP_NAME, 0) < 0)
		return 0;
	if (renameat(pfd, REUSE_TMP_NAME, pfd, leaf) < 0) {
		unlinkat(pfd, REUSE_TMP_NAME, 0);
		return 0;
	}
	return 1;
}

int oci__x_file(xctx *x, struct archive_entry *e, const char *rel)
{
	int rc = 0, fd = -1, pfd;
	const char *leaf;
	oci_sha256 *h = NULL;
	char digest[OCI_DIGEST_SIZE] = "";
	unsigned mode = oci__norm_mode(archive_entry_perm(e));
	unsigned final_mode = x->o->read_only ? (mode & 0555) : mode;
	int64_t hdr_size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	int64_t len = 0;
	int holes = 0, kept = 0;

	/* Refuse at once what would pass the limit, before writing it. */
	if (hdr_size > 0 && x->content_read + hdr_size > x->max_size)
		return oci__x_count_content(x, (size_t)hdr_size);
	if ((rc = oci__x_parent_of(x, x->destfd, &x->cache_rel, &x->cache_fd, rel, 1, &leaf, &pfd)) < 0)
		return rc;
	if (x->need_hash && (rc = oci_sha256_new(&h)) < 0)
		return rc;

	/* hashed before anything is written when an earlier file may be it */
	int buffered = hdr_size >= 0 && hdr_size <= REUSE_BUFFER_MAX &&
		       ((x->reusefd >= 0 && oci__xtable_get(&x->reuse, rel) != NULL) ||
			(x->recycle && oci__xtable_get(&x->old, rel) != NULL));
	if (buffered) {
		if (x->fbuf_cap < (size_t)hdr_size + 1) {
			unsigned char *b = realloc(x->fbuf, (size_t)hdr_size + 1);
			if (!b) {
				rc = OCI_ENOMEM_SET();
				goto cleanup;
			}
			x->fbuf = b;
			x->fbuf_cap = (size_t)hdr_size + 1;
		}
		/* libarchive never returns more than the header size */
		la_ssize_t n;
		while ((n = entry_data(x, x->fbuf + len, x->fbuf_cap - (size_t)len)) > 0) {
			len += n;
			if ((size_t)len == x->fbuf_cap) {
				rc = oci_error_set(OCI_EINVALID, "entry '%s' holds more data than its header says", x->entry);
				goto cleanup;
			}
		}
		if (n < 0) {
			rc = (int)n;
			goto cleanup;
		}
		if ((rc = oci_sha256_update(h, x->fbuf, (size_t)len)) < 0 || (rc = oci_sha256_final(digest, h)) < 0)
			goto cleanup;
		/* recycling: the file already there is this one */
		if (oci__x_keep(x, pfd, leaf, rel, oci_digest_hex(digest), mode, final_mode, len)) {
			x->st.files_linked++;
			kept = 1;
			goto record;
		}
	}
	if ((rc = oci__x_clear_stale(x, pfd, leaf, rel, 0)) < 0)
		goto cleanup;
	if (buffered && x->reusefd >= 0 &&
	    try_reuse(x, pfd, rel, leaf, oci_digest_hex(digest), mode, final_mode, len, 0) == 1) {
		x->st.files_linked++;
		goto record;
	}

	fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			rc = oci_error_set(OCI_EUNSAFE, "entry '%s' appears twice in the archive; refused", x->entry);
		else
			rc = oci_error_errno("creating %s for entry '%s'", rel, x->entry);
		goto cleanup;
	}
	if (buffered) {
		if ((rc = write_sparse(fd, x->fbuf, (size_t)len, 0, x->entry, &holes)) < 0)
			goto cleanup;
	} else {
		la_ssize_t n;
		while ((n = entry_data(x, x->iobuf, IO_CHUNK)) > 0) {
			if (h && (rc = oci_sha256_update(h, x->iobuf, (size_t)n)) < 0)
				goto cleanup;
			if (!x->list && (rc = write_sparse(fd, x->iobuf, (size_t)n, len, x->entry, &holes)) < 0)
				goto cleanup;
			len += n;
		}
		if (n < 0) {
			rc = (int)n;
			goto cleanup;
		}
		if (h && (rc = oci_sha256_final(digest, h)) < 0)
			goto cleanup;
	}
	if ((rc = finish_sparse(fd, len, x->entry, holes)) < 0)
		goto cleanup;
	if (fchmod(fd, final_mode) < 0) {
		rc = oci_error_errno("setting the mode of %s", rel);
		goto cleanup;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = oci_error_errno("writing %s", rel);
		goto cleanup;
	}
	fd = -1;
	x->st.files_written++;
	if (!buffered && x->reusefd >= 0 && try_reuse(x, pfd, rel, leaf, oci_digest_hex(digest), mode,
						       final_mode, len, 1) == 1) {
		/* Written, then swapped for the old inode: disk use stays shared. */
		x->st.files_written--;
		x->st.files_linked++;
	}
record:
	x->st.bytes += len;
	if (!kept && (rc = oci__x_dirty(x, rel, 'f')) < 0)
		goto cleanup;
	if (x->need_hash)
		rc = oci__xtable_put(&x->files, rel, oci_digest_hex(digest), mode, len);
	else
		rc = oci__xtable_put(&x->files, rel, "", mode, len);
	if (rc == 0)
		rc = oci__x_listed(x, 'f', rel, mode, oci_digest_hex(digest), NULL, len);
cleanup:
	if (fd >= 0)
		close(fd);
	oci_sha256_free(h);
	return rc;
}
