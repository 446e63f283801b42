#include "oci/oci.h"
#include "test.h"

static void check_parse(const char *s, int kind, const char *registry, const char *repo, const char *path,
			const char *tags, const char *digest)
{
	oci_ref *r = NULL;
	int rc = oci_ref_parse(&r, s);
	CHECK_EQ_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "  parsing %s: %s\n", s, oci_error_last()->message);
		return;
	}
	CHECK_EQ_INT(r->kind, kind);
	if (registry)
		CHECK_STR(r->registry, registry);
	if (repo)
		CHECK_STR(r->repository, repo);
	if (path)
		CHECK_STR(r->path, path);
	char joined[256] = "";
	for (size_t i = 0; i < r->tags.n; i++) {
		if (i)
			strcat(joined, ",");
		strcat(joined, r->tags.items[i]);
	}
	CHECK_STR(joined, tags);
	if (digest)
		CHECK_STR(r->digest, digest);
	else
		CHECK(r->digest == NULL);
	oci_ref_free(r);
}

#define D "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

static void test_registry_refs(void)
{
	check_parse("ghcr.io/team/app:v1", OCI_REF_REGISTRY, "ghcr.io", "team/app", NULL, "v1", NULL);
	check_parse("oci://ghcr.io/team/app:v1.2.3,prod", OCI_REF_REGISTRY, "ghcr.io", "team/app", NULL, "v1.2.3,prod", NULL);
	check_parse("127.0.0.1:5000/a/b/c@" D, OCI_REF_REGISTRY, "127.0.0.1:5000", "a/b/c", NULL, "", D);
	check_parse("localhost/app:x@" D, OCI_REF_REGISTRY, "localhost", "app", NULL, "x", D);
	check_parse("localhost:5000/app", OCI_REF_REGISTRY, "localhost:5000", "app", NULL, "", NULL);
	check_parse("[::1]:5000/app:v1", OCI_REF_REGISTRY, "[::1]:5000", "app", NULL, "v1", NULL);
	/* Docker Hub normalisation */
	check_parse("alpine", OCI_REF_REGISTRY, "docker.io", "library/alpine", NULL, "", NULL);
	check_parse("alpine:3.19", OCI_REF_REGISTRY, "docker.io", "library/alpine", NULL, "3.19", NULL);
	check_parse("fluxcd/flux:v2", OCI_REF_REGISTRY, "docker.io", "fluxcd/flux", NULL, "v2", NULL);
	check_parse("docker.io/alpine", OCI_REF_REGISTRY, "docker.io", "library/alpine", NULL, "", NULL);
	check_parse("index.docker.io/library/alpine", OCI_REF_REGISTRY, "docker.io", "library/alpine", NULL, "", NULL);
	check_parse("registry-1.docker.io/x/y", OCI_REF_REGISTRY, "docker.io", "x/y", NULL, "", NULL);
	check_parse("a.b/x__y/z-1.2:_t", OCI_REF_REGISTRY, "a.b", "x__y/z-1.2", NULL, "_t", NULL);
	check_parse("ghcr.io/app:v1,v1,prod", OCI_REF_REGISTRY, "ghcr.io", "app", NULL, "v1,prod", NULL);

	oci_ref *r = NULL;
	oci_ref_parse(&r, "alpine");
	CHECK_STR(oci_ref_api_host(r), "registry-1.docker.io");
	char *s = NULL;
	oci_ref_format_pinned(&s, r, D);
	CHECK_STR(s, "docker.io/library/alpine@" D);
	free(s);
	oci_ref_free(r);
	oci_ref_parse(&r, "oci://ghcr.io/team/app:v1,prod@" D);
	oci_ref_format(&s, r);
	CHECK_STR(s, "ghcr.io/team/app:v1,prod@" D);
	free(s);
	oci_ref_free(r);
	/* a registry host named oci-layout keeps its scheme when formatted,
	 * else the text would read back as a layout (fuzz_ref's finding) */
	check_parse("oci://oci-layout:6121/a", OCI_REF_REGISTRY, "oci-layout:6121", "a", NULL, "", NULL);
	oci_ref_parse(&r, "oci://oci-layout:6121/a:v1");
	oci_ref_format(&s, r);
	CHECK_STR(s, "oci://oci-layout:6121/a:v1");
	free(s);
	oci_ref_free(r);
}

static void test_layout_refs(void)
{
	check_parse("oci-layout:./store:v1", OCI_REF_LAYOUT, NULL, NULL, "./store", "v1", NULL);
	check_parse("oci-layout:/abs/dir", OCI_REF_LAYOUT, NULL, NULL, "/abs/dir", "", NULL);
	check_parse("oci-layout:store:a,b@" D, OCI_REF_LAYOUT, NULL, NULL, "store", "a,b", D);
	check_parse("oci-layout:we:ird/dir", OCI_REF_LAYOUT, NULL, NULL, "we:ird/dir", "", NULL);
}

static void expect_bad(const char *s, const char *msg)
{
	oci_ref *r = NULL;
	int rc = oci_ref_parse(&r, s);
	CHECK_EQ_INT(rc, OCI_EINVALID);
	CHECK(r == NULL);
	CHECK_ERR_CONTAINS(msg);
}

static void test_bad_refs(void)
{
	expect_bad("", "empty reference");
	expect_bad("ghcr.io/Team/app", "uppercase");
	expect_bad("ghcr.io/team/app:", "empty tag");
	expect_bad("ghcr.io/team/app:-bad", "must start with");
	expect_bad("ghcr.io/team/app:a,,b", "empty tag");
	expect_bad("ghcr.io/team/app:v1@sha256:abc", "64");
	expect_bad("ghcr.io/team//app", "not valid");
	expect_bad("ghcr.io/team/app-:v1", "not valid");
	expect_bad("https://ghcr.io/team/app", "oci://");
	expect_bad("ghcr.io/team app", "whitespace");
	expect_bad("oci-layout::v1", "names no directory");
	expect_bad("bad_host.io:x/app", "not a valid registry host");
	CHECK_EQ_INT(oci_tag_validate("v1.2.3-rc.1_x"), 0);
	char longtag[200];
	memset(longtag, 'a', 129);
	longtag[129] = 0;
	CHECK_EQ_INT(oci_tag_validate(longtag), OCI_EINVALID);
	CHECK_ERR_CONTAINS("longer than 128");
}

int main(void)
{
	RUN(test_registry_refs);
	RUN(test_layout_refs);
	RUN(test_bad_refs);
	TEST_END();
}
