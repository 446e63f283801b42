/* A tiny test harness: each unit test file is one executable whose main
 * runs its cases; any failed check makes it exit 1 after printing where. */
#ifndef OCI_UNIT_TEST_H
#define OCI_UNIT_TEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond) do { test_checks++; if (!(cond)) { test_failures++; \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); test_checks++; \
	if (_a != _b) { test_failures++; fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", \
	__FILE__, __LINE__, #a, _a, _b); } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); test_checks++; \
	if (!_a || !_b || strcmp(_a, _b) != 0) { test_failures++; fprintf(stderr, \
	"%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)"); } } while (0)
/* The last liboci error message contains s. */
#define CHECK_ERR_CONTAINS(s) do { test_checks++; const char *_m = oci_error_last()->message; \
	if (!strstr(_m, (s))) { test_failures++; fprintf(stderr, "%s:%d: error \"%s\" lacks \"%s\"\n", \
	__FILE__, __LINE__, _m, (s)); } } while (0)

#define RUN(fn) do { fprintf(stderr, "-- %s\n", #fn); fn(); } while (0)
#define TEST_END() do { fprintf(stderr, "%d checks, %d failed\n", test_checks, test_failures); \
	return test_failures ? 1 : 0; } while (0)

#endif
