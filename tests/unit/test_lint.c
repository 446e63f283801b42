/* The linter: every fixture's findings by file, line, document and rule;
 * nothing found in the look-alikes; policies (severities, allow-lists,
 * require-digest, refused typos, digests); limits with bounded memory; the
 * packer's feed sees exactly the packed bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/oci.h"
#include "test.h"

static char fixtures[1024];
static char tmp[1024];

typedef struct expect {
	const char *file;
	int line;
	int document;
	const char *rule;
	oci_lint_severity severity;
	const char *message_part;
} expect;

/* The report holds exactly these findings, in this order. */
static void check_findings(const oci_lint_report *r, const expect *e, size_t n)
{
	CHECK_EQ_INT(r->n, n);
	for (size_t i = 0; i < n && i < r->n; i++) {
		const oci_lint_finding *f = &r->items[i];
		CHECK_STR(f->file, e[i].file);
		CHECK_EQ_INT(f->line, e[i].line);
		CHECK_EQ_INT(f->document, e[i].document);
		CHECK_STR(f->rule, e[i].rule);
		CHECK_EQ_INT(f->severity, e[i].severity);
		if (!strstr(f->message, e[i].message_part)) {
			test_failures++;
			fprintf(stderr, "finding %zu: \"%s\" lacks \"%s\"\n", i, f->message, e[i].message_part);
		}
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void test_bad_fixtures(void)
{
	char path[1100];
	snprintf(path, sizeof path, "%s/bad", fixtures);
	oci_lint_policy *p = NULL;
	CHECK_EQ_INT(oci_lint_policy_new(&p), 0);
	oci_lint_report r;
	CHECK_EQ_INT(oci_lint_path(&r, path, NULL, p), 0);
	static const expect want[] = {
		{ "cronjob.yaml", 15, 1, "image-unpinned", OCI_LINT_ERROR, "mutable tag latest" },
		{ "helm-rendered.yaml", 23, 2, "image-unpinned", OCI_LINT_ERROR, "\"migrate\" image \"registry.example.com/shop/migrate\" has no tag" },
		{ "helm-rendered.yaml", 26, 2, "image-unpinned", OCI_LINT_ERROR, "\"nginx:latest\" uses the mutable tag latest" },
		{ "helm-rendered.yaml", 31, 2, "image-unpinned", OCI_LINT_ERROR, "\"debug\" image \"busybox\" has no tag" },
		{ "list.yaml", 12, 1, "image-unpinned", OCI_LINT_ERROR, "\"registry.example.com:5000/app\" has no tag" },
		{ "malformed.yaml", 7, 1, "invalid-yaml", OCI_LINT_ERROR, "flow sequence started at line 6" },
		{ "node-agent.yaml", 13, 1, "privileged", OCI_LINT_WARNING, "\"agent\" runs privileged" },
		{ "node-agent.yaml", 17, 1, "host-path", OCI_LINT_WARNING, "mounts the node's /" },
		{ "pod.json", 7, 1, "image-unpinned", OCI_LINT_ERROR, "\"redis:latest\"" },
		{ "secret.yaml", 8, 1, "plaintext-secret", OCI_LINT_ERROR, "Secret \"db\" carries its values in data" },
		{ "secret.yaml", 16, 2, "plaintext-secret", OCI_LINT_ERROR, "Secret \"api\" carries its values in stringData" },
	};
	check_findings(&r, want, sizeof want / sizeof *want);
	CHECK_EQ_INT(r.errors, 9);
	CHECK_EQ_INT(r.warnings, 2);
	CHECK_EQ_INT(r.files, 7);
	oci_lint_report_dispose(&r);

	/* --ignore applies as for push */
	oci_strlist ig = OCI_STRLIST_INIT;
	oci_strlist_push(&ig, "secret.yaml");
	oci_strlist_push(&ig, "*.json");
	oci_pack_opts po; oci_pack_opts_init(&po);
	po.ignore = &ig;
	CHECK_EQ_INT(oci_lint_path(&r, path, &po, p), 0);
	CHECK_EQ_INT(r.errors, 6);
	CHECK_EQ_INT(r.files, 5);
	oci_lint_report_dispose(&r);
	oci_strlist_dispose(&ig);
	oci_lint_policy_free(p);
}

static void test_good_fixtures(void)
{
	char path[1100];
	snprintf(path, sizeof path, "%s/good", fixtures);
	oci_lint_policy *p = NULL;
	CHECK_EQ_INT(oci_lint_policy_new(&p), 0);
	oci_lint_report r;
	CHECK_EQ_INT(oci_lint_path(&r, path, NULL, p), 0);
	CHECK_EQ_INT(r.n, 0);
	CHECK_EQ_INT(r.files, 4); /* notes.txt is not read */
	CHECK_EQ_INT(r.documents, 7);
	oci_lint_report_dispose(&r);

	/* require-digest: every tag without @sha256: is now a finding */
	oci_lint_policy_set_require_digest(p, 1);
	CHECK_EQ_INT(oci_lint_path(&r, path, NULL, p), 0);
	static const expect want[] = {
		{ "deployment.yaml", 12, 1, "image-unpinned", OCI_LINT_ERROR, "is not pinned by digest" },
		{ "deployment.yaml", 14, 1, "image-unpinned", OCI_LINT_ERROR, "sidecar:latest-1\" is not pinned" },
		{ "statefulset.json", 2, 1, "image-unpinned", OCI_LINT_ERROR, "postgres:16.2" },
	};
	check_findings(&r, want, sizeof want / sizeof *want);
	oci_lint_report_dispose(&r);

	/* namespace-missing is off by default; turned on it finds nothing here */
	CHECK_EQ_INT(oci_lint_policy_set(p, "namespace-missing", OCI_LINT_ERROR), 0);
	oci_lint_policy_set_require_digest(p, 0);
	CHECK_EQ_INT(oci_lint_path(&r, path, NULL, p), 0);
	CHECK_EQ_INT(r.n, 0);
	oci_lint_report_dispose(&r);
	CHECK_EQ_INT(oci_lint_policy_set(p, "no-such-rule", OCI_LINT_ERROR), OCI_EINVALID);
	CHECK_ERR_CONTAINS("unknown lint rule 'no-such-rule'");
	oci_lint_policy_free(p);
}

static void test_policy_file(void)
{
	char dir[1100], pol[1200], file[1200];
	snprintf(dir, sizeof dir, "%s/policy-tree", tmp);
	mkdir(dir, 0755);
	snprintf(file, sizeof file, "%s/app.yaml", dir);
	write_file(file, "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
			 "    - {name: a, image: 'internal.example.com/tools/a:latest'}\n"
			 "    - {name: b, image: 'docker.io/b'}\n"
			 "    - {name: c, image: 'c:1', securityContext: {privileged: true}}\n");
	snprintf(file, sizeof file, "%s/vendor", dir);
	mkdir(file, 0755);
	snprintf(file, sizeof file, "%s/vendor/x.yaml", dir);
	write_file(file, "kind: Secret\nmetadata: {name: s, namespace: n}\ndata: {a: Yg==}\n");

	snprintf(pol, sizeof pol, "%s/policy.yaml", tmp);
	write_file(pol, "# our policy\nrules:\n  image-unpinned: warning\n  privileged: error\n"
			"  namespace-missing: warning\nallow:\n  images: [internal.example.com/]\n  paths: ['vendor/']\n");
	oci_lint_policy *p = NULL;
	CHECK_EQ_INT(oci_lint_policy_load(&p, pol), 0);
	oci_lint_report r;
	CHECK_EQ_INT(oci_lint_path(&r, dir, NULL, p), 0);
	static const expect want[] = {
		{ "app.yaml", 2, 1, "namespace-missing", OCI_LINT_WARNING, "Pod \"a\" names no metadata.namespace" },
		{ "app.yaml", 7, 1, "image-unpinned", OCI_LINT_WARNING, "\"docker.io/b\" has no tag" },
		{ "app.yaml", 8, 1, "privileged", OCI_LINT_ERROR, "\"c\" runs privileged" },
	};
	check_findings(&r, want, sizeof want / sizeof *want);
	oci_lint_report_dispose(&r);

	/* the digest names the policy: same content same digest, any change another */
	char d1[OCI_DIGEST_SIZE], d2[OCI_DIGEST_SIZE], d3[OCI_DIGEST_SIZE];
	oci_lint_policy_digest(d1, p);
	CHECK(strncmp(d1, "sha256:", 7) == 0 && strlen(d1) == 71);
	oci_lint_policy *q = NULL;
	CHECK_EQ_INT(oci_lint_policy_load(&q, pol), 0);
	oci_lint_policy_digest(d2, q);
	CHECK_STR(d1, d2);
	oci_lint_policy_set_require_digest(q, 1);
	oci_lint_policy_digest(d3, q);
	CHECK(strcmp(d1, d3) != 0);
	oci_lint_policy_free(q);
	oci_lint_policy_free(p);

	/* JSON policies too; an empty file is the default policy */
	write_file(pol, "{\"rules\": {\"plaintext-secret\": \"off\"}, \"require-digest\": true}");
	CHECK_EQ_INT(oci_lint_policy_load(&p, pol), 0);
	oci_lint_policy_free(p);
	write_file(pol, "");
	CHECK_EQ_INT(oci_lint_policy_load(&p, pol), 0);
	oci_lint_policy *def = NULL;
	oci_lint_policy_new(&def);
	oci_lint_policy_digest(d1, p);
	oci_lint_policy_digest(d2, def);
	CHECK_STR(d1, d2);
	oci_lint_policy_free(def);
	oci_lint_policy_free(p);

	/* a typo must not switch a check off silently */
	static const struct { const char *text, *err; } bad[] = {
		{ "rules:\n  image-unpined: off\n", "policy.yaml:2: unknown rule 'image-unpined'" },
		{ "rules:\n  privileged: fatal\n", "policy.yaml:2: rule privileged takes error, warning or off" },
		{ "rule:\n  privileged: off\n", "policy.yaml:1: unknown key 'rule'" },
		{ "allow:\n  image: [a]\n", "unknown key allow.image" },
		{ "allow:\n  images: a\n", "allow.images must be a list of strings" },
		{ "require-digest: yes-please\n", "require-digest takes true or false" },
		{ "rules: [\n", "not a valid policy" },
		{ "- a\n- b\n", "a policy is a mapping" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		write_file(pol, bad[i].text);
		p = (oci_lint_policy *)1;
		CHECK_EQ_INT(oci_lint_policy_load(&p, pol), OCI_EINVALID);
		CHECK(p == NULL);
		CHECK_ERR_CONTAINS(bad[i].err);
	}
	snprintf(pol, sizeof pol, "%s/no-such-policy.yaml", tmp);
	CHECK(oci_lint_policy_load(&p, pol) < 0);
	CHECK_ERR_CONTAINS("no-such-policy.yaml");
}

static long max_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void test_limits(void)
{
	char dir[1100], file[1200];
	snprintf(dir, sizeof dir, "%s/limits", tmp);
	mkdir(dir, 0755);
	/* nested 5,000 deep: a finding, no stack blow-up */
	snprintf(file, sizeof file, "%s/deep.yaml", dir);
	FILE *f = fopen(file, "w");
	fputs("apiVersion: v1\nkind: ConfigMap\ndata:\n  x: ", f);
	for (int i = 0; i < 5000; i++)
		fputc('[', f);
	for (int i = 0; i < 5000; i++)
		fputc(']', f);
	fputs("\n", f);
	fclose(f);
	/* one line of 100 MiB: a finding, memory bounded */
	snprintf(file, sizeof file, "%s/one-line.json", dir);
	f = fopen(file, "w");
	fputs("{\"kind\":\"ConfigMap\",\"data\":{\"k\":\"", f);
	static char chunk[1 << 20];
	memset(chunk, 'x', sizeof chunk);
	for (int i = 0; i < 100; i++)
		fwrite(chunk, 1, sizeof chunk, f);
	fputs("\"}}\n", f);
	fclose(f);
	/* an encoding error (libyaml reports a byte offset) is placed on its line */
	snprintf(file, sizeof file, "%s/control.yaml", dir);
	write_file(file, "a: 1\nb: 2\nc: \001\n");
	/* a document after a huge one is not reached: the file stops at the limit */
	oci_lint_policy *p = NULL;
	oci_lint_policy_new(&p);
	long before = max_rss_kb();
	oci_lint_report r;
	CHECK_EQ_INT(oci_lint_path(&r, dir, NULL, p), 0);
	long grew = max_rss_kb() - before;
	static const expect want[] = {
		{ "control.yaml", 3, 1, "invalid-yaml", OCI_LINT_ERROR, "control characters are not allowed" },
		{ "deep.yaml", 4, 1, "lint-limit", OCI_LINT_ERROR, "nested deeper than 100 levels" },
		{ "one-line.json", 1, 1, "lint-limit", OCI_LINT_ERROR, "single value larger than 8 MiB" },
	};
	check_findings(&r, want, sizeof want / sizeof *want);
	/* the 100 MiB file never sits in memory (libyaml's token is capped at
	 * 8 MiB); not measurable under ASan, whose quarantine keeps freed
	 * blocks resident */
#if defined(__SANITIZE_ADDRESS__)
	(void)grew;
	if (0) {
#else
	if (grew > 48 * 1024) {
#endif
		test_failures++;
		fprintf(stderr, "linting a 100 MiB file grew the RSS by %ld KiB\n", grew);
	}
	oci_lint_report_dispose(&r);
	/* the limit can be turned into a warning like any rule */
	oci_lint_policy_set(p, "lint-limit", OCI_LINT_WARNING);
	CHECK_EQ_INT(oci_lint_path(&r, dir, NULL, p), 0);
	CHECK_EQ_INT(r.errors, 1);
	CHECK_EQ_INT(r.warnings, 2);
	oci_lint_report_dispose(&r);
	oci_lint_policy_free(p);
}

/* What the packer feeds is what is linted: a feed through oci_bundle_pack
 * finds the same as oci_lint_path. */
static int null_sink(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return 0;
}

static void test_pack_feed(void)
{
	char path[1100];
	snprintf(path, sizeof path, "%s/bad", fixtures);
	oci_lint_policy *p = NULL;
	oci_lint_policy_new(&p);
	oci_lint *l = NULL;
	CHECK_EQ_INT(oci_lint_new(&l, p), 0);
	oci_pack_opts po; oci_pack_opts_init(&po);
	po.file_fn = oci_lint_feed;
	po.file_ctx = l;
	oci_pack_result pr;
	CHECK_EQ_INT(oci_bundle_pack(&pr, path, &po, null_sink, NULL), 0);
	oci_lint_report r;
	CHECK_EQ_INT(oci_lint_finish(&r, l), 0);
	CHECK_EQ_INT(r.n, 11);
	CHECK_EQ_INT(r.errors, 9);
	oci_lint_report_dispose(&r);
	oci_lint_free(l);

	/* a linter freed mid-file (the pack failed) stops its worker cleanly */
	CHECK_EQ_INT(oci_lint_new(&l, p), 0);
	CHECK_EQ_INT(oci_lint_feed(l, "half.yaml", OCI_PACK_FILE_BEGIN, NULL, 0), 0);
	CHECK_EQ_INT(oci_lint_feed(l, "half.yaml", OCI_PACK_FILE_DATA, "kind: Pod\n", 10), 0);
	oci_lint_free(l);
	oci_lint_policy_free(p);
}

static void test_rules_table(void)
{
	size_t n = 0;
	for (const oci_lint_rule_info *r = oci_lint_rules(); r->id; r++, n++)
		CHECK(r->reason && strlen(r->reason) > 20);
	CHECK_EQ_INT(n, 7);
	CHECK_STR(oci_lint_rules()[0].id, "image-unpinned");
	CHECK_EQ_INT(oci_lint_rules()[0].default_severity, OCI_LINT_ERROR);
}

int main(void)
{
	const char *td = getenv("TESTDATA");
	snprintf(fixtures, sizeof fixtures, "%s/lint", td ? td : "testdata");
	snprintf(tmp, sizeof tmp, "%s/oci-lint-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_rules_table);
	RUN(test_bad_fixtures);
	RUN(test_good_fixtures);
	RUN(test_policy_file);
	RUN(test_limits);
	RUN(test_pack_feed);
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
	TEST_END();
}
