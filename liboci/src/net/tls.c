#include "tls.h"
#include "error_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int oci_host_is_loopback(const char *host)
{
	if (!host)
		return 0;
	if (!strncmp(host, "localhost", 9) && (host[9] == '\0' || host[9] == ':'))
		return 1;
	if (!strncmp(host, "127.", 4)) {
		/* 127.0.0.0/8 only as a dotted IPv4 address, not "127.example.com". */
		const char *p = host + 4;
		while ((*p >= '0' && *p <= '9') || *p == '.')
			p++;
		return *p == '\0' || *p == ':';
	}
	if (!strncmp(host, "[::1]", 5))
		return host[5] == '\0' || host[5] == ':';
	if (!strcmp(host, "::1"))
		return 1;
	return 0;
}

const char *oci_http_scheme(const char *host, const oci_client_opts *opts)
{
	if (opts->plain_http)
		return "http";
	if (oci_host_is_loopback(host) && !opts->ca_file && !opts->cert_file && !opts->insecure)
		return "http";
	return "https";
}

int oci_http_setup_tls(CURL *h, const oci_client_opts *opts)
{
	CURLcode rc = CURLE_OK;
	rc |= curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, opts->insecure ? 0L : 1L);
	rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, opts->insecure ? 0L : 2L);
	if (opts->ca_file)
		rc |= curl_easy_setopt(h, CURLOPT_CAINFO, opts->ca_file);
	if (opts->cert_file) {
		rc |= curl_easy_setopt(h, CURLOPT_SSLCERT, opts->cert_file);
		rc |= curl_easy_setopt(h, CURLOPT_SSLKEY, opts->key_file);
	}
	rc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (rc != CURLE_OK)
		return oci_error_set(OCI_ENET, "cannot configure TLS options in libcurl");
	return 0;
}

int oci_tls_plain_http_answer(CURLcode cc, const char *detail)
{
	/* OpenSSL reading "HTTP/1.1 400 ..." as a TLS record: "wrong version
	 * number" (or "packet length too long", "http request") */
	return (cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR) && detail &&
	       (strstr(detail, "wrong version number") || strstr(detail, "packet length too long") ||
		strstr(detail, "http request"));
}

const char *oci_tls_hint(oci_hint *code, CURLcode cc, int https, const char *detail, const oci_client_opts *opts)
{
	*code = OCI_HINT_NONE;
	if (!detail)
		detail = "";
	if (https && oci_tls_plain_http_answer(cc, detail))
		return *code = OCI_HINT_PLAIN_HTTP, "; the server answers plain HTTP, not HTTPS";
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		/* libcurl's own words tell a name mismatch from an unknown issuer */
		if (strstr(detail, "subject name") || strstr(detail, "does not match"))
			return "; the server's certificate is not issued for this host name: connect by a name it lists";
		if (strstr(detail, "expired"))
			return "; the server's certificate has expired";
		if (opts->ca_file)
			return *code = OCI_HINT_CA_FILE_MISMATCH, "; the server's certificate is not signed by the CA";
		return *code = OCI_HINT_CA_FILE, "; the server's certificate is not trusted";
	case CURLE_SSL_CERTPROBLEM:
		return *code = OCI_HINT_CHECK_CLIENT_CERT, "; a readable PEM certificate and its matching key are needed";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		if (https && !opts->cert_file)
			return *code = OCI_HINT_CLIENT_CERT, "; the TLS connection was closed: the server may require a client certificate";
		if (https)
			return "; the TLS connection was closed: was the client certificate refused?";
		return "";
	default:
		return "";
	}
}

/* The variable libcurl takes a proxy for url from (as it reads them:
 * lower case first; HTTP_PROXY in upper case is ignored for http). */
static const char *proxy_variable(const char *url, const char **value)
{
	static const char *https_vars[] = { "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", NULL };
	static const char *http_vars[] = { "http_proxy", "all_proxy", "ALL_PROXY", NULL };
	const char **vars = strncasecmp(url, "https:", 6) == 0 ? https_vars : http_vars;
	for (; *vars; vars++) {
		const char *v = getenv(*vars);
		if (v && *v) {
			*value = v;
			return *vars;
		}
	}
	return NULL;
}

int oci_proxy_failure(char *buf, size_t n, CURLcode cc, const char *detail, const char *url, const char *hostport)
{
	if (cc != CURLE_COULDNT_CONNECT && cc != CURLE_COULDNT_RESOLVE_PROXY && cc != CURLE_PROXY)
		return 0;
	const char *value = NULL, *var = proxy_variable(url, &value);
	if (!var)
		return 0;
	if (cc == CURLE_COULDNT_CONNECT) {
		/* libcurl names whom it could not connect to: "Failed to connect
		 * to HOST port PORT ..."; the registry itself, when no_proxy
		 * exempted it */
		const char *p = detail ? strstr(detail, "connect to ") : NULL;
		char who[300];
		if (!p || sscanf(p + 11, "%255s port", who) != 1)
			return 0;
		const char *port = strstr(p, " port ");
		if (port)
			snprintf(who + strlen(who), sizeof who - strlen(who), ":%d", atoi(port + 6));
		/* the registry as libcurl names it: no brackets, the default port spelt out */
		char reg[300];
		const char *h = hostport, *end = NULL;
		if (*h == '[' && (end = strchr(h, ']')))
			snprintf(reg, sizeof reg, "%.*s%s", (int)(end - h - 1), h + 1, end[1] == ':' ? end + 1 : "");
		else
			snprintf(reg, sizeof reg, "%s", h);
		if (!(end ? end[1] == ':' : strchr(hostport, ':') != NULL))
			snprintf(reg + strlen(reg), sizeof reg - strlen(reg), ":%d",
				 strncasecmp(url, "https:", 6) == 0 ? 443 : 80);
		if (!strcmp(who, reg))
			return 0;
		/* the variable's value is not printed: it may carry a password */
		snprintf(buf, n, "the proxy %s (from %s) is unreachable (%s); the registry %s was not contacted", who, var,
			 detail, hostport);
		return 1;
	}
	snprintf(buf, n, "the proxy (from %s) failed (%s); the registry %s was not contacted", var,
		 detail ? detail : curl_easy_strerror(cc), hostport);
	return 1;
}
