/* Private: the HTTP engine, liboci's one HTTP client: registry API calls
 * and token requests go through it alike. One oci_http per registry host
 * keeps one libcurl easy handle (so keep-alive works) and does, for every
 * request: the Authorization header for its scope (asked of the attached
 * authorizer, authorizer.h) and one retry after a 401 challenge (every
 * WWW-Authenticate line read, handed to the authorizer), one more when a
 * bearer token is then refused (401, or 403 with insufficient_scope), no
 * retry of TLS refusals, retries with jittered backoff
 * on connection errors, 408, 429 and 5xx (honouring Retry-After), resumed
 * downloads with Range after a dropped connection, redirects followed by
 * hand (Authorization only to the registry's own origin), bounded error
 * bodies turned into messages, and one verbose log line per request.
 *
 * An oci_http is used by one thread at a time. */
#ifndef OCI_HTTP_H
#define OCI_HTTP_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "authorizer.h"
#include "oci/io.h"
#include "oci/target.h"

typedef struct oci_http oci_http;

/* api_host: host[:port] requests go to. opts must outlive the oci_http.
 * A registry's engine comes with its authorizer from oci_auth_http_new
 * (auth/auth.h); without one, requests go anonymously. */
int oci_http_new(oci_http **out, const char *api_host, const oci_client_opts *opts);
/* Attaches the authorizer (copied; its ctx is freed with h), replacing
 * (and freeing) any earlier one. */
void oci_http_set_authorizer(oci_http *h, const oci_authorizer *a);
void oci_http_free(oci_http *h);
/* "https://host:port" (scheme + host as requests use them). */
const char *oci_http_base(const oci_http *h);

/* A request body: in memory, or pulled from a source. */
typedef struct oci_http_body {
	const void *data;          /* in memory (replayable) */
	size_t len;
	oci_read_fn read;          /* or streamed from here */
	void *read_ctx;
	int64_t size;              /* streamed body length (exact) */
	/* Rewinds a streamed body to its start for a retry; NULL = a retry is
	 * only possible while nothing was read yet. */
	int (*rewind)(void *ctx);
} oci_http_body;

enum {
	OCI_HTTP_FOLLOW = 1,       /* follow redirects (GET/HEAD) */
	OCI_HTTP_RESUME = 2,       /* GET into a sink: resume with Range after a drop */
	OCI_HTTP_NO_RETRY = 4,     /* one attempt (the caller recovers itself) */
	/* A streamed body sent at once, without libcurl's "Expect:
	 * 100-continue" wait for the server's go-ahead (a round trip per
	 * request): for rewindable bodies into an upload session the registry
	 * opened a moment ago, where a refusal is rare and costs a resend. */
	OCI_HTTP_NO_EXPECT = 8,
};

typedef struct oci_http_req {
	const char *method;        /* GET HEAD PUT POST PATCH DELETE */
	const char *url;           /* absolute */
	const char *scope;         /* auth scope (asks the authorizer); NULL = none */
	/* Or a fixed "Authorization: ..." line (a token service's Basic
	 * credentials), sent only while the request stays on url's origin. */
	const char *authorization;
	const char *headers[6];    /* extra "Name: value" lines, NULL-terminated */
	const oci_http_body *body; /* NULL: no body */
	/* Where a 2xx body goes: a sink, or (sink NULL) captured in resp->body
	 * up to body_limit bytes (0: discarded). */
	oci_write_fn sink;
	void *sink_ctx;
	size_t body_limit;
	int flags;
	const char *what;          /* for messages: "manifest app:v1", "blob sha256:..." */
	const char *progress_what; /* non-NULL: progress reports under this name */
	int64_t progress_total;
} oci_http_req;

typedef struct oci_http_header {
	char *name;
	char *value;
} oci_http_header;

typedef struct oci_http_resp {
	long status;               /* the final status (0: no response) */
	char *url;                 /* the final URL (after redirects) */
	oci_buf body;              /* captured body (2xx with body_limit) */
	oci_http_header *headers;  /* of the final response */
	size_t nheaders;
	int retriable;             /* the failure was a connection error or 408/429/5xx */
} oci_http_resp;
#define OCI_HTTP_RESP_INIT { 0, NULL, OCI_BUF_INIT, NULL, 0, 0 }
/* First value of a header (case-insensitive), or NULL. */
const char *oci_http_resp_header(const oci_http_resp *r, const char *name);
/* Every non-empty value of a header (case-insensitive), joined with ", "
 * in the order received (RFC 9110's list form, as for WWW-Authenticate
 * sent once per scheme): 1 and *out (caller frees), or 0 and NULL when
 * absent. */
int oci_http_resp_header_join(char **out, const oci_http_resp *r, const char *name);
void oci_http_resp_dispose(oci_http_resp *r);

/* Performs a request. 0 for 1xx-3xx final statuses; for 4xx/5xx an error
 * (404 OCI_ENOTFOUND, 401/403 OCI_EAUTH, others OCI_ENET) whose message
 * names the registry, req->what, the registry's error code and message and
 * the status. resp->status is set either way, so callers may treat an
 * expected 404 as an answer. A sink error aborts with the sink's error. */
int oci_http_do(oci_http_resp *resp, oci_http *h, const oci_http_req *req);

/* Resolves ref (a Location or Link target) against base into a new
 * absolute URL; with same_origin, refuses (OCI_ENET) a URL whose scheme,
 * host or port differ from base's. */
int oci_http_resolve_url(char **out, const char *base, const char *ref, int same_origin);
/* Appends "name=value" (value URL-encoded) to url's query. */
int oci_http_url_add_query(char **out, const char *url, const char *name, const char *value);
/* 1 when a and b share scheme, host and port. */
int oci_http_same_origin(const char *a, const char *b);
/* "host:port" of a URL (the default port spelt out), for messages. */
void oci_http_url_hostport(char *out, size_t n, const char *url);
/* "host[:port]" of a URL as written, for messages. */
void oci_http_url_host(char *out, size_t n, const char *url);
/* s percent-encoded for a query or form value; caller frees (NULL: out of
 * memory). */
char *oci_http_escape(const char *s);
/* url for a log line: query values redacted except this library's own
 * parameters (all: every value, for a URL the registry sent us to). */
void oci_http_redact_url(char *out, size_t n, const char *url, int all);
/* The attempts allowed per request (opts->max_retries or 5). */
int oci_http_max_attempts(const oci_http *h);
/* 1 when the caller's cancel flag (oci_client_opts.cancel) is set. */
int oci_http_cancelled(const oci_http *h);
/* Sleeps before retry number attempt (1-based): jittered exponential
 * backoff, or retry_after (a Retry-After value) when given; logs it. */
void oci_http_backoff(oci_http *h, int attempt, const char *retry_after, const char *why);
/* Log a line at OCI_LOG_DEBUG when verbose. */
void oci_http_log(oci_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void oci_http_logv(oci_http *h, const char *fmt, va_list ap);
/* 1 when the last answer on h's connection came over HTTP/2 or later (0
 * before any, or over HTTP/1.x). */
int oci_http_is_http2(const oci_http *h);
/* Reports progress to the callbacks (what NULL: nothing). 0, or
 * OCI_EINTERRUPTED when the progress callback asked to stop: the caller
 * aborts the transfer with it (not retried). */
int oci_http_progress(oci_http *h, const char *what, int64_t done, int64_t total);

#endif
