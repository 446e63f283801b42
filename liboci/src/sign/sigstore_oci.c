/* Sigstore bundles on targets: attaching one as an OCI 1.1 referrer the way
 * cosign v3 does (pkg/oci/remote/write.go WriteAttestationNewBundleFormat,
 * specs/BUNDLE_SPEC.md), and finding and verifying the bundle referrers of
 * a digest. */
#include "error_internal.h"
#include "sign_internal.h"
#include "oci/manifest.h"
#include "oci/referrers.h"
#include "oci/sigstore.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many bundle referrers are examined. */
#define MAX_BUNDLES 100
#define MAX_REASONS 6

static int put_blob(oci_target *t, const char *digest, const void *data, size_t len, const char *what)
{
	int rc = oci_target_blob_exists(t, digest, NULL);
	if (rc > 0)
		return 0;
	if (rc == 0) {
		oci_mem_source m = { data, len, 0 };
		rc = oci_target_blob_put(t, digest, (int64_t)len, oci_mem_source_read, &m);
	}
	return rc < 0 ? oci_error_wrap("uploading the %s %s", what, digest) : 0;
}

int oci_sign_digest_bundle(char referrer_out[OCI_DIGEST_SIZE], int *added, oci_target *t, const char *digest,
			   const oci_key *key, const oci_kvlist *annotations)
{
	oci_buf bundle = OCI_BUF_INIT;
	char bundle_digest[OCI_DIGEST_SIZE], subject_digest[OCI_DIGEST_SIZE], created[32];
	char *subject_mt = NULL, *manifest = NULL;
	int64_t subject_size = 0;
	json_t *m = NULL;
	int rc;
	if (added)
		*added = 0;
	if ((rc = oci_digest_validate(digest)) < 0)
		return rc;
	if (!oci_key_has_private(key))
		return oci_error_set(OCI_EINVALID, "signing %s needs a private key", digest);
	/* Already signed with this key (and these annotations)? */
	const oci_key *keys[1] = { key };
	size_t ki = 0;
	char existing[OCI_DIGEST_SIZE];
	rc = oci_sigstore_verify_referrers(&ki, existing, t, digest, keys, 1, annotations);
	if (rc == 0) {
		if (referrer_out)
			memcpy(referrer_out, existing, OCI_DIGEST_SIZE);
		return 0;
	}
	if (rc != OCI_ENOTFOUND && rc != OCI_EVERIFY)
		return oci_error_wrap("reading the existing bundles of %s", digest);
	oci_error_clear();
	/* The subject descriptor names what is signed: media type and size as stored. */
	if ((rc = oci_target_resolve(subject_digest, &subject_mt, &subject_size, t, digest)) < 0)
		return oci_error_wrap("signing %s", digest);
	if ((rc = oci_sigstore_bundle_build(&bundle, key, digest, annotations)) < 0 ||
	    (rc = oci_digest_buf(bundle_digest, bundle.data, bundle.len)) < 0 ||
	    (rc = oci_created_timestamp(created, NULL)) < 0)
		goto cleanup;
	m = json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:i}, s:[{s:s, s:s, s:I}], s:{s:s, s:s, s:I}, s:{s:s, s:s, s:s}}",
		      "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "artifactType", OCI_MT_SIGSTORE_BUNDLE,
		      "config", "mediaType", OCI_MT_EMPTY, "digest", OCI_EMPTY_DIGEST, "size", 2,
		      "layers", "mediaType", OCI_MT_SIGSTORE_BUNDLE, "digest", bundle_digest, "size",
		      (json_int_t)bundle.len,
		      "subject", "mediaType", subject_mt ? subject_mt : OCI_MT_MANIFEST, "digest", digest, "size",
		      (json_int_t)subject_size,
		      "annotations", "org.opencontainers.image.created", created, OCI_BUNDLE_CONTENT_ANNOTATION,
		      "dsse-envelope", OCI_BUNDLE_PREDICATE_ANNOTATION, OCI_COSIGN_SIGN_PREDICATE);
	if (!m || !(manifest = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if ((rc = put_blob(t, bundle_digest, bundle.data, bundle.len, "Sigstore bundle")) < 0 ||
	    (rc = put_blob(t, OCI_EMPTY_DIGEST, "{}", 2, "empty config")) < 0)
		goto cleanup;
	if ((rc = oci_referrers_put(t, digest, OCI_MT_MANIFEST, manifest, strlen(manifest))) < 0) {
		oci_error_wrap("attaching the Sigstore bundle to %s", digest);
		goto cleanup;
	}
	if (added)
		*added = 1;
	if (referrer_out)
		rc = oci_digest_buf(referrer_out, manifest, strlen(manifest));
cleanup:
	json_decref(m);
	free(manifest);
	free(subject_mt);
	oci_buf_dispose(&bundle);
	return rc;
}

/* Reads one bundle referrer's manifest and bundle layer, and verifies it. */
static int check_referrer(size_t *key_index, oci_target *t, const char *referrer, const char *digest,
			  const oci_key *const *keys, size_t nkeys, const oci_kvlist *annotations)
{
	oci_buf mbytes = OCI_BUF_INIT;
	oci_buf_sink bundle = { OCI_BUF_INIT, OCI_SIGSTORE_BUNDLE_MAX, "Sigstore bundle" };
	json_t *m = NULL;
	json_error_t jerr;
	int rc;
	if ((rc = oci_target_manifest_get(&mbytes, NULL, NULL, t, referrer)) < 0)
		goto cleanup;
	m = json_loadb(mbytes.data ? mbytes.data : "", mbytes.len, 0, &jerr);
	/* The index is only a listing: the manifest itself must name this digest. */
	const char *subj = json_string_value(json_object_get(json_object_get(m, "subject"), "digest"));
	if (!subj || strcmp(subj, digest) != 0) {
		rc = oci_error_set(OCI_EVERIFY, "its manifest's subject is %.80s, not %s", subj ? subj : "(none)",
				   digest);
		goto cleanup;
	}
	json_t *layer = NULL, *l;
	size_t i;
	json_array_foreach(json_object_get(m, "layers"), i, l) {
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		if (mt && strncmp(mt, "application/vnd.dev.sigstore.bundle", 35) == 0) {
			layer = l;
			break;
		}
	}
	const char *ld = json_string_value(json_object_get(layer, "digest"));
	json_t *jsize = json_object_get(layer, "size");
	if (!ld || oci_digest_validate(ld) < 0 || !json_is_integer(jsize) || json_integer_value(jsize) < 0) {
		rc = oci_error_set(OCI_EVERIFY, "its manifest has no valid Sigstore bundle layer");
		goto cleanup;
	}
	if (json_integer_value(jsize) > OCI_SIGSTORE_BUNDLE_MAX) {
		rc = oci_error_set(OCI_EVERIFY, "its bundle is larger than %d bytes", OCI_SIGSTORE_BUNDLE_MAX);
		goto cleanup;
	}
	if ((rc = oci_target_blob_get(t, ld, json_integer_value(jsize), oci_buf_sink_write, &bundle)) < 0) {
		oci_error_wrap("bundle %s", ld);
		goto cleanup;
	}
	rc = oci_sigstore_bundle_verify(key_index, bundle.buf.data ? bundle.buf.data : "", bundle.buf.len, keys, nkeys,
					digest, annotations);
	if (rc == OCI_EINVALID)
		rc = OCI_EVERIFY; /* a malformed bundle is a refused signature */
cleanup:
	json_decref(m);
	oci_buf_dispose(&mbytes);
	oci_buf_dispose(&bundle.buf);
	return rc;
}

int oci_sigstore_verify_referrers(size_t *key_index, char referrer_out[OCI_DIGEST_SIZE], oci_target *t,
				  const char *digest, const oci_key *const *keys, size_t nkeys,
				  const oci_kvlist *annotations)
{
	return oci__sigstore_verify_referrers_noted(key_index, referrer_out, t, digest, keys, nkeys, annotations, NULL,
						    NULL);
}

int oci__sigstore_verify_referrers_noted(size_t *key_index, char referrer_out[OCI_DIGEST_SIZE], oci_target *t,
					 const char *digest, const oci_key *const *keys, size_t nkeys,
					 const oci_kvlist *annotations, oci__verify_note_fn note, void *note_ctx)
{
	oci_referrers refs = OCI_REFERRERS_INIT;
	oci_buf reasons = OCI_BUF_INIT;
	size_t nreasons = 0;
	int rc = oci_referrers_list(&refs, t, digest, OCI_MT_SIGSTORE_BUNDLE);
	if (rc < 0)
		return oci_error_wrap("listing the referrers of %s", digest);
	if (!refs.n) {
		rc = oci_error_set(OCI_ENOTFOUND, "no Sigstore bundle referrers");
		goto cleanup;
	}
	for (size_t i = 0; i < refs.n && i < MAX_BUNDLES; i++) {
		rc = check_referrer(key_index, t, refs.items[i].digest, digest, keys, nkeys, annotations);
		if (rc == 0) {
			if (referrer_out)
				memcpy(referrer_out, refs.items[i].digest, OCI_DIGEST_SIZE);
			if (note)
				note(note_ctx, "bundle", refs.items[i].digest, *key_index, NULL);
			goto cleanup;
		}
		if (rc != OCI_EVERIFY && rc != OCI_EDIGEST && rc != OCI_ENOTFOUND)
			goto cleanup; /* transport errors are not verdicts */
		if (note)
			note(note_ctx, "bundle", refs.items[i].digest, (size_t)-1, oci_error_last()->message);
		if (nreasons++ < MAX_REASONS) {
			char line[700];
			snprintf(line, sizeof line, "%sbundle %.19s: %.500s", nreasons > 1 ? "; " : "", refs.items[i].digest,
				 oci_error_last()->message);
			oci_buf_append(&reasons, line, strlen(line));
		}
	}
	rc = oci_error_set(OCI_EVERIFY, "%s%s", reasons.data ? reasons.data : "", nreasons > MAX_REASONS ? "; ..." : "");
cleanup:
	oci_referrers_dispose(&refs);
	oci_buf_dispose(&reasons);
	return rc;
}
