/* Keyed signing as cosign stores it: the payload blob, a config blob and the
 * "sha256-<hex>.sig" manifest with one layer per signature, all written
 * through the target API so registries and oci-layout directories behave
 * the same. */
#include "key_internal.h"
#include "sign_internal.h"
#include "dockerhub.h"
#include "error_internal.h"
#include "oci/manifest.h"
#include "oci/resolve.h"
#include "oci/pull.h"

#include <stdlib.h>
#include <string.h>


/* A layout's signed identity is its name -- the last component of its
 * path, as a repository name is the last part of a registry reference --
 * never the path itself: a signature must not record where this machine
 * keeps the layout, and must mean the same after the layout is copied.
 * Verification never compares it (cosign's claim check does not either:
 * the digest and annotations are what is verified). */
static int layout_name(char **out, const char *path)
{
	char *copy = strdup(path), *real = NULL;
	if (!copy)
		return OCI_ENOMEM_SET();
	size_t n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	const char *base = strrchr(copy, '/') ? strrchr(copy, '/') + 1 : copy;
	/* ".", ".." or "/": the name of the directory they stand for. */
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		if ((real = realpath(copy, NULL)) && strrchr(real, '/'))
			base = strrchr(real, '/') + 1;
		if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
			base = "oci-layout";
	}
	*out = strdup(base);
	free(copy);
	free(real);
	return *out ? 0 : OCI_ENOMEM_SET();
}

int oci_sign_docker_reference(char **out, const oci_target *t)
{
	const oci_ref *ref = oci_target_ref(t);
	/* go-containerregistry names Docker Hub "index.docker.io", and cosign
	 * writes that name into its payloads. */
	if (ref->kind == OCI_REF_REGISTRY && oci_dockerhub_is(ref->registry)) {
		if (asprintf(out, "%s/%s", OCI_DOCKERHUB_SIGN_NAME, ref->repository) < 0) {
			*out = NULL;
			return OCI_ENOMEM_SET();
		}
		return 0;
	}
	if (ref->kind == OCI_REF_LAYOUT)
		return layout_name(out, ref->path);
	return oci_ref_format_repo(out, ref);
}

static int put_blob(oci_target *t, const char *digest, const oci_buf *b, const char *what)
{
	int rc = oci_target_blob_exists(t, digest, NULL);
	if (rc > 0)
		return 0;
	if (rc == 0) {
		oci_mem_source m = { b->data, b->len, 0 };
		rc = oci_target_blob_put(t, digest, (int64_t)b->len, oci_mem_source_read, &m);
	}
	return rc < 0 ? oci_error_wrap("uploading the %s %s", what, digest) : 0;
}

/* cosign's duplicate check: a layer with the same payload whose signature
 * verifies with this key means the digest is already signed with it. */
static int already_signed(json_t *layers, const char *payload_digest, const oci_key *key, const oci_buf *payload)
{
	size_t i;
	json_t *layer;
	json_array_foreach(layers, i, layer) {
		const char *d = json_string_value(json_object_get(layer, "digest"));
		const char *sig = json_string_value(
			json_object_get(json_object_get(layer, "annotations"), OCI_COSIGN_SIGNATURE_ANNOTATION));
		if (!d || !sig || strcmp(d, payload_digest) != 0)
			continue;
		unsigned char *der = NULL;
		size_t der_len = 0;
		if (oci_cosign_b64_decode(&der, &der_len, sig, strlen(sig), "signature") < 0)
			continue;
		int ok = oci_key_verify(key, payload->data, payload->len, der, der_len) == 0;
		free(der);
		if (ok)
			return 1;
	}
	oci_error_clear();
	return 0;
}

int oci_sign_digest_ex(int *added, oci_target *t, const char *digest, const oci_key *key,
		       const oci_kvlist *annotations)
{
	oci_buf payload = OCI_BUF_INIT, sig = OCI_BUF_INIT, config = OCI_BUF_INIT, existing = OCI_BUF_INIT;
	char *dref = NULL, *tag = NULL, *sig_b64 = NULL, *manifest = NULL;
	char payload_digest[OCI_DIGEST_SIZE], config_digest[OCI_DIGEST_SIZE];
	json_t *root = NULL;
	int rc;

	if (added)
		*added = 0;
	if ((rc = oci_digest_validate(digest)) < 0)
		return rc;
	if (!oci_key_has_private(key))
		return oci_error_set(OCI_EINVALID, "signing %s needs a private key", digest);
	if ((rc = oci_sign_docker_reference(&dref, t)) < 0 ||
	    (rc = oci_simplesigning_build(&payload, dref, digest, annotations)) < 0 ||
	    (rc = oci_digest_buf(payload_digest, payload.data, payload.len)) < 0 ||
	    (rc = oci_signature_tag(&tag, digest)) < 0)
		goto cleanup;

	/* The signatures already there are kept: a new one is one more layer. */
	rc = oci_target_manifest_get(&existing, NULL, NULL, t, tag);
	if (rc == OCI_ENOTFOUND) {
		oci_error_clear();
		root = json_pack("{s:i, s:s, s:{}, s:[]}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST,
				 "config", "layers");
		if (!root) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
	} else if (rc < 0) {
		oci_error_wrap("reading the existing signatures of %s (%s)", digest, tag);
		goto cleanup;
	} else if ((rc = oci_cosign_sig_manifest_parse(&root, existing.data, existing.len, tag)) < 0) {
		oci_error_wrap("not signing %s, to keep its existing signatures", digest);
		rc = OCI_EINVALID;
		goto cleanup;
	}
	json_t *layers = json_object_get(root, "layers");
	if (already_signed(layers, payload_digest, key, &payload)) {
		rc = 0;
		goto cleanup;
	}

	if ((rc = oci_key_sign(&sig, key, payload.data, payload.len)) < 0 ||
	    (rc = oci_cosign_b64_encode(&sig_b64, sig.data, sig.len)) < 0)
		goto cleanup;
	json_t *layer = json_pack("{s:s, s:I, s:s, s:{s:s}}", "mediaType", OCI_MT_COSIGN_SIMPLESIGNING, "size",
				  (json_int_t)payload.len, "digest", payload_digest, "annotations",
				  OCI_COSIGN_SIGNATURE_ANNOTATION, sig_b64);
	if (!layer || json_array_append_new(layers, layer) < 0) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if ((rc = oci_cosign_sig_config(&config, layers)) < 0 ||
	    (rc = oci_digest_buf(config_digest, config.data, config.len)) < 0)
		goto cleanup;
	json_t *cdesc = json_pack("{s:s, s:I, s:s}", "mediaType", OCI_MT_IMAGE_CONFIG, "size",
				  (json_int_t)config.len, "digest", config_digest);
	if (!cdesc || json_object_set_new(root, "config", cdesc) < 0) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if (!(manifest = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	const char *mt = json_string_value(json_object_get(root, "mediaType"));
	if ((rc = put_blob(t, payload_digest, &payload, "signature payload")) < 0 ||
	    (rc = put_blob(t, config_digest, &config, "signature config")) < 0)
		goto cleanup;
	if ((rc = oci_target_manifest_put(t, tag, mt ? mt : OCI_MT_MANIFEST, manifest, strlen(manifest))) < 0) {
		oci_error_wrap("storing the signature manifest %s", tag);
		goto cleanup;
	}
	if (added)
		*added = 1;
cleanup:
	json_decref(root);
	free(dref);
	free(tag);
	free(sig_b64);
	free(manifest);
	oci_buf_dispose(&payload);
	oci_buf_dispose(&sig);
	oci_buf_dispose(&config);
	oci_buf_dispose(&existing);
	return rc;
}

int oci_sign_digest(oci_target *t, const char *digest, const oci_key *key, const oci_kvlist *annotations)
{
	return oci_sign_digest_ex(NULL, t, digest, key, annotations);
}
