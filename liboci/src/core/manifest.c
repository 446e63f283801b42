/* Manifests: strict parsing of manifests and indexes, and building the
 * ocisync profiles with a deterministic byte layout (so that the same
 * inputs always give the same manifest digest). */
#include "oci/manifest.h"
#include "error_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void oci_descriptor_dispose(oci_descriptor *d)
{
	if (!d)
		return;
	free(d->media_type);
	free(d->artifact_type);
	oci_kvlist_dispose(&d->annotations);
	memset(d, 0, sizeof *d);
}

int oci_descriptor_copy(oci_descriptor *dst, const oci_descriptor *src)
{
	memset(dst, 0, sizeof *dst);
	memcpy(dst->digest, src->digest, OCI_DIGEST_SIZE);
	dst->size = src->size;
	if (src->media_type && !(dst->media_type = strdup(src->media_type)))
		goto nomem;
	if (src->artifact_type && !(dst->artifact_type = strdup(src->artifact_type)))
		goto nomem;
	for (size_t i = 0; i < src->annotations.n; i++)
		if (oci_kvlist_set(&dst->annotations, src->annotations.items[i].key, src->annotations.items[i].value) < 0)
			goto nomem;
	return 0;
nomem:
	oci_descriptor_dispose(dst);
	return OCI_ENOMEM_SET();
}

void oci_manifest_free(oci_manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	free(m->artifact_type);
	oci_descriptor_dispose(&m->config);
	for (size_t i = 0; i < m->nlayers; i++)
		oci_descriptor_dispose(&m->layers[i]);
	free(m->layers);
	if (m->subject) {
		oci_descriptor_dispose(m->subject);
		free(m->subject);
	}
	oci_kvlist_dispose(&m->annotations);
	free(m);
}

static int parse_annotations(oci_kvlist *out, json_t *obj, const char *where)
{
	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return oci_error_set(OCI_EINVALID, "%s: annotations must be an object", where);
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		if (!json_is_string(v))
			return oci_error_set(OCI_EINVALID, "%s: annotation '%s' is not a string", where, k);
		if (oci_kvlist_set(out, k, json_string_value(v)) < 0)
			return OCI_ENOMEM_SET();
	}
	return 0;
}

static int parse_descriptor(oci_descriptor *d, json_t *j, const char *where)
{
	memset(d, 0, sizeof *d);
	if (!json_is_object(j))
		return oci_error_set(OCI_EINVALID, "%s is not an object", where);
	json_t *mt = json_object_get(j, "mediaType");
	json_t *dg = json_object_get(j, "digest");
	json_t *sz = json_object_get(j, "size");
	json_t *at = json_object_get(j, "artifactType");
	if (!json_is_string(mt) || !*json_string_value(mt))
		return oci_error_set(OCI_EINVALID, "%s has no mediaType", where);
	if (!json_is_string(dg))
		return oci_error_set(OCI_EINVALID, "%s has no digest", where);
	if (oci_digest_validate(json_string_value(dg)) < 0)
		return oci_error_wrap("%s", where);
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return oci_error_set(OCI_EINVALID, "%s has no valid size", where);
	if (at && !json_is_string(at))
		return oci_error_set(OCI_EINVALID, "%s: artifactType is not a string", where);
	snprintf(d->digest, sizeof d->digest, "%s", json_string_value(dg));
	d->size = json_integer_value(sz);
	if (!(d->media_type = strdup(json_string_value(mt))))
		return OCI_ENOMEM_SET();
	if (at && !(d->artifact_type = strdup(json_string_value(at))))
		return OCI_ENOMEM_SET();
	return parse_annotations(&d->annotations, json_object_get(j, "annotations"), where);
}

static int is_index_type(const char *t)
{
	return t && (!strcmp(t, OCI_MT_INDEX) || !strcmp(t, OCI_MT_DOCKER_LIST));
}

static int is_manifest_type(const char *t)
{
	return t && (!strcmp(t, OCI_MT_MANIFEST) || !strcmp(t, OCI_MT_DOCKER_MANIFEST));
}

int oci_manifest_parse(oci_manifest **out, const void *data, size_t len, const char *served_type)
{
	*out = NULL;
	if (len > OCI_MANIFEST_MAX)
		return oci_error_set(OCI_ELIMIT, "manifest of %zu bytes is over the 4 MiB limit", len);
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return oci_error_set(OCI_EINVALID, "manifest is not valid JSON: %s (line %d, column %d)",
				     jerr.text, jerr.line, jerr.column);
	int rc = 0;
	oci_manifest *m = calloc(1, sizeof *m);
	if (!m) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if (!json_is_object(root)) {
		rc = oci_error_set(OCI_EINVALID, "manifest is not a JSON object");
		goto cleanup;
	}
	json_t *sv = json_object_get(root, "schemaVersion");
	if (!json_is_integer(sv) || json_integer_value(sv) != 2) {
		rc = oci_error_set(OCI_EINVALID, "manifest schemaVersion is not 2");
		goto cleanup;
	}
	json_t *mt = json_object_get(root, "mediaType");
	const char *type = json_is_string(mt) ? json_string_value(mt) : NULL;
	if (mt && !json_is_string(mt)) {
		rc = oci_error_set(OCI_EINVALID, "manifest mediaType is not a string");
		goto cleanup;
	}
	/* The document's own mediaType wins; else the Content-Type it came
	 * with; else its shape decides. */
	if (!type && (is_index_type(served_type) || is_manifest_type(served_type)))
		type = served_type;
	if (!type)
		type = json_object_get(root, "manifests") ? OCI_MT_INDEX : OCI_MT_MANIFEST;
	if (!is_index_type(type) && !is_manifest_type(type)) {
		rc = oci_error_set(OCI_EUNSUPPORTED, "unsupported manifest media type '%s'", type);
		goto cleanup;
	}
	if (!(m->media_type = strdup(type))) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	m->is_index = is_index_type(type);
	json_t *at = json_object_get(root, "artifactType");
	if (at) {
		if (!json_is_string(at)) {
			rc = oci_error_set(OCI_EINVALID, "manifest artifactType is not a string");
			goto cleanup;
		}
		if (!(m->artifact_type = strdup(json_string_value(at)))) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
	}
	const char *list_key = m->is_index ? "manifests" : "layers";
	json_t *list = json_object_get(root, list_key);
	if (!json_is_array(list)) {
		rc = oci_error_set(OCI_EINVALID, "manifest has no '%s' array", list_key);
		goto cleanup;
	}
	if (!m->is_index) {
		json_t *cfg = json_object_get(root, "config");
		if (!cfg) {
			rc = oci_error_set(OCI_EINVALID, "manifest has no config descriptor");
			goto cleanup;
		}
		if ((rc = parse_descriptor(&m->config, cfg, "manifest config")) < 0)
			goto cleanup;
	}
	size_t n = json_array_size(list);
	if (n && !(m->layers = calloc(n, sizeof *m->layers))) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		char where[64];
		snprintf(where, sizeof where, "manifest %s[%zu]", list_key, i);
		m->nlayers = i + 1;
		if ((rc = parse_descriptor(&m->layers[i], json_array_get(list, i), where)) < 0)
			goto cleanup;
	}
	json_t *subject = json_object_get(root, "subject");
	if (subject) {
		if (!(m->subject = calloc(1, sizeof *m->subject))) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
		if ((rc = parse_descriptor(m->subject, subject, "manifest subject")) < 0)
			goto cleanup;
	}
	rc = parse_annotations(&m->annotations, json_object_get(root, "annotations"), "manifest");
cleanup:
	json_decref(root);
	if (rc < 0)
		oci_manifest_free(m);
	else
		*out = m;
	return rc;
}

int oci_created_timestamp(char out[32], const char *explicit_value)
{
	if (explicit_value) {
		/* Accept RFC 3339 as given; check its shape. */
		struct tm tm;
		memset(&tm, 0, sizeof tm);
		const char *end = strptime(explicit_value, "%Y-%m-%dT%H:%M:%S", &tm);
		if (!end || (*end != 'Z' && *end != '+' && *end != '-' && *end != '.'))
			return oci_error_set(OCI_EINVALID, "created time '%s' is not RFC 3339 (2006-01-02T15:04:05Z)",
					     explicit_value);
		snprintf(out, 32, "%s", explicit_value);
		return 0;
	}
	time_t t = time(NULL);
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end;
		long long v = strtoll(sde, &end, 10);
		if (*end || v < 0)
			return oci_error_set(OCI_EINVALID, "SOURCE_DATE_EPOCH '%s' is not a number of seconds", sde);
		t = (time_t)v;
	}
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return 0;
}

int oci_manifest_config(oci_buf *blob, oci_descriptor *desc, oci_profile profile)
{
	memset(desc, 0, sizeof *desc);
	/* Both profiles use "{}" as the config bytes: the OCI empty descriptor
	 * for portable; Flux's config media type for flux. */
	int rc = oci_buf_append(blob, "{}", 2);
	if (rc < 0)
		return rc;
	desc->media_type = strdup(profile == OCI_PROFILE_FLUX ? OCI_MT_FLUX_CONFIG : OCI_MT_EMPTY);
	if (!desc->media_type)
		return OCI_ENOMEM_SET();
	desc->size = 2;
	return oci_digest_buf(desc->digest, "{}", 2);
}

static json_t *descriptor_json(const char *mt, const char *digest, int64_t size, const oci_kvlist *ann)
{
	json_t *d = json_object();
	json_object_set_new(d, "mediaType", json_string(mt));
	json_object_set_new(d, "digest", json_string(digest));
	json_object_set_new(d, "size", json_integer(size));
	if (ann && ann->n) {
		json_t *a = json_object();
		for (size_t i = 0; i < ann->n; i++)
			json_object_set_new(a, ann->items[i].key, json_string(ann->items[i].value));
		json_object_set_new(d, "annotations", a);
	}
	return d;
}

int oci_manifest_build(oci_buf *out, const oci_manifest_spec *spec)
{
	char created[32];
	int rc = oci_created_timestamp(created, spec->created);
	if (rc < 0)
		return rc;
	oci_buf cfgblob = OCI_BUF_INIT;
	oci_descriptor cfg;
	oci_kvlist layer_ann = OCI_KVLIST_INIT, ann = OCI_KVLIST_INIT;
	json_t *root = NULL;
	char *text = NULL;
	if ((rc = oci_manifest_config(&cfgblob, &cfg, spec->profile)) < 0)
		goto cleanup;

	const int flux = spec->profile == OCI_PROFILE_FLUX;
	if (!flux) {
		/* The title only: with it ORAS saves the layer as manifests.tar.gz;
		 * ORAS's unpack annotation would make it extract into a folder of
		 * that name and refuse our entries, which sit at the tar's root. */
		if ((rc = oci_kvlist_set(&layer_ann, "org.opencontainers.image.title", "manifests.tar.gz")) < 0)
			goto cleanup;
	}
	if ((rc = oci_kvlist_set(&ann, "org.opencontainers.image.created", created)) < 0)
		goto cleanup;
	if (spec->source && (rc = oci_kvlist_set(&ann, "org.opencontainers.image.source", spec->source)) < 0)
		goto cleanup;
	if (spec->revision && (rc = oci_kvlist_set(&ann, "org.opencontainers.image.revision", spec->revision)) < 0)
		goto cleanup;
	for (size_t i = 0; spec->annotations && i < spec->annotations->n; i++)
		if ((rc = oci_kvlist_set(&ann, spec->annotations->items[i].key, spec->annotations->items[i].value)) < 0)
			goto cleanup;

	root = json_object();
	json_object_set_new(root, "schemaVersion", json_integer(2));
	json_object_set_new(root, "mediaType", json_string(OCI_MT_MANIFEST));
	if (!flux)
		json_object_set_new(root, "artifactType", json_string(OCI_ARTIFACT_TYPE));
	json_object_set_new(root, "config", descriptor_json(cfg.media_type, cfg.digest, cfg.size, NULL));
	json_t *layers = json_array();
	json_array_append_new(layers, descriptor_json(flux ? OCI_MT_FLUX_LAYER : OCI_MT_LAYER_TGZ,
						      spec->layer->digest, spec->layer->size, &layer_ann));
	json_object_set_new(root, "layers", layers);
	json_t *a = json_object();
	for (size_t i = 0; i < ann.n; i++)
		json_object_set_new(a, ann.items[i].key, json_string(ann.items[i].value));
	json_object_set_new(root, "annotations", a);
	/* Insertion order is the byte order: the digest depends only on the inputs. */
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	rc = oci_buf_append(out, text, strlen(text));
cleanup:
	free(text);
	json_decref(root);
	oci_buf_dispose(&cfgblob);
	oci_descriptor_dispose(&cfg);
	oci_kvlist_dispose(&layer_ann);
	oci_kvlist_dispose(&ann);
	return rc;
}
