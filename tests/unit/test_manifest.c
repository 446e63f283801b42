#include <stdlib.h>

#include "oci/oci.h"
#include "test.h"

#define D1 "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define D2 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void test_build_portable_and_parse(void)
{
	oci_descriptor layer = { 0 };
	memcpy(layer.digest, D2, sizeof D2);
	layer.size = 1234;
	oci_kvlist extra = OCI_KVLIST_INIT;
	oci_kvlist_set(&extra, "team", "shop");
	oci_manifest_spec spec = { .profile = OCI_PROFILE_PORTABLE, .layer = &layer,
				   .created = "2024-01-02T03:04:05Z", .source = "https://git.example/shop",
				   .revision = "main@sha1:abc", .annotations = &extra };
	oci_buf a = OCI_BUF_INIT, b = OCI_BUF_INIT;
	CHECK_EQ_INT(oci_manifest_build(&a, &spec), 0);
	CHECK_EQ_INT(oci_manifest_build(&b, &spec), 0);
	CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	CHECK(strstr(a.data, "\"artifactType\":\"application/vnd.ocisync.manifests.v1\"") != NULL);
	/* Title only (see cli.md): no ORAS unpack or digest annotations. */
	CHECK(strstr(a.data, "\"annotations\":{\"org.opencontainers.image.title\":\"manifests.tar.gz\"}") != NULL);
	CHECK(strstr(a.data, "io.deis.oras") == NULL);

	oci_manifest *m = NULL;
	CHECK_EQ_INT(oci_manifest_parse(&m, a.data, a.len, NULL), 0);
	if (m) {
		CHECK_STR(m->media_type, OCI_MT_MANIFEST);
		CHECK_STR(m->artifact_type, OCI_ARTIFACT_TYPE);
		CHECK_STR(m->config.media_type, OCI_MT_EMPTY);
		CHECK_STR(m->config.digest, OCI_EMPTY_DIGEST);
		CHECK_EQ_INT(m->nlayers, 1);
		CHECK_STR(m->layers[0].media_type, OCI_MT_LAYER_TGZ);
		CHECK_EQ_INT(m->layers[0].size, 1234);
		CHECK_STR(oci_kvlist_get(&m->annotations, "org.opencontainers.image.created"), "2024-01-02T03:04:05Z");
		CHECK_STR(oci_kvlist_get(&m->annotations, "org.opencontainers.image.source"), "https://git.example/shop");
		CHECK_STR(oci_kvlist_get(&m->annotations, "org.opencontainers.image.revision"), "main@sha1:abc");
		CHECK_STR(oci_kvlist_get(&m->annotations, "team"), "shop");
		const oci_descriptor *l = NULL;
		CHECK_EQ_INT(oci_artifact_layer(&l, m), 0);
		CHECK(l == &m->layers[0]);
	}
	oci_manifest_free(m);
	oci_buf_dispose(&a);
	oci_buf_dispose(&b);

	spec.profile = OCI_PROFILE_FLUX;
	CHECK_EQ_INT(oci_manifest_build(&a, &spec), 0);
	CHECK(strstr(a.data, OCI_MT_FLUX_CONFIG) != NULL);
	CHECK(strstr(a.data, OCI_MT_FLUX_LAYER) != NULL);
	CHECK(strstr(a.data, "artifactType") == NULL);
	oci_buf_dispose(&a);
	oci_kvlist_dispose(&extra);
}

static void test_created(void)
{
	char out[32];
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	CHECK_EQ_INT(oci_created_timestamp(out, NULL), 0);
	CHECK_STR(out, "2023-11-14T22:13:20Z");
	setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
	CHECK_EQ_INT(oci_created_timestamp(out, NULL), OCI_EINVALID);
	CHECK_ERR_CONTAINS("SOURCE_DATE_EPOCH");
	unsetenv("SOURCE_DATE_EPOCH");
	CHECK_EQ_INT(oci_created_timestamp(out, "2024-13-99"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("not RFC 3339");
}

static void expect_bad(const char *json, int code, const char *msg)
{
	oci_manifest *m = NULL;
	CHECK_EQ_INT(oci_manifest_parse(&m, json, strlen(json), NULL), code);
	CHECK(m == NULL);
	CHECK_ERR_CONTAINS(msg);
}

static void test_strict_parse(void)
{
	expect_bad("{\"schemaVersion\":2,", OCI_EINVALID, "not valid JSON");
	expect_bad("[]", OCI_EINVALID, "not a JSON object");
	expect_bad("{\"schemaVersion\":1,\"layers\":[]}", OCI_EINVALID, "schemaVersion is not 2");
	expect_bad("{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT_MANIFEST "\"}", OCI_EINVALID, "no 'layers' array");
	expect_bad("{\"schemaVersion\":2,\"layers\":[]}", OCI_EINVALID, "no config");
	expect_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:00\",\"size\":2},\"layers\":[]}",
		   OCI_EINVALID, "64");
	expect_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1 "\",\"size\":-2},\"layers\":[]}",
		   OCI_EINVALID, "no valid size");
	expect_bad("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D1 "\",\"size\":2},\"layers\":[{\"digest\":\"" D1 "\",\"size\":1}]}",
		   OCI_EINVALID, "layers[0] has no mediaType");
	expect_bad("{\"schemaVersion\":2,\"mediaType\":\"application/x-foo\",\"layers\":[]}", OCI_EUNSUPPORTED,
		   "unsupported manifest media type");
	expect_bad("{\"schemaVersion\":2,\"schemaVersion\":2}", OCI_EINVALID, "duplicate");
	/* Over 4 MiB is refused before parsing. */
	size_t big = OCI_MANIFEST_MAX + 1;
	char *huge = malloc(big);
	memset(huge, ' ', big);
	oci_manifest *m = NULL;
	CHECK_EQ_INT(oci_manifest_parse(&m, huge, big, NULL), OCI_ELIMIT);
	CHECK_ERR_CONTAINS("4 MiB");
	free(huge);

	const char *index = "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT_INDEX "\",\"manifests\":[{\"mediaType\":\""
			    OCI_MT_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":10}]}";
	CHECK_EQ_INT(oci_manifest_parse(&m, index, strlen(index), NULL), 0);
	if (m) {
		CHECK(m->is_index);
		CHECK_EQ_INT(m->nlayers, 1);
		const oci_descriptor *l;
		CHECK_EQ_INT(oci_artifact_layer(&l, m), OCI_EUNSUPPORTED);
		CHECK_ERR_CONTAINS("index");
	}
	oci_manifest_free(m);
}

int main(void)
{
	RUN(test_build_portable_and_parse);
	RUN(test_created);
	RUN(test_strict_parse);
	TEST_END();
}
