/* pull: resolve once, verify the signature of that exact digest, then one
 * stream from the download through digest verification and gunzip into
 * extraction in a temporary directory beside the destination (no copy of
 * the blob on disk), renamed into place only once the stream ended with
 * its digest checked: a reader sees the old tree or the new one, never a
 * mix, and a blob that does not match publishes nothing. */
#include "oci/pull.h"
#include "oci/artifact.h"
#include "oci/resolve.h"
#include "error_internal.h"
#include "contract.h"
#include "fileutil.h"
#include "extract_internal.h"
#include "blob.h"
#include "pull_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
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

/* Everything beside the destination happens relative to its parent,
 * opened once: a component swapped for a symlink meanwhile redirects
 * nothing, and neither the parent nor DEST may be a symlink. */

/* What is at name under pfd: 1 an empty directory, 0 a directory with
 * entries, -1 nothing; refused (negative error) a symlink or another type. */
static int dest_state(int pfd, const char *name, const char *dest)
{
	struct stat st;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? -1 : oci_error_errno("reading %s", dest);
	if (S_ISLNK(st.st_mode))
		return oci_error_set(OCI_EUNSAFE, "destination %s is a symlink; refused (give the directory itself)", dest);
	if (!S_ISDIR(st.st_mode))
		return oci_error_set(OCI_EEXISTS, "%s exists and is not a directory", dest);
	int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return oci_error_errno("reading %s", dest);
	}
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

/* The destination's parent, created when missing, opened without following
 * it if it is a symlink. */
static int open_parent(int *pfd, const char *parent, char **created)
{
	int rc = oci_mkdirs_noted(parent, 0755, created);
	if (rc < 0)
		return rc;
	if ((*pfd = open(parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
		return 0;
	struct stat st;
	if ((errno == ELOOP || errno == ENOTDIR) && lstat(parent, &st) == 0 && S_ISLNK(st.st_mode))
		return oci_error_set(OCI_EUNSAFE, "the destination's parent %s is a symlink; refused (give the directory it points to)",
				     parent);
	return oci_error_errno("opening %s", parent);
}

static char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return strdup(s ? s + 1 : path);
}

/* Puts pfd/tmp at pfd/base. An existing non-empty one is swapped
 * atomically (RENAME_EXCHANGE) and the old tree removed afterwards. */
static int publish(int pfd, const char *tmp, const char *base, const char *dest, int force)
{
	int st = dest_state(pfd, base, dest);
	if (st < -1)
		return st;
	if (st == 1 && unlinkat(pfd, base, AT_REMOVEDIR) < 0)
		return oci_error_errno("replacing empty directory %s", dest);
	if (st != 0) {
		if (renameat(pfd, tmp, pfd, base) < 0)
			return oci_error_errno("renaming the extracted tree to %s", dest);
		return 0;
	}
	if (!force)
		return oci_error_set(OCI_EEXISTS, "%s is not empty", dest), oci_error_hint_set(OCI_HINT_FORCE, NULL);
	if (renameat2(pfd, tmp, pfd, base, RENAME_EXCHANGE) < 0)
		return oci_error_errno("swapping the extracted tree into %s", dest);
	/* tmp now holds the old tree. */
	oci__rmtree_at(pfd, tmp, tmp);
	return 0;
}

int oci_pull_opts_init(oci_pull_opts *opts)
{
	int rc = oci__opts_init(opts, sizeof *opts, "oci_pull_opts", OCI_PULL_OPTS_VERSION);
	return rc < 0 ? rc : oci_extract_opts_init(&opts->extract);
}

/* The options and the extraction options inside them. */
static int check_opts(const oci_pull_opts *opts)
{
	int rc = oci__opts_check(opts, "oci_pull_opts", OCI_PULL_OPTS_VERSION);
	if (rc == 0 && opts)
		rc = oci__opts_check(&opts->extract, "oci_extract_opts", OCI_EXTRACT_OPTS_VERSION);
	return rc;
}

int oci_pull_digest(oci_pull_result *out, oci_target *t, const char *digest, const char *dest,
		    const oci_pull_opts *opts)
{
	return oci__pull_digest(out, t, digest, dest, opts, NULL);
}
/* A gzip layer at least this big is inflated on a thread of its own. */
#define AHEAD_MIN (1024 * 1024)
#define AHEAD_RING (512 * 1024)

/* A big gzip layer, inflated ahead of the extraction (*out; NULL: the
 * extraction reads blob itself, as for a small layer, where a thread
 * would cost more than it saves). The worker reads blob -- its digest
 * check (SHA-256) and progress reporting -- and inflates it (inflate and
 * CRC-32), while the caller's thread hashes each file and does the
 * file-system work; the ring bounds what is held between them. The
 * progress callback is then called from the worker: the extraction calls
 * no callback meanwhile, so callbacks are still called one at a time
 * (oci/callbacks.h). The extraction then sees a plain tar (its own gzip
 * detection is for the small and the non-registry paths). Closing *out
 * joins the worker: done before blob is looked at again. */
static int inflate_ahead(oci_istream **out, oci_istream *blob, int64_t size)
{
	*out = NULL;
	if (size < AHEAD_MIN)
		return 0;
	const void *head;
	ssize_t n = oci_istream_peek(blob, &head, 2);
	if (n < 0)
		return (int)n;
	const unsigned char *h = head;
	if (n < 2 || h[0] != 0x1f || h[1] != 0x8b)
		return 0;
	oci_istream *v, *g;
	int rc = oci_istream_fn(&v, oci_istream_source, blob);
	if (rc < 0 || (rc = oci_istream_gunzip(&g, v)) < 0)
		return rc;
	return oci_istream_readahead(out, g, AHEAD_RING, "inflating the layer");
}


int oci__pull_digest(oci_pull_result *out, oci_target *t, const char *digest, const char *dest,
		     const oci_pull_opts *opts, oci__pull_recycle *recycle)
{
	oci_pull_opts defaults;
	memset(out, 0, sizeof *out);
	int rc = check_opts(opts);
	if (rc < 0)
		return rc;
	if (!opts && oci_pull_opts_init(&defaults) == 0)
		opts = &defaults;
	oci_buf mbuf = OCI_BUF_INIT;
	char *mt = NULL, *parent = NULL, *base = NULL, *tmpdir = NULL;
	char *blob_prefix = NULL, *tmp_prefix = NULL;
	char *created = NULL; /* the topmost parent directory this pull made */
	oci_istream *blob = NULL, *ahead = NULL;
	int pfd = -1, published = 0;
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
	/* the declared size is bounded before anything is downloaded */
	if ((rc = oci__layer_size_check(layer->digest, layer->size, xo.max_size)) < 0)
		goto cleanup;

	if (!(parent = oci_dirname(dest)) || !(base = base_name(dest))) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		rc = oci_error_set(OCI_EINVALID, "destination '%s' must name a directory (not . or ..)", dest);
		goto cleanup;
	}
	if ((rc = open_parent(&pfd, parent, &created)) < 0)
		goto cleanup;
	if ((rc = dest_state(pfd, base, dest)) < -1)
		goto cleanup;
	if (!opts->force && rc == 0) {
		oci_error_set(OCI_EEXISTS, "%s is not empty", dest);
		rc = oci_error_hint_set(OCI_HINT_FORCE, NULL);
		goto cleanup;
	}
	/* The tree goes into .DEST.ocisync-tmp-PID-*; what killed pulls of
	 * DEST left goes first (.DEST.ocisync-blob-*: the layer files of
	 * versions that downloaded before extracting). */
	if (asprintf(&blob_prefix, ".%s.ocisync-blob", base) < 0 ||
	    asprintf(&tmp_prefix, ".%s.ocisync-tmp", base) < 0) {
		blob_prefix = tmp_prefix = NULL;
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	oci_tmp_sweep_at(pfd, parent, blob_prefix);
	oci_tmp_sweep_at(pfd, parent, tmp_prefix);
	/* A titled layer that is not an archive is ORAS's single file (told
	 * from the stream's first bytes, peeked at; the first answer of the
	 * registry comes with them). */
	const char *single = NULL;
	const void *head;
	ssize_t n;
	if ((rc = oci_target_blob_open(&blob, t, layer->digest, layer->size)) == 0 &&
	    (n = oci_istream_peek(blob, &head, 1)) < 0)
		rc = (int)n;
	if (rc == 0)
		rc = oci_artifact_single_file_stream(&single, out->manifest, layer, blob);
	if (rc < 0) {
		if (!blob || blob->err)
			oci_error_wrap("downloading layer %s", layer->digest);
		goto cleanup;
	}
	const char *rdir = NULL, *rindex = NULL;
	if (recycle)
		recycle->durable = -1;
	if (recycle && recycle->take && !single) {
		if (recycle->take(recycle->ctx, &rdir, &rindex) == 0) {
			recycle->taken = 1;
			if (!(tmpdir = strdup(rdir))) {
				rc = OCI_ENOMEM_SET();
				goto cleanup;
			}
		} else {
			rindex = NULL;
			oci_error_clear(); /* not recycled: extracted fresh */
		}
	}
	if (!tmpdir && (rc = oci_tmp_dir_at(&tmpdir, pfd, parent, tmp_prefix)) < 0)
		goto cleanup;
	if (!single && (rc = inflate_ahead(&ahead, blob, layer->size)) < 0) {
		rc = oci_target_blob_failed(blob, rc, layer->digest);
		goto cleanup;
	}
	oci_istream *src = ahead ? ahead : blob; /* what the extraction reads */
	if (rindex) {
		rc = oci__extract_recycle_at(&out->stats, oci_istream_source, src, pfd, tmpdir, dest, &xo, rindex,
					     &recycle->durable);
	} else if (single) {
		char *dir_path = NULL;
		if (asprintf(&dir_path, "%s/%s", parent, tmpdir) < 0) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
		rc = oci_extract_single(&out->stats, oci_istream_source, blob, single, dir_path, &xo);
		free(dir_path);
	} else {
		rc = oci__extract_at(&out->stats, oci_istream_source, src, pfd, tmpdir, dest, &xo);
	}
	oci_istream_close(ahead); /* joins its worker: blob is the caller's again */
	ahead = NULL;
	if (rc < 0)
		rc = oci_target_blob_failed(blob, rc, layer->digest);
	if (rc < 0)
		goto cleanup;
	if (fchmodat(pfd, tmpdir, 0755, 0) < 0) {
		rc = oci_error_errno("setting the mode of the tree for %s", dest);
		goto cleanup;
	}
	if (recycle && recycle->flush) {
		if (!(recycle->taken && recycle->durable >= 0 && recycle->kept_durable))
			(void)syncfs(pfd);
		recycle->flushed = 1;
	}
	if ((rc = publish(pfd, tmpdir, base, dest, opts->force)) < 0)
		goto cleanup;
	published = 1;
	(void)fsync(pfd);
cleanup:
	oci_istream_close(ahead);
	oci_istream_close(blob);
	if (tmpdir && !published)
		oci__rmtree_at(pfd, tmpdir, tmpdir);
	if (pfd >= 0)
		close(pfd);
	if (rc < 0) {
		oci_manifest_free(out->manifest);
		out->manifest = NULL;
		/* a failed pull leaves the tree as it found it: the parent
		 * directories it made go too (only those, only while empty) */
		oci_rmdirs_created(parent, created);
	}
	free(created);
	free(tmpdir);
	free(blob_prefix);
	free(tmp_prefix);
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
	int rc = check_opts(opts);
	if (rc == 0)
		rc = oci_resolve_ref(digest, NULL, t);
	if (rc < 0)
		return rc;
	return oci_pull_digest(out, t, digest, dest, opts);
}
