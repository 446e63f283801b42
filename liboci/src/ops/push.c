/* push: pack once into a temporary file (both digests from that one pass),
 * upload the blobs the target lacks, then the manifest under each tag. */
#include "oci/push.h"
#include "oci/extract.h"
#include "oci/resolve.h"
#include "error_internal.h"
#include "contract.h"
#include "fileutil.h"
#include "target_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *tmp_dir(void)
{
	const char *d = getenv("TMPDIR");
	return d && *d ? d : "/tmp";
}

/* Finishes the lint (when a policy was given), refuses on an error
 * finding, and builds the manifest's annotations: the caller's, then what
 * was checked. */
static int policy_gate(oci_push_result *out, oci_kvlist *ann, oci_lint *lint, const oci_push_opts *opts)
{
	int rc;
	const oci_kvlist *user = opts->annotations;
	for (size_t i = 0; user && i < user->n; i++)
		if ((rc = oci_kvlist_set(ann, user->items[i].key, user->items[i].value)) < 0)
			return rc;
	if (!lint)
		return oci_kvlist_set(ann, OCI_ANNOTATION_POLICY, "skipped");
	if ((rc = oci_lint_finish(&out->lint, lint)) < 0)
		return rc;
	out->policy_checked = 1;
	if (out->lint.errors)
		return oci_error_set(OCI_EPOLICY, "%zu policy error%s in what would be pushed; nothing was uploaded",
				     out->lint.errors, out->lint.errors == 1 ? "" : "s");
	char digest[OCI_DIGEST_SIZE], counts[64];
	oci_lint_policy_digest(digest, opts->policy);
	snprintf(counts, sizeof counts, "{\"error\":%zu,\"warning\":%zu}", out->lint.errors, out->lint.warnings);
	if ((rc = oci_kvlist_set(ann, OCI_ANNOTATION_POLICY, digest)) < 0 ||
	    (rc = oci_kvlist_set(ann, OCI_ANNOTATION_POLICY_FINDINGS, counts)) < 0)
		return rc;
	return 0;
}

/* The packer's output, with the caller's stop flag checked at every block:
 * packing a large tree is long local work no transfer callback watches. */
struct stoppable_sink {
	struct oci_fd_sink *fd;
	const oci_target *t;
};

static int stoppable_sink_write(void *ctx, const void *buf, size_t len)
{
	struct stoppable_sink *s = ctx;
	int rc = oci_target_interrupted(s->t, "packing");
	return rc < 0 ? rc : oci_fd_sink_write(s->fd, buf, len);
}

void oci_push_result_dispose(oci_push_result *r)
{
	if (r)
		oci_lint_report_dispose(&r->lint);
}

int oci_push_opts_init(oci_push_opts *opts)
{
	return oci__opts_init(opts, sizeof *opts, "oci_push_opts", OCI_PUSH_OPTS_VERSION);
}

int oci_push(oci_push_result *out, oci_target *t, const char *path, const oci_push_opts *opts)
{
	oci_push_opts defaults;
	memset(out, 0, sizeof *out);
	if (oci__opts_check(opts, "oci_push_opts", OCI_PUSH_OPTS_VERSION) < 0)
		return oci_error_last()->code;
	if (!opts && oci_push_opts_init(&defaults) == 0)
		opts = &defaults;
	char *tmp = NULL;
	int fd = -1, rc, named = 0;
	oci_buf cfg = OCI_BUF_INIT, manifest = OCI_BUF_INIT;
	oci_descriptor cfgdesc = { 0 };
	oci_kvlist annotations = OCI_KVLIST_INIT;
	oci_lint *lint = NULL;
	const oci_ref *ref = oci_target_ref(t);

	/* The packed layer: anonymous where possible, so a killed push leaves
	 * nothing; what killed pushes left under a name goes now. */
	oci_tmp_sweep(tmp_dir(), "ocisync-layer");
	if ((rc = oci_tmp_file(&fd, &tmp, &named, tmp_dir(), "ocisync-layer")) < 0)
		goto cleanup;
	oci_pack_opts popts;
	oci_pack_opts_init(&popts);
	popts.ignore = opts->ignore;
	if (opts->policy) {
		/* linted from the packer's own reads: the bytes checked are the bytes shipped */
		if ((rc = oci_lint_new(&lint, opts->policy)) < 0)
			goto cleanup;
		popts.file_fn = oci_lint_feed;
		popts.file_ctx = lint;
	}
	popts.max_entries = opts->max_entries;
	popts.max_size = opts->max_size;
	popts.refuse_empty = !opts->allow_empty;
	struct oci_fd_sink sink = { fd, tmp };
	struct stoppable_sink stoppable = { &sink, t };
	if ((rc = oci_bundle_pack(&out->layer, path, &popts, stoppable_sink_write, &stoppable)) < 0)
		goto cleanup;
	/* kept open: an anonymous file lives as long as its descriptor */
	if ((rc = policy_gate(out, &annotations, lint, opts)) < 0)
		goto cleanup;

	/* Blobs first, manifest last: a registry refuses (and a reader must
	 * never see) a manifest whose blobs are missing. */
	if ((rc = oci_manifest_config(&cfg, &cfgdesc, opts->profile)) < 0)
		goto cleanup;
	/* Layer first: when the target has it (a re-push), it most likely has
	 * the config too, and one HEAD each settles it. When the layer is new,
	 * the config (a few bytes) goes up without asking: where the registry
	 * takes a single-request upload that costs what the HEAD would, and it
	 * tells the registry code whether the layer can go up in one request
	 * too. A first push: HEAD, POST, POST, PUT manifest. */
	int have_layer = oci_target_blob_exists(t, out->layer.digest, NULL);
	if ((rc = have_layer) < 0)
		goto cleanup;
	if (!have_layer || (rc = oci_target_blob_exists(t, cfgdesc.digest, NULL)) == 0) {
		oci_mem_source m = { cfg.data, cfg.len, 0 };
		rc = oci_target_blob_put(t, cfgdesc.digest, cfgdesc.size, oci_mem_source_read, &m);
	}
	if (rc < 0)
		goto cleanup;
	if (!have_layer && (rc = oci_target_blob_put_file(t, out->layer.digest, out->layer.size, tmp)) < 0)
		goto cleanup;
	out->layer_uploaded = !have_layer;

	oci_descriptor layer = { 0 };
	memcpy(layer.digest, out->layer.digest, OCI_DIGEST_SIZE);
	layer.size = out->layer.size;
	oci_manifest_spec spec = {
		.profile = opts->profile,
		.layer = &layer,
		.created = opts->created,
		.source = opts->source,
		.revision = opts->revision,
		.annotations = &annotations,
	};
	/* the limits the tree was packed under, when not the defaults */
	if ((rc = oci_limits_annotate(&annotations, opts->max_entries, opts->max_size)) < 0)
		goto cleanup;
	if ((rc = oci_manifest_build(&manifest, &spec)) < 0)
		goto cleanup;
	if ((rc = oci_digest_buf(out->digest, manifest.data, manifest.len)) < 0)
		goto cleanup;
	out->manifest_size = (int64_t)manifest.len;
	/* no tag: "latest", the tag sync, pull and docker read from such a reference */
	const char *first = ref->tags.n ? ref->tags.items[0] : "latest";
	if ((rc = oci_target_manifest_put(t, first, OCI_MT_MANIFEST, manifest.data, manifest.len)) < 0)
		goto cleanup;
	for (size_t i = 1; i < ref->tags.n; i++)
		if ((rc = oci_target_manifest_put(t, ref->tags.items[i], OCI_MT_MANIFEST, manifest.data, manifest.len)) < 0)
			goto cleanup;
cleanup:
	if (tmp && named)
		unlink(tmp);
	if (fd >= 0)
		close(fd);
	free(tmp);
	oci_lint_free(lint);
	oci_kvlist_dispose(&annotations);
	oci_buf_dispose(&cfg);
	oci_buf_dispose(&manifest);
	oci_descriptor_dispose(&cfgdesc);
	return rc;
}
