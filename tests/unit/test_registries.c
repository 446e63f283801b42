/* Per-registry settings (oci/registries.h): the "ocisync" section of the
 * Docker config, its checks, and what apply fills in. */
#include "test.h"
#include "oci/oci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static void write_file(const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
}

static int load(oci_registry_settings **s, const char *json)
{
	char p[512];
	write_file("config.json", json);
	snprintf(p, sizeof p, "%s/config.json", dir);
	return oci_registry_settings_load(s, p);
}

static void test_apply(void)
{
	oci_registry_settings *s = NULL;
	write_file("ca.crt", "x");
	write_file("c.crt", "x");
	write_file("c.key", "x");
	CHECK_EQ_INT(load(&s, "{\"auths\": {}, \"ocisync\": {\"registries\": {"
			      "\"Reg.Example:5000\": {\"caFile\": \"ca.crt\", \"certFile\": \"c.crt\", \"keyFile\": \"c.key\"},"
			      "\"127.0.0.1:5000\": {\"plainHTTP\": true},"
			      "\"lab.example\": {\"insecure\": true}}}}"), 0);
	oci_client_opts o;
	oci_client_opts_init(&o);
	CHECK_EQ_INT(oci_registry_settings_apply(s, "reg.example:5000", &o), 1); /* host names fold case */
	char want[512];
	snprintf(want, sizeof want, "%s/ca.crt", dir); /* relative to the config's folder */
	CHECK_STR(o.ca_file, want);
	snprintf(want, sizeof want, "%s/c.key", dir);
	CHECK_STR(o.key_file, want);
	CHECK_EQ_INT(o.plain_http, 0);

	/* the caller's own choice stays */
	oci_client_opts mine;
	oci_client_opts_init(&mine);
	mine.ca_file = "/mine.pem";
	CHECK_EQ_INT(oci_registry_settings_apply(s, "reg.example:5000", &mine), 1);
	CHECK_STR(mine.ca_file, "/mine.pem");
	oci_client_opts plain;
	oci_client_opts_init(&plain);
	plain.plain_http = 1;
	oci_registry_settings_apply(s, "reg.example:5000", &plain);
	CHECK(plain.ca_file == NULL && plain.cert_file == NULL);
	oci_client_opts tls;
	oci_client_opts_init(&tls);
	tls.insecure = 1;
	oci_registry_settings_apply(s, "127.0.0.1:5000", &tls);
	CHECK_EQ_INT(tls.plain_http, 0);

	oci_client_opts p;
	oci_client_opts_init(&p);
	CHECK_EQ_INT(oci_registry_settings_apply(s, "127.0.0.1:5000", &p), 1);
	CHECK_EQ_INT(p.plain_http, 1);
	oci_client_opts i;
	oci_client_opts_init(&i);
	CHECK_EQ_INT(oci_registry_settings_apply(s, "lab.example", &i), 1);
	CHECK_EQ_INT(i.insecure, 1);
	oci_client_opts none;
	oci_client_opts_init(&none);
	CHECK_EQ_INT(oci_registry_settings_apply(s, "lab.example:443", &none), 0); /* the port is part of the name */
	CHECK_EQ_INT(none.insecure, 0);
	oci_registry_settings_free(s);
}

static void test_absent(void)
{
	oci_registry_settings *s = NULL;
	char p[512];
	snprintf(p, sizeof p, "%s/missing.json", dir);
	CHECK_EQ_INT(oci_registry_settings_load(&s, p), 0); /* nothing set */
	oci_client_opts o;
	oci_client_opts_init(&o);
	CHECK_EQ_INT(oci_registry_settings_apply(s, "x.example", &o), 0);
	oci_registry_settings_free(s);
	CHECK_EQ_INT(load(&s, "{\"auths\": {}}"), 0);
	oci_registry_settings_free(s);
}

static void test_bad(void)
{
	static const struct {
		const char *json, *message;
	} cases[] = {
		{ "{", "invalid JSON" },
		{ "{\"ocisync\": []}", "\"ocisync\" must be an object" },
		{ "{\"ocisync\": {\"registries\": []}}", "\"ocisync\" must be an object" },
		{ "{\"ocisync\": {\"registries\": {\"r.example\": 1}}}", "expected an object" },
		{ "{\"ocisync\": {\"registries\": {\"r.example\": {\"caFIle\": \"ca.crt\"}}}}", "unknown setting \"caFIle\"" },
		{ "{\"ocisync\": {\"registries\": {\"r.example\": {\"insecure\": 1}}}}", "insecure: expected true or false" },
		{ "{\"ocisync\": {\"registries\": {\"r.example\": {\"caFile\": \"\"}}}}", "caFile: expected a file name" },
		{ "{\"ocisync\": {\"registries\": {\"r.example\": {\"caFile\": \"nope.crt\"}}}}", "nope.crt: no such file" },
		{ "{\"ocisync\": {\"registries\": {\"r.example\": {\"caFile\": \".\"}}}}", "not a regular file" },
		{ "{\"ocisync\": {\"registries\": {\"r.example\": {\"keyFile\": \"c.key\"}}}}", "certFile and keyFile go together" },
		{ "{\"ocisync\": {\"registries\": {\"r.example\": {\"plainHTTP\": true, \"insecure\": true}}}}",
		  "plainHTTP contradicts" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		oci_registry_settings *s = (oci_registry_settings *)1;
		CHECK_EQ_INT(load(&s, cases[i].json), OCI_EINVALID);
		CHECK(s == NULL);
		CHECK_ERR_CONTAINS(cases[i].message);
	}
	/* a message names the registry */
	oci_registry_settings *s = NULL;
	load(&s, "{\"ocisync\": {\"registries\": {\"r.example:5000\": {\"caFile\": \"nope.crt\"}}}}");
	CHECK_ERR_CONTAINS("ocisync.registries[\"r.example:5000\"].caFile");
}

int main(void)
{
	oci_init();
	snprintf(dir, sizeof dir, "%s/ocisync-registries.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	RUN(test_apply);
	RUN(test_absent);
	RUN(test_bad);
	const char *files[] = { "config.json", "ca.crt", "c.crt", "c.key" };
	for (size_t i = 0; i < 4; i++) {
		char p[512];
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
	TEST_END();
}
