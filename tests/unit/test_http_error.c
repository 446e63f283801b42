/* Messages for failed requests (net/http_error.c), from plain records:
 * statuses with and without the registry's error body, retries, the
 * registry's own verdict overriding the status class, and the transport
 * failures (TLS verification, client certificates, plain HTTP, refused
 * connections), with the hint a program words (oci_error_hint: the
 * messages name no flag). No connection is made. */
#include "test.h"
#include "http_error.h"
#include "oci/oci.h"

#include <errno.h>
#include <string.h>

static oci_http_failure answer(long status, const char *body)
{
	oci_http_failure f;
	memset(&f, 0, sizeof f);
	f.host = "r.example:5000";
	f.base = "https://r.example:5000";
	f.url = "https://r.example:5000/v2/team/app/manifests/v1";
	f.what = "manifest team/app:v1";
	f.attempts = 1;
	f.status = status;
	f.body = body;
	f.body_len = body ? strlen(body) : 0;
	f.nheaders = 3;
	return f;
}

static void test_401_403(void)
{
	oci_http_failure f = answer(401, NULL);
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_EAUTH);
	CHECK_STR(oci_error_last()->message, "registry r.example:5000: manifest team/app:v1: authentication required (401)");
	f.refused_token = 1;
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_EAUTH);
	CHECK_ERR_CONTAINS("a freshly issued token was refused too (401)");
	f = answer(403, NULL);
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_EAUTH);
	CHECK_ERR_CONTAINS("manifest team/app:v1: access denied (403)");
	f = answer(403, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}");
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_EAUTH);
	CHECK_STR(oci_error_last()->message,
		  "registry r.example:5000: manifest team/app:v1: requested access to the resource is denied (403)");
}

static void test_404(void)
{
	oci_http_failure f = answer(404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\","
					 "\"detail\":{\"Tag\":\"v1\"}}]}");
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENOTFOUND);
	CHECK_STR(oci_error_last()->message,
		  "registry r.example:5000: manifest team/app:v1 not found: manifest unknown: {\"Tag\":\"v1\"} (404)");
	f = answer(404, NULL);
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENOTFOUND);
	CHECK_STR(oci_error_last()->message, "registry r.example:5000: manifest team/app:v1 not found (404)");
}

static void test_429_5xx(void)
{
	oci_http_failure f = answer(429, NULL);
	f.attempts = 5;
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_STR(oci_error_last()->message,
		  "registry r.example:5000: manifest team/app:v1: gave up after 5 attempts: 429 Too Many Requests");
	f = answer(503, "<html><body>upstream\nis down</body></html>");
	f.reason = "Service Unavailable";
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_STR(oci_error_last()->message,
		  "registry r.example:5000: manifest team/app:v1: <html><body>upstream (503 Service Unavailable)");
	f = answer(500, NULL);
	f.reason = "";
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_ERR_CONTAINS("500 Internal Server Error");
	/* the registry's verdict on content beats the status class */
	f = answer(400, "{\"errors\":[{\"code\":\"DIGEST_INVALID\",\"message\":\"provided digest did not match\"}]}");
	f.what = "blob sha256:ab";
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_EDIGEST);
	CHECK_ERR_CONTAINS("provided digest did not match (400 Bad Request)");
	/* a URL elsewhere (a storage redirect) is named by its own host */
	f = answer(502, NULL);
	f.url = "https://storage.example/blob?sig=x";
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_ERR_CONTAINS("registry storage.example:443: manifest team/app:v1: 502 Bad Gateway");
}

static void test_http_to_https_port(void)
{
	oci_http_failure f = answer(400, "Client sent an HTTP request to an HTTPS server.\n");
	f.url = "http://r.example:5000/v2/";
	f.base = "http://r.example:5000";
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_STR(oci_error_last()->message, "registry r.example:5000 speaks HTTPS");
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_CA_FILE);
	/* a HEAD: no body, and no header either, in HTTP/1.0 */
	f = answer(400, NULL);
	f.url = "http://r.example:5000/v2/";
	f.base = "http://r.example:5000";
	f.nheaders = 0;
	f.http10 = 1;
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_ERR_CONTAINS("speaks HTTPS");
	f.nheaders = 2; /* the registry's own 400 */
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_ERR_CONTAINS("400 Bad Request");
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_NONE);
}

static oci_http_failure no_answer(CURLcode cc, const char *detail)
{
	oci_http_failure f = answer(0, NULL);
	f.cc = cc;
	f.detail = detail;
	return f;
}

static void test_tls(void)
{
	oci_client_opts opts;
	oci_client_opts_init(&opts);
	oci_http_failure f = no_answer(CURLE_PEER_FAILED_VERIFICATION,
				       "SSL certificate problem: unable to get local issuer certificate");
	f.opts = &opts;
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_ERR_CONTAINS("TLS: cannot verify r.example:5000: SSL certificate problem: unable to get local issuer certificate");
	CHECK_ERR_CONTAINS("; the server's certificate is not trusted");
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_CA_FILE);
	opts.ca_file = "/etc/other-ca.pem";
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_ERR_CONTAINS("; the server's certificate is not signed by the CA");
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_CA_FILE_MISMATCH);
	opts.ca_file = NULL;
	/* a TLS handshake answered in plain HTTP */
	f = no_answer(CURLE_SSL_CONNECT_ERROR, "OpenSSL/3.0: error:0A00010B:SSL routines::wrong version number");
	f.opts = &opts;
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_STR(oci_error_last()->message, "registry r.example:5000 speaks plain HTTP, not HTTPS");
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_PLAIN_HTTP);
	f = no_answer(CURLE_PEER_FAILED_VERIFICATION,
		      "SSL certificate problem: unable to get local issuer certificate");
	CHECK(!oci_http_client_cert_refused(&f));
	/* a dropped handshake after a certificate request: a client certificate is wanted */
	f = no_answer(CURLE_RECV_ERROR, "OpenSSL SSL_read: error:0A00045C:SSL routines::tlsv13 alert certificate required");
	f.cert_requested = 1;
	f.opts = &opts;
	CHECK(oci_http_client_cert_refused(&f));
	CHECK(oci_http_tls_failure(&f));
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_STR(oci_error_last()->message,
		  "TLS connection to r.example:5000 failed: the server asked for a client certificate and none was given");
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_CLIENT_CERT);
	opts.cert_file = "/etc/client.pem";
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_ERR_CONTAINS("the server refused the client certificate /etc/client.pem (OpenSSL SSL_read: ");
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_CHECK_CLIENT_CERT);
	/* an alert is TLS's verdict (not retried); a plain drop is not */
	f = no_answer(CURLE_RECV_ERROR, "OpenSSL SSL_read: sslv3 alert bad certificate");
	CHECK(oci_http_tls_failure(&f));
	f = no_answer(CURLE_RECV_ERROR, "Connection reset by peer");
	CHECK(!oci_http_tls_failure(&f));
	f.url = "http://r.example:5000/v2/";
	CHECK(!oci_http_tls_failure(&f));
}

static void test_connect(void)
{
	oci_http_failure f = no_answer(CURLE_COULDNT_CONNECT, "Failed to connect");
	f.os_errno = ECONNREFUSED;
	f.attempts = 5;
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_STR(oci_error_last()->message, "cannot connect to r.example:5000: Connection refused (gave up after 5 attempts)");
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_NONE);
	f = no_answer(CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host: r.example");
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_ERR_CONTAINS("cannot resolve host r.example:5000");
	f = no_answer(CURLE_OPERATION_TIMEDOUT, "Operation timed out after 3000 milliseconds");
	CHECK_EQ_INT(oci_http_failure_error(&f), OCI_ENET);
	CHECK_ERR_CONTAINS("registry r.example:5000: timed out: Operation timed out");
	CHECK_STR(oci_http_reason_phrase(429), "Too Many Requests");
	CHECK_STR(oci_http_reason_phrase(299), "");
}

int main(void)
{
	RUN(test_401_403);
	RUN(test_404);
	RUN(test_429_5xx);
	RUN(test_http_to_https_port);
	RUN(test_tls);
	RUN(test_connect);
	TEST_END();
}
