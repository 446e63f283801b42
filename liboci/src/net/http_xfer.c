/* One attempt of a request on the wire: the libcurl handle configured for
 * it (TLS, method, body, bounded waits) and the callbacks that take the
 * status line and headers, deliver the body to the sink (resuming where a
 * dropped attempt stopped) or keep an error body for the message, feed an
 * upload, and stop a transfer that is cancelled, past its deadline or too
 * slow. The request loop around it is in http.c. */
#include "http_internal.h"
#include "http_error.h"
#include "tls.h"
#include "error_internal.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void oci_http_headers_clear(oci_http_resp *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
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
		oci_http_headers_clear(x->resp);
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

int64_t oci_http_min_speed_bytes(const oci_http *h)
{
	return h->opts->min_speed_bytes > 0 ? h->opts->min_speed_bytes : MIN_SPEED_BYTES;
}

int64_t oci_http_min_speed_window(const oci_http *h)
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
	if (now - x->win_start_ms >= oci_http_min_speed_window(x->h)) {
		if (moved - x->win_start_bytes < oci_http_min_speed_bytes(x->h)) {
			x->too_slow = 1;
			return 1;
		}
		x->win_start_ms = now;
		x->win_start_bytes = moved;
	}
	return 0;
}

/* ---- the handle for one attempt ---- */

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

int oci_http_setup(oci_http *h, struct xfer *x, const char *url, struct curl_slist *hdrs)
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

