/* push: pack once into a temporary file (both digests from that one pass),
 * upload the blobs the target lacks, then the manifest under each tag. */
#include "oci/ops.h"
#include "error_internal.h"
#include "fileutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *tmp_dir(void)
{
	const char *d = getenv("TMPDIR");
	return d && *d ? d : "/tmp";
}

/* Uploads a blob unless the target has it. Returns 1 uploaded, 0 present. */
static int put_if_missing_file(oci_target *t, const char *digest, int64_t size, const char *path)
{
	int rc = oci_target_blob_exists(t, digest, NULL);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	rc = oci_target_blob_put_file(t, digest, size, path);
	return rc < 0 ? rc : 1;
}

int oci_push(oci_push_result *out, oci_target *t, const char *path, const oci_push_opts *opts)
{
	oci_push_opts defaults = OCI_PUSH_OPTS_INIT;
	if (!opts)
		opts = &defaults;
	memset(out, 0, sizeof *out);
	char *tmp = NULL;
	int fd = -1, rc;
	oci_buf cfg = OCI_BUF_INIT, manifest = OCI_BUF_INIT;
	oci_kvlist ann = OCI_KVLIST_INIT;
	oci_descriptor cfgdesc = { 0 };
	const oci_ref *ref = oci_target_ref(t);

	if (asprintf(&tmp, "%s/ocisync-layer-XXXXXX", tmp_dir()) < 0) {
		tmp = NULL;
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		rc = oci_error_errno("creating a temporary file in %s", tmp_dir());
		goto cleanup;
	}
	oci_pack_opts popts = OCI_PACK_OPTS_INIT;
	popts.ignore = opts->ignore;
	popts.max_entries = opts->max_entries;
	popts.max_size = opts->max_size;
	struct oci_fd_sink sink = { fd, tmp };
	if ((rc = oci_bundle_pack(&out->layer, path, &popts, oci_fd_sink_write, &sink)) < 0)
		goto cleanup;
	if (close(fd) < 0) {
		fd = -1;
		rc = oci_error_errno("writing %s", tmp);
		goto cleanup;
	}
	fd = -1;

	/* Blobs first, manifest last: a registry refuses (and a reader must
	 * never see) a manifest whose blobs are missing. */
	if ((rc = oci_manifest_config(&cfg, &cfgdesc, opts->profile)) < 0)
		goto cleanup;
	if ((rc = oci_target_blob_exists(t, cfgdesc.digest, NULL)) == 0) {
		oci_mem_source m = { cfg.data, cfg.len, 0 };
		rc = oci_target_blob_put(t, cfgdesc.digest, cfgdesc.size, oci_mem_source_read, &m);
	}
	if (rc < 0)
		goto cleanup;
	if ((rc = put_if_missing_file(t, out->layer.digest, out->layer.size, tmp)) < 0)
		goto cleanup;
	out->layer_uploaded = rc;

	oci_descriptor layer = { 0 };
	memcpy(layer.digest, out->layer.digest, OCI_DIGEST_SIZE);
	layer.size = out->layer.size;
	oci_manifest_spec spec = {
		.profile = opts->profile,
		.layer = &layer,
		.diff_id = out->layer.diff_id,
		.created = opts->created,
		.source = opts->source,
		.revision = opts->revision,
		.annotations = &ann,
	};
	for (size_t i = 0; opts->annotations && i < opts->annotations->n; i++)
		if ((rc = oci_kvlist_set(&ann, opts->annotations->items[i].key, opts->annotations->items[i].value)) < 0)
			goto cleanup;
	if ((rc = oci_limits_annotate(&ann, opts->max_entries, opts->max_size)) < 0)
		goto cleanup;
	if ((rc = oci_manifest_build(&manifest, &spec)) < 0)
		goto cleanup;
	if ((rc = oci_digest_buf(out->digest, manifest.data, manifest.len)) < 0)
		goto cleanup;
	out->manifest_size = (int64_t)manifest.len;
	const char *first = ref->tags.n ? ref->tags.items[0] : NULL;
	if ((rc = oci_target_manifest_put(t, first, OCI_MT_MANIFEST, manifest.data, manifest.len)) < 0)
		goto cleanup;
	for (size_t i = 1; i < ref->tags.n; i++)
		if ((rc = oci_target_manifest_put(t, ref->tags.items[i], OCI_MT_MANIFEST, manifest.data, manifest.len)) < 0)
			goto cleanup;
cleanup:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	oci_buf_dispose(&cfg);
	oci_buf_dispose(&manifest);
	oci_kvlist_dispose(&ann);
	oci_descriptor_dispose(&cfgdesc);
	return rc;
}
