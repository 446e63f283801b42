/* sync_jitter: the spread of the loop's waits, with an injected random source. */
#include "test.h"
#include "oci/oci.h"
#include "sync_internal.h"

static uint64_t fixed(void *ctx) { return *(uint64_t *)ctx; }

/* A tiny deterministic generator (xorshift64*) for the distribution check. */
static uint64_t xorshift(void *ctx)
{
	uint64_t *s = ctx;
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void test_bounds(void)
{
	uint64_t r = 0;
	/* 60 s ±10%: span 6000 ms; r mod 12001 - 6000 */
	CHECK_EQ_INT(sync_jitter(60000, 10, fixed, &r), 54000);
	r = 12000;
	CHECK_EQ_INT(sync_jitter(60000, 10, fixed, &r), 66000);
	r = 6000;
	CHECK_EQ_INT(sync_jitter(60000, 10, fixed, &r), 60000);
	r = 12001; /* wraps to the lowest */
	CHECK_EQ_INT(sync_jitter(60000, 10, fixed, &r), 54000);
	r = UINT64_MAX;
	int64_t w = sync_jitter(60000, 10, fixed, &r);
	CHECK(w >= 54000 && w <= 66000);
}

static void test_off_and_clamped(void)
{
	uint64_t r = 0;
	CHECK_EQ_INT(sync_jitter(60000, 0, fixed, &r), 60000);
	CHECK_EQ_INT(sync_jitter(60000, OCI_SYNC_NO_JITTER, fixed, &r), 60000);
	CHECK_EQ_INT(sync_jitter(60000, 90, fixed, &r), 30000); /* at most ±50% */
	CHECK_EQ_INT(sync_jitter(5, 10, fixed, &r), 5);         /* too short to spread */
	CHECK_EQ_INT(sync_jitter(0, 10, fixed, &r), 0);
	/* a 100-year interval does not overflow */
	int64_t century = (int64_t)100 * 366 * 24 * 3600 * 1000;
	r = 0;
	CHECK_EQ_INT(sync_jitter(century, 50, fixed, &r), century / 2);
}

static void test_spread(void)
{
	/* 1000 draws over 2 s ±10% fall in [1800, 2200] and cover both halves */
	uint64_t s = 88172645463325252ULL;
	int below = 0, above = 0;
	int64_t lo = 2200, hi = 1800;
	for (int i = 0; i < 1000; i++) {
		int64_t w = sync_jitter(2000, 10, xorshift, &s);
		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
		below += w < 2000;
		above += w > 2000;
	}
	CHECK(lo >= 1800 && hi <= 2200);
	CHECK(below > 400 && above > 400);
	CHECK(lo < 1820 && hi > 2180);
}

static void test_kernel_source(void)
{
	/* without a source: the kernel's, still within the bounds */
	for (int i = 0; i < 100; i++) {
		int64_t w = sync_jitter(60000, 10, NULL, NULL);
		CHECK(w >= 54000 && w <= 66000);
	}
}

int main(void)
{
	RUN(test_bounds);
	RUN(test_off_and_clamped);
	RUN(test_spread);
	RUN(test_kernel_source);
	TEST_END();
}
