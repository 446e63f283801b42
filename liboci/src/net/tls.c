#include "tls.h"
#include "error_internal.h"

#include <string.h>

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

const char *oci_tls_hint(CURLcode cc, int https, const oci_client_opts *opts)
{
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return opts->ca_file ? " (the server's certificate is not signed by the CA in --ca-file)"
				     : " (the server's certificate is not trusted: pass its CA with --ca-file, or use --insecure)";
	case CURLE_SSL_CERTPROBLEM:
		return " (check --cert-file and --key-file: a readable PEM certificate and its matching key)";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		if (https && !opts->cert_file)
			return " (the TLS connection was closed: does the server require a client certificate (--cert-file/--key-file)?)";
		if (https)
			return " (the TLS connection was closed: was the client certificate refused?)";
		return "";
	default:
		return "";
	}
}
