/* Small helpers of the sync parts: clock, RFC 3339 times, hex names. */
#include "sync_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

double sync_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t kernel_random(void *ctx)
{
	(void)ctx;
	uint64_t v = 0;
	/* a few bytes from the urandom pool: never blocks once booted; on an
	 * error the wait is merely not spread */
	if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v)
		v = 0;
	return v;
}

int64_t sync_jitter(int64_t wait_ms, int percent, uint64_t (*rand_fn)(void *ctx), void *ctx)
{
	if (percent <= 0 || wait_ms <= 0)
		return wait_ms;
	if (percent > 50)
		percent = 50;
	int64_t span = wait_ms / 100 * percent + wait_ms % 100 * percent / 100; /* no overflow for long waits */
	if (span == 0)
		return wait_ms;
	uint64_t r = (rand_fn ? rand_fn : kernel_random)(ctx);
	int64_t offset = (int64_t)(r % (uint64_t)(2 * span + 1)) - span;
	int64_t w = wait_ms + offset;
	return w > 0 ? w : 1;
}

void sync_format_time(char out[40], double t)
{
	time_t secs = (time_t)t;
	int ms = (int)((t - (double)secs) * 1000.0);
	if (ms < 0)
		ms = 0;
	if (ms > 999)
		ms = 999;
	struct tm tm;
	gmtime_r(&secs, &tm);
	char base[32];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%03dZ", base, ms);
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int sync_parse_time(double *out, const char *s)
{
	/* YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM) */
	int Y, M, D, h, m, sec;
	if (!s || strlen(s) < 20 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
	    digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return -1;
	const char *p = s + 19;
	double frac = 0;
	if (*p == '.') {
		double scale = 0.1;
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p)) {
			frac += (*p - '0') * scale;
			scale /= 10;
			p++;
		}
	}
	int offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
			return -1;
		offset = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	struct tm tm = { 0 };
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	*out = (double)t - offset + frac;
	return 0;
}

int sync_is_hex(const char *s, size_t len)
{
	if (len != SYNC_HEX_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}
