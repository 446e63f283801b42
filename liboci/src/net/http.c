/* The HTTP engine: the one libcurl client of liboci (see http.h for what
 * every request gets: authorization through the attached authorizer,
 * retries, resume, hand-followed redirects, error bodies, logging). This
 * file is the request loop and the engine's lifecycle; one attempt on the
 * wire is http_xfer.c, the retry policy http_retry.c, messages
 * http_error.c, URLs http_url.c. */
#include "http_internal.h"
#include "http_error.h"
#include "tls.h"
#include "error_internal.h"
#include "contract.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REDIRECTS_MAX 10
#define DEFAULT_ATTEMPTS 5

/* ---- small helpers ---- */

int oci_http_cancelled(const oci_http *h)
{
	return h->opts->cancel && *h->opts->cancel;
}

static int cancel_error(const oci_http *h)
{
	return oci_error_set(OCI_EINTERRUPTED, "registry %s: interrupted", h->host);
}

void oci_http_logv(oci_http *h, const char *fmt, va_list ap)
{
	if (h->opts->verbose)
		oci__logv(&h->opts->callbacks, OCI_LOG_DEBUG, fmt, ap);
}

void oci_http_log(oci_http *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	oci_http_logv(h, fmt, ap);
	va_end(ap);
}

int oci_http_progress(oci_http *h, const char *what, int64_t done, int64_t total)
{
	return what ? oci__progress(&h->opts->callbacks, what, done, total) : 0;
}

int oci_http_is_http2(const oci_http *h)
{
	return h->http2;
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

void oci_http_resp_dispose(oci_http_resp *r)
{
	oci_http_headers_clear(r);
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
		oci_http_headers_clear(resp);
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
		if (oci_http_deadline_passed(h)) {
			rc = oci_http_deadline_error(h, &r);
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
		 * Streamed bodies keep it, so a refusal comes before the bytes,
		 * unless the caller says otherwise (OCI_HTTP_NO_EXPECT). */
		if (r.body && (!r.body->read || (r.flags & OCI_HTTP_NO_EXPECT))) {
			if (!(t = curl_slist_append(hdrs, "Expect:")))
				goto nomem;
			hdrs = t;
		}
		if ((rc = oci_http_setup(h, &x, url, hdrs)) < 0)
			goto cleanup;

		CURLcode cc = curl_easy_perform(h->curl);
		long version = 0;
		if (curl_easy_getinfo(h->curl, CURLINFO_HTTP_VERSION, &version) == CURLE_OK && version)
			h->http2 = version >= CURL_HTTP_VERSION_2_0;
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
		if (cc != CURLE_OK && (x.deadline_hit || oci_http_deadline_passed(h))) {
			rc = oci_http_deadline_error(h, &r);
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
		     oci_http_body_replayable(&r, x.body_read))
		if (cc != CURLE_OK && x.too_slow) {
			char why[160], w[32];
			oci_http_format_ms(w, sizeof w, oci_http_min_speed_window(h));
			snprintf(why, sizeof why, "fewer than %lld bytes moved in %s (the minimum speed)",
				 (long long)oci_http_min_speed_bytes(h), w);
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
			if (oci_http_retriable_curl(cc) && !tls_failure(h, &x, cc, url) && CAN_RETRY()) {
				char why[300];
				snprintf(why, sizeof why, "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc));
				oci_http_backoff(h, attempt++, NULL, why);
				free(url);
				if (!(url = strdup(req->url)))
					goto nomem;
				continue;
			}
			resp->retriable = oci_http_retriable_curl(cc) && !tls_failure(h, &x, cc, url);
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
			if (answer && oci_http_body_replayable(&r, x.body_read) && delivered == 0) {
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
		if (oci_http_retriable_status(st) && CAN_RETRY()) {
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
			resp->retriable = oci_http_retriable_status(st);
			rc = failure_error(h, &x, CURLE_OK, url, attempt, st == 401 && bearer && challenged > 1);
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
