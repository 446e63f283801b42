/* Semantic versions and npm-style ranges (`sync --semver`, `tags
 * --semver`). The first line of the input is the range, every further line
 * a tag. Invariants: a failure names the problem; filter returns tags in
 * ascending precedence, each a version that matches the range; select
 * returns the last of them; compare is antisymmetric. */
#include "fuzz.h"

#include "oci/semver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstring(data, size);
	if (!s)
		return 0;
	char *nl = strchr(s, '\n');
	char *tags_text = nl ? nl + 1 : NULL;
	if (nl)
		*nl = '\0';
	const char *range_text = s;
	oci_strlist tags = OCI_STRLIST_INIT;
	char *save = NULL;
	for (char *t = tags_text ? strtok_r(tags_text, "\n", &save) : NULL; t; t = strtok_r(NULL, "\n", &save))
		if (oci_strlist_push(&tags, t) != 0)
			abort();

	oci_semver_range *r = NULL;
	int rc = oci_semver_range_parse(&r, range_text);
	FUZZ_CHECK_FAILURE(rc);
	oci_strlist picked = OCI_STRLIST_INIT;
	int frc = oci_semver_filter(&picked, &tags, range_text);
	FUZZ_CHECK_FAILURE(frc);
	FUZZ_CHECK((rc == 0) == (frc == 0));
	oci_semver prev = { 0 };
	int have_prev = 0;
	for (size_t i = 0; frc == 0 && i < picked.n; i++) {
		oci_semver v;
		FUZZ_CHECK(oci_semver_parse(&v, picked.items[i]) == 0);
		FUZZ_CHECK(oci_semver_range_match(r, &v) == 1);
		if (have_prev) {
			int c = oci_semver_compare(&prev, &v);
			FUZZ_CHECK(c <= 0);
			int d = oci_semver_compare(&v, &prev);
			FUZZ_CHECK((c < 0) == (d > 0) && (c == 0) == (d == 0));
			oci_semver_dispose(&prev);
		}
		prev = v;
		have_prev = 1;
	}
	if (have_prev)
		oci_semver_dispose(&prev);
	char *best = NULL;
	int src = oci_semver_select(&best, &tags, range_text);
	FUZZ_CHECK_FAILURE(src);
	if (frc == 0) {
		FUZZ_CHECK((src == 0) == (picked.n > 0));
		if (src == 0)
			FUZZ_CHECK(!strcmp(best, picked.items[picked.n - 1]));
	}
	free(best);
	/* Each tag alone, as a version. */
	for (size_t i = 0; i < tags.n; i++) {
		oci_semver v;
		int vrc = oci_semver_parse(&v, tags.items[i]);
		FUZZ_CHECK_FAILURE(vrc);
		if (vrc == 0) {
			FUZZ_CHECK(oci_semver_compare(&v, &v) == 0);
			if (r)
				(void)oci_semver_range_match(r, &v);
			oci_semver_dispose(&v);
		}
	}
	oci_strlist_dispose(&picked);
	oci_strlist_dispose(&tags);
	oci_semver_range_free(r);
	free(s);
	return 0;
}
