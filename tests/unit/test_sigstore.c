/* DSSE PAE, keyed Sigstore bundles (build and offline verification) and
 * OCI 1.1 referrers on an oci-layout target. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_internal.h"
#include "key_internal.h"
#include "oci/oci.h"
#include "test.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static void test_pae(void)
{
	/* The DSSE protocol's own example (secure-systems-lab/dsse protocol.md). */
	oci_buf b = OCI_BUF_INIT;
	CHECK_EQ_INT(oci_dsse_pae(&b, "http://example.com/HelloWorld", "hello world", 11), 0);
	CHECK_STR(b.data, "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
	oci_buf_dispose(&b);
	CHECK_EQ_INT(oci_dsse_pae(&b, "t", "", 0), 0);
	CHECK_STR(b.data, "DSSEv1 1 t 0 ");
	oci_buf_dispose(&b);
}

/* Rewrites a bundle with fn applied to the parsed JSON. */
static char *edit(const oci_buf *in, void (*fn)(json_t *))
{
	json_error_t e;
	json_t *b = json_loadb(in->data, in->len, 0, &e);
	fn(b);
	char *s = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	return s;
}

static void add_cert(json_t *b)
{
	json_object_set_new(json_object_get(b, "verificationMaterial"), "certificate",
			    json_pack("{s:s}", "rawBytes", "MIIB"));
}

static void add_tlog(json_t *b)
{
	json_object_set_new(json_object_get(b, "verificationMaterial"), "tlogEntries",
			    json_pack("[{s:s}]", "logIndex", "7"));
}

static void flip_sig(json_t *b)
{
	json_t *s = json_array_get(json_object_get(json_object_get(b, "dsseEnvelope"), "signatures"), 0);
	const char *v = json_string_value(json_object_get(s, "sig"));
	char *c = strdup(v);
	c[10] = c[10] == 'A' ? 'B' : 'A';
	json_object_set_new(s, "sig", json_string(c));
	free(c);
}

static void bad_type(json_t *b)
{
	json_object_set_new(b, "mediaType", json_string("application/json"));
}

static void test_bundle(void)
{
	oci_key *k = NULL, *other = NULL;
	CHECK_EQ_INT(oci_key_generate(&k), 0);
	CHECK_EQ_INT(oci_key_generate(&other), 0);
	oci_kvlist ann = OCI_KVLIST_INIT;
	oci_kvlist_set(&ann, "env", "prod");
	oci_buf b = OCI_BUF_INIT;
	CHECK_EQ_INT(oci_sigstore_bundle_build(&b, k, D1, &ann), 0);

	/* The shape cosign v3 writes. */
	json_error_t e;
	json_t *j = json_loadb(b.data, b.len, 0, &e);
	CHECK_STR(json_string_value(json_object_get(j, "mediaType")), OCI_MT_SIGSTORE_BUNDLE);
	CHECK(json_is_string(json_object_get(json_object_get(json_object_get(j, "verificationMaterial"), "publicKey"),
					     "hint")));
	CHECK_STR(json_string_value(json_object_get(json_object_get(j, "dsseEnvelope"), "payloadType")),
		  OCI_INTOTO_PAYLOAD_TYPE);
	json_decref(j);

	const oci_key *keys[2] = { other, k };
	size_t ki = 99;
	CHECK_EQ_INT(oci_sigstore_bundle_verify(&ki, b.data, b.len, keys, 2, D1, NULL), 0);
	CHECK_EQ_INT(ki, 1);
	CHECK_EQ_INT(oci_sigstore_bundle_verify(&ki, b.data, b.len, keys, 2, D1, &ann), 0);

	/* Another digest, a wrong key, a missing annotation. */
	CHECK_EQ_INT(oci_sigstore_bundle_verify(&ki, b.data, b.len, keys, 2, D2, NULL), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("the bundle is for " D1 ", not " D2);
	CHECK_EQ_INT(oci_sigstore_bundle_verify(&ki, b.data, b.len, keys, 1, D1, NULL), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("does not verify with any given key");
	oci_kvlist want = OCI_KVLIST_INIT;
	oci_kvlist_set(&want, "env", "dev");
	CHECK_EQ_INT(oci_sigstore_bundle_verify(&ki, b.data, b.len, keys, 2, D1, &want), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("lacks a required annotation");
	oci_kvlist_dispose(&want);

	/* Tampered signature, keyless, tlog entries (ignored), malformed. */
	char *s = edit(&b, flip_sig);
	CHECK_EQ_INT(oci_sigstore_bundle_verify(&ki, s, strlen(s), keys, 2, D1, NULL), OCI_EVERIFY);
	free(s);
	s = edit(&b, add_cert);
	CHECK_EQ_INT(oci_sigstore_bundle_verify(&ki, s, strlen(s), keys, 2, D1, NULL), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("keyless is not supported");
	free(s);
	s = edit(&b, add_tlog);
	CHECK_EQ_INT(oci_sigstore_bundle_verify(&ki, s, strlen(s), keys, 2, D1, NULL), 0);
	free(s);
	s = edit(&b, bad_type);
	CHECK_EQ_INT(oci_sigstore_bundle_verify(&ki, s, strlen(s), keys, 2, D1, NULL), OCI_EINVALID);
	CHECK_ERR_CONTAINS("is not a Sigstore bundle");
	free(s);
	CHECK_EQ_INT(oci_sigstore_bundle_verify(&ki, "[1]", 3, keys, 2, D1, NULL), OCI_EINVALID);
	CHECK_ERR_CONTAINS("not a JSON object");
	/* A public key cannot sign. */
	oci_buf none = OCI_BUF_INIT;
	oci_key *pub = NULL;
	oci_buf pem = OCI_BUF_INIT;
	CHECK_EQ_INT(oci_key_encode_public(&pem, k), 0);
	CHECK_EQ_INT(oci_key_parse_public(&pub, pem.data, pem.len, "pub"), 0);
	CHECK_EQ_INT(oci_sigstore_bundle_build(&none, pub, D1, NULL), OCI_EINVALID);
	CHECK_EQ_INT(oci_sigstore_bundle_build(&none, k, "sha256:zz", NULL), OCI_EINVALID);
	oci_buf_dispose(&pem);
	oci_key_free(pub);
	oci_buf_dispose(&b);
	oci_kvlist_dispose(&ann);
	oci_key_free(k);
	oci_key_free(other);
}

static void put_image(oci_target *t, char digest[OCI_DIGEST_SIZE], const char *tag, const char *note)
{
	char m[400];
	snprintf(m, sizeof m,
		 "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT_MANIFEST "\",\"config\":{\"mediaType\":\"" OCI_MT_EMPTY
		 "\",\"digest\":\"" OCI_EMPTY_DIGEST "\",\"size\":2},\"layers\":[],\"annotations\":{\"n\":\"%s\"}}",
		 note);
	oci_mem_source src = { "{}", 2, 0 };
	CHECK_EQ_INT(oci_target_blob_put(t, OCI_EMPTY_DIGEST, 2, oci_mem_source_read, &src), 0);
	CHECK_EQ_INT(oci_target_manifest_put(t, tag, OCI_MT_MANIFEST, m, strlen(m)), 0);
	oci_digest_buf(digest, m, strlen(m));
}

static void test_layout_referrers(void)
{
	char dir[] = "/tmp/ocisync-test-refs-XXXXXX", ref[200], cmd[300];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(ref, sizeof ref, "oci-layout:%s/l", dir);
	oci_ref *r = NULL;
	oci_target *t = NULL;
	CHECK_EQ_INT(oci_ref_parse(&r, ref), 0);
	CHECK_EQ_INT(oci_target_open(&t, r, NULL), 0);
	char subject[OCI_DIGEST_SIZE], other[OCI_DIGEST_SIZE];
	put_image(t, subject, "v1", "a");
	put_image(t, other, "v2", "b");

	oci_referrers refs = OCI_REFERRERS_INIT;
	CHECK_EQ_INT(oci_referrers_list(&refs, t, subject, NULL), 0);
	CHECK_EQ_INT(refs.n, 0);
	CHECK_EQ_INT(refs.via_api, 0);

	/* A referrer without artifactType is listed under its config type. */
	char m[600];
	snprintf(m, sizeof m,
		 "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT_MANIFEST "\",\"config\":{\"mediaType\":\"application/x-sbom\","
		 "\"digest\":\"" OCI_EMPTY_DIGEST "\",\"size\":2},\"layers\":[],\"subject\":{\"mediaType\":\"" OCI_MT_MANIFEST
		 "\",\"digest\":\"%s\",\"size\":1},\"annotations\":{\"k\":\"v\"}}",
		 subject);
	CHECK_EQ_INT(oci_referrers_put(t, subject, OCI_MT_MANIFEST, m, strlen(m)), 0);
	CHECK_EQ_INT(oci_referrers_put(t, subject, OCI_MT_MANIFEST, m, strlen(m)), 0); /* no duplicate */
	CHECK_EQ_INT(oci_referrers_put(t, other, OCI_MT_MANIFEST, m, strlen(m)), OCI_EINVALID);
	CHECK_ERR_CONTAINS("does not name");

	oci_key *k = NULL;
	CHECK_EQ_INT(oci_key_generate(&k), 0);
	char rd[OCI_DIGEST_SIZE], again[OCI_DIGEST_SIZE];
	int added = -1;
	CHECK_EQ_INT(oci_sign_digest_bundle(rd, &added, t, subject, k, NULL), 0);
	CHECK_EQ_INT(added, 1);
	/* Signing again with the same key keeps the bundle there. */
	CHECK_EQ_INT(oci_sign_digest_bundle(again, &added, t, subject, k, NULL), 0);
	CHECK_EQ_INT(added, 0);
	CHECK_STR(again, rd);

	CHECK_EQ_INT(oci_referrers_list(&refs, t, subject, NULL), 0);
	CHECK_EQ_INT(refs.n, 2);
	if (refs.n == 2) {
		CHECK_STR(refs.items[0].artifact_type, "application/x-sbom");
		CHECK_STR(oci_kvlist_get(&refs.items[0].annotations, "k"), "v");
		CHECK_STR(refs.items[1].digest, rd);
		CHECK_STR(refs.items[1].artifact_type, OCI_MT_SIGSTORE_BUNDLE);
	}
	oci_referrers_dispose(&refs);
	CHECK_EQ_INT(oci_referrers_list(&refs, t, subject, OCI_MT_SIGSTORE_BUNDLE), 0);
	CHECK_EQ_INT(refs.n, 1);
	oci_referrers_dispose(&refs);

	/* Verification through the referrer; another digest has none. */
	const oci_key *keys[1] = { k };
	size_t ki = 9;
	char used[OCI_DIGEST_SIZE];
	CHECK_EQ_INT(oci_sigstore_verify_referrers(&ki, used, t, subject, keys, 1, NULL), 0);
	CHECK_STR(used, rd);
	CHECK_EQ_INT(oci_sigstore_verify_referrers(&ki, used, t, other, keys, 1, NULL), OCI_ENOTFOUND);
	oci_verifier *v = NULL;
	CHECK_EQ_INT(oci_verifier_new(&v), 0);
	CHECK_EQ_INT(oci_verifier_add_key(v, k, "k"), 0);
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, subject), 0);
	CHECK(oci_verifier_source(v) && strstr(oci_verifier_source(v), "Sigstore bundle referrer"));
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, other), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("and no Sigstore bundle referrers");
	oci_verifier_free(v);

	/* copy --with-signatures into another layout: the referrers travel; an
	 * entry whose manifest is not stored is left out. */
	{
		char *stag = NULL, idx[1200], dref[300];
		oci_referrers_tag(&stag, subject);
		oci_buf cur = OCI_BUF_INIT;
		CHECK_EQ_INT(oci_target_manifest_get(&cur, NULL, NULL, t, stag), 0);
		json_error_t je;
		json_t *ix = json_loadb(cur.data, cur.len, 0, &je);
		json_array_append_new(json_object_get(ix, "manifests"),
				      json_pack("{s:s, s:s, s:i}", "mediaType", OCI_MT_MANIFEST, "digest",
						"sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "size", 1));
		char *text = json_dumps(ix, JSON_COMPACT);
		snprintf(idx, sizeof idx, "%s", text);
		free(text);
		json_decref(ix);
		oci_buf_dispose(&cur);
		CHECK_EQ_INT(oci_target_manifest_put(t, stag, OCI_MT_INDEX, idx, strlen(idx)), 0);
		CHECK_EQ_INT(oci_referrers_list(&refs, t, subject, NULL), 0);
		CHECK_EQ_INT(refs.n, 3);
		oci_referrers_dispose(&refs);
		snprintf(dref, sizeof dref, "oci-layout:%s/copy:v1", dir);
		oci_ref *r2 = NULL, *r1 = NULL;
		oci_target *t2 = NULL, *t1 = NULL;
		char out[OCI_DIGEST_SIZE], sref[300];
		snprintf(sref, sizeof sref, "%s:v1", ref);
		CHECK_EQ_INT(oci_ref_parse(&r1, sref), 0);
		CHECK_EQ_INT(oci_target_open(&t1, r1, NULL), 0);
		CHECK_EQ_INT(oci_ref_parse(&r2, dref), 0);
		CHECK_EQ_INT(oci_target_open(&t2, r2, NULL), 0);
		CHECK_EQ_INT(oci_copy(out, t1, t2, 1), 0);
		CHECK_STR(out, subject);
		CHECK_EQ_INT(oci_referrers_list(&refs, t2, subject, NULL), 0);
		CHECK_EQ_INT(refs.n, 2);
		oci_referrers_dispose(&refs);
		CHECK_EQ_INT(oci_sigstore_verify_referrers(&ki, used, t2, subject, keys, 1, NULL), 0);
		oci_target_free(t2);
		oci_ref_free(r2);
		oci_target_free(t1);
		oci_ref_free(r1);
		free(stag);
	}

	/* A referrers tag that is not an index is refused, not overwritten. */
	char *tag = NULL;
	CHECK_EQ_INT(oci_referrers_tag(&tag, other), 0);
	CHECK_EQ_INT(oci_target_tag(t, subject, tag), 0);
	CHECK_EQ_INT(oci_referrers_list(&refs, t, other, NULL), OCI_EINVALID);
	CHECK_ERR_CONTAINS("not an image index");
	CHECK_EQ_INT(oci_sign_digest_bundle(NULL, NULL, t, other, k, NULL), OCI_EINVALID);
	free(tag);
	CHECK_EQ_INT(oci_referrers_tag(&tag, "sha256:nothex"), OCI_EINVALID);

	oci_key_free(k);
	oci_target_free(t);
	oci_ref_free(r);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
	RUN(test_pae);
	RUN(test_bundle);
	RUN(test_layout_referrers);
	TEST_END();
}
