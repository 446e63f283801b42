/* Private to net/: the engine's state shared by its files: http.c (the
 * request loop), http_xfer.c (one attempt on the wire: the libcurl handle's
 * setup and callbacks) and http_retry.c (what is retried, and how long to
 * wait). */
#ifndef OCI_HTTP_INTERNAL_H
#define OCI_HTTP_INTERNAL_H
#include "http.h"

#include <curl/curl.h>

#define ERROR_BODY_MAX (64 * 1024)   /* error bodies kept for the message */
#define HEADERS_MAX 128
#define HEADER_BYTES_MAX (256 * 1024)
#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 10000
#define RETRY_AFTER_CAP_S 60
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
	int http2;                /* the last answer came over HTTP/2 (or later) */
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

/* http_xfer.c: prepares h->curl for one attempt of x->req at url. */
int oci_http_setup(oci_http *h, struct xfer *x, const char *url, struct curl_slist *hdrs);
/* Empties a response's header list. */
void oci_http_headers_clear(oci_http_resp *r);
/* The minimum average speed a transfer must keep over each window. */
int64_t oci_http_min_speed_bytes(const oci_http *h);
int64_t oci_http_min_speed_window(const oci_http *h);

/* http_retry.c */
int oci_http_retriable_curl(CURLcode cc);
int oci_http_retriable_status(long status);
/* Can the request body be sent again from its start (rewinding it)? */
int oci_http_body_replayable(const oci_http_req *req, int64_t already_read);
int oci_http_deadline_passed(const oci_http *h);
int oci_http_deadline_error(oci_http *h, const oci_http_req *req);
/* "3 s", "1.5 s", "10 min" for messages. */
void oci_http_format_ms(char *out, size_t n, int64_t ms);

#endif
