/* copy and tag, written once against targets: any target to any target.
 * Blobs move src → temporary file (verified) → dst, unless dst has them or
 * can mount them from another repository of the same registry. */
#include "oci/ops.h"
#include "error_internal.h"
#include "fileutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_INDEX_DEPTH 4

static int copy_blob(oci_target *src, oci_target *dst, const oci_descriptor *d)
{
	int rc = oci_target_blob_exists(dst, d->digest, NULL);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if ((rc = oci_target_blob_mount(dst, d->digest, src)) != 0)
		return rc < 0 ? rc : 0;
	const char *tmpd = getenv("TMPDIR");
	char *tmp = NULL;
	if (asprintf(&tmp, "%s/ocisync-copy-XXXXXX", tmpd && *tmpd ? tmpd : "/tmp") < 0)
		return OCI_ENOMEM_SET();
	int fd = mkstemp(tmp);
	if (fd < 0) {
		rc = oci_error_errno("creating %s", tmp);
		free(tmp);
		return rc;
	}
	struct oci_fd_sink sink = { fd, tmp };
	rc = oci_target_blob_get(src, d->digest, d->size, oci_fd_sink_write, &sink);
	close(fd);
	if (rc == 0)
		rc = oci_target_blob_put_file(dst, d->digest, d->size, tmp);
	if (rc < 0)
		oci_error_wrap("copying blob %s", d->digest);
	unlink(tmp);
	free(tmp);
	return rc;
}

/* Copies the manifest at digest and everything it references; tags it with
 * tag when not NULL. */
static int copy_manifest(oci_target *src, oci_target *dst, const char *digest, const char *tag, int depth)
{
	oci_buf b = OCI_BUF_INIT;
	char *mt = NULL;
	oci_manifest *m = NULL;
	int rc;
	if (depth > MAX_INDEX_DEPTH)
		return oci_error_set(OCI_EINVALID, "indexes nested more than %d deep", MAX_INDEX_DEPTH);
	if ((rc = oci_target_manifest_get(&b, &mt, NULL, src, digest)) < 0)
		goto cleanup;
	if ((rc = oci_manifest_parse(&m, b.data, b.len, mt)) < 0) {
		oci_error_wrap("manifest %s", digest);
		goto cleanup;
	}
	if (m->is_index) {
		for (size_t i = 0; i < m->nlayers && rc == 0; i++)
			rc = copy_manifest(src, dst, m->layers[i].digest, NULL, depth + 1);
	} else {
		rc = copy_blob(src, dst, &m->config);
		for (size_t i = 0; i < m->nlayers && rc == 0; i++)
			rc = copy_blob(src, dst, &m->layers[i]);
	}
	if (rc < 0)
		goto cleanup;
	rc = oci_target_manifest_put(dst, tag, mt ? mt : m->media_type, b.data, b.len);
cleanup:
	oci_manifest_free(m);
	free(mt);
	oci_buf_dispose(&b);
	return rc;
}

int oci_copy(char digest_out[OCI_DIGEST_SIZE], oci_target *src, oci_target *dst, int with_signatures)
{
	char digest[OCI_DIGEST_SIZE];
	int rc = oci_resolve_ref(digest, NULL, src);
	if (rc < 0)
		return rc;
	const oci_ref *sref = oci_target_ref(src), *dref = oci_target_ref(dst);
	const oci_strlist *tags = dref->tags.n ? &dref->tags : &sref->tags;
	if (dref->digest && strcmp(dref->digest, digest) != 0)
		return oci_error_set(OCI_EINVALID, "destination names digest %s but the source is %s", dref->digest, digest);
	if ((rc = copy_manifest(src, dst, digest, tags->n ? tags->items[0] : NULL, 0)) < 0)
		return rc;
	for (size_t i = 1; i < tags->n; i++)
		if ((rc = oci_target_tag(dst, digest, tags->items[i])) < 0)
			return rc;
	if (with_signatures) {
		char *sigtag = NULL, sigdigest[OCI_DIGEST_SIZE];
		if ((rc = oci_signature_tag(&sigtag, digest)) < 0)
			return rc;
		rc = oci_target_resolve(sigdigest, NULL, NULL, src, sigtag);
		if (rc == OCI_ENOTFOUND) {
			rc = 0; /* nothing signed it: nothing to carry */
			oci_error_clear();
		} else if (rc == 0) {
			rc = copy_manifest(src, dst, sigdigest, sigtag, 0);
			if (rc < 0)
				oci_error_wrap("copying signatures %s", sigtag);
		}
		free(sigtag);
		if (rc < 0)
			return rc;
	}
	memcpy(digest_out, digest, OCI_DIGEST_SIZE);
	return 0;
}

int oci_tag_add(char digest_out[OCI_DIGEST_SIZE], oci_target *t, const oci_strlist *new_tags)
{
	char digest[OCI_DIGEST_SIZE];
	int rc;
	for (size_t i = 0; i < new_tags->n; i++)
		if ((rc = oci_tag_validate(new_tags->items[i])) < 0)
			return rc;
	if ((rc = oci_resolve_ref(digest, NULL, t)) < 0)
		return rc;
	for (size_t i = 0; i < new_tags->n; i++)
		if ((rc = oci_target_tag(t, digest, new_tags->items[i])) < 0)
			return oci_error_wrap("tagging %s as %s", digest, new_tags->items[i]);
	memcpy(digest_out, digest, OCI_DIGEST_SIZE);
	return 0;
}
