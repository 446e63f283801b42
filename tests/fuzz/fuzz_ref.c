/* References: "[oci://]HOST[:PORT]/REPO[:TAG[,TAG]][@sha256:HEX]" and
 * "oci-layout:PATH...". Invariants: a failure names the problem; a parsed
 * reference formats to text that parses to the same reference (format is
 * a fixed point after one round). */
#include "fuzz.h"

#include "oci/ref.h"

static void same_ref(const oci_ref *a, const oci_ref *b)
{
	FUZZ_CHECK(a->kind == b->kind);
	FUZZ_CHECK(!a->registry == !b->registry && (!a->registry || !strcmp(a->registry, b->registry)));
	FUZZ_CHECK(!a->repository == !b->repository && (!a->repository || !strcmp(a->repository, b->repository)));
	FUZZ_CHECK(!a->path == !b->path && (!a->path || !strcmp(a->path, b->path)));
	FUZZ_CHECK(!a->digest == !b->digest && (!a->digest || !strcmp(a->digest, b->digest)));
	FUZZ_CHECK(a->tags.n == b->tags.n);
	for (size_t i = 0; i < a->tags.n; i++)
		FUZZ_CHECK(!strcmp(a->tags.items[i], b->tags.items[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstring(data, size);
	if (!s)
		return 0;
	FUZZ_CHECK_FAILURE(oci_tag_validate(s));
	FUZZ_CHECK_FAILURE(oci_repository_validate(s));
	oci_ref *r = NULL;
	int rc = oci_ref_parse(&r, s);
	FUZZ_CHECK_FAILURE(rc);
	if (rc == 0) {
		FUZZ_CHECK(r != NULL);
		for (size_t i = 0; i < r->tags.n; i++)
			FUZZ_CHECK(oci_tag_validate(r->tags.items[i]) == 0);
		if (r->kind == OCI_REF_REGISTRY)
			FUZZ_CHECK(oci_ref_api_host(r) && *oci_ref_api_host(r));
		char *text = NULL, *repo = NULL, *pinned = NULL;
		FUZZ_CHECK(oci_ref_format(&text, r) == 0);
		FUZZ_CHECK(oci_ref_format_repo(&repo, r) == 0);
		FUZZ_CHECK(oci_ref_format_pinned(&pinned, r,
			"sha256:0000000000000000000000000000000000000000000000000000000000000000") == 0);
		oci_ref *again = NULL;
		rc = oci_ref_parse(&again, text);
		if (rc != 0)
			fprintf(stderr, "'%s' formats as '%s', which does not parse\n", s, text);
		FUZZ_CHECK(rc == 0);
		same_ref(r, again);
		oci_ref *dup = NULL;
		FUZZ_CHECK(oci_ref_dup(&dup, r) == 0);
		same_ref(r, dup);
		oci_ref_free(dup);
		oci_ref_free(again);
		free(text);
		free(repo);
		free(pinned);
	}
	oci_ref_free(r);
	free(s);
	return 0;
}
