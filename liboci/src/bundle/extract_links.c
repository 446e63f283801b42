/* Directories, symlinks and hard links of an extraction, each checked:
 * a symlink may not point outside the destination, a hard link only at an
 * earlier regular file of the archive, and nothing may be created twice. */
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

int oci__x_dir(xctx *x, const char *rel)
{
	int pfd;
	const char *leaf;
	int rc = oci__x_parent_of(x, x->destfd, &x->cache_rel, &x->cache_fd, rel, 1, &leaf, &pfd);
	if (rc < 0 || (rc = oci__x_clear_stale(x, pfd, leaf, rel, 1)) < 0)
		return rc;
	if (rc == 1) /* the recycled tree's directory: kept (its mode: oci__x_sweep) */
		return oci__x_mark(x, rel, 'd');
	if (mkdirat(pfd, leaf, 0755) < 0) {
		struct stat st;
		if (errno != EEXIST)
			return oci_error_errno("creating directory %s for entry '%s'", rel, x->entry);
		/* A directory listed again (or after its files) is harmless;
		 * a directory over a file or symlink is not. */
		if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			return oci_error_set(OCI_EUNSAFE, "entry '%s' appears twice in the archive (a directory over another type); refused",
					     x->entry);
		return oci__x_mark(x, rel, 'd'); /* its mode: oci__x_sweep */
	}
	if (fchmodat(pfd, leaf, 0755, 0) < 0) {
		/* best effort: the tree is still read-only-safe without it */
	}
	if ((rc = oci__x_mark(x, rel, 'd')) < 0 || (rc = oci__x_dirty(x, rel, 'd')) < 0)
		return rc;
	return oci__x_listed(x, 'd', rel, 0755, NULL, NULL, 0);
}

int oci__x_symlink(xctx *x, struct archive_entry *e, const char *rel)
{
	const char *target = archive_entry_symlink(e);
	if (!target)
		target = archive_entry_symlink_utf8(e);
	if (!target)
		return oci_error_set(OCI_EINVALID, "symlink entry '%s' has no readable target", x->entry);
	const char *why = oci__symlink_unsafe(rel, target);
	if (why)
		return oci_error_set(OCI_EUNSAFE, "symlink '%s' -> '%s' %s of the destination; refused",
				     x->entry, target, why);
	int pfd;
	const char *leaf;
	int rc = oci__x_parent_of(x, x->destfd, &x->cache_rel, &x->cache_fd, rel, 1, &leaf, &pfd);
	if (rc < 0)
		return rc;
	if (!oci__x_keep_symlink(x, pfd, leaf, rel, target)) {
		if ((rc = oci__x_clear_stale(x, pfd, leaf, rel, 0)) < 0)
			return rc;
		if (symlinkat(target, pfd, leaf) < 0) {
			if (errno == EEXIST)
				return oci_error_set(OCI_EUNSAFE, "entry '%s' appears twice in the archive; refused", x->entry);
			return oci_error_errno("creating symlink %s for entry '%s'", rel, x->entry);
		}
		if ((rc = oci__x_dirty(x, rel, 0)) < 0)
			return rc;
	}
	if ((rc = oci__x_mark(x, rel, 'l')) < 0)
		return rc;
	return oci__x_listed(x, 'l', rel, 0, NULL, target, 0);
}

int oci__x_hardlink(xctx *x, const char *raw_target, const char *rel)
{
	int rc = 0, oom;
	const char *why;
	char *tpath = oci__x_norm_path(raw_target, &why, &oom);
	if (!tpath) {
		if (oom)
			return OCI_ENOMEM_SET();
		return oci_error_set(OCI_EUNSAFE, "hard link '%s' points to '%s', which %s; refused", x->entry, raw_target, why);
	}
	const char *trel = oci__x_reroot(x, tpath);
	const oci__xfile *f = trel && *trel ? oci__xtable_get(&x->files, trel) : NULL;
	if (!f) {
		rc = oci_error_set(OCI_EUNSAFE, "hard link '%s' points to '%s', which is not an earlier regular file %s; refused",
				   x->entry, raw_target, trel ? "of the archive" : "inside the extracted path");
		goto cleanup;
	}
	oci__xfile target = *f; /* the table may grow below */
	int tfd = -1, pfd;
	const char *leaf;
	const char *tslash = strrchr(trel, '/');
	const char *tleaf = tslash ? tslash + 1 : trel;
	char *tdir = strndup(trel, tslash ? (size_t)(tslash - trel) : 0);
	if (!tdir) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	rc = oci__open_dir_nofollow(&tfd, x->destfd, tdir, 0, x->entry);
	free(tdir);
	if (rc < 0)
		goto cleanup;
	if ((rc = oci__x_parent_of(x, x->destfd, &x->cache_rel, &x->cache_fd, rel, 1, &leaf, &pfd)) < 0 ||
	    (rc = oci__x_clear_stale(x, pfd, leaf, rel, 0)) < 0) {
		close(tfd);
		goto cleanup;
	}
	if (linkat(tfd, tleaf, pfd, leaf, 0) < 0) {
		if (errno == EEXIST)
			rc = oci_error_set(OCI_EUNSAFE, "entry '%s' appears twice in the archive; refused", x->entry);
		else
			rc = oci_error_errno("creating hard link %s for entry '%s'", rel, x->entry);
	}
	close(tfd);
	if (rc == 0 && (rc = oci__x_dirty(x, rel, 0)) == 0)
		rc = oci__x_dirty(x, trel, 'f'); /* its link count */
	if (rc == 0) {
		x->st.bytes += target.size;
		rc = oci__xtable_put(&x->files, rel, target.hex, target.mode, target.size);
	}
	if (rc == 0)
		rc = oci__x_listed(x, 'h', rel, target.mode, target.hex, trel, target.size);
cleanup:
	free(tpath);
	return rc;
}
