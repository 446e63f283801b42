/* OCI 1.1 referrers on both targets (see oci/referrers.h). The rules
 * followed are distribution-spec v1.1's "Listing Referrers", "Pushing
 * Manifests with Subject" and "Referrers Tag Schema"
 * (https://github.com/opencontainers/distribution-spec/blob/main/spec.md). */
#include "target_impl.h"
#include "error_internal.h"
#include "oci/manifest.h"
#include "oci/referrers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A referrers index larger than this many entries is refused (a hostile tag
 * cannot make us fetch without end). */
#define REFERRERS_MAX 10000
/* Read-merge-write rounds before giving up on a tag others keep changing. */
#define UPDATE_TRIES 8

int oci_referrers_tag(char **out, const char *digest)
{
	int rc = oci_digest_validate(digest);
	if (rc < 0)
		return rc;
	/* sha256:<64 hex> -> sha256-<64 hex>: nothing to truncate or replace. */
	if (asprintf(out, "sha256-%s", digest + 7) < 0) {
		*out = NULL;
		return OCI_ENOMEM_SET();
	}
	return 0;
}

void oci_referrers_dispose(oci_referrers *r)
{
	for (size_t i = 0; r && i < r->n; i++) {
		free(r->items[i].media_type);
		free(r->items[i].artifact_type);
		oci_kvlist_dispose(&r->items[i].annotations);
	}
	if (r) {
		free(r->items);
		r->items = NULL;
		r->n = 0;
	}
}

/* Appends one descriptor of a referrers index; malformed ones are skipped
 * (another tool's entry is not ours to judge), a wrong type is filtered. */
static int add_descriptor(oci_referrers *out, json_t *d, const char *artifact_type)
{
	const char *digest = json_string_value(json_object_get(d, "digest"));
	const char *mt = json_string_value(json_object_get(d, "mediaType"));
	const char *at = json_string_value(json_object_get(d, "artifactType"));
	json_t *size = json_object_get(d, "size");
	if (!digest || oci_digest_validate(digest) < 0 || !mt || !json_is_integer(size) ||
	    json_integer_value(size) < 0) {
		oci_error_clear();
		return 0;
	}
	if (artifact_type && (!at || strcmp(at, artifact_type) != 0))
		return 0;
	for (size_t i = 0; i < out->n; i++)
		if (strcmp(out->items[i].digest, digest) == 0)
			return 0; /* listed twice (pages, or API + tag): once */
	if (out->n >= REFERRERS_MAX)
		return oci_error_set(OCI_ELIMIT, "more than %d referrers", REFERRERS_MAX);
	oci_referrer *items = realloc(out->items, (out->n + 1) * sizeof *items);
	if (!items)
		return OCI_ENOMEM_SET();
	out->items = items;
	oci_referrer *r = &items[out->n];
	memset(r, 0, sizeof *r);
	snprintf(r->digest, sizeof r->digest, "%s", digest);
	r->media_type = strdup(mt);
	r->artifact_type = at ? strdup(at) : NULL;
	r->size = json_integer_value(size);
	out->n++;
	if (!r->media_type || (at && !r->artifact_type))
		return OCI_ENOMEM_SET();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(d, "annotations"), k, v) {
		if (json_is_string(v) && oci_kvlist_set(&r->annotations, k, json_string_value(v)) < 0)
			return OCI_ENOMEM_SET();
	}
	return 0;
}

/* Reads the referrers tag: *index_out the parsed index (an empty one when
 * the tag does not exist), digest_out its digest ("" when absent). */
static int read_tag_index(json_t **index_out, char digest_out[OCI_DIGEST_SIZE], oci_target *t, const char *tag)
{
	oci_buf b = OCI_BUF_INIT;
	char *mt = NULL;
	json_t *root = NULL;
	digest_out[0] = '\0';
	int rc = oci_target_manifest_get(&b, &mt, digest_out, t, tag);
	if (rc == OCI_ENOTFOUND) {
		oci_error_clear();
		digest_out[0] = '\0';
		*index_out = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests");
		return *index_out ? 0 : OCI_ENOMEM_SET();
	}
	if (rc < 0)
		return oci_error_wrap("reading the referrers tag %s", tag);
	json_error_t jerr;
	root = json_loadb(b.data ? b.data : "", b.len, 0, &jerr);
	const char *declared = json_string_value(json_object_get(root, "mediaType"));
	if (!json_is_object(root) || !json_is_array(json_object_get(root, "manifests")) ||
	    (declared && strcmp(declared, OCI_MT_INDEX) != 0) || (mt && strcmp(mt, OCI_MT_INDEX) != 0)) {
		/* The spec: "If that pull returns a manifest other than the
		 * expected image index, the client SHOULD report a failure". */
		rc = oci_error_set(OCI_EINVALID, "the referrers tag %s holds %s, not an image index", tag,
				   declared ? declared : mt ? mt : "something else");
		json_decref(root);
		root = NULL;
	}
	free(mt);
	oci_buf_dispose(&b);
	*index_out = root;
	return rc;
}

int oci_referrers_list(oci_referrers *out, oci_target *t, const char *digest, const char *artifact_type)
{
	json_t *arr = NULL, *index = NULL;
	char *tag = NULL;
	char tag_digest[OCI_DIGEST_SIZE];
	int filtered = 0, rc;
	memset(out, 0, sizeof *out);
	if ((rc = oci_referrers_tag(&tag, digest)) < 0)
		return rc;
	if (t->ops->referrers) {
		if (!(arr = json_array())) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
		rc = t->ops->referrers(t, digest, artifact_type, arr, &filtered);
		if (rc == 0) {
			out->via_api = 1;
			size_t i;
			json_t *d;
			json_array_foreach(arr, i, d) {
				if ((rc = add_descriptor(out, d, filtered ? NULL : artifact_type)) < 0)
					goto cleanup;
			}
			goto cleanup;
		}
		if (rc != OCI_EUNSUPPORTED)
			goto cleanup;
		oci_error_clear();
	}
	if ((rc = read_tag_index(&index, tag_digest, t, tag)) < 0)
		goto cleanup;
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(index, "manifests"), i, d) {
		if ((rc = add_descriptor(out, d, artifact_type)) < 0)
			goto cleanup;
	}
cleanup:
	if (rc < 0)
		oci_referrers_dispose(out);
	json_decref(arr);
	json_decref(index);
	free(tag);
	return rc;
}

/* The descriptor the referrers index lists for a manifest. */
static int referrer_descriptor(json_t **out, json_t *manifest, const char *media_type, const char *digest, size_t len)
{
	const char *at = json_string_value(json_object_get(manifest, "artifactType"));
	if (!at || !*at)
		at = json_string_value(json_object_get(json_object_get(manifest, "config"), "mediaType"));
	json_t *d = json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size", (json_int_t)len);
	if (!d)
		return OCI_ENOMEM_SET();
	if (at && json_object_set_new(d, "artifactType", json_string(at)) < 0) {
		json_decref(d);
		return OCI_ENOMEM_SET();
	}
	json_t *ann = json_object_get(manifest, "annotations");
	if (json_is_object(ann) && json_object_size(ann) &&
	    json_object_set_new(d, "annotations", json_deep_copy(ann)) < 0) {
		json_decref(d);
		return OCI_ENOMEM_SET();
	}
	*out = d;
	return 0;
}

static int index_lists(json_t *index, const char *digest)
{
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(index, "manifests"), i, d) {
		const char *x = json_string_value(json_object_get(d, "digest"));
		if (x && strcmp(x, digest) == 0)
			return 1;
	}
	return 0;
}

struct tag_update {
	oci_target *t;
	const char *tag;
	json_t *desc;
	const char *digest;
	int unconditional; /* the registry refused a condition it should have met */
};

/* The digest the tag holds now ("" when it does not exist). */
static int tag_digest(char out[OCI_DIGEST_SIZE], oci_target *t, const char *tag)
{
	int rc = oci_target_resolve(out, NULL, NULL, t, tag);
	if (rc == OCI_ENOTFOUND) {
		oci_error_clear();
		out[0] = '\0';
		rc = 0;
	}
	return rc;
}

/* Read, merge, re-check, write, confirm: a writer that changed the tag in
 * between is seen (its entries merged on the next round), never overwritten
 * with an older list. Registries without conditional PUT leave a window
 * between the re-check and the write; the confirmation read closes it for
 * our own entry, and the retry re-merges. */
static int update_tag(void *ctx)
{
	struct tag_update *u = ctx;
	for (int attempt = 0; attempt < UPDATE_TRIES; attempt++) {
		json_t *index = NULL;
		char before[OCI_DIGEST_SIZE], now[OCI_DIGEST_SIZE];
		char *text = NULL;
		int rc = read_tag_index(&index, before, u->t, u->tag);
		if (rc < 0)
			return rc;
		if (index_lists(index, u->digest)) {
			json_decref(index);
			return 0; /* "duplicate entries SHOULD NOT be created" */
		}
		json_t *manifests = json_object_get(index, "manifests");
		if (json_array_size(manifests) >= REFERRERS_MAX) {
			json_decref(index);
			return oci_error_set(OCI_ELIMIT, "the referrers tag %s already lists %d referrers", u->tag,
					     REFERRERS_MAX);
		}
		if (json_array_append(manifests, u->desc) < 0 ||
		    !(text = json_dumps(index, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
			json_decref(index);
			return OCI_ENOMEM_SET();
		}
		json_decref(index);
		/* Changed since it was read? Merge again from what is there now. */
		rc = tag_digest(now, u->t, u->tag);
		if (rc < 0 || strcmp(now, before) != 0) {
			free(text);
			if (rc < 0)
				return oci_error_wrap("reading the referrers tag %s", u->tag);
			continue;
		}
		rc = u->t->ops->manifest_put_if && !u->unconditional
			     ? u->t->ops->manifest_put_if(u->t, u->tag, OCI_MT_INDEX, text, strlen(text), before)
			     : oci_target_manifest_put(u->t, u->tag, OCI_MT_INDEX, text, strlen(text));
		if (rc == OCI_EEXISTS) {
			/* Changed between the re-check and the write: merge again.
			 * Unchanged after all means the registry's conditions cannot
			 * be relied on (an ETag it does not match itself): write
			 * without them from now on. */
			oci_error_clear();
			rc = tag_digest(now, u->t, u->tag);
			if (rc == 0 && strcmp(now, before) == 0)
				u->unconditional = 1;
			free(text);
			if (rc < 0)
				return oci_error_wrap("reading the referrers tag %s", u->tag);
			continue;
		}
		free(text);
		if (rc < 0)
			return oci_error_wrap("writing the referrers tag %s", u->tag);
		/* Confirm: a concurrent writer may have replaced it meanwhile. */
		if ((rc = read_tag_index(&index, now, u->t, u->tag)) < 0)
			return rc;
		int listed = index_lists(index, u->digest);
		json_decref(index);
		if (listed)
			return 0;
	}
	return oci_error_set(OCI_ERROR, "the referrers tag %s kept changing under other writers; gave up after %d tries",
			     u->tag, UPDATE_TRIES);
}

int oci_referrers_names_subject(const void *data, size_t len, const char *subject_digest)
{
	json_error_t jerr;
	json_t *m = json_loadb(data, len, 0, &jerr);
	const char *subj = json_string_value(json_object_get(json_object_get(m, "subject"), "digest"));
	int yes = subj && strcmp(subj, subject_digest) == 0;
	json_decref(m);
	return yes;
}

int oci_referrers_put(oci_target *t, const char *subject_digest, const char *media_type, const void *data,
		      size_t len)
{
	char digest[OCI_DIGEST_SIZE];
	char *tag = NULL;
	json_t *manifest = NULL, *desc = NULL;
	json_error_t jerr;
	int rc;
	if ((rc = oci_referrers_tag(&tag, subject_digest)) < 0 || (rc = oci_digest_buf(digest, data, len)) < 0)
		goto cleanup;
	manifest = json_loadb(data, len, 0, &jerr);
	const char *subj = json_string_value(json_object_get(json_object_get(manifest, "subject"), "digest"));
	if (!subj || strcmp(subj, subject_digest) != 0) {
		rc = oci_error_set(OCI_EINVALID, "manifest %s does not name %s as its subject", digest, subject_digest);
		goto cleanup;
	}
	if ((rc = oci_target_manifest_put(t, NULL, media_type, data, len)) < 0)
		goto cleanup;
	if (t->ops->subject_acked && t->ops->subject_acked(t, subject_digest))
		goto cleanup; /* the registry lists it in its referrers API */
	if ((rc = referrer_descriptor(&desc, manifest, media_type, digest, len)) < 0)
		goto cleanup;
	struct tag_update u = { t, tag, desc, digest, 0 };
	rc = t->ops->locked ? t->ops->locked(t, update_tag, &u) : update_tag(&u);
cleanup:
	json_decref(manifest);
	json_decref(desc);
	free(tag);
	return rc;
}
