/* diff: what PATH would pack to against what the artifact holds, entry by
 * entry, with the same normalisation as packing (modes 0644/0755, content
 * digests), so "same" means "push would give the same layer contents".
 * The layer streams from the target into the hardened extractor's list
 * mode: what pull refuses, diff refuses, with the same message. */
#include "oci/diff.h"
#include "oci/artifact.h"
#include "oci/resolve.h"
#include "error_internal.h"
#include "fileutil.h"
#include "extract_internal.h"
#include "blob.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An archive path as packing names it: "." components and repeated or
 * trailing slashes dropped, so "./a//b/" is "a/b" and a bare "." or "./"
 * (the root entry Flux's tar writer and umoci write) is "". */
static char *normal_path(const char *p)
{
	char *s = malloc(strlen(p) + 1);
	if (!s)
		return NULL;
	size_t o = 0;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n && !(n == 1 && p[0] == '.')) {
			if (o)
				s[o++] = '/';
			memcpy(s + o, p, n);
			o += n;
		}
		p += n;
	}
	s[o] = '\0';
	return s;
}

/* The capacity is implicit: 16, then doubled whenever n reaches a power
 * of two (a layer may list up to --max-entries, 100,000 by default). */
static int add_entry(oci_file_list *l, oci_file_entry *e)
{
	if (l->n == 0 || (l->n >= 16 && !(l->n & (l->n - 1)))) {
		oci_file_entry *items = realloc(l->items, (l->n ? l->n * 2 : 16) * sizeof *items);
		if (!items)
			return OCI_ENOMEM_SET();
		l->items = items;
	}
	l->items[l->n++] = *e;
	return 0;
}

/* One entry of the hardened extractor's list mode, as a remote entry. */
static int on_entry(void *ctx, char type, const char *path, unsigned mode, const char *hex, const char *link,
		    int64_t size)
{
	oci_file_entry e;
	memset(&e, 0, sizeof e);
	e.type = type;
	e.mode = type == 'l' ? 0 : mode;
	e.size = size;
	if (hex && *hex)
		snprintf(e.digest, sizeof e.digest, "sha256:%s", hex);
	if (!(e.path = strdup(path)) || (link && !(e.link = strdup(link)))) {
		free(e.path);
		return OCI_ENOMEM_SET();
	}
	if (type == 'l')
		oci_digest_buf(e.digest, e.link, strlen(e.link));
	int rc = add_entry(ctx, &e);
	if (rc < 0) {
		free(e.path);
		free(e.link);
	}
	return rc;
}

/* Lists the layer streamed from blob with the extractor pull uses (its
 * checks and limits; regular files created empty in a private directory
 * under TMPDIR, removed afterwards), so diff refuses what pull refuses. */
static int list_archive(oci_file_list *out, oci_istream *blob)
{
	const char *tmpd = getenv("TMPDIR");
	char *dir = NULL, *path = NULL;
	if (!tmpd || !*tmpd)
		tmpd = "/tmp";
	oci_tmp_sweep(tmpd, "ocisync-diff"); /* killed diffs' directories */
	int dfd = open(tmpd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return oci_error_errno("opening %s", tmpd);
	int rc = oci_tmp_dir_at(&dir, dfd, tmpd, "ocisync-diff");
	if (rc == 0 && asprintf(&path, "%s/%s", tmpd, dir) < 0) {
		path = NULL;
		rc = OCI_ENOMEM_SET();
	}
	if (rc == 0)
		rc = oci__extract_list(NULL, oci_istream_source, blob, path, NULL, on_entry, out);
	if (dir)
		oci__rmtree_at(dfd, dir, path ? path : dir);
	close(dfd);
	free(path);
	free(dir);
	return rc;
}

static int list_single(oci_file_list *out, const char *title, const oci_descriptor *layer)
{
	oci_file_entry e;
	memset(&e, 0, sizeof e);
	e.type = 'f';
	e.mode = 0644;
	e.size = layer->size;
	memcpy(e.digest, layer->digest, sizeof e.digest);
	if (!(e.path = strdup(title)))
		return OCI_ENOMEM_SET();
	int rc = add_entry(out, &e);
	if (rc < 0)
		free(e.path);
	return rc;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const oci_file_entry *)a)->path, ((const oci_file_entry *)b)->path);
}

static int entries_differ(const oci_file_entry *a, const oci_file_entry *b)
{
	if (a->type != b->type)
		return 1;
	if (a->type == 'f')
		return a->mode != b->mode || strcmp(a->digest, b->digest) != 0;
	if (a->type == 'l' || a->type == 'h')
		return strcmp(a->link ? a->link : "", b->link ? b->link : "") != 0;
	return 0;
}

int oci_diff(int *differs, oci_target *t, const char *path, const oci_pack_opts *pack, oci_diff_fn cb, void *ctx)
{
	oci_file_list local = { 0 }, remote = { 0 };
	oci_buf mbuf = OCI_BUF_INIT;
	oci_manifest *m = NULL;
	char *mt = NULL;
	char digest[OCI_DIGEST_SIZE];
	const oci_descriptor *layer;
	oci_istream *blob = NULL;
	int rc;
	*differs = 0;

	if ((rc = oci_bundle_list(&local, path, pack)) < 0)
		goto cleanup;
	for (size_t i = 0; i < local.n; i++) {
		char *p = normal_path(local.items[i].path);
		if (!p) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
		free(local.items[i].path);
		local.items[i].path = p;
		if (local.items[i].type == 'h')
			local.items[i].type = 'f';
	}
	if ((rc = oci_resolve_ref(digest, NULL, t)) < 0)
		goto cleanup;
	if ((rc = oci_target_manifest_get(&mbuf, &mt, NULL, t, digest)) < 0)
		goto cleanup;
	if ((rc = oci_manifest_parse(&m, mbuf.data, mbuf.len, mt)) < 0)
		goto cleanup;
	if ((rc = oci_artifact_layer(&layer, m)) < 0)
		goto cleanup;
	/* ORAS's single file (a titled layer that is no archive) is a tree of
	 * that one file, as pull writes it; read to its end to be verified. */
	const char *single = NULL;
	if ((rc = oci__layer_size_check(layer->digest, layer->size, 0)) < 0 ||
	    (rc = oci_target_blob_open(&blob, t, layer->digest, layer->size)) < 0 ||
	    (rc = oci_artifact_single_file_stream(&single, m, layer, blob)) < 0 ||
	    (rc = single ? list_single(&remote, single, layer) : list_archive(&remote, blob)) < 0 ||
	    (single && (rc = oci_istream_pump(blob, NULL, NULL)) < 0)) {
		if (blob)
			rc = oci_target_blob_failed(blob, rc, layer->digest);
		goto cleanup;
	}

	if (local.n)
		qsort(local.items, local.n, sizeof *local.items, by_path);
	if (remote.n)
		qsort(remote.items, remote.n, sizeof *remote.items, by_path);
	size_t i = 0, j = 0;
	while (i < local.n || j < remote.n) {
		int c = i >= local.n ? 1 : j >= remote.n ? -1 : strcmp(local.items[i].path, remote.items[j].path);
		if (c < 0) {
			*differs = 1;
			cb(ctx, '+', local.items[i++].path);
		} else if (c > 0) {
			*differs = 1;
			cb(ctx, '-', remote.items[j++].path);
		} else {
			if (entries_differ(&local.items[i], &remote.items[j])) {
				*differs = 1;
				cb(ctx, 'M', local.items[i].path);
			}
			i++;
			j++;
		}
	}
cleanup:
	oci_istream_close(blob);
	oci_file_list_dispose(&local);
	oci_file_list_dispose(&remote);
	oci_manifest_free(m);
	free(mt);
	oci_buf_dispose(&mbuf);
	return rc;
}
