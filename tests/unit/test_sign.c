/* Signing and verification against an in-memory target: the cosign-made
 * signature in the shared vectors verifies, ocisync's own signatures are
 * shaped as cosign's, and every tampering is refused with its reason. */
#include <stdlib.h>
#include <string.h>

#include "error_internal.h"
#include "key_internal.h"
#include "sign_internal.h"
#include "target_impl.h"
#include "oci/oci.h"
#include "test.h"

#define VALID_DIGEST "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"
#define VALID_TAG "sha256-634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00.sig"

/* ---- a content store in memory, plugged in as a target ---- */
struct entry {
	char key[160];       /* digest, or "tag:<name>" */
	char *mt;
	oci_buf data;
};
struct mem {
	struct entry e[64];
	int n;
	int puts;            /* manifest_put calls */
};

static struct entry *find(struct mem *m, const char *key)
{
	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->e[i].key, key))
			return &m->e[i];
	return NULL;
}

static void store(struct mem *m, const char *key, const char *mt, const void *data, size_t len)
{
	struct entry *e = find(m, key);
	if (!e) {
		e = &m->e[m->n++];
		snprintf(e->key, sizeof e->key, "%s", key);
	} else {
		free(e->mt);
		oci_buf_dispose(&e->data);
	}
	e->mt = mt ? strdup(mt) : NULL;
	memset(&e->data, 0, sizeof e->data);
	oci_buf_append(&e->data, data, len);
}

/* A tag entry stores the manifest digest it points at. */
static struct entry *lookup_manifest(struct mem *m, const char *ref)
{
	if (strncmp(ref, "sha256:", 7) == 0)
		return find(m, ref);
	char key[160];
	snprintf(key, sizeof key, "tag:%s", ref);
	struct entry *t = find(m, key);
	return t ? find(m, t->data.data) : NULL;
}

static int m_resolve(oci_target *t, const char *ref, char digest[OCI_DIGEST_SIZE], char **mt, int64_t *size)
{
	struct entry *e = lookup_manifest(t->impl, ref);
	if (!e)
		return oci_error_set(OCI_ENOTFOUND, "%s not found", ref);
	snprintf(digest, OCI_DIGEST_SIZE, "%.71s", e->key);
	*mt = e->mt ? strdup(e->mt) : NULL;
	*size = (int64_t)e->data.len;
	return 0;
}

static int m_manifest_get(oci_target *t, const char *ref, oci_buf *out, char **mt, char digest[OCI_DIGEST_SIZE])
{
	struct entry *e = lookup_manifest(t->impl, ref);
	if (!e)
		return oci_error_set(OCI_ENOTFOUND, "manifest %s not found", ref);
	oci_buf_append(out, e->data.data, e->data.len);
	*mt = e->mt ? strdup(e->mt) : NULL;
	snprintf(digest, OCI_DIGEST_SIZE, "%.71s", e->key);
	return 0;
}

static void put_manifest_raw(struct mem *m, const char *tag, const char *mt, const void *data, size_t len)
{
	char d[OCI_DIGEST_SIZE];
	oci_digest_buf(d, data, len);
	store(m, d, mt, data, len);
	if (tag) {
		char key[160];
		snprintf(key, sizeof key, "tag:%s", tag);
		store(m, key, NULL, d, strlen(d));
	}
}

static int m_manifest_put(oci_target *t, const char *tag, const char *mt, const void *data, size_t len)
{
	struct mem *m = t->impl;
	m->puts++;
	put_manifest_raw(m, tag, mt, data, len);
	return 0;
}

static int m_blob_exists(oci_target *t, const char *digest, int64_t *size)
{
	struct entry *e = find(t->impl, digest);
	if (e && size)
		*size = (int64_t)e->data.len;
	return e != NULL;
}

static int m_blob_open(oci_target *t, const char *digest, int64_t size, oci_istream **out)
{
	struct entry *e = find(t->impl, digest);
	(void)size;
	if (!e)
		return oci_error_set(OCI_ENOTFOUND, "blob %s not found", digest);
	return oci_istream_mem(out, e->data.data, e->data.len);
}

static int m_blob_put(oci_target *t, const char *digest, int64_t size, oci_read_fn src, void *ctx)
{
	oci_buf b = OCI_BUF_INIT;
	char buf[1000];
	ssize_t n;
	while ((n = src(ctx, buf, sizeof buf)) > 0)
		oci_buf_append(&b, buf, (size_t)n);
	char d[OCI_DIGEST_SIZE];
	oci_digest_buf(d, b.data, b.len);
	int rc = strcmp(d, digest) || (int64_t)b.len != size ? oci_error_set(OCI_EDIGEST, "bad upload") : 0;
	if (!rc)
		store(t->impl, digest, NULL, b.data, b.len);
	oci_buf_dispose(&b);
	return rc;
}

static int m_tags(oci_target *t, oci_strlist *out) { return 0; }

static void m_free(oci_target *t)
{
	struct mem *m = t->impl;
	for (int i = 0; i < m->n; i++) {
		free(m->e[i].mt);
		oci_buf_dispose(&m->e[i].data);
	}
	free(m);
}

static const oci_target_ops mem_ops = {
	.kind = "memory", .resolve = m_resolve, .manifest_get = m_manifest_get, .manifest_put = m_manifest_put,
	.blob_exists = m_blob_exists, .blob_open = m_blob_open, .blob_put = m_blob_put, .tags = m_tags,
	.free = m_free,
};

static oci_target *mem_target(const char *ref)
{
	oci_target *t = calloc(1, sizeof *t);
	t->ops = &mem_ops;
	t->impl = calloc(1, sizeof(struct mem));
	if (oci_ref_parse(&t->ref, ref) < 0)
		abort();
	return t;
}

/* ---- helpers ---- */
static char *data_path(const char *rel)
{
	static char buf[8][1024];
	static int i;
	const char *td = getenv("TESTDATA");
	char *p = buf[i++ % 8];
	snprintf(p, 1024, "%s/cosign/%s", td ? td : "testdata", rel);
	return p;
}

static void slurp(oci_buf *out, const char *rel)
{
	FILE *f = fopen(data_path(rel), "rb");
	if (!f) {
		fprintf(stderr, "cannot read %s\n", data_path(rel));
		exit(1);
	}
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		oci_buf_append(out, chunk, n);
	fclose(f);
}

static void store_blob(oci_target *t, const void *data, size_t len)
{
	char d[OCI_DIGEST_SIZE];
	oci_digest_buf(d, data, len);
	store(t->impl, d, NULL, data, len);
}

/* A .sig manifest with one simple-signing layer for payload and sig (base64). */
static void store_signature(oci_target *t, const char *signed_digest, const char *payload, size_t plen,
			    const char *sig_b64)
{
	char pd[OCI_DIGEST_SIZE], tag[128];
	oci_digest_buf(pd, payload, plen);
	store_blob(t, payload, plen);
	json_t *layers = json_pack("[{s:s, s:I, s:s, s:{s:s}}]", "mediaType", OCI_MT_COSIGN_SIMPLESIGNING, "size",
				   (json_int_t)plen, "digest", pd, "annotations", OCI_COSIGN_SIGNATURE_ANNOTATION, sig_b64);
	oci_buf cfg = OCI_BUF_INIT;
	oci_cosign_sig_config(&cfg, layers);
	char cd[OCI_DIGEST_SIZE];
	oci_digest_buf(cd, cfg.data, cfg.len);
	store_blob(t, cfg.data, cfg.len);
	json_t *m = json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:o}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST,
			      "config", "mediaType", OCI_MT_IMAGE_CONFIG, "size", (json_int_t)cfg.len, "digest", cd,
			      "layers", layers);
	char *s = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
	snprintf(tag, sizeof tag, "sha256-%s.sig", signed_digest + 7);
	put_manifest_raw(t->impl, tag, OCI_MT_MANIFEST, s, strlen(s));
	free(s);
	json_decref(m);
	oci_buf_dispose(&cfg);
}

/* The cosign-valid objects: the image manifest, and exactly the derived
 * sig-config / payload / sig-manifest blobs cosign PUT. */
static oci_target *cosign_valid_target(void)
{
	oci_target *t = mem_target("192.168.64.2:5000/cosign-signed-single-sample:latest");
	oci_buf man = OCI_BUF_INIT, cfg = OCI_BUF_INIT, pl = OCI_BUF_INIT, sig = OCI_BUF_INIT;
	slurp(&man, "signatures/cosign-valid/manifest.json");
	slurp(&cfg, "signatures/cosign-valid/sig-config.json");
	slurp(&pl, "signatures/cosign-valid/payload.json");
	slurp(&sig, "signatures/cosign-valid/sig-manifest.json");
	put_manifest_raw(t->impl, "latest", OCI_MT_DOCKER_MANIFEST, man.data, man.len);
	store_blob(t, cfg.data, cfg.len);
	store_blob(t, pl.data, pl.len);
	put_manifest_raw(t->impl, VALID_TAG, OCI_MT_MANIFEST, sig.data, sig.len);
	oci_buf_dispose(&man);
	oci_buf_dispose(&cfg);
	oci_buf_dispose(&pl);
	oci_buf_dispose(&sig);
	return t;
}

static oci_verifier *verifier_with(const char *pub_rel)
{
	oci_verifier *v = NULL;
	CHECK_EQ_INT(oci_verifier_new(&v), 0);
	CHECK_EQ_INT(oci_verifier_add_key_file(v, data_path(pub_rel)), 0);
	return v;
}

/* ---- tests ---- */
static void test_cosign_valid_verifies(void)
{
	oci_target *t = cosign_valid_target();
	char d[OCI_DIGEST_SIZE];
	CHECK_EQ_INT(oci_resolve_ref(d, NULL, t), 0);
	CHECK_STR(d, VALID_DIGEST);
	oci_verifier *v = NULL;
	CHECK_EQ_INT(oci_verifier_new(&v), 0);
	/* The first key does not match; the second does, and is reported. */
	CHECK_EQ_INT(oci_verifier_add_key_file(v, data_path("keys/empty-password.pub")), 0);
	CHECK_EQ_INT(oci_verifier_add_key_file(v, data_path("signatures/cosign.pub")), 0);
	const char *which = NULL;
	CHECK_EQ_INT(oci_verifier_verify(&which, v, t, VALID_DIGEST), 0);
	CHECK(which && strstr(which, "signatures/cosign.pub"));
	CHECK_EQ_INT(oci_verifier_check(v, t, VALID_DIGEST), 0);
	oci_verifier_free(v);

	/* Not with an unrelated key. */
	v = verifier_with("keys/password-123.pub");
	CHECK_EQ_INT(oci_verifier_verify(&which, v, t, VALID_DIGEST), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("signature does not verify with any given key");
	CHECK(which == NULL);
	oci_verifier_free(v);

	/* The payload has "optional": null, so any required annotation is missing. */
	v = verifier_with("signatures/cosign.pub");
	oci_kvlist want = OCI_KVLIST_INIT;
	oci_kvlist_set(&want, "env", "prod");
	CHECK_EQ_INT(oci_verifier_set_annotations(v, &want), 0);
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, VALID_DIGEST), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("annotation env=prod missing");
	oci_kvlist_dispose(&want);
	oci_verifier_free(v);
	oci_target_free(t);
}

/* ocisync builds exactly what cosign wrote for that signature. */
static void test_shapes_match_cosign(void)
{
	oci_buf pl = OCI_BUF_INIT, mine = OCI_BUF_INIT, cfg = OCI_BUF_INIT, mycfg = OCI_BUF_INIT;
	slurp(&pl, "signatures/cosign-valid/payload.json");
	CHECK_EQ_INT(oci_simplesigning_build(&mine, "192.168.64.2:5000/cosign-signed-single-sample", VALID_DIGEST, NULL), 0);
	CHECK_STR(mine.data, pl.data);
	oci_buf_dispose(&mine);
	oci_kvlist ann = OCI_KVLIST_INIT;
	oci_kvlist_set(&ann, "zeta", "1");
	oci_kvlist_set(&ann, "alpha", "x y");
	CHECK_EQ_INT(oci_simplesigning_build(&mine, "h/r", VALID_DIGEST, &ann), 0);
	CHECK_STR(mine.data, "{\"critical\":{\"identity\":{\"docker-reference\":\"h/r\"},\"image\":{\"docker-manifest-digest\":\""
		  VALID_DIGEST "\"},\"type\":\"cosign container image signature\"},\"optional\":{\"alpha\":\"x y\",\"zeta\":\"1\"}}");
	oci_kvlist_dispose(&ann);

	slurp(&cfg, "signatures/cosign-valid/sig-config.json");
	json_t *layers = json_pack("[{s:s}]", "digest", "sha256:cf482371b51a7633b3f02e29b87fc3f4a18b3f127af61cb114af5f2c04fcdd75");
	CHECK_EQ_INT(oci_cosign_sig_config(&mycfg, layers), 0);
	CHECK_STR(mycfg.data, cfg.data);
	json_decref(layers);

	char *tag = NULL;
	CHECK_EQ_INT(oci_signature_tag(&tag, VALID_DIGEST), 0);
	CHECK_STR(tag, VALID_TAG);
	free(tag);
	oci_buf_dispose(&pl);
	oci_buf_dispose(&mine);
	oci_buf_dispose(&cfg);
	oci_buf_dispose(&mycfg);
}

static void test_unknown_key_signature_refused(void)
{
	oci_buf w = OCI_BUF_INIT;
	slurp(&w, "signatures/unknown-key.signature");
	/* containers/image's wrapper: 0x00 "sigstore-json\n" JSON */
	const char *js = memchr(w.data, '\n', w.len) + 1;
	json_t *root = json_loads(js, 0, NULL);
	const char *pl_b64 = json_string_value(json_object_get(root, "payload"));
	const char *sig = json_string_value(json_object_get(json_object_get(root, "annotations"), OCI_COSIGN_SIGNATURE_ANNOTATION));
	CHECK(pl_b64 && sig);
	unsigned char *pl = NULL;
	size_t plen = 0;
	CHECK_EQ_INT(oci_cosign_b64_decode(&pl, &plen, pl_b64, strlen(pl_b64), "payload"), 0);
	/* It names the valid manifest's digest, but no published key made it. */
	CHECK(memmem(pl, plen, VALID_DIGEST, strlen(VALID_DIGEST)) != NULL);
	oci_target *t = mem_target("192.168.64.2:5000/cosign-signed-single-sample:latest");
	oci_buf man = OCI_BUF_INIT;
	slurp(&man, "signatures/cosign-valid/manifest.json");
	put_manifest_raw(t->impl, "latest", OCI_MT_DOCKER_MANIFEST, man.data, man.len);
	store_signature(t, VALID_DIGEST, (char *)pl, plen, sig);
	oci_verifier *v = verifier_with("signatures/cosign.pub");
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, VALID_DIGEST), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("signature does not verify with any given key");
	oci_verifier_free(v);
	oci_target_free(t);
	oci_buf_dispose(&man);
	oci_buf_dispose(&w);
	free(pl);
	json_decref(root);
}

static const char *artifact = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
			      "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"size\":2,\"digest\":\"" OCI_EMPTY_DIGEST "\"},\"layers\":[]}";
static const char *artifact2 = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
			       "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"size\":2,\"digest\":\"" OCI_EMPTY_DIGEST "\"},\"layers\":[],\"annotations\":{\"v\":\"2\"}}";

static json_t *sig_manifest(oci_target *t, const char *digest)
{
	char *tag = NULL;
	oci_buf b = OCI_BUF_INIT;
	oci_signature_tag(&tag, digest);
	json_t *j = NULL;
	if (oci_target_manifest_get(&b, NULL, NULL, t, tag) == 0)
		j = json_loadb(b.data, b.len, 0, NULL);
	free(tag);
	oci_buf_dispose(&b);
	return j;
}

static void test_sign_then_verify(void)
{
	oci_target *t = mem_target("127.0.0.1:5000/team/app:v1");
	put_manifest_raw(t->impl, "v1", OCI_MT_MANIFEST, artifact, strlen(artifact));
	char d[OCI_DIGEST_SIZE];
	CHECK_EQ_INT(oci_resolve_ref(d, NULL, t), 0);
	oci_key *k1 = NULL, *k2 = NULL;
	CHECK_EQ_INT(oci_key_load_private(&k1, data_path("keys/empty-password.key"), ""), 0);
	CHECK_EQ_INT(oci_key_load_private(&k2, data_path("keys/password-123.key"), "123"), 0);

	int added = -1;
	CHECK_EQ_INT(oci_sign_digest_ex(&added, t, d, k1, NULL), 0);
	CHECK_EQ_INT(added, 1);
	json_t *m = sig_manifest(t, d);
	CHECK(m != NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(m, "layers")), 1);
	CHECK_STR(json_string_value(json_object_get(m, "mediaType")), OCI_MT_MANIFEST);
	CHECK_STR(json_string_value(json_object_get(json_object_get(m, "config"), "mediaType")), OCI_MT_IMAGE_CONFIG);
	json_t *l0 = json_array_get(json_object_get(m, "layers"), 0);
	CHECK_STR(json_string_value(json_object_get(l0, "mediaType")), OCI_MT_COSIGN_SIMPLESIGNING);
	/* The payload blob is what cosign would have written for this repository. */
	oci_buf want = OCI_BUF_INIT;
	oci_simplesigning_build(&want, "127.0.0.1:5000/team/app", d, NULL);
	char wd[OCI_DIGEST_SIZE];
	oci_digest_buf(wd, want.data, want.len);
	CHECK_STR(json_string_value(json_object_get(l0, "digest")), wd);
	CHECK_EQ_INT(json_integer_value(json_object_get(l0, "size")), (long long)want.len);
	oci_buf_dispose(&want);
	json_decref(m);

	/* The same key again: nothing changes (cosign's duplicate check). */
	int puts = ((struct mem *)t->impl)->puts;
	CHECK_EQ_INT(oci_sign_digest_ex(&added, t, d, k1, NULL), 0);
	CHECK_EQ_INT(added, 0);
	CHECK_EQ_INT(((struct mem *)t->impl)->puts, puts);

	/* Another key: appended, earlier layer kept, config lists both. */
	CHECK_EQ_INT(oci_sign_digest_ex(&added, t, d, k2, NULL), 0);
	CHECK_EQ_INT(added, 1);
	m = sig_manifest(t, d);
	CHECK_EQ_INT(json_array_size(json_object_get(m, "layers")), 2);
	const char *cd = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
	oci_buf_sink cfg = { OCI_BUF_INIT, 0, "config" };
	CHECK_EQ_INT(oci_target_blob_get(t, cd, -1, oci_buf_sink_write, &cfg), 0);
	json_t *cj = json_loadb(cfg.buf.data, cfg.buf.len, 0, NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(json_object_get(cj, "rootfs"), "diff_ids")), 2);
	CHECK_EQ_INT(json_array_size(json_object_get(cj, "history")), 2);
	json_decref(cj);
	oci_buf_dispose(&cfg.buf);
	json_decref(m);

	/* Either key verifies; the one reported is the one given. */
	oci_verifier *v = verifier_with("keys/password-123.pub");
	const char *which = NULL;
	CHECK_EQ_INT(oci_verifier_verify(&which, v, t, d), 0);
	CHECK(which && strstr(which, "password-123.pub"));
	oci_verifier_free(v);
	v = verifier_with("keys/empty-password.pub");
	CHECK_EQ_INT(oci_verifier_verify(&which, v, t, d), 0);
	oci_verifier_free(v);
	/* A key from memory (public half only). */
	CHECK_EQ_INT(oci_verifier_new(&v), 0);
	CHECK_EQ_INT(oci_verifier_add_key(v, k2, "k2"), 0);
	CHECK_EQ_INT(oci_verifier_verify(&which, v, t, d), 0);
	CHECK_STR(which, "k2");
	oci_verifier_free(v);

	/* Annotations: signed with env=prod, required env=prod passes, env=dev does not. */
	oci_kvlist ann = OCI_KVLIST_INIT;
	oci_kvlist_set(&ann, "env", "prod");
	put_manifest_raw(t->impl, "v2", OCI_MT_MANIFEST, artifact2, strlen(artifact2));
	char d2[OCI_DIGEST_SIZE];
	oci_digest_buf(d2, artifact2, strlen(artifact2));
	CHECK_EQ_INT(oci_sign_digest(t, d2, k1, &ann), 0);
	v = verifier_with("keys/empty-password.pub");
	CHECK_EQ_INT(oci_verifier_set_annotations(v, &ann), 0);
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d2), 0);
	oci_kvlist_set(&ann, "env", "dev");
	CHECK_EQ_INT(oci_verifier_set_annotations(v, &ann), 0);
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d2), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("annotation env=dev missing");
	/* The first digest's signatures carry no annotations. */
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("annotation env=dev missing");
	oci_verifier_free(v);
	oci_kvlist_dispose(&ann);

	/* Signing with a public key is refused. */
	oci_key *pub = NULL;
	CHECK_EQ_INT(oci_key_load_public(&pub, data_path("keys/empty-password.pub")), 0);
	CHECK_EQ_INT(oci_sign_digest(t, d, pub, NULL), OCI_EINVALID);
	oci_key_free(pub);
	oci_key_free(k1);
	oci_key_free(k2);
	oci_target_free(t);
}

static void test_docker_reference(void)
{
	oci_target *t = mem_target("docker.io/library/nginx:1");
	char *s = NULL;
	CHECK_EQ_INT(oci_sign_docker_reference(&s, t), 0);
	CHECK_STR(s, "index.docker.io/library/nginx");
	free(s);
	oci_target_free(t);
	/* A layout is named by its last path component, never by the path. */
	static const char *const layouts[][2] = {
		{ "oci-layout:/tmp/x:v1", "x" },
		{ "oci-layout:/srv/ci/builds/42/store/", "store" },
		{ "oci-layout:store@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "store" },
		{ "oci-layout:/", "oci-layout" },
	};
	for (size_t i = 0; i < sizeof layouts / sizeof *layouts; i++) {
		t = mem_target(layouts[i][0]);
		CHECK_EQ_INT(oci_sign_docker_reference(&s, t), 0);
		CHECK_STR(s, layouts[i][1]);
		free(s);
		oci_target_free(t);
	}
}

/* Each tampering, refused with its reason. */
static void test_tampering(void)
{
	oci_key *k = NULL;
	CHECK_EQ_INT(oci_key_load_private(&k, data_path("keys/empty-password.key"), ""), 0);
	oci_verifier *v = verifier_with("keys/empty-password.pub");
	char d[OCI_DIGEST_SIZE], d2[OCI_DIGEST_SIZE];
	oci_digest_buf(d, artifact, strlen(artifact));
	oci_digest_buf(d2, artifact2, strlen(artifact2));
	oci_buf pl = OCI_BUF_INIT, sig = OCI_BUF_INIT;
	char *b64 = NULL;

	/* No .sig tag at all. */
	oci_target *t = mem_target("127.0.0.1:5000/app:v1");
	put_manifest_raw(t->impl, "v1", OCI_MT_MANIFEST, artifact, strlen(artifact));
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("no signatures found for sha256:");

	/* A valid signature of ANOTHER digest moved under this digest's tag. */
	oci_simplesigning_build(&pl, "127.0.0.1:5000/app", d2, NULL);
	oci_key_sign(&sig, k, pl.data, pl.len);
	oci_cosign_b64_encode(&b64, sig.data, sig.len);
	store_signature(t, d, pl.data, pl.len, b64);
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("payload names digest ");
	CHECK_ERR_CONTAINS(d2);
	CHECK_ERR_CONTAINS(", not ");

	/* A flipped byte in the payload (stored under its own new digest). */
	oci_buf_dispose(&pl);
	oci_simplesigning_build(&pl, "127.0.0.1:5000/app", d, NULL);
	oci_buf_dispose(&sig);
	oci_key_sign(&sig, k, pl.data, pl.len);
	free(b64);
	oci_cosign_b64_encode(&b64, sig.data, sig.len);
	pl.data[20] ^= 0x01;
	store_signature(t, d, pl.data, pl.len, b64);
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("signature does not verify with any given key");
	pl.data[20] ^= 0x01;

	/* A flipped byte in the signature. */
	sig.data[sig.len / 2] ^= 0x10;
	free(b64);
	oci_cosign_b64_encode(&b64, sig.data, sig.len);
	store_signature(t, d, pl.data, pl.len, b64);
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("signature does not verify with any given key");
	sig.data[sig.len / 2] ^= 0x10;

	/* Not base64. */
	store_signature(t, d, pl.data, pl.len, "!!!notbase64");
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("is not valid base64");

	/* The right signature, but the stored blob does not match its digest. */
	free(b64);
	oci_cosign_b64_encode(&b64, sig.data, sig.len);
	store_signature(t, d, pl.data, pl.len, b64);
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), 0);
	char pd[OCI_DIGEST_SIZE];
	oci_digest_buf(pd, pl.data, pl.len);
	struct entry *e = find(t->impl, pd);
	e->data.data[5] ^= 0x01;
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("does not match its digest");
	e->data.data[5] ^= 0x01;

	/* A payload of the wrong type. */
	{
		const char *bad = "{\"critical\":{\"identity\":{\"docker-reference\":\"x\"},\"image\":{\"docker-manifest-digest\":\"%s\"},\"type\":\"something else\"},\"optional\":null}";
		char buf[512];
		snprintf(buf, sizeof buf, bad, d);
		oci_buf s2 = OCI_BUF_INIT;
		char *b2 = NULL;
		oci_key_sign(&s2, k, buf, strlen(buf));
		oci_cosign_b64_encode(&b2, s2.data, s2.len);
		store_signature(t, d, buf, strlen(buf), b2);
		CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
		CHECK_ERR_CONTAINS("payload type is 'something else'");
		free(b2);
		oci_buf_dispose(&s2);
	}

	/* The .sig tag pointing at garbage, at an index, at an empty manifest. */
	char tag[128];
	snprintf(tag, sizeof tag, "sha256-%s.sig", d + 7);

	/* A payload declared larger than the limit is not fetched at all. */
	{
		store_signature(t, d, pl.data, pl.len, b64);
		oci_buf raw = OCI_BUF_INIT;
		CHECK_EQ_INT(oci_target_manifest_get(&raw, NULL, NULL, t, tag), 0);
		json_t *m = json_loadb(raw.data, raw.len, 0, NULL);
		json_object_set_new(json_array_get(json_object_get(m, "layers"), 0), "size", json_integer(2 * 1024 * 1024));
		char *s = json_dumps(m, JSON_COMPACT);
		put_manifest_raw(t->impl, tag, OCI_MT_MANIFEST, s, strlen(s));
		CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
		CHECK_ERR_CONTAINS("is larger than 1048576 bytes");
		free(s);
		json_decref(m);
		oci_buf_dispose(&raw);
	}
	put_manifest_raw(t->impl, tag, OCI_MT_MANIFEST, "garbage{", 8);
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
	CHECK_ERR_CONTAINS(".sig manifest sha256-");
	CHECK_ERR_CONTAINS("is not valid");
	const char *idx = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}";
	put_manifest_raw(t->impl, tag, OCI_MT_INDEX, idx, strlen(idx));
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("is not valid: its media type is not an image manifest");
	const char *empty = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":2,\"digest\":\"" OCI_EMPTY_DIGEST "\"},\"layers\":[]}";
	put_manifest_raw(t->impl, tag, OCI_MT_MANIFEST, empty, strlen(empty));
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("no signatures found for");
	/* The artifact itself at the .sig tag: tar layers, no signatures. */
	put_manifest_raw(t->impl, tag, OCI_MT_MANIFEST, artifact, strlen(artifact));
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("no signatures found for");

	/* Signing refuses to replace a garbage .sig manifest (its signatures would be lost). */
	put_manifest_raw(t->impl, tag, OCI_MT_MANIFEST, "garbage{", 8);
	CHECK_EQ_INT(oci_sign_digest(t, d, k, NULL), OCI_EINVALID);
	CHECK_ERR_CONTAINS("not signing");
	/* An empty one is fine to extend. */
	put_manifest_raw(t->impl, tag, OCI_MT_MANIFEST, empty, strlen(empty));
	CHECK_EQ_INT(oci_sign_digest(t, d, k, NULL), 0);
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), 0);

	/* No keys at all. */
	oci_verifier *none = NULL;
	oci_verifier_new(&none);
	CHECK_EQ_INT(oci_verifier_verify(NULL, none, t, d), OCI_EINVALID);
	oci_verifier_free(none);

	free(b64);
	oci_buf_dispose(&pl);
	oci_buf_dispose(&sig);
	oci_target_free(t);
	oci_verifier_free(v);
	oci_key_free(k);
}

/* cosign's extra layer annotations (bundle, certificate, chain) are
 * tolerated, and a key or certificate inside the artifact is never trusted. */
static void test_extra_annotations_not_trusted(void)
{
	oci_target *t = cosign_valid_target();
	oci_buf sm = OCI_BUF_INIT;
	slurp(&sm, "signatures/cosign-valid/sig-manifest.json");
	json_t *m = json_loadb(sm.data, sm.len, 0, NULL);
	json_t *ann = json_object_get(json_array_get(json_object_get(m, "layers"), 0), "annotations");
	json_object_set_new(ann, "dev.sigstore.cosign/bundle", json_string("{\"SignedEntryTimestamp\":\"AAAA\"}"));
	json_object_set_new(ann, "dev.sigstore.cosign/certificate", json_string("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"));
	json_object_set_new(ann, "dev.sigstore.cosign/chain", json_string(""));
	char *s = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
	put_manifest_raw(t->impl, VALID_TAG, OCI_MT_MANIFEST, s, strlen(s));
	free(s);
	oci_verifier *v = verifier_with("signatures/cosign.pub");
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, VALID_DIGEST), 0);
	oci_verifier_free(v);
	json_decref(m);
	oci_buf_dispose(&sm);
	oci_target_free(t);

	/* A signature whose layer carries the signer's own public key: still
	 * refused when that key is not one of ours. */
	oci_key *k = NULL;
	oci_buf pub = OCI_BUF_INIT, pl = OCI_BUF_INIT, sig = OCI_BUF_INIT;
	char *b64 = NULL, d[OCI_DIGEST_SIZE];
	CHECK_EQ_INT(oci_key_load_private(&k, data_path("keys/empty-password.key"), ""), 0);
	oci_key_encode_public(&pub, k);
	t = mem_target("127.0.0.1:5000/app:v1");
	put_manifest_raw(t->impl, "v1", OCI_MT_MANIFEST, artifact, strlen(artifact));
	oci_digest_buf(d, artifact, strlen(artifact));
	oci_simplesigning_build(&pl, "127.0.0.1:5000/app", d, NULL);
	oci_key_sign(&sig, k, pl.data, pl.len);
	oci_cosign_b64_encode(&b64, sig.data, sig.len);
	store_signature(t, d, pl.data, pl.len, b64);
	oci_buf raw = OCI_BUF_INIT;
	char tag[128];
	snprintf(tag, sizeof tag, "sha256-%s.sig", d + 7);
	CHECK_EQ_INT(oci_target_manifest_get(&raw, NULL, NULL, t, tag), 0);
	m = json_loadb(raw.data, raw.len, 0, NULL);
	ann = json_object_get(json_array_get(json_object_get(m, "layers"), 0), "annotations");
	json_object_set_new(ann, "dev.sigstore.cosign/certificate", json_string(pub.data));
	json_object_set_new(ann, "dev.sigstore.cosign/publicKey", json_string(pub.data));
	s = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
	put_manifest_raw(t->impl, tag, OCI_MT_MANIFEST, s, strlen(s));
	free(s);
	v = verifier_with("keys/password-123.pub");
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("signature does not verify with any given key");
	oci_verifier_free(v);
	v = verifier_with("keys/empty-password.pub");
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, d), 0);
	oci_verifier_free(v);
	json_decref(m);
	free(b64);
	oci_buf_dispose(&raw);
	oci_buf_dispose(&pub);
	oci_buf_dispose(&pl);
	oci_buf_dispose(&sig);
	oci_key_free(k);
	oci_target_free(t);
}

/* Signing the fixture's digest in a repository of the fixture's name gives
 * cosign's payload, config and manifest byte for byte, the signature aside. */
static void test_sig_manifest_bytes_match_cosign(void)
{
	oci_target *t = mem_target("192.168.64.2:5000/cosign-signed-single-sample:latest");
	oci_buf man = OCI_BUF_INIT, want = OCI_BUF_INIT, got = OCI_BUF_INIT;
	slurp(&man, "signatures/cosign-valid/manifest.json");
	slurp(&want, "signatures/cosign-valid/sig-manifest.json");
	put_manifest_raw(t->impl, "latest", OCI_MT_DOCKER_MANIFEST, man.data, man.len);
	oci_key *k = NULL;
	CHECK_EQ_INT(oci_key_load_private(&k, data_path("keys/empty-password.key"), ""), 0);
	CHECK_EQ_INT(oci_sign_digest(t, VALID_DIGEST, k, NULL), 0);
	CHECK_EQ_INT(oci_target_manifest_get(&got, NULL, NULL, t, VALID_TAG), 0);
	json_t *g = json_loadb(got.data, got.len, 0, NULL);
	json_t *w = json_loadb(want.data, want.len, 0, NULL);
	const char *theirs = json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(w, "layers"), 0),
				"annotations"), OCI_COSIGN_SIGNATURE_ANNOTATION));
	json_object_set_new(json_object_get(json_array_get(json_object_get(g, "layers"), 0), "annotations"),
			    OCI_COSIGN_SIGNATURE_ANNOTATION, json_string(theirs));
	char *s = json_dumps(g, JSON_COMPACT | JSON_PRESERVE_ORDER);
	CHECK_STR(s, want.data);
	/* and with cosign's signature in place, it verifies with cosign's key */
	put_manifest_raw(t->impl, VALID_TAG, OCI_MT_MANIFEST, s, strlen(s));
	oci_verifier *v = verifier_with("signatures/cosign.pub");
	CHECK_EQ_INT(oci_verifier_verify(NULL, v, t, VALID_DIGEST), 0);
	oci_verifier_free(v);
	free(s);
	json_decref(g);
	json_decref(w);
	oci_key_free(k);
	oci_buf_dispose(&man);
	oci_buf_dispose(&want);
	oci_buf_dispose(&got);
	oci_target_free(t);
}

/* The trusted key set as sync remembers it: the same keys in any order, by
 * any file name, named twice or from memory, give the same text; another
 * set gives another. */
static void test_verifier_fingerprint(void)
{
	const char *a = "keys/empty-password.pub", *b = "keys/password-123.pub";
	oci_verifier *v1 = NULL, *v2 = NULL, *v3 = NULL;
	char *f1 = NULL, *f2 = NULL, *f3 = NULL, *f0 = NULL;
	CHECK_EQ_INT(oci_verifier_new(&v1), 0);
	CHECK_EQ_INT(oci_verifier_add_key_file(v1, data_path(a)), 0);
	CHECK_EQ_INT(oci_verifier_add_key_file(v1, data_path(b)), 0);
	CHECK_EQ_INT(oci_verifier_new(&v2), 0);
	CHECK_EQ_INT(oci_verifier_add_key_file(v2, data_path(b)), 0);
	CHECK_EQ_INT(oci_verifier_add_key_file(v2, data_path(a)), 0);
	CHECK_EQ_INT(oci_verifier_add_key_file(v2, data_path(b)), 0);
	CHECK_EQ_INT(oci_verifier_new(&v3), 0);
	CHECK_EQ_INT(oci_verifier_add_key_file(v3, data_path(a)), 0);
	CHECK_EQ_INT(oci_verifier_fingerprint(&f1, v1), 0);
	CHECK_EQ_INT(oci_verifier_fingerprint(&f2, v2), 0);
	CHECK_EQ_INT(oci_verifier_fingerprint(&f3, v3), 0);
	CHECK_STR(f1, f2);
	CHECK(strcmp(f1, f3) != 0);
	CHECK_EQ_INT((long long)strlen(f1), 71 * 2 + 1); /* two sha256 digests and a comma */
	CHECK(strncmp(f3, "sha256:", 7) == 0 && strlen(f3) == 71);
	CHECK(strstr(f1, f3) != NULL);
	/* the key from memory is the same key */
	oci_key *k = NULL;
	CHECK_EQ_INT(oci_key_load_private(&k, data_path("keys/empty-password.key"), ""), 0);
	oci_verifier_free(v3);
	CHECK_EQ_INT(oci_verifier_new(&v3), 0);
	CHECK_EQ_INT(oci_verifier_add_key(v3, k, "mem"), 0);
	CHECK_EQ_INT(oci_verifier_fingerprint(&f0, v3), 0);
	CHECK_STR(f0, f3);
	free(f0);
	/* no keys: the empty set */
	oci_verifier_free(v3);
	CHECK_EQ_INT(oci_verifier_new(&v3), 0);
	CHECK_EQ_INT(oci_verifier_fingerprint(&f0, v3), 0);
	CHECK_STR(f0, "");
	free(f0);
	oci_key_free(k);
	free(f1);
	free(f2);
	free(f3);
	oci_verifier_free(v1);
	oci_verifier_free(v2);
	oci_verifier_free(v3);
}

int main(void)
{
	oci_init();
	RUN(test_shapes_match_cosign);
	RUN(test_sig_manifest_bytes_match_cosign);
	RUN(test_cosign_valid_verifies);
	RUN(test_unknown_key_signature_refused);
	RUN(test_docker_reference);
	RUN(test_sign_then_verify);
	RUN(test_tampering);
	RUN(test_extra_annotations_not_trusted);
	RUN(test_verifier_fingerprint);
	TEST_END();
}
