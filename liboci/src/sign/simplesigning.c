/* cosign's simple-signing payload and the shape of its signature image
 * (the ".sig" manifest and its config), built and checked here. */
#include "sign_internal.h"
#include "error_internal.h"
#include "oci/manifest.h"

#include <stdlib.h>
#include <string.h>

int oci_simplesigning_build(oci_buf *out, const char *docker_reference, const char *digest,
			    const oci_kvlist *annotations)
{
	int rc = oci_digest_validate(digest);
	if (rc < 0)
		return rc;
	json_t *optional = json_null();
	if (annotations && annotations->n) {
		optional = json_object();
		for (size_t i = 0; optional && i < annotations->n; i++)
			if (json_object_set_new(optional, annotations->items[i].key,
						json_string(annotations->items[i].value)) < 0) {
				json_decref(optional);
				return oci_error_set(OCI_EINVALID, "annotation %s=%s is not valid UTF-8",
						     annotations->items[i].key, annotations->items[i].value);
			}
	}
	json_t *root = json_pack("{s:{s:{s:s}, s:{s:s}, s:s}, s:o}", "critical", "identity", "docker-reference",
				 docker_reference, "image", "docker-manifest-digest", digest, "type",
				 OCI_COSIGN_PAYLOAD_TYPE, "optional", optional);
	if (!root)
		return oci_error_set(OCI_EINVALID, "docker reference %s is not valid UTF-8", docker_reference);
	/* Sorted keys give exactly Go's encoding/json output for cosign's
	 * structs (whose fields are in alphabetical order) and its map. */
	char *s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	if (!s)
		return OCI_ENOMEM_SET();
	rc = oci_buf_append(out, s, strlen(s));
	free(s);
	return rc;
}

int oci_simplesigning_check(const void *payload, size_t len, const char *digest, const oci_kvlist *annotations)
{
	json_error_t jerr;
	int rc = 0;
	json_t *root = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *critical = json_object_get(root, "critical");
	json_t *image = json_object_get(critical, "image");
	json_t *jd = json_object_get(image, "docker-manifest-digest");
	json_t *jt = json_object_get(critical, "type");
	json_t *optional = json_object_get(root, "optional");
	if (!json_is_object(root)) {
		rc = oci_error_set(OCI_EVERIFY, "payload is not a JSON object%s%s", root ? "" : ": ",
				   root ? "" : jerr.text);
		goto cleanup;
	}
	if (!json_is_string(jd)) {
		rc = oci_error_set(OCI_EVERIFY, "payload names no critical.image.docker-manifest-digest");
		goto cleanup;
	}
	if (strcmp(json_string_value(jd), digest) != 0) {
		rc = oci_error_set(OCI_EVERIFY, "payload names digest %.80s, not %s", json_string_value(jd), digest);
		goto cleanup;
	}
	if (!json_is_string(jt) || strcmp(json_string_value(jt), OCI_COSIGN_PAYLOAD_TYPE) != 0) {
		rc = oci_error_set(OCI_EVERIFY, "payload type is '%.80s', not '" OCI_COSIGN_PAYLOAD_TYPE "'",
				   json_is_string(jt) ? json_string_value(jt) : "(none)");
		goto cleanup;
	}
	for (size_t i = 0; annotations && i < annotations->n; i++) {
		json_t *v = json_is_object(optional) ? json_object_get(optional, annotations->items[i].key) : NULL;
		if (!json_is_string(v) || strcmp(json_string_value(v), annotations->items[i].value) != 0) {
			rc = oci_error_set(OCI_EVERIFY, "annotation %s=%s missing", annotations->items[i].key,
					   annotations->items[i].value);
			goto cleanup;
		}
	}
cleanup:
	json_decref(root);
	return rc;
}

int oci_cosign_sig_config(oci_buf *out, json_t *layers)
{
	json_t *history = json_array(), *diff_ids = json_array();
	size_t i;
	json_t *layer;
	json_array_foreach(layers, i, layer) {
		json_array_append_new(history, json_pack("{s:s}", "created", OCI_COSIGN_ZERO_TIME));
		json_array_append(diff_ids, json_object_get(layer, "digest"));
	}
	/* go-containerregistry's ConfigFile field order; empty fields omitted as it omits them. */
	json_t *cfg = json_pack("{s:s, s:s, s:o, s:s, s:{s:s, s:o}, s:{}}", "architecture", "", "created",
				OCI_COSIGN_ZERO_TIME, "history", history, "os", "", "rootfs", "type", "layers",
				"diff_ids", diff_ids, "config");
	if (!cfg)
		return OCI_ENOMEM_SET();
	char *s = json_dumps(cfg, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(cfg);
	if (!s)
		return OCI_ENOMEM_SET();
	int rc = oci_buf_append(out, s, strlen(s));
	free(s);
	return rc;
}

int oci_cosign_sig_manifest_parse(json_t **out, const void *data, size_t len, const char *tag)
{
	json_error_t jerr;
	*out = NULL;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *why = NULL;
	if (!root)
		why = jerr.text;
	else if (!json_is_object(root))
		why = "not a JSON object";
	else if (json_is_string(json_object_get(root, "mediaType")) &&
		 strcmp(json_string_value(json_object_get(root, "mediaType")), OCI_MT_MANIFEST) != 0 &&
		 strcmp(json_string_value(json_object_get(root, "mediaType")), OCI_MT_DOCKER_MANIFEST) != 0)
		why = "its media type is not an image manifest";
	else if (json_object_get(root, "manifests"))
		why = "it is an index, not a manifest";
	else if (!json_is_array(json_object_get(root, "layers")))
		why = "it has no \"layers\" array";
	else if (!json_is_object(json_object_get(root, "config")))
		why = "it has no \"config\" descriptor";
	if (why) {
		int rc = oci_error_set(OCI_EVERIFY, ".sig manifest %s is not valid: %s", tag, why);
		json_decref(root);
		return rc;
	}
	*out = root;
	return 0;
}
