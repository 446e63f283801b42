/* Sigstore bundles with keys: building the one cosign v3 `sign --key`
 * writes, and verifying one offline (see oci/sigstore.h). Field names are
 * protobuf-specs' JSON names (protos/sigstore_bundle.proto, Bundle v0.3:
 * mediaType, verificationMaterial{publicKey{hint} | x509CertificateChain |
 * certificate, tlogEntries, timestampVerificationData}, dsseEnvelope{payload,
 * payloadType, signatures[{sig, keyid}]} | messageSignature{messageDigest
 * {algorithm, digest}, signature}). */
#include "key_internal.h"
#include "error_internal.h"
#include "oci/dsse.h"
#include "oci/sigstore.h"

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

/* The media types a keyed bundle may declare: v0.3 (cosign v3, sigstore-js)
 * and v0.2 in both spellings protobuf-specs has used. */
static int known_media_type(const char *mt)
{
	static const char *const ok[] = {
		OCI_MT_SIGSTORE_BUNDLE,
		"application/vnd.dev.sigstore.bundle+json;version=0.3",
		"application/vnd.dev.sigstore.bundle+json;version=0.2",
		"application/vnd.dev.sigstore.bundle.v0.2+json",
	};
	for (size_t i = 0; mt && i < sizeof ok / sizeof *ok; i++)
		if (strcmp(mt, ok[i]) == 0)
			return 1;
	return 0;
}

/* cosign's key hint: base64(sha256(SubjectPublicKeyInfo DER))
 * (cosign internal/key/svkeypair.go NewSignerVerifierKeypair). */
static int key_hint(char **out, const oci_key *key)
{
	unsigned char *der = NULL, sum[SHA256_DIGEST_LENGTH];
	int n = i2d_PUBKEY(key->pkey, &der);
	if (n <= 0)
		return oci_error_set(OCI_ERROR, "the public key cannot be encoded");
	SHA256(der, (size_t)n, sum);
	OPENSSL_free(der);
	return oci_cosign_b64_encode(out, sum, sizeof sum);
}

/* The statement cosign's signDigestBundle marshals (field order as
 * protojson writes intotov1.Statement). */
static int build_statement(oci_buf *out, const char *digest, const oci_kvlist *annotations)
{
	json_t *ann = json_object();
	for (size_t i = 0; ann && annotations && i < annotations->n; i++)
		json_object_set_new(ann, annotations->items[i].key, json_string(annotations->items[i].value));
	json_t *st = ann ? json_pack("{s:s, s:[{s:{s:s}, s:o}], s:s, s:{}}", "_type", OCI_INTOTO_STATEMENT_V1,
				     "subject", "digest", "sha256", digest + 7, "annotations", ann,
				     "predicateType", OCI_COSIGN_SIGN_PREDICATE, "predicate")
			 : NULL;
	char *s = st ? json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(st);
	if (!s)
		return OCI_ENOMEM_SET();
	int rc = oci_buf_append(out, s, strlen(s));
	free(s);
	return rc;
}

int oci_sigstore_bundle_build(oci_buf *out, const oci_key *key, const char *digest, const oci_kvlist *annotations)
{
	oci_buf statement = OCI_BUF_INIT, pae = OCI_BUF_INIT, sig = OCI_BUF_INIT;
	char *hint = NULL, *payload_b64 = NULL, *sig_b64 = NULL, *text = NULL;
	int rc;
	if ((rc = oci_digest_validate(digest)) < 0)
		return rc;
	if (!oci_key_has_private(key))
		return oci_error_set(OCI_EINVALID, "signing %s needs a private key", digest);
	if ((rc = build_statement(&statement, digest, annotations)) < 0 ||
	    (rc = oci_dsse_pae(&pae, OCI_INTOTO_PAYLOAD_TYPE, statement.data, statement.len)) < 0 ||
	    (rc = oci_key_sign(&sig, key, pae.data, pae.len)) < 0 || (rc = key_hint(&hint, key)) < 0 ||
	    (rc = oci_cosign_b64_encode(&payload_b64, statement.data, statement.len)) < 0 ||
	    (rc = oci_cosign_b64_encode(&sig_b64, sig.data, sig.len)) < 0)
		goto cleanup;
	json_t *b = json_pack("{s:s, s:{s:{s:s}}, s:{s:s, s:s, s:[{s:s}]}}", "mediaType", OCI_MT_SIGSTORE_BUNDLE,
			      "verificationMaterial", "publicKey", "hint", hint, "dsseEnvelope", "payload",
			      payload_b64, "payloadType", OCI_INTOTO_PAYLOAD_TYPE, "signatures", "sig", sig_b64);
	text = b ? json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(b);
	rc = text ? oci_buf_append(out, text, strlen(text)) : OCI_ENOMEM_SET();
cleanup:
	oci_buf_dispose(&statement);
	oci_buf_dispose(&pae);
	oci_buf_dispose(&sig);
	free(hint);
	free(payload_b64);
	free(sig_b64);
	free(text);
	return rc;
}

/* ---- verification ---- */

static int b64_field(unsigned char **out, size_t *len, json_t *v, const char *what)
{
	const char *s = json_string_value(v);
	if (!s)
		return oci_error_set(OCI_EINVALID, "the bundle has no %s", what);
	if (oci_cosign_b64_decode(out, len, s, strlen(s), what) < 0)
		return oci_error_set(OCI_EINVALID, "the bundle's %s is not valid base64", what);
	return 0;
}

/* 1 when every annotation is in obj with the same value. */
static int has_annotations(json_t *obj, const oci_kvlist *annotations)
{
	for (size_t i = 0; annotations && i < annotations->n; i++) {
		const char *v = json_string_value(json_object_get(obj, annotations->items[i].key));
		if (!v || strcmp(v, annotations->items[i].value) != 0)
			return 0;
	}
	return 1;
}

/* The statement must be cosign's signature statement whose subject is digest. */
static int check_statement(const unsigned char *payload, size_t len, const char *digest,
			   const oci_kvlist *annotations)
{
	json_error_t jerr;
	json_t *st = json_loadb((const char *)payload, len, 0, &jerr);
	int rc = 0;
	const char *type = json_string_value(json_object_get(st, "_type"));
	const char *pt = json_string_value(json_object_get(st, "predicateType"));
	json_t *subjects = json_object_get(st, "subject");
	if (!json_is_object(st) || !type || !json_is_array(subjects)) {
		rc = oci_error_set(OCI_EVERIFY, "the bundle's payload is not an in-toto statement");
		goto cleanup;
	}
	if (strcmp(type, OCI_INTOTO_STATEMENT_V1) != 0 && strcmp(type, "https://in-toto.io/Statement/v0.1") != 0) {
		rc = oci_error_set(OCI_EVERIFY, "the bundle's statement has an unknown type %.200s", type);
		goto cleanup;
	}
	if (!pt || strcmp(pt, OCI_COSIGN_SIGN_PREDICATE) != 0) {
		rc = oci_error_set(OCI_EVERIFY, "the bundle is an attestation of %.200s, not a signature (%s)",
				   pt ? pt : "no predicate type", OCI_COSIGN_SIGN_PREDICATE);
		goto cleanup;
	}
	const char *other = NULL;
	size_t i;
	json_t *s;
	json_array_foreach(subjects, i, s) {
		const char *hex = json_string_value(json_object_get(json_object_get(s, "digest"), "sha256"));
		if (!hex)
			continue;
		if (strcmp(hex, digest + 7) == 0) {
			if (!has_annotations(json_object_get(s, "annotations"), annotations))
				rc = oci_error_set(OCI_EVERIFY, "the bundle for %s lacks a required annotation", digest);
			goto cleanup;
		}
		other = hex;
	}
	rc = oci_error_set(OCI_EVERIFY, "the bundle is for sha256:%.64s, not %s", other ? other : "(no sha256 subject)",
			   digest);
cleanup:
	json_decref(st);
	return rc;
}

static int verify_dsse(size_t *key_index, json_t *env, const oci_key *const *keys, size_t nkeys,
		       const char *digest, const oci_kvlist *annotations)
{
	unsigned char *payload = NULL;
	size_t plen = 0;
	oci_buf pae = OCI_BUF_INIT;
	int rc;
	const char *ptype = json_string_value(json_object_get(env, "payloadType"));
	json_t *sigs = json_object_get(env, "signatures");
	if (!ptype || strcmp(ptype, OCI_INTOTO_PAYLOAD_TYPE) != 0)
		return oci_error_set(OCI_EVERIFY, "the bundle's envelope holds %.200s, not an in-toto statement",
				     ptype ? ptype : "no payload type");
	if (!json_is_array(sigs) || !json_array_size(sigs))
		return oci_error_set(OCI_EINVALID, "the bundle's envelope has no signatures");
	if ((rc = b64_field(&payload, &plen, json_object_get(env, "payload"), "envelope payload")) < 0 ||
	    (rc = oci_dsse_pae(&pae, ptype, payload, plen)) < 0)
		goto cleanup;
	rc = oci_error_set(OCI_EVERIFY, "the bundle's signature does not verify with any given key");
	size_t i;
	json_t *s;
	json_array_foreach(sigs, i, s) {
		unsigned char *sig = NULL;
		size_t slen = 0;
		if (b64_field(&sig, &slen, json_object_get(s, "sig"), "envelope signature") < 0) {
			rc = OCI_EVERIFY;
			goto cleanup;
		}
		for (size_t k = 0; k < nkeys; k++) {
			if (oci_key_verify(keys[k], pae.data, pae.len, sig, slen) == 0) {
				*key_index = k;
				free(sig);
				/* Only a verified payload is read. */
				rc = check_statement(payload, plen, digest, annotations);
				goto cleanup;
			}
		}
		free(sig);
	}
	rc = oci_error_set(OCI_EVERIFY, "the bundle's signature does not verify with any given key");
cleanup:
	free(payload);
	oci_buf_dispose(&pae);
	return rc;
}

/* A message signature signs the artifact's bytes; for an image that is the
 * manifest, whose sha256 is its digest: the signature is checked over that
 * hash, and messageDigest must be it. */
static int verify_message(size_t *key_index, json_t *ms, const oci_key *const *keys, size_t nkeys,
			  const char *digest)
{
	unsigned char *md = NULL, *sig = NULL, want[32];
	size_t mdlen = 0, slen = 0;
	int rc;
	json_t *mdj = json_object_get(ms, "messageDigest");
	const char *alg = json_string_value(json_object_get(mdj, "algorithm"));
	if (!alg || strcmp(alg, "SHA2_256") != 0)
		return oci_error_set(OCI_EVERIFY, "the bundle's message digest is not SHA2_256");
	if ((rc = b64_field(&md, &mdlen, json_object_get(mdj, "digest"), "message digest")) < 0 ||
	    (rc = b64_field(&sig, &slen, json_object_get(ms, "signature"), "message signature")) < 0)
		goto cleanup;
	for (int i = 0; i < 32; i++) {
		unsigned v;
		sscanf(digest + 7 + 2 * i, "%2x", &v);
		want[i] = (unsigned char)v;
	}
	rc = oci_error_set(OCI_EVERIFY, "the bundle's signature does not verify with any given key");
	for (size_t k = 0; k < nkeys; k++) {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(keys[k]->pkey, NULL);
		int ok = ctx && EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
			 mdlen == 32 && EVP_PKEY_verify(ctx, sig, slen, md, mdlen) == 1;
		EVP_PKEY_CTX_free(ctx);
		ERR_clear_error();
		if (ok) {
			*key_index = k;
			rc = memcmp(md, want, 32) == 0
				     ? 0
				     : oci_error_set(OCI_EVERIFY, "the bundle signs another message, not %s", digest);
			break;
		}
	}
cleanup:
	free(md);
	free(sig);
	return rc;
}

int oci_sigstore_bundle_verify(size_t *key_index, const void *bundle, size_t len, const oci_key *const *keys,
			       size_t nkeys, const char *digest, const oci_kvlist *annotations)
{
	json_error_t jerr;
	json_t *b = json_loadb(bundle, len, 0, &jerr);
	int rc;
	if (!json_is_object(b)) {
		rc = oci_error_set(OCI_EINVALID, "the bundle is not a JSON object");
		goto cleanup;
	}
	const char *mt = json_string_value(json_object_get(b, "mediaType"));
	if (!known_media_type(mt)) {
		rc = oci_error_set(OCI_EINVALID, "the bundle's media type %.200s is not a Sigstore bundle v0.2/v0.3",
				   mt ? mt : "(none)");
		goto cleanup;
	}
	json_t *vm = json_object_get(b, "verificationMaterial");
	if (json_object_get(vm, "certificate") || json_object_get(vm, "x509CertificateChain")) {
		rc = oci_error_set(OCI_EVERIFY, "keyless is not supported: the bundle carries a certificate, not a "
						"public key (verify it with cosign against Fulcio)");
		goto cleanup;
	}
	if (!json_is_object(json_object_get(vm, "publicKey"))) {
		rc = oci_error_set(OCI_EINVALID, "the bundle names no public key");
		goto cleanup;
	}
	/* tlogEntries and timestampVerificationData are not needed to check a
	 * keyed signature and are not checked: Rekor is never contacted. */
	json_t *env = json_object_get(b, "dsseEnvelope"), *ms = json_object_get(b, "messageSignature");
	if (json_is_object(env))
		rc = verify_dsse(key_index, env, keys, nkeys, digest, annotations);
	else if (json_is_object(ms))
		rc = annotations && annotations->n
			     ? oci_error_set(OCI_EVERIFY, "a message-signature bundle carries no annotations")
			     : verify_message(key_index, ms, keys, nkeys, digest);
	else
		rc = oci_error_set(OCI_EINVALID, "the bundle has neither a DSSE envelope nor a message signature");
cleanup:
	json_decref(b);
	return rc;
}
