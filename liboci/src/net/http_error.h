/* Private: what a failed request is called. The engine (http.c) fills a
 * plain record (the status and what came with it, or libcurl's verdict
 * when no answer came) and these functions turn it into the message and
 * code, so every case is unit-tested without a connection. */
#ifndef OCI_HTTP_ERROR_H
#define OCI_HTTP_ERROR_H
#include <curl/curl.h>
#include <stddef.h>
#include "oci/target.h"

typedef struct oci_http_failure {
	/* who and what */
	const char *host;          /* the registry's host[:port] */
	const char *base;          /* its scheme://host[:port]; a url elsewhere is named by its own host */
	const char *url;           /* the URL that failed */
	const char *what;          /* "manifest app:v1"; NULL: "request" */
	int attempts;              /* made so far (> 1: "gave up after N attempts") */
	/* an answer (status != 0) */
	long status;
	const char *reason;        /* the status line's reason phrase; NULL or "": the standard one */
	const char *body;          /* the error body (an excerpt), may be NULL */
	size_t body_len;
	size_t nheaders;           /* how many headers the answer had */
	int http10;                /* the answer was HTTP/1.0 */
	int refused_token;         /* a freshly issued bearer token was refused too */
	/* no answer (status 0) */
	CURLcode cc;
	const char *detail;        /* libcurl's error text (NULL: its generic one) */
	long os_errno;
	int cert_requested;        /* the TLS handshake asked for a client certificate */
	const oci_client_opts *opts; /* for the TLS hints (may be NULL) */
} oci_http_failure;

/* Sets the message for f (and, for TLS and plain-HTTP mix-ups, the hint:
 * oci_error_hint_set) and returns its code: 404 OCI_ENOTFOUND,
 * 401/403 (and the registry's DENIED/UNAUTHORIZED) OCI_EAUTH,
 * DIGEST_INVALID/SIZE_INVALID OCI_EDIGEST, everything else OCI_ENET. */
int oci_http_failure_error(const oci_http_failure *f);
/* The standard reason phrase of a status ("" when none is known). */
const char *oci_http_reason_phrase(long status);
/* The server asked for a client certificate and dropped the connection
 * before answering: it refused ours, or our having none. */
int oci_http_client_cert_refused(const oci_http_failure *f);
/* A failure of TLS itself (not worth retrying). */
int oci_http_tls_failure(const oci_http_failure *f);

#endif
