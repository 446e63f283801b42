/* Dispatch from the public target API to an implementation, with the checks
 * every implementation would otherwise repeat. */
#include "target_impl.h"
#include "error_internal.h"
#include "contract.h"
#include "oci/manifest.h"
#include "fileutil.h"
#include "blob.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <stdlib.h>
#include <string.h>

int oci_client_opts_init(oci_client_opts *opts)
{
	return oci__opts_init(opts, sizeof *opts, "oci_client_opts", OCI_CLIENT_OPTS_VERSION);
}

int oci_target_open(oci_target **out, const oci_ref *ref, const oci_client_opts *opts)
{
	*out = NULL;
	if (oci__opts_check(opts, "oci_client_opts", OCI_CLIENT_OPTS_VERSION) < 0)
		return oci_error_last()->code;
	oci_target *t = calloc(1, sizeof *t);
	if (!t)
		return OCI_ENOMEM_SET();
	int rc = oci_ref_dup(&t->ref, ref);
	if (rc < 0)
		goto fail;
	if (opts)
		t->opts = *opts;
	else
		oci_client_opts_init(&t->opts);
	/* a deadline already running (a worker's copy of a target) is kept */
	if (!t->opts.deadline_ms && t->opts.timeout_ms > 0)
		t->opts.deadline_ms = oci_clock_ms() + t->opts.timeout_ms;
	rc = ref->kind == OCI_REF_LAYOUT ? oci_layout_open(t) : oci_registry_open(t);
	if (rc < 0)
		goto fail;
	*out = t;
	return 0;
fail:
	oci_ref_free(t->ref);
	free(t);
	return rc;
}

void oci_target_free(oci_target *t)
{
	if (!t)
		return;
	if (t->ops && t->ops->free)
		t->ops->free(t);
	oci_ref_free(t->ref);
	free(t);
}

void oci_target_set_timeout(oci_target *t, int64_t timeout_ms)
{
	t->opts.timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
	t->opts.deadline_ms = timeout_ms > 0 ? oci_clock_ms() + timeout_ms : 0;
}

const char *oci_target_kind(const oci_target *t) { return t->ops->kind; }
const oci_ref *oci_target_ref(const oci_target *t) { return t->ref; }

int oci_target_same_registry(const oci_target *a, const oci_target *b)
{
	return a->ref->kind == OCI_REF_REGISTRY && b->ref->kind == OCI_REF_REGISTRY &&
	       strcmp(a->ref->registry, b->ref->registry) == 0;
}

/* A reference string is a digest or a tag; reject anything else early so
 * no implementation builds a URL or path from it. */
static int check_tag_or_digest(const char *s)
{
	if (!s)
		return oci_error_set(OCI_EINVALID, "no tag or digest given");
	if (strncmp(s, "sha256:", 7) == 0 || strchr(s, ':'))
		return oci_digest_validate(s);
	return oci_tag_validate(s);
}

int oci_target_resolve(char digest[OCI_DIGEST_SIZE], char **media_type, int64_t *size,
		       oci_target *t, const char *tag_or_digest)
{
	char d[OCI_DIGEST_SIZE];
	char *mt = NULL;
	int64_t sz = -1;
	int rc = check_tag_or_digest(tag_or_digest);
	if (rc < 0)
		return rc;
	if ((rc = t->ops->resolve(t, tag_or_digest, d, &mt, &sz)) < 0)
		return rc;
	if (digest)
		memcpy(digest, d, OCI_DIGEST_SIZE);
	if (media_type)
		*media_type = mt;
	else
		free(mt);
	if (size)
		*size = sz;
	return 0;
}

int oci_target_manifest_get(oci_buf *out, char **media_type, char digest_out[OCI_DIGEST_SIZE],
			    oci_target *t, const char *tag_or_digest)
{
	char d[OCI_DIGEST_SIZE];
	char *mt = NULL;
	int rc = check_tag_or_digest(tag_or_digest);
	if (rc < 0)
		return rc;
	oci_buf b = OCI_BUF_INIT;
	if ((rc = t->ops->manifest_get(t, tag_or_digest, &b, &mt, d)) < 0) {
		oci_buf_dispose(&b);
		free(mt);
		return rc;
	}
	*out = b;
	if (digest_out)
		memcpy(digest_out, d, OCI_DIGEST_SIZE);
	if (media_type)
		*media_type = mt;
	else
		free(mt);
	return 0;
}

int oci_target_manifest_put(oci_target *t, const char *tag, const char *media_type,
			    const void *data, size_t len)
{
	int rc;
	if (tag && (rc = oci_tag_validate(tag)) < 0)
		return rc;
	if (len > OCI_MANIFEST_MAX)
		return oci_error_set(OCI_ELIMIT, "manifest of %zu bytes is over the 4 MiB limit", len);
	return t->ops->manifest_put(t, tag, media_type, data, len);
}

int oci_target_tag(oci_target *t, const char *digest, const char *tag)
{
	int rc;
	if ((rc = oci_digest_validate(digest)) < 0 || (rc = oci_tag_validate(tag)) < 0)
		return rc;
	if (t->ops->tag)
		return t->ops->tag(t, digest, tag);
	oci_buf b = OCI_BUF_INIT;
	char *mt = NULL;
	rc = oci_target_manifest_get(&b, &mt, NULL, t, digest);
	if (rc == 0)
		rc = t->ops->manifest_put(t, tag, mt, b.data, b.len);
	oci_buf_dispose(&b);
	free(mt);
	return rc;
}

int oci_target_interrupted(const oci_target *t, const char *what)
{
	if (!t->opts.cancel || !*t->opts.cancel)
		return 0;
	return oci_error_set(OCI_EINTERRUPTED, "%s: interrupted (a signal to stop); nothing was published", what);
}

int oci_target_manifest_delete(oci_target *t, const char *tag_or_digest)
{
	int rc = strncmp(tag_or_digest, "sha256:", 7) == 0 ? oci_digest_validate(tag_or_digest) : oci_tag_validate(tag_or_digest);
	if (rc < 0)
		return rc;
	if (!t->ops->manifest_delete)
		return oci_error_set(OCI_EUNSUPPORTED, "%s targets cannot delete manifests", t->ops->kind);
	return t->ops->manifest_delete(t, tag_or_digest);
}

int oci_target_blob_exists(oci_target *t, const char *digest, int64_t *size)
{
	int rc = oci_digest_validate(digest);
	if (rc < 0)
		return rc;
	return t->ops->blob_exists(t, digest, size);
}

/* The caller's progress callback as a stream's: a non-zero return from it
 * cancels the transfer (oci__progress records OCI_EINTERRUPTED). */
static int progress_cb(void *ctx, const char *what, int64_t done, int64_t total)
{
	oci_target *t = ctx;
	return oci__progress(&t->opts.callbacks, what, done, total);
}

/* Wraps in with the target's progress reporting (when asked for). */
static int with_progress(oci_istream **s, oci_target *t, const char *digest, int64_t size)
{
	if (!t->opts.callbacks.progress)
		return 0;
	return oci_istream_progress(s, *s, progress_cb, t, digest, size);
}

int oci_target_blob_open(oci_istream **out, oci_target *t, const char *digest, int64_t size)
{
	oci_istream *s = NULL;
	int rc = oci_digest_validate(digest);
	if (rc < 0 || (rc = t->ops->blob_open(t, digest, size, &s)) < 0 ||
	    (rc = oci_istream_verify(&s, s, size, digest, "blob")) < 0 || (rc = with_progress(&s, t, digest, size)) < 0)
		return rc;
	*out = s;
	return 0;
}

int oci_target_blob_failed(oci_istream *blob, int rc, const char *digest)
{
	if (!blob->err && (rc == OCI_EINVALID || rc == OCI_ELIMIT || rc == OCI_EUNSAFE)) {
		oci__error_saved saved;
		oci__error_save(&saved);
		if (oci_istream_pump(blob, NULL, NULL) != OCI_EDIGEST)
			return oci__error_restore(&saved);
	}
	/* the stream's own failure (network, digest) is what went wrong */
	if (blob->err) {
		rc = oci_istream_error(blob);
		oci_error_wrap("downloading layer %s", digest);
	}
	return rc;
}

int oci_target_blob_get(oci_target *t, const char *digest, int64_t size, oci_write_fn sink, void *sink_ctx)
{
	oci_istream *s;
	int rc = oci_target_blob_open(&s, t, digest, size);
	if (rc < 0)
		return rc;
	rc = oci_istream_pump(s, sink, sink_ctx);
	oci_istream_close(s);
	return rc;
}

int oci_target_blob_put(oci_target *t, const char *digest, int64_t size, oci_read_fn source, void *source_ctx)
{
	int rc = oci_digest_validate(digest);
	if (rc < 0)
		return rc;
	if (t->ops->put_progress)
		return t->ops->blob_put(t, digest, size, source, source_ctx);
	oci_istream *s;
	if ((rc = oci_istream_fn(&s, source, source_ctx)) < 0 || (rc = with_progress(&s, t, digest, size)) < 0)
		return rc;
	rc = t->ops->blob_put(t, digest, size, oci_istream_source, s);
	oci_istream_close(s);
	return rc;
}

int oci_target_blob_put_file(oci_target *t, const char *digest, int64_t size, const char *path)
{
	int rc = oci_digest_validate(digest);
	if (rc < 0)
		return rc;
	if (t->ops->blob_put_file)
		return t->ops->blob_put_file(t, digest, size, path);
	oci_istream *s;
	if ((rc = oci_istream_file(&s, path)) < 0)
		return rc;
	rc = oci_target_blob_put(t, digest, size, oci_istream_source, s);
	oci_istream_close(s);
	return rc;
}

int oci_target_blob_mount(oci_target *t, const char *digest, const oci_target *from)
{
	if (!t->ops->blob_mount || !oci_target_same_registry(t, from))
		return 0;
	return t->ops->blob_mount(t, digest, from);
}

int oci_target_tags(oci_strlist *out, oci_target *t)
{
	oci_strlist l = OCI_STRLIST_INIT;
	int rc = t->ops->tags(t, &l);
	if (rc < 0) {
		oci_strlist_dispose(&l);
		return rc;
	}
	*out = l;
	return 0;
}
