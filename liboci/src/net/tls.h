/* Private: the TLS and scheme choices every HTTP request of liboci makes
 * (registry API calls and token requests alike). */
#ifndef OCI_TLS_H
#define OCI_TLS_H
#include <curl/curl.h>
#include "oci/error.h"
#include "oci/target.h"

/* "http" or "https" for host[:port]: --plain-http forces http; loopback
 * hosts (localhost, 127.0.0.0/8, ::1) use http unless a CA or client
 * certificate was given. */
const char *oci_http_scheme(const char *host, const oci_client_opts *opts);
/* Applies verification (on unless --insecure), CA file, client cert/key,
 * and sane defaults (TLS 1.2+, timeouts for connect). */
int oci_http_setup_tls(CURL *h, const oci_client_opts *opts);
/* True for localhost, 127.0.0.0/8 and ::1 (host may carry :port). */
int oci_host_is_loopback(const char *host);
/* Why a transfer failed, to append to the message ("" when unknown), and
 * what the caller could change in *code (oci_error_hint_set after the
 * message): an untrusted certificate (OCI_HINT_CA_FILE, or
 * _CA_FILE_MISMATCH when a CA was given); a connection the server drops
 * during the handshake (TLS 1.3 servers refuse a missing client
 * certificate after it, which libcurl reports as a send/receive error:
 * OCI_HINT_CLIENT_CERT); a plain-HTTP answer to the handshake
 * (OCI_HINT_PLAIN_HTTP); a name mismatch (libcurl's detail) is told from
 * an unknown issuer. https: the request used TLS. */
const char *oci_tls_hint(oci_hint *code, CURLcode cc, int https, const char *detail, const oci_client_opts *opts);
/* A TLS handshake answered in plain HTTP (detail: libcurl's error text). */
int oci_tls_plain_http_answer(CURLcode cc, const char *detail);
/* A failure to reach the proxy libcurl took from the environment
 * (HTTPS_PROXY, ...) for url, not the registry hostport: 1 and the
 * message naming the proxy in buf; 0 when it is not that. */
int oci_proxy_failure(char *buf, size_t n, CURLcode cc, const char *detail, const char *url, const char *hostport);

#endif
