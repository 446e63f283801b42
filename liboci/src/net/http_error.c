/* Messages for failed requests (see http_error.h): the registry's own
 * error body when it sent one, the status otherwise, and for failures
 * without an answer, what libcurl saw plus a hint at the likely fix (a
 * CA, a client certificate, plain HTTP: an oci_hint the program words;
 * a proxy). */
#include "http_error.h"
#include "http.h"
#include "tls.h"
#include "error_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* HTTP/2 status lines carry no reason phrase; messages still want one. */
const char *oci_http_reason_phrase(long st)
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
static int http_to_https_server(const oci_http_failure *f)
{
	if (strncasecmp(f->url, "http:", 5) != 0)
		return 0;
	if (f->body_len && memmem(f->body, f->body_len, "HTTPS server", 12))
		return 1;
	return f->body_len == 0 && f->nheaders == 0 && f->http10;
}

/* The host[:port] to name: the registry's, or the URL's own elsewhere. */
static void named_host(char *out, size_t n, const oci_http_failure *f)
{
	if (f->base && oci_http_same_origin(f->url, f->base))
		snprintf(out, n, "%s", f->host);
	else
		oci_http_url_hostport(out, n, f->url);
}

static int status_error(const oci_http_failure *f)
{
	long st = f->status;
	int code = st == 404 ? OCI_ENOTFOUND : (st == 401 || st == 403) ? OCI_EAUTH : OCI_ENET;
	char msg[700], ecode[64];
	oci_buf body = { (char *)(f->body ? f->body : ""), f->body ? f->body_len : 0, 0 };
	registry_message(msg, sizeof msg, &body, ecode, sizeof ecode);
	/* The registry's own verdict on content beats the status class. */
	if (!strcmp(ecode, "DIGEST_INVALID") || !strcmp(ecode, "SIZE_INVALID"))
		code = OCI_EDIGEST;
	else if (!strcmp(ecode, "DENIED") || !strcmp(ecode, "UNAUTHORIZED"))
		code = OCI_EAUTH;
	char hp[300];
	named_host(hp, sizeof hp, f);
	const char *what = f->what ? f->what : "request";
	const char *reason = f->reason && *f->reason ? f->reason : oci_http_reason_phrase(st);
	if (st == 400 && http_to_https_server(f))
		return oci_error_set(OCI_ENET, "registry %s speaks HTTPS", hp), oci_error_hint_set(OCI_HINT_CA_FILE, NULL);
	char tried[64] = "";
	if (f->attempts > 1)
		snprintf(tried, sizeof tried, "gave up after %d attempts: ", f->attempts);
	if (st == 404)
		return oci_error_set(code, "registry %s: %s not found%s%s (404)", hp, what, msg[0] ? ": " : "", msg);
	if (st == 401 || st == 403)
		return oci_error_set(code, "registry %s: %s: %s (%ld)", hp, what,
				     msg[0] ? msg : st == 401 && f->refused_token ? "a freshly issued token was refused too"
				     : st == 401 ? "authentication required" : "access denied", st);
	if (msg[0])
		return oci_error_set(code, "registry %s: %s: %s%s (%ld %s)", hp, what, tried, msg, st, reason);
	return oci_error_set(code, "registry %s: %s: %s%ld %s", hp, what, tried, st, reason);
}

int oci_http_client_cert_refused(const oci_http_failure *f)
{
	CURLcode cc = f->cc;
	return f->cert_requested && f->status == 0 &&
	       (cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING ||
		cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_COULDNT_CONNECT ||
		cc == CURLE_HTTP2 || cc == CURLE_HTTP2_STREAM); /* the same, under HTTP/2 */
}

/* Failures of TLS itself (certificates, alerts from the peer) are not
 * transient: trying again gets the same answer. A connection dropped mid
 * transfer (OpenSSL's "unexpected eof") still is. */
int oci_http_tls_failure(const oci_http_failure *f)
{
	if (strncasecmp(f->url, "https:", 6) != 0)
		return 0;
	if (oci_http_client_cert_refused(f))
		return 1;
	const char *d = f->detail ? f->detail : "";
	return f->status == 0 && (f->cc == CURLE_SEND_ERROR || f->cc == CURLE_RECV_ERROR) &&
	       (strstr(d, " alert ") || strstr(d, "certificate"));
}

static int transport_error(const oci_http_failure *f)
{
	static const oci_client_opts none = { .version = OCI_CLIENT_OPTS_VERSION };
	const oci_client_opts *opts = f->opts ? f->opts : &none;
	CURLcode cc = f->cc;
	char hp[300];
	named_host(hp, sizeof hp, f);
	char tried[64] = "";
	if (f->attempts > 1)
		snprintf(tried, sizeof tried, " (gave up after %d attempts)", f->attempts);
	const char *detail = f->detail && *f->detail ? f->detail : curl_easy_strerror(cc);
	/* libcurl's words when a server hangs up during the handshake say
	 * nothing useful. */
	if (strstr(detail, "getpeername") || strstr(detail, "Transport endpoint"))
		detail = "the server closed the connection";
	int https = strncasecmp(f->url, "https:", 6) == 0;
	oci_hint hint_code;
	const char *hint = oci_tls_hint(&hint_code, cc, https, detail, opts);
	char proxy[1024];
	if (oci_proxy_failure(proxy, sizeof proxy, cc, detail, f->url, hp))
		return oci_error_set(OCI_ENET, "%s%s", proxy, tried);
	if (https && oci_tls_plain_http_answer(cc, detail))
		return oci_error_set(OCI_ENET, "registry %s speaks plain HTTP, not HTTPS", hp),
		       oci_error_hint_set(OCI_HINT_PLAIN_HTTP, NULL);
	int refused = oci_http_client_cert_refused(f);
	if (refused && !opts->cert_file)
		return oci_error_set(OCI_ENET, "TLS connection to %s failed: the server asked for a client certificate "
				     "and none was given", hp), oci_error_hint_set(OCI_HINT_CLIENT_CERT, NULL);
	if (refused)
		return oci_error_set(OCI_ENET, "TLS connection to %s failed: the server refused the client certificate "
				     "%s (%s)", hp, opts->cert_file, detail),
		       oci_error_hint_set(OCI_HINT_CHECK_CLIENT_CERT, NULL);
	if (cc == CURLE_COULDNT_CONNECT)
		return oci_error_set(OCI_ENET, "cannot connect to %s: %s%s", hp,
				     f->os_errno ? strerror((int)f->os_errno) : detail, tried);
	if (cc == CURLE_COULDNT_RESOLVE_HOST)
		return oci_error_set(OCI_ENET, "cannot resolve host %s: %s", hp, detail);
	if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE)
		return oci_error_set(OCI_ENET, "TLS: cannot verify %s: %s%s", hp, detail, hint),
		       oci_error_hint_set(hint_code, NULL);
	if (cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_SSL_CERTPROBLEM || oci_http_tls_failure(f))
		return oci_error_set(OCI_ENET, "TLS connection to %s failed: %s%s", hp, detail, hint),
		       oci_error_hint_set(hint_code, NULL);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return oci_error_set(OCI_ENET, "registry %s: timed out: %s%s", hp, detail, tried);
	return oci_error_set(OCI_ENET, "registry %s: %s: %s%s%s", hp, "connection failed", detail, tried, hint),
	       oci_error_hint_set(hint_code, NULL);
}

int oci_http_failure_error(const oci_http_failure *f)
{
	return f->status || f->cc == CURLE_OK ? status_error(f) : transport_error(f);
}
