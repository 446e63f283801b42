/* diff: what PATH would pack to against what the artifact holds, entry by
 * entry, with the same normalisation as packing (modes 0644/0755, content
 * digests), so "same" means "push would give the same layer contents". */
#include "oci/diff.h"
#include "oci/artifact.h"
#include "oci/resolve.h"
#include "error_internal.h"
#include "fileutil.h"
#include "extract_internal.h"

#include <archive.h>
#include <archive_entry.h>
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

static int add_entry(oci_file_list *l, oci_file_entry *e)
{
	oci_file_entry *items = realloc(l->items, (l->n + 1) * sizeof *items);
	if (!items)
		return OCI_ENOMEM_SET();
	l->items = items;
	l->items[l->n++] = *e;
	return 0;
}

/* Lists the entries of a tar / tar+gzip file with content digests. */
static int list_archive(oci_file_list *out, const char *file)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	oci_sha256 *h = NULL;
	char *buf = malloc(1 << 16);
	int rc = 0;
	if (!a || !buf || oci_sha256_new(&h) < 0) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_filename(a, file, 1 << 16) != ARCHIVE_OK) {
		rc = oci_error_set(OCI_EINVALID, "artifact layer is not a readable tar: %s", archive_error_string(a));
		goto cleanup;
	}
	for (;;) {
		int r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = oci_error_set(OCI_EINVALID, "artifact layer is corrupt: %s", archive_error_string(a));
			goto cleanup;
		}
		oci_file_entry e;
		memset(&e, 0, sizeof e);
		if (!(e.path = normal_path(archive_entry_pathname(ae)))) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
		if (!*e.path) { /* the root: ".", "./" */
			free(e.path);
			continue;
		}
		mode_t type = archive_entry_filetype(ae);
		const char *hl = archive_entry_hardlink(ae);
		if (hl) {
			e.type = 'h';
			e.link = normal_path(hl);
		} else if (type == AE_IFDIR) {
			e.type = 'd';
			e.mode = 0755;
		} else if (type == AE_IFLNK) {
			e.type = 'l';
			e.link = strdup(archive_entry_symlink(ae) ? archive_entry_symlink(ae) : "");
			oci_digest_buf(e.digest, e.link, strlen(e.link));
		} else if (type == AE_IFREG) {
			e.type = 'f';
			e.mode = (archive_entry_perm(ae) & 0111) ? 0755 : 0644;
			oci_sha256_reset(h);
			la_ssize_t n;
			while ((n = archive_read_data(a, buf, 1 << 16)) > 0) {
				oci_sha256_update(h, buf, (size_t)n);
				e.size += n;
			}
			if (n < 0) {
				free(e.path);
				rc = oci_error_set(OCI_EINVALID, "artifact layer is corrupt: %s", archive_error_string(a));
				goto cleanup;
			}
			oci_sha256_final(e.digest, h);
		} else {
			e.type = '?';
		}
		if ((rc = add_entry(out, &e)) < 0) {
			free(e.path);
			free(e.link);
			goto cleanup;
		}
	}
cleanup:
	free(buf);
	oci_sha256_free(h);
	archive_read_free(a);
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
	char *mt = NULL, *tmp = NULL;
	char digest[OCI_DIGEST_SIZE];
	const oci_descriptor *layer;
	int fd = -1, rc;
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
	const char *tmpd = getenv("TMPDIR");
	oci_tmp_sweep(tmpd && *tmpd ? tmpd : "/tmp", "ocisync-diff"); /* killed diffs' files */
	if ((rc = oci_tmp_template(&tmp, tmpd && *tmpd ? tmpd : "/tmp", "ocisync-diff")) < 0)
		goto cleanup;
	if ((fd = mkstemp(tmp)) < 0) {
		rc = oci_error_errno("creating %s", tmp);
		free(tmp);
		tmp = NULL;
		goto cleanup;
	}
	struct oci_fd_sink sink = { fd, tmp };
	if ((rc = oci__layer_size_check(layer->digest, layer->size, 0)) < 0 ||
	    (rc = oci_target_blob_get(t, layer->digest, layer->size, oci_fd_sink_write, &sink)) < 0)
		goto cleanup;
	/* ORAS's single file (a titled layer that is no archive) is a tree of
	 * that one file, as pull writes it. */
	const char *single = NULL;
	if ((rc = oci_artifact_single_file(&single, m, layer, fd)) < 0 ||
	    (rc = single ? list_single(&remote, single, layer) : list_archive(&remote, tmp)) < 0)
		goto cleanup;

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
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	oci_file_list_dispose(&local);
	oci_file_list_dispose(&remote);
	oci_manifest_free(m);
	free(mt);
	oci_buf_dispose(&mbuf);
	return rc;
}
