/* A tiny test harness: each unit test file is one executable whose main
 * runs its cases; any failed check makes it exit 1 after printing where. */
#ifndef OCI_UNIT_TEST_H
#define OCI_UNIT_TEST_H
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oci/error.h"

static int test_failures;
static int test_checks;
/* What the last CHECK_EQ_INT saw, so that CHECK_ERR_CONTAINS can tell "the
 * call succeeded" from "the message is wrong" (a call that wrongly succeeds
 * leaves an older, unrelated message behind). */
static long long test_last_int;
static int test_last_int_set;

#define CHECK(cond) do { test_checks++; test_last_int_set = 0; if (!(cond)) { test_failures++; \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); test_checks++; \
	test_last_int = _a; test_last_int_set = 1; \
	if (_a != _b) { test_failures++; fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", \
	__FILE__, __LINE__, #a, _a, _b); } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); test_checks++; test_last_int_set = 0; \
	if (!_a || !_b || strcmp(_a, _b) != 0) { test_failures++; fprintf(stderr, \
	"%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)"); } } while (0)
/* The last liboci error message contains s. When the call under test
 * returned 0 (as the CHECK_EQ_INT just before saw) or no error is set, that
 * is what is printed, not whatever older message is still there. */
#define CHECK_ERR_CONTAINS(s) do { test_checks++; const char *_m = oci_error_last()->message; \
	if (test_last_int_set && test_last_int == 0) { test_failures++; fprintf(stderr, \
	"%s:%d: the call succeeded (returned 0), so no error contains \"%s\"\n", __FILE__, __LINE__, (s)); } \
	else if (!_m[0]) { test_failures++; fprintf(stderr, \
	"%s:%d: no error message was set (did the call succeed?); expected one containing \"%s\"\n", \
	__FILE__, __LINE__, (s)); } \
	else if (!strstr(_m, (s))) { test_failures++; fprintf(stderr, "%s:%d: error \"%s\" lacks \"%s\"\n", \
	__FILE__, __LINE__, _m, (s)); } } while (0)

#define RUN(fn) do { fprintf(stderr, "-- %s\n", #fn); fn(); } while (0)
#define TEST_END() do { fprintf(stderr, "%d checks, %d failed\n", test_checks, test_failures); \
	return test_failures ? 1 : 0; } while (0)

/* The "SigIgn:\t<hex>" line of a program spawned with every disposition
 * reset to the default. Not always zeros: glibc keeps the signals from 32
 * to SIGRTMIN for itself and sigaction() refuses to touch them, so one that
 * this process inherited as ignored stays ignored in its children
 * (dpkg-buildpackage, a Perl program, runs the package's tests with 32 and
 * 33 ignored). Every other signal must be back to the default. */
static inline void test_sig_ign_line(char *line, size_t n)
{
	unsigned long long own = 0, reserved = 0;
	char buf[128];
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(buf, sizeof buf, f))
		if (sscanf(buf, "SigIgn: %llx", &own) == 1)
			break;
	if (f)
		fclose(f);
	for (int s = 32; s < SIGRTMIN && s <= 64; s++)
		reserved |= 1ULL << (s - 1);
	snprintf(line, n, "SigIgn:\t%016llx", own & reserved);
}

#endif
