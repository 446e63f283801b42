/* The HTTP request layer under the registry target (see http.h for what
 * every request gets: auth, retries, resume, hand-followed redirects,
 * error bodies, logging). */
#include "http.h"
#include "http_error.h"
#include "tls.h"
#include "error_internal.h"

#include <curl/curl.h>
#include <errno.h>
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
	oci_authorizer az;        /* how requests with a scope get authorized (ctx NULL: anonymously) */
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
	if (!h->opts->verbose || !h->opts->log_fn)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	h->opts->log_fn(h->opts->cb_ctx, line);
}

void oci_http_progress(oci_http *h, const char *what, int64_t done, int64_t total)
{
	if (h->opts->progress_fn && what)
		h->opts->progress_fn(h->opts->cb_ctx, what, done, total);
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

/* ---- lifecycle ---- */

int oci_http_new(oci_http **out, const char *api_host, const oci_client_opts *opts)
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

void oci_http_set_authorizer(oci_http *h, const oci_authorizer *a)
{
	if (h->az.free)
		h->az.free(h->az.ctx);
	h->az = *a;
}

void oci_http_free(oci_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	if (h->az.free)
		h->az.free(h->az.ctx);
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
		snprintf(x->reason, sizeof x->reason, "%s", r ? r + 1 : oci_http_reason_phrase(x->resp->status));
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
			oci_http_progress(x->h, req->progress_what, *x->delivered, req->progress_total);
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
			oci_http_progress(x->h, x->req->progress_what, x->body_read, x->req->progress_total);
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

/* ---- failures ---- */

/* What went wrong in this attempt, as the plain record http_error.c turns
 * into a message. */
static void failure_of(oci_http_failure *f, oci_http *h, const struct xfer *x, CURLcode cc, const char *url,
		       int attempts, int refused_token)
{
	long version = 0, os_errno = 0;
	curl_easy_getinfo(h->curl, CURLINFO_HTTP_VERSION, &version);
	curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &os_errno);
	memset(f, 0, sizeof *f);
	f->host = h->host;
	f->base = h->base;
	f->url = url;
	f->what = x->req->what;
	f->attempts = attempts;
	f->status = x->resp->status;
	f->reason = x->reason;
	f->body = x->errbody.data;
	f->body_len = x->errbody.len;
	f->nheaders = x->resp->nheaders;
	f->http10 = version == CURL_HTTP_VERSION_1_0;
	f->refused_token = refused_token;
	f->cc = cc;
	f->detail = h->errbuf;
	f->os_errno = os_errno;
	f->cert_requested = h->cert_requested;
	f->opts = h->opts;
}

/* A failure of TLS itself: not worth another attempt. */
static int tls_failure(oci_http *h, const struct xfer *x, CURLcode cc, const char *url)
{
	oci_http_failure f;
	failure_of(&f, h, x, cc, url, 1, 0);
	return oci_http_tls_failure(&f);
}

static int failure_error(oci_http *h, const struct xfer *x, CURLcode cc, const char *url, int attempts,
			 int refused_token)
{
	oci_http_failure f;
	failure_of(&f, h, x, cc, url, attempts, refused_token);
	return oci_http_failure_error(&f);
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
		if (r.scope && same && h->az.header && (rc = h->az.header(h->az.ctx, &auth, r.scope)) < 0)
			goto cleanup;
		if (!r.scope && r.authorization && oci_http_same_origin(url, req->url) && !(auth = strdup(r.authorization)))
			goto nomem;
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
		oci_http_redact_url(shown, sizeof shown, url, redirects > 0);
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
			rc = failure_error(h, &x, cc, url, attempt, 0);
			goto cleanup;
		}
		long st = resp->status;
		/* A challenge is answered once; a bearer token refused after
		 * that (revoked, or the registry wants another scope) gets one
		 * more: the authorizer then fetches a fresh token, or names what the
		 * token lacks (insufficient_scope, even on a 403). */
		int bearer = auth && !strncasecmp(auth, "Authorization: Bearer ", 22);
		if ((st == 401 || (st == 403 && bearer)) && challenged < 1 + bearer && r.scope && same && h->az.challenge) {
			char *www = NULL;
			if ((rc = oci_http_resp_header_join(&www, resp, "WWW-Authenticate")) < 0)
				goto cleanup;
			rc = 0;
			int answer = www && (st == 401 ? (challenged == 0 || bearer) : strstr(www, "insufficient_scope") != NULL);
			if (answer && body_replayable(&r, x.body_read) && delivered == 0) {
				challenged++;
				rc = h->az.challenge(h->az.ctx, www, r.scope);
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
			rc = failure_error(h, &x, CURLE_OK, url, attempt, st == 401 && bearer && challenged > 1);
			goto cleanup;
		}
		if (req->progress_what && r.sink)
			oci_http_progress(h, req->progress_what, delivered, req->progress_total);
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
