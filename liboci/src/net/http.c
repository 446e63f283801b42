/* The HTTP request layer under the registry target (see http.h for what
 * every request gets: auth, retries, resume, hand-followed redirects,
 * error bodies, logging). */
#include "http.h"
#include "auth.h"
#include "tls.h"
#include "error_internal.h"
#include "contract.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#define ERROR_BODY_MAX (64 * 1024)   /* error bodies kept for the message */
#define HEADERS_MAX 128
#define HEADER_BYTES_MAX (256 * 1024)
#define REDIRECTS_MAX 10
#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 10000
#define RETRY_AFTER_CAP_S 60
#define DEFAULT_ATTEMPTS 5
#define PROGRESS_STEP (256 * 1024)
/* The slowest a transfer may be, on average over a window: libcurl's own
 * low-speed check (1 byte/s) lets a registry dripping 3 bytes/s hold a
 * sync for days. */
#define MIN_SPEED_BYTES (64 * 1024)
#define MIN_SPEED_WINDOW_MS (60 * 1000)

struct oci_http {
	CURL *curl;
	oci_auth *auth;
	const oci_client_opts *opts;
	char *host;               /* host[:port] */
	char *base;               /* scheme://host[:port] */
	char errbuf[CURL_ERROR_SIZE];
	/* This attempt's TLS handshake asked for a client certificate. Here,
	 * not in the attempt's state: a kept-alive connection's SSL_CTX keeps
	 * pointing at whatever it was given, for as long as h->curl lives. */
	int cert_requested;
};

/* One attempt's state, shared with the libcurl callbacks. */
struct xfer {
	oci_http *h;
	const oci_http_req *req;
	oci_http_resp *resp;
	size_t header_bytes;
	char reason[64];          /* the status line's reason phrase */
	int decided;              /* first body byte seen: deliver or not */
	int deliver;              /* 2xx: body goes to the sink / capture */
	int64_t skip;             /* bytes to drop (a resume answered 200) */
	int64_t *delivered;       /* into the sink, across attempts */
	oci_buf errbody;
	int sink_rc;
	/* body */
	size_t mem_off;
	int64_t body_read;
	int source_rc;
	int64_t last_progress;
	/* bounded waits */
	int64_t win_start_ms;     /* the current speed window */
	int64_t win_start_bytes;
	int too_slow;             /* aborted: under the minimum speed */
	int deadline_hit;         /* aborted: the deadline passed */
	int cancelled;            /* aborted: the caller's cancel flag */
};

/* ---- small helpers ---- */

int oci_http_cancelled(const oci_http *h)
{
	return h->opts->cancel && *h->opts->cancel;
}

static int cancel_error(const oci_http *h)
{
	return oci_error_set(OCI_EINTERRUPTED, "registry %s: interrupted", h->host);
}

void oci_http_log(oci_http *h, const char *fmt, ...)
{
	if (!h->opts->verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	oci__logv(&h->opts->callbacks, OCI_LOG_DEBUG, fmt, ap);
	va_end(ap);
}

int oci_http_progress(oci_http *h, const char *what, int64_t done, int64_t total)
{
	return what ? oci__progress(&h->opts->callbacks, what, done, total) : 0;
}

int oci_http_max_attempts(const oci_http *h)
{
	return h->opts->max_retries > 0 ? h->opts->max_retries : DEFAULT_ATTEMPTS;
}

const char *oci_http_base(const oci_http *h) { return h->base; }

const char *oci_http_resp_header(const oci_http_resp *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

int oci_http_resp_header_join(char **out, const oci_http_resp *r, const char *name)
{
	/* RFC 9110 5.3: repeated field lines are one list, joined by commas.
	 * Registries send Basic and Bearer challenges as separate lines. */
	size_t len = 0, count = 0;
	*out = NULL;
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0 && r->headers[i].value[0]) {
			len += strlen(r->headers[i].value) + 2;
			count++;
		}
	if (!count)
		return 0;
	char *s = malloc(len + 1);
	if (!s)
		return OCI_ENOMEM_SET();
	size_t o = 0;
	for (size_t i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->headers[i].name, name) != 0 || !r->headers[i].value[0])
			continue;
		if (o) {
			memcpy(s + o, ", ", 2);
			o += 2;
		}
		size_t vl = strlen(r->headers[i].value);
		memcpy(s + o, r->headers[i].value, vl);
		o += vl;
	}
	s[o] = '\0';
	*out = s;
	return 1;
}

static void headers_clear(oci_http_resp *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
}

void oci_http_resp_dispose(oci_http_resp *r)
{
	headers_clear(r);
	oci_buf_dispose(&r->body);
	free(r->url);
	r->url = NULL;
	r->status = 0;
	r->retriable = 0;
}

/* Query values in log lines: a redirect target (pre-signed storage URLs)
 * or an upload location may carry secrets under any name (X-Amz-Signature,
 * sig, pw, se, ...), so every value is redacted except those of the
 * parameters this library itself adds, which are not secret. */
static int shown_param(const char *name, size_t len)
{
	static const char *const ours[] = { "digest", "mount", "from", "n", "last" };
	for (size_t i = 0; i < sizeof ours / sizeof *ours; i++)
		if (strlen(ours[i]) == len && strncmp(name, ours[i], len) == 0)
			return 1;
	return 0;
}

/* all: redact every value (a URL the registry sent us to). */
static void redact_url(char *out, size_t n, const char *url, int all)
{
	const char *q = strchr(url, '?');
	if (!q) {
		snprintf(out, n, "%s", url);
		return;
	}
	size_t o = 0;
	size_t pre = (size_t)(q - url) + 1;
	o = (size_t)snprintf(out, n, "%.*s", (int)pre, url);
	const char *p = q + 1;
	while (*p && o < n) {
		const char *amp = strchr(p, '&');
		size_t plen = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', plen);
		if (eq && eq - p == 6 && strncmp(p, "_state", 6) == 0)
			o += (size_t)snprintf(out + o, n - o, "_state=..."); /* distribution's long session state */
		else if (eq && (all || !shown_param(p, (size_t)(eq - p))))
			o += (size_t)snprintf(out + o, n - o, "%.*s=REDACTED", (int)(eq - p), p);
		else if (!eq && plen)
			o += (size_t)snprintf(out + o, n - o, "REDACTED"); /* a bare token */
		else
			o += (size_t)snprintf(out + o, n - o, "%.*s", (int)plen, p);
		if (!amp)
			break;
		if (o < n)
			o += (size_t)snprintf(out + o, n - o, "&");
		p = amp + 1;
	}
}

/* ---- URLs ---- */

int oci_http_resolve_url(char **out, const char *base, const char *ref, int same_origin)
{
	*out = NULL;
	int rc = 0;
	char *s = NULL;
	CURLU *u = curl_url();
	if (!u)
		return OCI_ENOMEM_SET();
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, ref, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK) {
		rc = oci_error_set(OCI_ENET, "registry sent an unusable URL '%.200s'", ref);
		goto cleanup;
	}
	if (same_origin && !oci_http_same_origin(base, s)) {
		rc = oci_error_set(OCI_ENET, "registry pointed to another origin (%.200s); refused", s);
		goto cleanup;
	}
	*out = strdup(s);
	if (!*out)
		rc = OCI_ENOMEM_SET();
cleanup:
	curl_free(s);
	curl_url_cleanup(u);
	return rc;
}

int oci_http_url_add_query(char **out, const char *url, const char *name, const char *value)
{
	*out = NULL;
	int rc = 0;
	char *s = NULL, *pair = NULL;
	CURLU *u = curl_url();
	if (!u)
		return OCI_ENOMEM_SET();
	if (asprintf(&pair, "%s=%s", name, value) < 0) {
		pair = NULL;
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, pair, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK) {
		rc = oci_error_set(OCI_ENET, "cannot add %s to URL %.200s", name, url);
		goto cleanup;
	}
	*out = strdup(s);
	if (!*out)
		rc = OCI_ENOMEM_SET();
cleanup:
	free(pair);
	curl_free(s);
	curl_url_cleanup(u);
	return rc;
}

static int url_origin(const char *url, char **scheme, char **host, char **port)
{
	CURLU *u = curl_url();
	*scheme = *host = *port = NULL;
	if (!u)
		return -1;
	int ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		 curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
		 curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
		 curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
	curl_url_cleanup(u);
	return ok ? 0 : -1;
}

int oci_http_same_origin(const char *a, const char *b)
{
	char *sa, *ha, *pa, *sb, *hb, *pb;
	int ra = url_origin(a, &sa, &ha, &pa);
	int rb = url_origin(b, &sb, &hb, &pb);
	int same = ra == 0 && rb == 0 && strcasecmp(sa, sb) == 0 && strcasecmp(ha, hb) == 0 && strcmp(pa, pb) == 0;
	curl_free(sa), curl_free(ha), curl_free(pa);
	curl_free(sb), curl_free(hb), curl_free(pb);
	return same;
}

/* The host[:port] of a URL, for messages. */
static void url_hostport(char *out, size_t n, const char *url)
{
	char *s, *hst, *p;
	if (url_origin(url, &s, &hst, &p) == 0)
		snprintf(out, n, "%s:%s", hst, p);
	else
		snprintf(out, n, "%.100s", url);
	curl_free(s), curl_free(hst), curl_free(p);
}

/* ---- lifecycle ---- */

int oci_http_new(oci_http **out, const char *api_host, const char *config_host, const oci_client_opts *opts)
{
	*out = NULL;
	int rc;
	oci_http *h = calloc(1, sizeof *h);
	if (!h)
		return OCI_ENOMEM_SET();
	h->opts = opts;
	h->host = strdup(api_host);
	if (!h->host || asprintf(&h->base, "%s://%s", oci_http_scheme(api_host, opts), api_host) < 0) {
		h->base = NULL;
		rc = OCI_ENOMEM_SET();
		goto fail;
	}
	if ((rc = oci_auth_new(&h->auth, api_host, config_host, opts)) < 0)
		goto fail;
	h->curl = curl_easy_init();
	if (!h->curl) {
		rc = oci_error_set(OCI_ENET, "cannot initialise libcurl");
		goto fail;
	}
	*out = h;
	return 0;
fail:
	oci_http_free(h);
	return rc;
}

void oci_http_free(oci_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	oci_auth_free(h->auth);
	free(h->host);
	free(h->base);
	free(h);
}

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

/* ---- libcurl callbacks ---- */

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/* HTTP/2 status lines carry no reason phrase; messages still want one. */
static const char *reason_phrase(long st)
{
	switch (st) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	size_t len = size * n;
	x->header_bytes += len;
	if (x->header_bytes > HEADER_BYTES_MAX)
		return 0; /* absurd headers: abort */
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue, say): start over. */
		headers_clear(x->resp);
		char line[256];
		snprintf(line, sizeof line, "%.*s", (int)(len < 255 ? len : 255), data);
		trim(line);
		const char *sp = strchr(line, ' ');
		x->resp->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		const char *r = sp ? strchr(sp + 1, ' ') : NULL;
		snprintf(x->reason, sizeof x->reason, "%s", r ? r + 1 : reason_phrase(x->resp->status));
		return len;
	}
	const char *colon = memchr(data, ':', len);
	if (!colon || x->resp->nheaders >= HEADERS_MAX)
		return len;
	oci_http_header *nh = realloc(x->resp->headers, (x->resp->nheaders + 1) * sizeof *nh);
	if (!nh)
		return 0;
	x->resp->headers = nh;
	const char *v = colon + 1;
	while (v < data + len && (*v == ' ' || *v == '\t'))
		v++;
	char *name = strndup(data, (size_t)(colon - data));
	char *value = strndup(v, (size_t)(data + len - v));
	if (!name || !value) {
		free(name);
		free(value);
		return 0;
	}
	trim(value);
	nh[x->resp->nheaders].name = name;
	nh[x->resp->nheaders].value = value;
	x->resp->nheaders++;
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	size_t len = size * n;
	if (!x->decided) {
		x->decided = 1;
		x->deliver = x->resp->status >= 200 && x->resp->status < 300;
		if (x->resp->status == 206) {
			/* The server resumed: it must be where we asked. */
			const char *cr = oci_http_resp_header(x->resp, "Content-Range");
			long long start = -1;
			if (!cr || sscanf(cr, "bytes %lld-", &start) != 1 || start != x->skip) {
				x->sink_rc = oci_error_set(OCI_ENET, "%s: resumed download starts at the wrong offset (%s)",
							   x->req->what ? x->req->what : "download", cr ? cr : "no Content-Range");
				return 0;
			}
			x->skip = 0;
		}
	}
	if (!x->deliver) {
		if (x->errbody.len < ERROR_BODY_MAX) {
			size_t take = len < ERROR_BODY_MAX - x->errbody.len ? len : ERROR_BODY_MAX - x->errbody.len;
			if (oci_buf_append(&x->errbody, data, take) < 0)
				return 0;
		}
		return len;
	}
	const char *p = data;
	size_t left = len;
	if (x->skip > 0) {
		size_t drop = (int64_t)left < x->skip ? left : (size_t)x->skip;
		x->skip -= (int64_t)drop;
		p += drop;
		left -= drop;
	}
	if (!left)
		return len;
	const oci_http_req *req = x->req;
	if (req->sink) {
		int rc = req->sink(req->sink_ctx, p, left);
		if (rc < 0) {
			x->sink_rc = rc;
			return 0;
		}
		*x->delivered += (int64_t)left;
		if (req->progress_what && *x->delivered - x->last_progress >= PROGRESS_STEP) {
			x->last_progress = *x->delivered;
			if ((x->sink_rc = oci_http_progress(x->h, req->progress_what, *x->delivered, req->progress_total)) < 0)
				return 0;
		}
		return len;
	}
	if (!req->body_limit)
		return len;
	if (x->resp->body.len + left > req->body_limit) {
		x->sink_rc = oci_error_set(OCI_ELIMIT, "%s is larger than the limit of %zu bytes; refused",
					   req->what ? req->what : "response", req->body_limit);
		return 0;
	}
	if (oci_buf_append(&x->resp->body, p, left) < 0) {
		x->sink_rc = OCI_ENOMEM;
		return 0;
	}
	return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	const oci_http_body *b = x->req->body;
	size_t want = size * n;
	if (b->read) {
		int64_t left = b->size - x->body_read;
		if (left <= 0)
			return 0;
		if ((int64_t)want > left)
			want = (size_t)left;
		ssize_t got = b->read(b->read_ctx, buf, want);
		if (got < 0) {
			x->source_rc = (int)got;
			return CURL_READFUNC_ABORT;
		}
		if (got == 0) {
			x->source_rc = oci_error_set(OCI_EIO, "%s: the source ended after %lld of %lld bytes",
						     x->req->what ? x->req->what : "upload", (long long)x->body_read,
						     (long long)b->size);
			return CURL_READFUNC_ABORT;
		}
		x->body_read += got;
		if (x->req->progress_what && (x->body_read - x->last_progress >= PROGRESS_STEP || x->body_read == b->size)) {
			x->last_progress = x->body_read;
			if ((x->source_rc = oci_http_progress(x->h, x->req->progress_what, x->body_read,
							      x->req->progress_total)) < 0)
				return CURL_READFUNC_ABORT;
		}
		return (size_t)got;
	}
	size_t left = b->len - x->mem_off;
	if (want > left)
		want = left;
	memcpy(buf, (const char *)b->data + x->mem_off, want);
	x->mem_off += want;
	x->body_read += (int64_t)want;
	return want;
}

static int on_seek(void *ctx, curl_off_t offset, int origin)
{
	struct xfer *x = ctx;
	const oci_http_body *b = x->req->body;
	if (origin != SEEK_SET)
		return CURL_SEEKFUNC_CANTSEEK;
	if (!b->read) {
		if (offset < 0 || (size_t)offset > b->len)
			return CURL_SEEKFUNC_FAIL;
		x->mem_off = (size_t)offset;
		x->body_read = offset;
		return CURL_SEEKFUNC_OK;
	}
	if (offset == 0 && b->rewind && b->rewind(b->read_ctx) == 0) {
		x->body_read = 0;
		return CURL_SEEKFUNC_OK;
	}
	return CURL_SEEKFUNC_CANTSEEK;
}

static int64_t min_speed_bytes(const oci_http *h)
{
	return h->opts->min_speed_bytes > 0 ? h->opts->min_speed_bytes : MIN_SPEED_BYTES;
}

static int64_t min_speed_window(const oci_http *h)
{
	return h->opts->min_speed_window_ms > 0 ? h->opts->min_speed_window_ms : MIN_SPEED_WINDOW_MS;
}

/* Called by libcurl at least once a second during a transfer: the
 * deadline, and the average speed over each window (bytes either way). */
static int on_xferinfo(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)ultotal;
	struct xfer *x = ctx;
	/* libcurl calls this at least once a second, even on a stalled
	 * connection: the bound on how late a stop is noticed */
	if (oci_http_cancelled(x->h)) {
		x->cancelled = 1;
		return 1;
	}
	int64_t now = oci_clock_ms();
	if (x->h->opts->deadline_ms && now >= x->h->opts->deadline_ms) {
		x->deadline_hit = 1;
		return 1;
	}
	int64_t moved = (int64_t)dlnow + (int64_t)ulnow;
	if (now - x->win_start_ms >= min_speed_window(x->h)) {
		if (moved - x->win_start_bytes < min_speed_bytes(x->h)) {
			x->too_slow = 1;
			return 1;
		}
		x->win_start_ms = now;
		x->win_start_bytes = moved;
	}
	return 0;
}

/* "3 s", "1.5 s", "10 min" for messages. */
static void format_ms(char *out, size_t n, int64_t ms)
{
	if (ms >= 60000 && ms % 60000 == 0)
		snprintf(out, n, "%lld min", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(out, n, "%lld s", (long long)(ms / 1000));
	else
		snprintf(out, n, "%.3g s", (double)ms / 1000.0);
}

static int deadline_error(oci_http *h, const oci_http_req *req)
{
	char t[32];
	if (h->opts->timeout_ms <= 0) /* a deadline set through the API alone */
		return oci_error_set(OCI_ETIMEOUT, "timeout: registry %s: %s was not done by the operation's deadline; gave up",
				     h->host, req->what ? req->what : "request");
	format_ms(t, sizeof t, h->opts->timeout_ms);
	return oci_error_set(OCI_ETIMEOUT, "timeout: registry %s: %s was not done within the %s of --timeout; gave up",
			     h->host, req->what ? req->what : "request", t);
}

static int deadline_passed(const oci_http *h)
{
	return h->opts->deadline_ms && oci_clock_ms() >= h->opts->deadline_ms;
}

/* ---- messages ---- */

/* "manifest unknown: {...}" from {"errors":[{"code","message","detail"}]}. */
static void registry_message(char *out, size_t n, const oci_buf *body, char *code_out, size_t code_n)
{
	out[0] = '\0';
	code_out[0] = '\0';
	if (!body->len)
		return;
	json_error_t jerr;
	json_t *root = json_loadb(body->data, body->len, 0, &jerr);
	json_t *errs = root ? json_object_get(root, "errors") : NULL;
	if (json_is_array(errs) && json_array_size(errs) > 0) {
		size_t o = 0, i;
		json_t *e;
		json_array_foreach(errs, i, e) {
			if (i >= 3 || o >= n)
				break;
			const char *code = json_string_value(json_object_get(e, "code"));
			if (i == 0 && code)
				snprintf(code_out, code_n, "%s", code);
			const char *msg = json_string_value(json_object_get(e, "message"));
			json_t *detail = json_object_get(e, "detail");
			char dbuf[256] = "";
			if (json_is_string(detail)) {
				snprintf(dbuf, sizeof dbuf, "%s", json_string_value(detail));
			} else if (detail && !json_is_null(detail)) {
				char *d = json_dumps(detail, JSON_COMPACT | JSON_ENCODE_ANY);
				if (d)
					snprintf(dbuf, sizeof dbuf, "%s", d);
				free(d);
			}
			o += (size_t)snprintf(out + o, n - o, "%s%s%s%s%s", i ? "; " : "",
					      msg && *msg ? msg : code ? code : "error",
					      code && msg && *msg ? "" : "", dbuf[0] ? ": " : "", dbuf);
		}
	} else {
		/* Not the spec's format (a proxy's HTML page, say): the first line, short. */
		size_t len = body->len < 200 ? body->len : 200;
		size_t i = 0, o = 0;
		for (; i < len && o + 1 < n; i++) {
			char c = body->data[i];
			if (c == '\n' || c == '\r')
				break;
			out[o++] = (c >= 32 && c < 127) ? c : '?';
		}
		out[o] = '\0';
	}
	json_decref(root);
}

/* A plain-HTTP request that reached a TLS port: Go's servers (distribution)
 * answer a bare "HTTP/1.0 400" whose body says "Client sent an HTTP request
 * to an HTTPS server." A HEAD gets no body, but neither any header, which
 * the registry's own 400s always have. */
static int http_to_https_server(oci_http *h, const struct xfer *x, const char *url)
{
	if (strncasecmp(url, "http:", 5) != 0)
		return 0;
	if (x->errbody.len && memmem(x->errbody.data, x->errbody.len, "HTTPS server", 12))
		return 1;
	long version = 0;
	curl_easy_getinfo(h->curl, CURLINFO_HTTP_VERSION, &version);
	return x->errbody.len == 0 && x->resp->nheaders == 0 && version == CURL_HTTP_VERSION_1_0;
}

/* refused_token: a fresh bearer token, fetched after the first was
 * refused, was refused too. */
static int status_error(oci_http *h, const struct xfer *x, const char *url, int attempts, int refused_token)
{
	long st = x->resp->status;
	int code = st == 404 ? OCI_ENOTFOUND : (st == 401 || st == 403) ? OCI_EAUTH : OCI_ENET;
	char msg[700], ecode[64];
	registry_message(msg, sizeof msg, &x->errbody, ecode, sizeof ecode);
	/* The registry's own verdict on content beats the status class. */
	if (!strcmp(ecode, "DIGEST_INVALID") || !strcmp(ecode, "SIZE_INVALID"))
		code = OCI_EDIGEST;
	else if (!strcmp(ecode, "DENIED") || !strcmp(ecode, "UNAUTHORIZED"))
		code = OCI_EAUTH;
	char hp[300];
	if (oci_http_same_origin(url, h->base))
		snprintf(hp, sizeof hp, "%s", h->host);
	else
		url_hostport(hp, sizeof hp, url);
	const char *what = x->req->what ? x->req->what : "request";
	if (st == 400 && http_to_https_server(h, x, url))
		return oci_error_set(OCI_ENET, "registry %s speaks HTTPS", hp), oci_error_hint_set(OCI_HINT_CA_FILE, NULL);
	char tried[64] = "";
	if (attempts > 1)
		snprintf(tried, sizeof tried, "gave up after %d attempts: ", attempts);
	if (st == 404)
		return oci_error_set(code, "registry %s: %s not found%s%s (404)", hp, what, msg[0] ? ": " : "", msg);
	if (st == 401 || st == 403)
		return oci_error_set(code, "registry %s: %s: %s (%ld)", hp, what,
				     msg[0] ? msg : st == 401 && refused_token ? "a freshly issued token was refused too"
				     : st == 401 ? "authentication required" : "access denied", st);
	if (msg[0])
		return oci_error_set(code, "registry %s: %s: %s%s (%ld %s)", hp, what, tried, msg, st, x->reason);
	return oci_error_set(code, "registry %s: %s: %s%ld %s", hp, what, tried, st, x->reason);
}

/* The handshake asked for a client certificate and the connection failed
 * before any answer: the server refused the certificate we sent, or our
 * having none. A TLS 1.3 server says so only after the handshake, so
 * libcurl reports a send or receive error (or "getpeername() failed"). */
static int client_cert_refused(const oci_http *h, const struct xfer *x, CURLcode cc)
{
	return h->cert_requested && x->resp->status == 0 &&
	       (cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING ||
		cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_COULDNT_CONNECT ||
		cc == CURLE_HTTP2 || cc == CURLE_HTTP2_STREAM); /* the same, under HTTP/2 */
}

/* Failures of TLS itself (certificates, alerts from the peer) are not
 * transient: trying again gets the same answer. A connection dropped mid
 * transfer (OpenSSL's "unexpected eof") still is. */
static int tls_failure(const oci_http *h, const struct xfer *x, CURLcode cc, const char *url)
{
	if (strncasecmp(url, "https:", 6) != 0)
		return 0;
	if (client_cert_refused(h, x, cc))
		return 1;
	return x->resp->status == 0 && (cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR) &&
	       (strstr(h->errbuf, " alert ") || strstr(h->errbuf, "certificate"));
}

static int curl_error(oci_http *h, const struct xfer *x, CURLcode cc, const char *url, int attempts)
{
	char hp[300];
	url_hostport(hp, sizeof hp, url);
	if (oci_http_same_origin(url, h->base))
		snprintf(hp, sizeof hp, "%s", h->host);
	long os_errno = 0;
	curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &os_errno);
	char tried[64] = "";
	if (attempts > 1)
		snprintf(tried, sizeof tried, " (gave up after %d attempts)", attempts);
	const char *detail = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);
	/* libcurl's words when a server hangs up during the handshake say
	 * nothing useful. */
	if (strstr(detail, "getpeername") || strstr(detail, "Transport endpoint"))
		detail = "the server closed the connection";
	int https = strncasecmp(url, "https:", 6) == 0;
	oci_hint hint_code;
	const char *hint = oci_tls_hint(&hint_code, cc, https, detail, h->opts);
	char proxy[1024];
	if (oci_proxy_failure(proxy, sizeof proxy, cc, detail, url, hp))
		return oci_error_set(OCI_ENET, "%s%s", proxy, tried);
	if (https && oci_tls_plain_http_answer(cc, detail))
		return oci_error_set(OCI_ENET, "registry %s speaks plain HTTP, not HTTPS", hp),
		       oci_error_hint_set(OCI_HINT_PLAIN_HTTP, NULL);
	if (client_cert_refused(h, x, cc) && !h->opts->cert_file)
		return oci_error_set(OCI_ENET, "TLS connection to %s failed: the server asked for a client certificate "
				     "and none was given", hp), oci_error_hint_set(OCI_HINT_CLIENT_CERT, NULL);
	if (client_cert_refused(h, x, cc))
		return oci_error_set(OCI_ENET, "TLS connection to %s failed: the server refused the client certificate "
				     "%s (%s)", hp, h->opts->cert_file, detail),
		       oci_error_hint_set(OCI_HINT_CHECK_CLIENT_CERT, NULL);
	if (cc == CURLE_COULDNT_CONNECT)
		return oci_error_set(OCI_ENET, "cannot connect to %s: %s%s", hp,
				     os_errno ? strerror((int)os_errno) : detail, tried);
	if (cc == CURLE_COULDNT_RESOLVE_HOST)
		return oci_error_set(OCI_ENET, "cannot resolve host %s: %s", hp, detail);
	if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE)
		return oci_error_set(OCI_ENET, "TLS: cannot verify %s: %s%s", hp, detail, hint),
		       oci_error_hint_set(hint_code, NULL);
	if (cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_SSL_CERTPROBLEM || tls_failure(h, x, cc, url))
		return oci_error_set(OCI_ENET, "TLS connection to %s failed: %s%s", hp, detail, hint),
		       oci_error_hint_set(hint_code, NULL);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return oci_error_set(OCI_ENET, "registry %s: timed out: %s%s", hp, detail, tried);
	return oci_error_set(OCI_ENET, "registry %s: %s: %s%s%s", hp, "connection failed", detail, tried, hint),
	       oci_error_hint_set(hint_code, NULL);
}

static int retriable_curl(CURLcode cc)
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

static int retriable_status(long st)
{
	return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

/* Can the request body be sent again from its start? */
static int body_replayable(const oci_http_req *req, int64_t already_read)
{
	const oci_http_body *b = req->body;
	if (!b || !b->read)
		return 1;
	if (already_read == 0)
		return 1;
	return b->rewind && b->rewind(b->read_ctx) == 0;
}

/* ---- the request ---- */

/* OpenSSL calls this on the client when the server sends a
 * CertificateRequest (whether or not a certificate is set): remember it. */
static int on_cert_request(SSL *ssl, void *arg)
{
	(void)ssl;
	((oci_http *)arg)->cert_requested = 1;
	return 1; /* go on with what is set, if anything */
}

/* libcurl makes an SSL_CTX per connection and lets us adjust it. */
static CURLcode on_ssl_ctx(CURL *c, void *ssl_ctx, void *h)
{
	(void)c;
	SSL_CTX_set_cert_cb(ssl_ctx, on_cert_request, h);
	return CURLE_OK;
}

static int setup(oci_http *h, struct xfer *x, const char *url, struct curl_slist *hdrs)
{
	const oci_http_req *req = x->req;
	CURL *c = h->curl;
	CURLcode e = CURLE_OK;
	curl_easy_reset(c); /* keeps the connection cache: keep-alive survives */
	h->errbuf[0] = '\0';
	h->cert_requested = 0;
	int rc = oci_http_setup_tls(c, h->opts);
	if (rc < 0)
		return rc;
	if (!strncasecmp(url, "https:", 6)) {
		/* To tell a refused (or missing) client certificate from a
		 * dropped connection (see client_cert_refused). A handshake
		 * happens only on a new connection, during this transfer. */
		e |= curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
		e |= curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, h);
	}
	e |= curl_easy_setopt(c, CURLOPT_URL, url);
	e |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	e |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	e |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	e |= curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	e |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	e |= curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	e |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	e |= curl_easy_setopt(c, CURLOPT_USERAGENT, h->opts->user_agent ? h->opts->user_agent : "liboci");
	/* A stalled transfer (under 1 byte/s for 60 s) is a failure to retry;
	 * so is one under the minimum average speed (on_xferinfo). The
	 * deadline bounds the whole attempt. */
	e |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	e |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	e |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	e |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
	e |= curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	if (h->opts->deadline_ms) {
		int64_t left = h->opts->deadline_ms - oci_clock_ms();
		e |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(left > 1 ? left : 1));
	}
	x->win_start_ms = oci_clock_ms();
	const char *m = req->method;
	if (strcmp(m, "HEAD") == 0) {
		e |= curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(m, "GET") == 0) {
		e |= curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (req->body) {
		const oci_http_body *b = req->body;
		e |= curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		e |= curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		e |= curl_easy_setopt(c, CURLOPT_READDATA, x);
		e |= curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		e |= curl_easy_setopt(c, CURLOPT_SEEKDATA, x);
		e |= curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(b->read ? b->size : (int64_t)b->len));
		if (strcmp(m, "PUT") != 0)
			e |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
	} else if (strcmp(m, "POST") == 0) {
		e |= curl_easy_setopt(c, CURLOPT_POST, 1L);
		e |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		e |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (strcmp(m, "PUT") == 0) {
		e |= curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		e |= curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		e |= curl_easy_setopt(c, CURLOPT_READDATA, x);
		e |= curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)0);
	} else {
		e |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
	}
	if (e != CURLE_OK)
		return oci_error_set(OCI_ENET, "cannot configure a libcurl request for %s", req->what ? req->what : url);
	return 0;
}

/* Authorization headers hold secrets: wiped before their memory is freed,
 * both our string and the header list's copy of it. */
static void free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void free_headers(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

static const oci_http_body empty_body = { "", 0, NULL, NULL, 0, NULL };

int oci_http_do(oci_http_resp *resp, oci_http *h, const oci_http_req *req)
{
	int rc = 0;
	char *url = strdup(req->url);
	char *auth = NULL;
	struct curl_slist *hdrs = NULL;
	int64_t delivered = 0;
	int attempt = 1, challenged = 0, redirects = 0;
	int max = (req->flags & OCI_HTTP_NO_RETRY) ? 1 : oci_http_max_attempts(h);
	oci_http_req r = *req;
	if (!r.body && strcmp(r.method, "PUT") == 0)
		r.body = &empty_body;
	struct xfer x;
	memset(&x, 0, sizeof x);
	if (!url)
		return OCI_ENOMEM_SET();
	oci_http_resp_dispose(resp);

	for (;;) {
		/* Fresh state for this attempt. */
		oci_buf_dispose(&x.errbody);
		memset(&x, 0, sizeof x);
		x.h = h;
		x.req = &r;
		x.resp = resp;
		x.delivered = &delivered;
		headers_clear(resp);
		resp->status = 0;
		resp->body.len = 0;
		if (resp->body.data)
			resp->body.data[0] = '\0';
		free_headers(hdrs);
		hdrs = NULL;
		free_secret(auth);
		auth = NULL;

		if (oci_http_cancelled(h)) {
			rc = cancel_error(h);
			goto cleanup;
		}
		if (deadline_passed(h)) {
			rc = deadline_error(h, &r);
			goto cleanup;
		}
		int same = oci_http_same_origin(url, h->base);
		if (r.scope && same && (rc = oci_auth_header(&auth, h->auth, r.scope)) < 0)
			goto cleanup;
		struct curl_slist *t;
		for (size_t i = 0; i < sizeof r.headers / sizeof *r.headers && r.headers[i]; i++) {
			if (!(t = curl_slist_append(hdrs, r.headers[i])))
				goto nomem;
			hdrs = t;
		}
		if (auth) {
			if (!(t = curl_slist_append(hdrs, auth)))
				goto nomem;
			hdrs = t;
		}
		char range[64];
		if ((r.flags & OCI_HTTP_RESUME) && delivered > 0) {
			snprintf(range, sizeof range, "Range: bytes=%lld-", (long long)delivered);
			if (!(t = curl_slist_append(hdrs, range)))
				goto nomem;
			hdrs = t;
			x.skip = delivered; /* dropped again if the answer is 206 */
		}
		/* In-memory bodies are small: no "Expect: 100-continue" wait.
		 * Streamed bodies keep it, so a refusal comes before the bytes. */
		if (r.body && !r.body->read) {
			if (!(t = curl_slist_append(hdrs, "Expect:")))
				goto nomem;
			hdrs = t;
		}
		if ((rc = setup(h, &x, url, hdrs)) < 0)
			goto cleanup;

		CURLcode cc = curl_easy_perform(h->curl);
		char shown[700];
		/* after a redirect, url is the registry's choice: nothing shown */
		redact_url(shown, sizeof shown, url, redirects > 0);
		if (cc == CURLE_OK || resp->status)
			oci_http_log(h, "%s %s -> %ld%s", r.method, shown, resp->status,
				     cc == CURLE_OK ? "" : " (transfer failed)");
		else
			oci_http_log(h, "%s %s -> %s", r.method, shown,
				     x.cancelled ? "interrupted" : x.too_slow ? "too slow" : x.deadline_hit ? "deadline passed"
				     : h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc));
		if (cc != CURLE_OK && (x.cancelled || oci_http_cancelled(h))) {
			rc = cancel_error(h);
			goto cleanup;
		}
		if (cc != CURLE_OK && (x.deadline_hit || deadline_passed(h))) {
			rc = deadline_error(h, &r);
			goto cleanup;
		}

		if (x.sink_rc < 0) {
			rc = x.sink_rc;
			goto cleanup;
		}
		if (x.source_rc < 0) {
			rc = x.source_rc;
			goto cleanup;
		}
		/* Evaluated only when about to retry: it rewinds the body. */
#define CAN_RETRY() (attempt < max && ((r.flags & OCI_HTTP_RESUME) || delivered == 0) && \
		     body_replayable(&r, x.body_read))
		if (cc != CURLE_OK && x.too_slow) {
			char why[160], w[32];
			format_ms(w, sizeof w, min_speed_window(h));
			snprintf(why, sizeof why, "fewer than %lld bytes moved in %s (the minimum speed)",
				 (long long)min_speed_bytes(h), w);
			if (CAN_RETRY()) {
				oci_http_backoff(h, attempt++, NULL, why);
				free(url);
				if (!(url = strdup(req->url)))
					goto nomem;
				continue;
			}
			resp->retriable = 1;
			char tried[64] = "";
			if (attempt > 1)
				snprintf(tried, sizeof tried, " (gave up after %d attempts)", attempt);
			rc = oci_error_set(OCI_ENET, "registry %s: %s: %s%s", h->host, r.what ? r.what : "request", why, tried);
			goto cleanup;
		}
		if (cc != CURLE_OK) {
			if (retriable_curl(cc) && !tls_failure(h, &x, cc, url) && CAN_RETRY()) {
				char why[300];
				snprintf(why, sizeof why, "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc));
				oci_http_backoff(h, attempt++, NULL, why);
				free(url);
				if (!(url = strdup(req->url)))
					goto nomem;
				continue;
			}
			resp->retriable = retriable_curl(cc) && !tls_failure(h, &x, cc, url);
			rc = curl_error(h, &x, cc, url, attempt);
			goto cleanup;
		}
		long st = resp->status;
		/* A challenge is answered once; a bearer token refused after
		 * that (revoked, or the registry wants another scope) gets one
		 * more: auth.c then fetches a fresh token, or names what the
		 * token lacks (insufficient_scope, even on a 403). */
		int bearer = auth && !strncasecmp(auth, "Authorization: Bearer ", 22);
		if ((st == 401 || (st == 403 && bearer)) && challenged < 1 + bearer && r.scope && same) {
			char *www = NULL;
			if ((rc = oci_http_resp_header_join(&www, resp, "WWW-Authenticate")) < 0)
				goto cleanup;
			rc = 0;
			int answer = www && (st == 401 ? (challenged == 0 || bearer) : strstr(www, "insufficient_scope") != NULL);
			if (answer && body_replayable(&r, x.body_read) && delivered == 0) {
				challenged++;
				rc = oci_auth_handle_challenge(h->auth, www, r.scope);
				free(www);
				if (rc < 0)
					goto cleanup;
				continue;
			}
			free(www);
		}
		if (st >= 300 && st < 400 && st != 304 && (r.flags & OCI_HTTP_FOLLOW)) {
			const char *loc = oci_http_resp_header(resp, "Location");
			if (!loc) {
				rc = oci_error_set(OCI_ENET, "registry %s: %s: redirect (%ld) without a Location", h->host,
						   r.what ? r.what : "request", st);
				goto cleanup;
			}
			if (++redirects > REDIRECTS_MAX) {
				rc = oci_error_set(OCI_ENET, "registry %s: %s: more than %d redirects", h->host,
						   r.what ? r.what : "request", REDIRECTS_MAX);
				goto cleanup;
			}
			char *next;
			if ((rc = oci_http_resolve_url(&next, url, loc, 0)) < 0)
				goto cleanup;
			free(url);
			url = next;
			continue;
		}
		if (retriable_status(st) && CAN_RETRY()) {
			char why[96];
			snprintf(why, sizeof why, "%ld %s", st, x.reason);
			oci_http_backoff(h, attempt++, oci_http_resp_header(resp, "Retry-After"), why);
			free(url);
			if (!(url = strdup(req->url)))
				goto nomem;
			continue;
		}
		if (st == 416 && (r.flags & OCI_HTTP_RESUME) && delivered > 0) {
			/* Everything had arrived before the drop: nothing left to
			 * fetch; the caller's digest check has the last word. */
			st = resp->status = 206;
		}
		if (st >= 400 || st < 100) {
			resp->retriable = retriable_status(st);
			rc = status_error(h, &x, url, attempt, st == 401 && bearer && challenged > 1);
			goto cleanup;
		}
		if (req->progress_what && r.sink &&
		    (rc = oci_http_progress(h, req->progress_what, delivered, req->progress_total)) < 0)
			goto cleanup;
		resp->url = url;
		url = NULL;
		rc = 0;
		goto cleanup;
	}
#undef CAN_RETRY
nomem:
	rc = OCI_ENOMEM_SET();
cleanup:
	oci_buf_dispose(&x.errbody);
	free_headers(hdrs);
	free_secret(auth);
	free(url);
	return rc;
}
