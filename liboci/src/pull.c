/* pull: resolve once, verify the signature of that exact digest, download
 * the layer by digest into a temporary file (checked while it streams),
 * extract into a temporary directory beside the destination, and rename it
 * into place: a reader sees the old tree or the new one, never a mix. */
#include "oci/ops.h"
#include "error_internal.h"
#include "fileutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void oci_pull_result_dispose(oci_pull_result *r)
{
	if (!r)
		return;
	oci_manifest_free(r->manifest);
	r->manifest = NULL;
}

/* 1 when dir exists and is empty, 0 when it has entries, -1 when missing. */
static int dir_state(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	int empty = 1;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

static char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return strdup(s ? s + 1 : path);
}

/* Puts tmpdir at dest. An existing non-empty dest is swapped atomically
 * (RENAME_EXCHANGE) and the old tree removed afterwards. */
static int publish(const char *tmpdir, const char *dest, int force)
{
	int st = dir_state(dest);
	struct stat sb;
	if (st < 0 && lstat(dest, &sb) == 0)
		return oci_error_set(OCI_EEXISTS, "%s exists and is not a directory", dest);
	if (st == 1 && rmdir(dest) < 0)
		return oci_error_errno("replacing empty directory %s", dest);
	if (st != 0) {
		if (rename(tmpdir, dest) < 0)
			return oci_error_errno("renaming the extracted tree to %s", dest);
		return 0;
	}
	if (!force)
		return oci_error_set(OCI_EEXISTS, "%s is not empty (use --force to replace it)", dest);
	if (renameat2(AT_FDCWD, tmpdir, AT_FDCWD, dest, RENAME_EXCHANGE) < 0)
		return oci_error_errno("swapping the extracted tree into %s", dest);
	/* tmpdir now holds the old tree. */
	oci_rmtree(tmpdir);
	return 0;
}

int oci_pull_digest(oci_pull_result *out, oci_target *t, const char *digest, const char *dest,
		    const oci_pull_opts *opts)
{
	oci_pull_opts defaults = OCI_PULL_OPTS_INIT;
	if (!opts)
		opts = &defaults;
	memset(out, 0, sizeof *out);
	oci_buf mbuf = OCI_BUF_INIT;
	char *mt = NULL, *parent = NULL, *base = NULL, *blob = NULL, *tmpdir = NULL;
	int fd = -1, rc, published = 0;
	const oci_descriptor *layer;

	if ((rc = oci_digest_validate(digest)) < 0)
		return rc;
	snprintf(out->digest, sizeof out->digest, "%s", digest);
	/* Verification first: nothing is downloaded or extracted for a digest
	 * that no trusted key signed. */
	if (opts->verify && (rc = opts->verify(opts->verify_ctx, t, digest)) != 0) {
		if (rc > 0 || oci_error_last()->code == 0)
			rc = oci_error_set(OCI_EVERIFY, "signature verification of %s failed", digest);
		return rc;
	}
	if ((rc = oci_target_manifest_get(&mbuf, &mt, NULL, t, digest)) < 0)
		goto cleanup;
	if ((rc = oci_manifest_parse(&out->manifest, mbuf.data, mbuf.len, mt)) < 0) {
		oci_error_wrap("manifest %s", digest);
		goto cleanup;
	}
	if ((rc = oci_artifact_layer(&layer, out->manifest)) < 0)
		goto cleanup;
	oci_extract_opts xo = opts->extract;
	if (opts->publisher_limits &&
	    (rc = oci_limits_from_annotations(&xo.max_entries, &xo.max_size, &out->manifest->annotations)) < 0)
		goto cleanup;

	if (!(parent = oci_dirname(dest)) || !(base = base_name(dest))) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		rc = oci_error_set(OCI_EINVALID, "destination '%s' must name a directory (not . or ..)", dest);
		goto cleanup;
	}
	if ((rc = oci_mkdirs(parent, 0755)) < 0)
		goto cleanup;
	if (!opts->force && dir_state(dest) == 0) {
		rc = oci_error_set(OCI_EEXISTS, "%s is not empty (use --force to replace it)", dest);
		goto cleanup;
	}
	if (asprintf(&blob, "%s/.%s.ocisync-blob-XXXXXX", parent, base) < 0 ||
	    asprintf(&tmpdir, "%s/.%s.ocisync-tmp-XXXXXX", parent, base) < 0) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if ((fd = mkstemp(blob)) < 0) {
		rc = oci_error_errno("creating %s", blob);
		free(blob);
		blob = NULL;
		goto cleanup;
	}
	struct oci_fd_sink sink = { fd, blob };
	if ((rc = oci_target_blob_get(t, layer->digest, layer->size, oci_fd_sink_write, &sink)) < 0) {
		oci_error_wrap("downloading layer %s", layer->digest);
		goto cleanup;
	}
	close(fd);
	fd = -1;
	if (!mkdtemp(tmpdir)) {
		rc = oci_error_errno("creating a temporary directory beside %s", dest);
		free(tmpdir);
		tmpdir = NULL;
		goto cleanup;
	}
	if ((rc = oci_extract_file(&out->stats, blob, tmpdir, &xo)) < 0)
		goto cleanup;
	if (chmod(tmpdir, 0755) < 0) {
		rc = oci_error_errno("setting the mode of %s", tmpdir);
		goto cleanup;
	}
	if ((rc = publish(tmpdir, dest, opts->force)) < 0)
		goto cleanup;
	published = 1;
	oci_fsync_dir(parent);
cleanup:
	if (fd >= 0)
		close(fd);
	if (blob)
		unlink(blob);
	if (tmpdir && !published)
		oci_rmtree(tmpdir);
	if (rc < 0) {
		oci_manifest_free(out->manifest);
		out->manifest = NULL;
	}
	free(blob);
	free(tmpdir);
	free(parent);
	free(base);
	free(mt);
	oci_buf_dispose(&mbuf);
	return rc;
}

int oci_pull(oci_pull_result *out, oci_target *t, const char *dest, const oci_pull_opts *opts)
{
	char digest[OCI_DIGEST_SIZE];
	memset(out, 0, sizeof *out);
	int rc = oci_resolve_ref(digest, NULL, t);
	if (rc < 0)
		return rc;
	return oci_pull_digest(out, t, digest, dest, opts);
}
