/* The harness itself: when the call under test wrongly succeeds,
 * CHECK_ERR_CONTAINS must say so, not print the message an earlier failure
 * left behind (which sends whoever reads the failure down a wrong path). */
#include <unistd.h>

#include "oci/oci.h"
#include "test.h"

/* Runs one check with stderr captured; returns what it printed and whether
 * it counted as a failure (the failure is then taken back). */
static char captured[4096];
#define CAPTURE(stmt, failed) do { \
	fflush(stderr); int _saved = dup(2); FILE *_f = tmpfile(); dup2(fileno(_f), 2); \
	int _before = test_failures; stmt; fflush(stderr); \
	(failed) = test_failures - _before; test_failures = _before; \
	dup2(_saved, 2); close(_saved); rewind(_f); \
	size_t _n = fread(captured, 1, sizeof captured - 1, _f); captured[_n] = '\0'; fclose(_f); \
} while (0)

static void test_wrong_success_is_named(void)
{
	int failed = 0;
	/* an earlier failure leaves its message */
	CHECK_EQ_INT(oci_digest_validate("sha256:nothex"), OCI_EINVALID);
	CHECK(oci_error_last()->message[0] != '\0');
	char stale[sizeof oci_error_last()->message];
	snprintf(stale, sizeof stale, "%s", oci_error_last()->message);
	/* then a call expected to fail succeeds */
	char d[OCI_DIGEST_SIZE];
	CAPTURE(CHECK_EQ_INT(oci_digest_buf(d, "", 0), OCI_EINVALID); CHECK_ERR_CONTAINS("refused"), failed);
	CHECK_EQ_INT(failed, 2);
	CHECK(strstr(captured, "the call succeeded (returned 0), so no error contains \"refused\"") != NULL);
	CHECK(strstr(captured, stale) == NULL);
}

static void test_no_message_is_named(void)
{
	int failed = 0;
	oci_error_clear();
	CAPTURE(CHECK(0 < 0); CHECK_ERR_CONTAINS("refused"), failed);
	CHECK_EQ_INT(failed, 2);
	CHECK(strstr(captured, "no error message was set (did the call succeed?); expected one containing \"refused\"") != NULL);
}

static void test_wrong_message_is_shown(void)
{
	int failed = 0;
	CAPTURE(CHECK_EQ_INT(oci_digest_validate("sha256:nothex"), OCI_EINVALID); CHECK_ERR_CONTAINS("no such words"), failed);
	CHECK_EQ_INT(failed, 1);
	CHECK(strstr(captured, "lacks \"no such words\"") != NULL);
	CHECK(strstr(captured, "sha256:nothex") != NULL);
	/* and a right message passes */
	CAPTURE(CHECK_EQ_INT(oci_digest_validate("sha256:nothex"), OCI_EINVALID); CHECK_ERR_CONTAINS("nothex"), failed);
	CHECK_EQ_INT(failed, 0);
}

int main(void)
{
	RUN(test_wrong_success_is_named);
	RUN(test_no_message_is_named);
	RUN(test_wrong_message_is_shown);
	TEST_END();
}
