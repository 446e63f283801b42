/* Docker Hub's naming rules (core/dockerhub.c), and that the modules which
 * treat Docker Hub differently (references, credentials, signing names)
 * agree with them. */
#include "test.h"
#include "dockerhub.h"
#include "oci/oci.h"

#include <stdlib.h>

static void test_aliases(void)
{
	CHECK(oci_dockerhub_is("docker.io"));
	CHECK(!oci_dockerhub_is("index.docker.io"));
	CHECK(!oci_dockerhub_is(NULL));
	CHECK(oci_dockerhub_ref_alias("docker.io"));
	CHECK(oci_dockerhub_ref_alias("index.docker.io"));
	CHECK(oci_dockerhub_ref_alias("registry-1.docker.io"));
	CHECK(!oci_dockerhub_ref_alias("registry.hub.docker.com"));
	CHECK(!oci_dockerhub_ref_alias("docker.io:443"));
	CHECK(!oci_dockerhub_ref_alias("ghcr.io"));
	CHECK(oci_dockerhub_credential_alias("registry.hub.docker.com"));
	CHECK(oci_dockerhub_credential_alias("index.docker.io"));
	CHECK(!oci_dockerhub_credential_alias("quay.io"));
}

static void test_hosts_and_keys(void)
{
	CHECK_STR(oci_dockerhub_api_host("docker.io"), "registry-1.docker.io");
	CHECK_STR(oci_dockerhub_api_host("127.0.0.1:5000"), "127.0.0.1:5000");
	CHECK_STR(oci_dockerhub_config_key("docker.io"), "https://index.docker.io/v1/");
	CHECK_STR(oci_dockerhub_config_key("ghcr.io"), "ghcr.io");
	CHECK(oci_dockerhub_needs_library("docker.io", "nginx"));
	CHECK(!oci_dockerhub_needs_library("docker.io", "team/app"));
	CHECK(!oci_dockerhub_needs_library("ghcr.io", "nginx"));
}

/* The users of the rules: references and credentials. */
static void test_users_agree(void)
{
	const char *names[] = { "nginx:1", "docker.io/nginx:1", "index.docker.io/nginx:1",
				"registry-1.docker.io/library/nginx:1" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		oci_ref *r = NULL;
		CHECK_EQ_INT(oci_ref_parse(&r, names[i]), 0);
		if (!r)
			continue;
		CHECK_STR(r->registry, "docker.io");
		CHECK_STR(r->repository, "library/nginx");
		CHECK_STR(oci_ref_api_host(r), "registry-1.docker.io");
		oci_ref_free(r);
	}
	oci_ref *r = NULL;
	CHECK_EQ_INT(oci_ref_parse(&r, "registry.example.com/nginx:1"), 0);
	if (r) {
		CHECK_STR(r->repository, "nginx");
		CHECK_STR(oci_ref_api_host(r), "registry.example.com");
		oci_ref_free(r);
	}
	char buf[256];
	const char *hosts[] = { "https://index.docker.io/v1/", "registry-1.docker.io", "REGISTRY.HUB.DOCKER.COM",
				"docker.io" };
	for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
		oci_credentials_normalize_host(buf, sizeof buf, hosts[i]);
		CHECK_STR(buf, "docker.io");
	}
	oci_credentials_normalize_host(buf, sizeof buf, "https://Quay.io/v2/");
	CHECK_STR(buf, "quay.io");
}

int main(void)
{
	RUN(test_aliases);
	RUN(test_hosts_and_keys);
	RUN(test_users_agree);
	TEST_END();
}
