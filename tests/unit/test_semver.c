/* Semantic versions, npm-style ranges and tag selection. */
#include "test.h"
#include "oci/oci.h"
#include "oci/semver.h"

static int matches(const char *range, const char *version)
{
	oci_semver_range *r = NULL;
	oci_semver v;
	if (oci_semver_range_parse(&r, range)) {
		fprintf(stderr, "range %s: %s\n", range, oci_error_last()->message);
		return -1;
	}
	if (oci_semver_parse(&v, version)) {
		oci_semver_range_free(r);
		return -2;
	}
	int m = oci_semver_range_match(r, &v);
	oci_semver_dispose(&v);
	oci_semver_range_free(r);
	return m;
}

static void test_parse(void)
{
	oci_semver v;
	CHECK_EQ_INT(oci_semver_parse(&v, "v1.22.333-rc.1+build.7"), 0);
	CHECK_EQ_INT(v.major, 1);
	CHECK_EQ_INT(v.minor, 22);
	CHECK_EQ_INT(v.patch, 333);
	CHECK_STR(v.pre, "rc.1");
	oci_semver_dispose(&v);
	CHECK_EQ_INT(oci_semver_parse(&v, "0.0.0"), 0);
	CHECK(v.pre == NULL);
	const char *bad[] = { "", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "1.2.3-",
			      "1.2.3-01", "1.2.3+", "1.2.3-a..b", "latest", "vv1.2.3", "1.2.3 ",
			      "1.2.x", "-1.2.3", "1.2.3-rc_1", "9999999999999999999.0.0" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_EQ_INT(oci_semver_parse(&v, bad[i]), OCI_EINVALID);
		CHECK_ERR_CONTAINS("is not a semantic version");
	}
	/* leading zeros are fine inside alphanumeric pre-release identifiers */
	CHECK_EQ_INT(oci_semver_parse(&v, "1.2.3-0a.01b"), 0);
	oci_semver_dispose(&v);
}

static int cmp(const char *a, const char *b)
{
	oci_semver x, y;
	if (oci_semver_parse(&x, a) || oci_semver_parse(&y, b))
		return 99;
	int c = oci_semver_compare(&x, &y);
	oci_semver_dispose(&x);
	oci_semver_dispose(&y);
	return c;
}

static void test_precedence(void)
{
	/* the chain from semver 2.0.0 §11 */
	const char *chain[] = { "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
				"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1",
				"1.1.0", "1.10.0", "2.0.0" };
	for (size_t i = 0; i + 1 < sizeof chain / sizeof chain[0]; i++) {
		CHECK_EQ_INT(cmp(chain[i], chain[i + 1]), -1);
		CHECK_EQ_INT(cmp(chain[i + 1], chain[i]), 1);
	}
	CHECK_EQ_INT(cmp("1.0.0+a", "1.0.0+b"), 0); /* build metadata ignored */
	CHECK_EQ_INT(cmp("v1.0.0", "1.0.0"), 0);
	CHECK_EQ_INT(cmp("1.0.0-2", "1.0.0-10"), -1); /* numeric, not lexical */
}

static void test_ranges(void)
{
	struct { const char *range, *version; int want; } cases[] = {
		{ ">=1.2.0 <2.0.0", "1.2.0", 1 },
		{ ">=1.2.0 <2.0.0", "1.9.9", 1 },
		{ ">=1.2.0 <2.0.0", "2.0.0", 0 },
		{ ">=1.2.0 <2.0.0", "1.1.9", 0 },
		{ ">= 1.2.0  < 2.0.0", "1.5.0", 1 },
		{ "^1.2", "1.2.0", 1 },
		{ "^1.2", "1.99.0", 1 },
		{ "^1.2", "2.0.0", 0 },
		{ "^1.2", "1.1.0", 0 },
		{ "^1.2.3", "1.2.2", 0 },
		{ "^0.2.3", "0.2.9", 1 },
		{ "^0.2.3", "0.3.0", 0 },
		{ "^0.0.3", "0.0.3", 1 },
		{ "^0.0.3", "0.0.4", 0 },
		{ "^0.0", "0.0.9", 1 },
		{ "^0.0", "0.1.0", 0 },
		{ "^0", "0.9.0", 1 },
		{ "^0", "1.0.0", 0 },
		{ "~1.2", "1.2.7", 1 },
		{ "~1.2", "1.3.0", 0 },
		{ "~1.2.3", "1.2.2", 0 },
		{ "~1.2.3", "1.2.4", 1 },
		{ "~1", "1.9.0", 1 },
		{ "~1", "2.0.0", 0 },
		{ "1.x", "1.0.0", 1 },
		{ "1.x", "1.4.2", 1 },
		{ "1.x", "2.0.0", 0 },
		{ "1.x", "0.9.0", 0 },
		{ "1.2.*", "1.2.8", 1 },
		{ "1.2.*", "1.3.0", 0 },
		{ "1", "1.7.0", 1 },
		{ "*", "3.1.4", 1 },
		{ "", "3.1.4", 1 },
		{ "=1.2.3", "1.2.3", 1 },
		{ "=1.2.3", "1.2.4", 0 },
		{ "1.2.3", "v1.2.3", 1 },
		{ "v1.2.3", "1.2.3", 1 },
		{ ">1.2", "1.2.9", 0 },
		{ ">1.2", "1.3.0", 1 },
		{ ">1", "1.9.0", 0 },
		{ ">1", "2.0.0", 1 },
		{ "<=1.2", "1.2.9", 1 },
		{ "<=1.2", "1.3.0", 0 },
		{ "<1.2", "1.1.9", 1 },
		{ "<1.2", "1.2.0", 0 },
		{ ">*", "1.0.0", 0 },
		{ "<1.0.0 || >=3.0.0", "0.5.0", 1 },
		{ "<1.0.0 || >=3.0.0", "2.0.0", 0 },
		{ "<1.0.0 || >=3.0.0", "3.0.1", 1 },
		{ "1.2.3 - 2.3", "2.3.9", 1 },
		{ "1.2.3 - 2.3", "2.4.0", 0 },
		{ "1.2.3 - 2.3.4", "2.3.4", 1 },
		{ "1.2.3 - 2.3.4", "1.2.2", 0 },
		/* pre-releases: only when the range names one on the same X.Y.Z */
		{ ">=1.2.0 <2.0.0", "1.5.0-rc.1", 0 },
		{ "^1.2", "2.0.0-rc.1", 0 },
		{ "1.x", "1.0.0-alpha", 0 },
		{ "*", "1.0.0-alpha", 0 },
		{ ">=1.2.3-rc.1", "1.2.3-rc.2", 1 },
		{ ">=1.2.3-rc.1", "1.2.3-rc.0", 0 },
		{ ">=1.2.3-rc.1", "1.2.4-rc.1", 0 },
		{ ">=1.2.3-rc.1", "1.2.4", 1 },
		{ "^1.2.3-beta.2", "1.2.3-beta.4", 1 },
		{ "^1.2.3-beta.2", "1.2.4-beta.2", 0 },
		{ "~1.2.3-beta.2", "1.2.3", 1 },
		{ "=1.2.3-rc.1", "1.2.3-rc.1", 1 },
		{ "<2.0.0", "2.0.0-rc.1", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = matches(cases[i].range, cases[i].version);
		if (got != cases[i].want)
			fprintf(stderr, "range '%s' version '%s': got %d\n", cases[i].range, cases[i].version, got);
		CHECK_EQ_INT(got, cases[i].want);
	}
}

static void test_bad_ranges(void)
{
	const char *bad[] = { ">=1.2.0 <banana", "^", ">=", "1.x.3", "01.2", "1.2.3.4", "~>1.2",
			      "1.2.3 - ", "1 - 2 - 3", "=>1.0.0", ">=>=1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		oci_semver_range *r = (oci_semver_range *)1;
		int rc = oci_semver_range_parse(&r, bad[i]);
		if (rc != OCI_EINVALID)
			fprintf(stderr, "range '%s' accepted\n", bad[i]);
		CHECK_EQ_INT(rc, OCI_EINVALID);
		CHECK(r == NULL);
		char want[64];
		snprintf(want, sizeof want, "semver range '%s'", bad[i]);
		CHECK_ERR_CONTAINS(want);
	}
	oci_semver_range *r = NULL;
	CHECK_EQ_INT(oci_semver_range_parse(&r, ">=1.2.0 <banana"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("'<banana' is not a version or comparator");
}

static void test_select_filter(void)
{
	oci_strlist tags = OCI_STRLIST_INIT;
	const char *names[] = { "latest", "1.2.0", "v1.10.0", "1.9.3", "2.0.0", "2.0.0-rc.1",
				"1.11.0-beta.1", "main", "1.10.0", "0.9.0", "sha256-abc.sig" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		oci_strlist_push(&tags, names[i]);

	char *best = NULL;
	CHECK_EQ_INT(oci_semver_select(&best, &tags, ">=1.2.0 <2.0.0"), 0);
	CHECK_STR(best, "v1.10.0"); /* ties by text: "1.10.0" < "v1.10.0" */
	free(best);
	CHECK_EQ_INT(oci_semver_select(&best, &tags, "^2"), 0);
	CHECK_STR(best, "2.0.0");
	free(best);
	CHECK_EQ_INT(oci_semver_select(&best, &tags, "~1.9"), 0);
	CHECK_STR(best, "1.9.3");
	free(best);
	CHECK_EQ_INT(oci_semver_select(&best, &tags, "^3"), OCI_ENOTFOUND);
	CHECK(best == NULL);
	CHECK_ERR_CONTAINS("no tag matches the semver range '^3'");
	CHECK_EQ_INT(oci_semver_select(&best, &tags, "^x.y"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("semver range '^x.y'");

	oci_strlist out = OCI_STRLIST_INIT;
	CHECK_EQ_INT(oci_semver_filter(&out, &tags, "1.x"), 0);
	CHECK_EQ_INT(out.n, 4); /* 1.11.0-beta.1 is a pre-release the range did not name */
	if (out.n == 4) {
		CHECK_STR(out.items[0], "1.2.0");
		CHECK_STR(out.items[1], "1.9.3");
		CHECK_STR(out.items[2], "1.10.0");
		CHECK_STR(out.items[3], "v1.10.0");
	}
	oci_strlist_dispose(&out);
	CHECK_EQ_INT(oci_semver_filter(&out, &tags, ">=2.0.0-rc.1"), 0);
	CHECK_EQ_INT(out.n, 2);
	if (out.n == 2) {
		CHECK_STR(out.items[0], "2.0.0-rc.1");
		CHECK_STR(out.items[1], "2.0.0");
	}
	oci_strlist_dispose(&out);
	oci_strlist empty = OCI_STRLIST_INIT;
	CHECK_EQ_INT(oci_semver_filter(&out, &empty, "*"), 0);
	CHECK_EQ_INT(out.n, 0);
	oci_strlist_dispose(&tags);
}

int main(void)
{
	RUN(test_parse);
	RUN(test_precedence);
	RUN(test_ranges);
	RUN(test_bad_ranges);
	RUN(test_select_filter);
	TEST_END();
}
