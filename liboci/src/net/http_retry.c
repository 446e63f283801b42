/* What the engine retries and how long it waits: jittered exponential
 * backoff or the server's Retry-After (capped, and never past the
 * operation's deadline), the transient libcurl failures and statuses, and
 * whether a request body can be sent again. */
#include "http_internal.h"
#include "error_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

/* ---- backoff ---- */

static long retry_after_ms(const char *v)
{
	if (!v || !*v)
		return -1;
	char *end;
	long s = strtol(v, &end, 10);
	if (end != v && (*end == '\0' || *end == ' ' || *end == '\r'))
		return (s < 0 ? 0 : s > RETRY_AFTER_CAP_S ? RETRY_AFTER_CAP_S : s) * 1000L;
	time_t when = curl_getdate(v, NULL);
	if (when < 0)
		return -1;
	long d = (long)(when - time(NULL));
	return (d < 0 ? 0 : d > RETRY_AFTER_CAP_S ? RETRY_AFTER_CAP_S : d) * 1000L;
}

void oci_http_backoff(oci_http *h, int attempt, const char *retry_after, const char *why)
{
	long ms = retry_after_ms(retry_after);
	if (ms < 0) {
		long cap = BACKOFF_BASE_MS;
		for (int i = 1; i < attempt && cap < BACKOFF_CAP_MS; i++)
			cap *= 2;
		if (cap > BACKOFF_CAP_MS)
			cap = BACKOFF_CAP_MS;
		unsigned r = 0;
		if (getrandom(&r, sizeof r, 0) != sizeof r)
			r = (unsigned)time(NULL);
		/* Full jitter over the upper half keeps clients apart without
		 * retrying at once. */
		ms = cap / 2 + (long)(r % (unsigned)(cap / 2 + 1));
	}
	/* never sleep past the deadline: the next attempt reports it */
	int64_t dl = h->opts->deadline_ms;
	if (dl) {
		int64_t left = dl - oci_clock_ms();
		if (left < ms)
			ms = left > 0 ? (long)left : 0;
	}
	oci_http_log(h, "retrying in %ld ms (%s)", ms, why);
	/* in slices, so a stop is noticed during the wait; a signal ends
	 * the slice early (EINTR) and the flag is seen at once */
	int64_t until = oci_clock_ms() + ms;
	for (int64_t left = ms; left > 0 && !oci_http_cancelled(h); left = until - oci_clock_ms()) {
		long slice = left > 100 ? 100 : (long)left;
		struct timespec ts = { 0, slice * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* "3 s", "1.5 s", "10 min" for messages. */
void oci_http_format_ms(char *out, size_t n, int64_t ms)
{
	if (ms >= 60000 && ms % 60000 == 0)
		snprintf(out, n, "%lld min", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(out, n, "%lld s", (long long)(ms / 1000));
	else
		snprintf(out, n, "%.3g s", (double)ms / 1000.0);
}

int oci_http_deadline_error(oci_http *h, const oci_http_req *req)
{
	char t[32];
	if (h->opts->timeout_ms <= 0) /* a deadline set through the API alone */
		return oci_error_set(OCI_ETIMEOUT, "timeout: registry %s: %s was not done by the operation's deadline; gave up",
				     h->host, req->what ? req->what : "request");
	oci_http_format_ms(t, sizeof t, h->opts->timeout_ms);
	oci_error_set(OCI_ETIMEOUT, "timeout: registry %s: %s was not done within the %s timeout; gave up", h->host,
		      req->what ? req->what : "request", t);
	return oci_error_hint_set(OCI_HINT_RAISE_TIMEOUT, NULL);
}

int oci_http_deadline_passed(const oci_http *h)
{
	return h->opts->deadline_ms && oci_clock_ms() >= h->opts->deadline_ms;
}

int oci_http_retriable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SEND_FAIL_REWIND:
		return 1;
	default:
		return 0;
	}
}

int oci_http_retriable_status(long st)
{
	return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

/* Can the request body be sent again from its start? */
int oci_http_body_replayable(const oci_http_req *req, int64_t already_read)
{
	const oci_http_body *b = req->body;
	if (!b || !b->read)
		return 1;
	if (already_read == 0)
		return 1;
	return b->rewind && b->rewind(b->read_ctx) == 0;
}

