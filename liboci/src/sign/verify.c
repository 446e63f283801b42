/* Verification of cosign keyed signatures against trusted public keys.
 * Only keys the caller names are used; a key or certificate found in the
 * artifact is never trusted. A signature counts only when it verifies, its
 * payload names the exact digest, and every required annotation is there. */
#include "key_internal.h"
#include "sign_internal.h"
#include "error_internal.h"
#include "oci/manifest.h"
#include "oci/resolve.h"
#include "oci/pull.h"
#include "oci/sigstore.h"

#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

/* At most this many layers are examined: a hostile .sig manifest cannot make
 * us fetch without end. */
#define MAX_SIGNATURES 1000
/* Reasons listed in the final message. */
#define MAX_REASONS 6

struct vkey {
	char *name;
	oci_key *key;
};

struct oci_verifier {
	struct vkey *keys;
	size_t nkeys;
	oci_kvlist annotations;
	char source[200]; /* what the last success used */
	oci_verify_attempt *attempts; /* what the last verification tried, in order */
	size_t nattempts;
};

static void attempts_clear(oci_verifier *v)
{
	for (size_t i = 0; i < v->nattempts; i++) {
		free((char *)v->attempts[i].where);
		free((char *)v->attempts[i].reason);
	}
	free(v->attempts);
	v->attempts = NULL;
	v->nattempts = 0;
}

/* oci__verify_note_fn: one more signature judged (a record lost to a
 * failed allocation only shortens the list; the verdict stands). */
static void note_attempt(void *ctx, const char *kind, const char *where, size_t key_index, const char *reason)
{
	oci_verifier *v = ctx;
	oci_verify_attempt *a = realloc(v->attempts, (v->nattempts + 1) * sizeof *a);
	if (!a)
		return;
	v->attempts = a;
	a = &v->attempts[v->nattempts];
	a->kind = kind; /* a literal */
	a->where = strdup(where ? where : "");
	a->key = key_index < v->nkeys ? v->keys[key_index].name : NULL;
	a->reason = reason ? strdup(*reason ? reason : "refused") : NULL;
	if (!a->where || (reason && !a->reason)) {
		free((char *)a->where);
		free((char *)a->reason);
		return;
	}
	v->nattempts++;
}

size_t oci_verifier_attempts(const oci_verify_attempt **out, const oci_verifier *v)
{
	*out = v->attempts;
	return v->nattempts;
}

int oci_verifier_new(oci_verifier **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : OCI_ENOMEM_SET();
}

void oci_verifier_free(oci_verifier *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nkeys; i++) {
		free(v->keys[i].name);
		oci_key_free(v->keys[i].key);
	}
	free(v->keys);
	oci_kvlist_dispose(&v->annotations);
	attempts_clear(v);
	free(v);
}

static int add_key(oci_verifier *v, oci_key *key, const char *name)
{
	struct vkey *keys = realloc(v->keys, (v->nkeys + 1) * sizeof *keys);
	char *n = strdup(name);
	if (!keys || !n) {
		if (keys)
			v->keys = keys;
		free(n);
		oci_key_free(key);
		return OCI_ENOMEM_SET();
	}
	v->keys = keys;
	v->keys[v->nkeys].name = n;
	v->keys[v->nkeys].key = key;
	v->nkeys++;
	return 0;
}

int oci_verifier_add_key_file(oci_verifier *v, const char *pub_path)
{
	oci_key *k = NULL;
	int rc = oci_key_load_public(&k, pub_path);
	return rc < 0 ? rc : add_key(v, k, pub_path);
}

int oci_verifier_add_key(oci_verifier *v, const oci_key *key, const char *name)
{
	/* Only the public half is kept. */
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key->pkey, &der);
	if (n <= 0)
		return oci_error_set(OCI_ERROR, "%s: the public key cannot be encoded", name);
	const unsigned char *p = der;
	EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(der);
	oci_key *k = pub ? calloc(1, sizeof *k) : NULL;
	if (!k) {
		EVP_PKEY_free(pub);
		return OCI_ENOMEM_SET();
	}
	k->pkey = pub;
	return add_key(v, k, name ? name : "key");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int oci_verifier_fingerprint(char **out, const oci_verifier *v)
{
	*out = NULL;
	char (*d)[OCI_DIGEST_SIZE] = calloc(v->nkeys ? v->nkeys : 1, sizeof *d);
	char **sorted = calloc(v->nkeys ? v->nkeys : 1, sizeof *sorted);
	char *text = calloc(1, v->nkeys * OCI_DIGEST_SIZE + 1);
	int rc = 0;
	if (!d || !sorted || !text) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	for (size_t i = 0; i < v->nkeys && !rc; i++) {
		unsigned char *der = NULL;
		int n = i2d_PUBKEY(v->keys[i].key->pkey, &der);
		if (n <= 0) {
			rc = oci_error_set(OCI_ERROR, "%s: the public key cannot be encoded", v->keys[i].name);
			break;
		}
		rc = oci_digest_buf(d[i], der, (size_t)n);
		OPENSSL_free(der);
		sorted[i] = d[i];
	}
	if (rc)
		goto cleanup;
	qsort(sorted, v->nkeys, sizeof *sorted, cmp_str);
	for (size_t i = 0; i < v->nkeys; i++) {
		/* the same key named twice counts once */
		if (i && !strcmp(sorted[i], sorted[i - 1]))
			continue;
		if (*text)
			strcat(text, ",");
		strcat(text, sorted[i]);
	}
	*out = text;
	text = NULL;
cleanup:
	free(text);
	free(sorted);
	free(d);
	return rc;
}

int oci_verifier_set_annotations(oci_verifier *v, const oci_kvlist *annotations)
{
	oci_kvlist_dispose(&v->annotations);
	for (size_t i = 0; annotations && i < annotations->n; i++) {
		int rc = oci_kvlist_set(&v->annotations, annotations->items[i].key, annotations->items[i].value);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Checks one layer; 0 and *key_index when it is a valid signature, else an
 * OCI_EVERIFY (or transport) error whose message is the reason. */
static int check_layer(size_t *key_index, oci_verifier *v, oci_target *t, const char *digest, json_t *layer)
{
	const char *pd = json_string_value(json_object_get(layer, "digest"));
	json_t *jsize = json_object_get(layer, "size");
	const char *sig_b64 = json_string_value(
		json_object_get(json_object_get(layer, "annotations"), OCI_COSIGN_SIGNATURE_ANNOTATION));
	oci_buf_sink payload = { OCI_BUF_INIT, OCI_COSIGN_PAYLOAD_MAX, "signature payload" };
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	int rc;

	if (!pd || oci_digest_validate(pd) < 0)
		return oci_error_set(OCI_EVERIFY, ".sig manifest is not valid: a layer has no valid digest");
	if (!json_is_integer(jsize) || json_integer_value(jsize) < 0)
		return oci_error_set(OCI_EVERIFY, ".sig manifest is not valid: layer %.19s has no valid size", pd + 7);
	if (json_integer_value(jsize) > OCI_COSIGN_PAYLOAD_MAX)
		return oci_error_set(OCI_EVERIFY, "payload %s is larger than %d bytes", pd, OCI_COSIGN_PAYLOAD_MAX);
	if (!sig_b64)
		return oci_error_set(OCI_EVERIFY, "layer %s has no " OCI_COSIGN_SIGNATURE_ANNOTATION " annotation", pd);
	if ((rc = oci_cosign_b64_decode(&sig, &sig_len, sig_b64, strlen(sig_b64), "the signature annotation")) < 0) {
		rc = oci_error_set(OCI_EVERIFY, "the signature of payload %s is not valid base64", pd);
		goto cleanup;
	}
	/* Size and digest are checked while the payload streams in. */
	if ((rc = oci_target_blob_get(t, pd, json_integer_value(jsize), oci_buf_sink_write, &payload)) < 0) {
		oci_error_wrap("payload %s", pd);
		goto cleanup;
	}
	size_t k;
	for (k = 0; k < v->nkeys; k++)
		if (oci_key_verify(v->keys[k].key, payload.buf.data ? payload.buf.data : "", payload.buf.len, sig,
				   sig_len) == 0)
			break;
	if (k == v->nkeys) {
		rc = oci_error_set(OCI_EVERIFY, "signature does not verify with any given key");
		goto cleanup;
	}
	if ((rc = oci_simplesigning_check(payload.buf.data ? payload.buf.data : "", payload.buf.len, digest,
					  &v->annotations)) < 0)
		goto cleanup;
	*key_index = k;
cleanup:
	free(sig);
	oci_buf_dispose(&payload.buf);
	return rc;
}

/* The legacy .sig tag; *absent = 1 when there is no tag or no
 * simple-signing layer in it (then a bundle referrer may still sign). */
static int verify_sig_tag(int *absent, const char **key_path_out, oci_verifier *v, oci_target *t,
			  const char *digest)
{
	oci_buf manifest = OCI_BUF_INIT, reasons = OCI_BUF_INIT;
	char *tag = NULL;
	json_t *root = NULL;
	size_t nreasons = 0, nsig = 0;
	int rc;

	*absent = 0;
	if ((rc = oci_signature_tag(&tag, digest)) < 0)
		return rc;
	rc = oci_target_manifest_get(&manifest, NULL, NULL, t, tag);
	if (rc == OCI_ENOTFOUND) {
		*absent = 1;
		rc = oci_error_set(OCI_EVERIFY, "no signatures found for %s (no %s tag)", digest, tag);
		goto cleanup;
	}
	if (rc < 0) {
		oci_error_wrap("reading the signatures of %s (%s)", digest, tag);
		goto cleanup;
	}
	if ((rc = oci_cosign_sig_manifest_parse(&root, manifest.data, manifest.len, tag)) < 0)
		goto cleanup;

	json_t *layers = json_object_get(root, "layers");
	size_t i;
	json_t *layer;
	json_array_foreach(layers, i, layer) {
		if (!json_is_object(layer)) {
			rc = oci_error_set(OCI_EVERIFY, ".sig manifest %s is not valid: layer %zu is not an object", tag, i + 1);
			goto cleanup;
		}
		const char *mt = json_string_value(json_object_get(layer, "mediaType"));
		if (!mt || strcmp(mt, OCI_MT_COSIGN_SIMPLESIGNING) != 0)
			continue; /* other kinds of signature layers are not ours to judge */
		if (++nsig > MAX_SIGNATURES) {
			rc = oci_error_set(OCI_ELIMIT, ".sig manifest %s holds more than %d signatures", tag, MAX_SIGNATURES);
			goto cleanup;
		}
		size_t k = 0;
		rc = check_layer(&k, v, t, digest, layer);
		const char *pd = json_string_value(json_object_get(layer, "digest"));
		if (rc == 0 || rc == OCI_EVERIFY || rc == OCI_EDIGEST)
			note_attempt(v, "sig", pd, rc == 0 ? k : (size_t)-1, rc == 0 ? NULL : oci_error_last()->message);
		if (rc == 0) {
			if (key_path_out)
				*key_path_out = v->keys[k].name;
			snprintf(v->source, sizeof v->source, "signature tag %s", tag);
			goto cleanup;
		}
		if (nreasons++ < MAX_REASONS) {
			char line[600];
			snprintf(line, sizeof line, "%ssignature %zu: %.500s", nreasons > 1 ? "; " : "", nsig,
				 oci_error_last()->message);
			oci_buf_append(&reasons, line, strlen(line));
		}
	}
	if (!nsig) {
		*absent = 1;
		rc = oci_error_set(OCI_EVERIFY, "no signatures found for %s (%s has no %s layers)", digest, tag,
				   OCI_MT_COSIGN_SIMPLESIGNING);
	} else
		rc = oci_error_set(OCI_EVERIFY, "no valid signature for %s: %s%s", digest,
				   reasons.data ? reasons.data : "", nreasons > MAX_REASONS ? "; ..." : "");
cleanup:
	json_decref(root);
	free(tag);
	oci_buf_dispose(&manifest);
	oci_buf_dispose(&reasons);
	return rc;
}

int oci_verifier_verify(const char **key_path_out, oci_verifier *v, oci_target *t, const char *digest)
{
	int absent = 0, rc;
	char referrer[OCI_DIGEST_SIZE], sig_reason[700];
	if (key_path_out)
		*key_path_out = NULL;
	v->source[0] = '\0';
	attempts_clear(v);
	if (!v->nkeys)
		return oci_error_set(OCI_EINVALID, "no public key given to verify %s with", digest);
	/* Either form counts (cli.md, "The artifact"): the legacy .sig tag
	 * first, then the Sigstore bundles attached as referrers (cosign v3). */
	rc = verify_sig_tag(&absent, key_path_out, v, t, digest);
	if (rc == 0 || (rc != OCI_EVERIFY && rc != OCI_EINVALID))
		return rc;
	{
		/* a long reason keeps its head */
		size_t n = strnlen(oci_error_last()->message, sizeof sig_reason - 1);
		memcpy(sig_reason, oci_error_last()->message, n);
		sig_reason[n] = '\0';
	}
	int sig_rc = rc;

	const oci_key **keys = calloc(v->nkeys, sizeof *keys);
	if (!keys)
		return OCI_ENOMEM_SET();
	for (size_t i = 0; i < v->nkeys; i++)
		keys[i] = v->keys[i].key;
	size_t k = 0;
	rc = oci__sigstore_verify_referrers_noted(&k, referrer, t, digest, keys, v->nkeys, &v->annotations, note_attempt, v);
	free(keys);
	if (rc == 0) {
		if (key_path_out)
			*key_path_out = v->keys[k].name;
		snprintf(v->source, sizeof v->source, "Sigstore bundle referrer %s", referrer);
		return 0;
	}
	if (rc == OCI_ENOTFOUND) {
		/* No bundle either: the .sig verdict stands as it was. */
		if (absent)
			return oci_error_set(OCI_EVERIFY, "%s, and no Sigstore bundle referrers", sig_reason);
		oci_error_set(sig_rc, "%s", sig_reason);
		return sig_rc;
	}
	if (rc != OCI_EVERIFY)
		return rc;
	if (absent)
		return oci_error_wrap("no valid signature for %s", digest);
	char bundle_reason[1200];
	{
		/* a long reason keeps its head */
		size_t n = strnlen(oci_error_last()->message, sizeof bundle_reason - 1);
		memcpy(bundle_reason, oci_error_last()->message, n);
		bundle_reason[n] = '\0';
	}
	return oci_error_set(OCI_EVERIFY, "%s; %s", sig_reason, bundle_reason);
}

const char *oci_verifier_source(const oci_verifier *v)
{
	return v->source[0] ? v->source : NULL;
}

int oci_verifier_check(void *ctx, oci_target *t, const char *digest)
{
	return oci_verifier_verify(NULL, ctx, t, digest);
}
