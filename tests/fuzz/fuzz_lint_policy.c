/* Lint policy files (push/lint --policy). Invariants: a refused policy is
 * OCI_EINVALID (or a read error) with a message naming the file; an
 * accepted one has a sha256 digest, and loading the same bytes again gives
 * the same digest. */
#include "fuzz.h"

#include "oci/lint.h"

static char *path;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path && asprintf(&path, "%s/policy.yaml", fuzz_sandbox()) < 0)
		abort();
	fuzz_write_file(path, data, size);
	oci_lint_policy *p = NULL, *q = NULL;
	int rc = oci_lint_policy_load(&p, path);
	FUZZ_CHECK_FAILURE(rc);
	if (rc < 0) {
		FUZZ_CHECK(p == NULL);
		FUZZ_CHECK(strstr(oci_error_last()->message, "policy") != NULL);
		return 0;
	}
	char d1[OCI_DIGEST_SIZE], d2[OCI_DIGEST_SIZE];
	oci_lint_policy_digest(d1, p);
	FUZZ_CHECK(!strncmp(d1, "sha256:", 7) && strlen(d1) == 71);
	FUZZ_CHECK(oci_lint_policy_load(&q, path) == 0);
	oci_lint_policy_digest(d2, q);
	FUZZ_CHECK(!strcmp(d1, d2));
	oci_lint_policy_free(p);
	oci_lint_policy_free(q);
	return 0;
}
