/* URLs for the HTTP engine: resolving Location and Link targets, the
 * same-origin rule (Authorization goes nowhere else), query building,
 * escaping, the host a message names, and redaction for log lines. The
 * only libcurl in here is its URL parser. */
#include "http.h"
#include "error_internal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Query values in log lines: a redirect target (pre-signed storage URLs)
 * or an upload location may carry secrets under any name (X-Amz-Signature,
 * sig, pw, se, ...), so every value is redacted except those of the
 * parameters this library itself adds, which are not secret. */
static int shown_param(const char *name, size_t len)
{
	static const char *const ours[] = { "digest", "mount", "from", "n", "last" };
	for (size_t i = 0; i < sizeof ours / sizeof *ours; i++)
		if (strlen(ours[i]) == len && strncmp(name, ours[i], len) == 0)
			return 1;
	return 0;
}

void oci_http_redact_url(char *out, size_t n, const char *url, int all)
{
	const char *q = strchr(url, '?');
	if (!q) {
		snprintf(out, n, "%s", url);
		return;
	}
	size_t o = 0;
	size_t pre = (size_t)(q - url) + 1;
	o = (size_t)snprintf(out, n, "%.*s", (int)pre, url);
	const char *p = q + 1;
	while (*p && o < n) {
		const char *amp = strchr(p, '&');
		size_t plen = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', plen);
		if (eq && eq - p == 6 && strncmp(p, "_state", 6) == 0)
			o += (size_t)snprintf(out + o, n - o, "_state=..."); /* distribution's long session state */
		else if (eq && (all || !shown_param(p, (size_t)(eq - p))))
			o += (size_t)snprintf(out + o, n - o, "%.*s=REDACTED", (int)(eq - p), p);
		else if (!eq && plen)
			o += (size_t)snprintf(out + o, n - o, "REDACTED"); /* a bare token */
		else
			o += (size_t)snprintf(out + o, n - o, "%.*s", (int)plen, p);
		if (!amp)
			break;
		if (o < n)
			o += (size_t)snprintf(out + o, n - o, "&");
		p = amp + 1;
	}
}

/* ---- URLs ---- */

int oci_http_resolve_url(char **out, const char *base, const char *ref, int same_origin)
{
	*out = NULL;
	int rc = 0;
	char *s = NULL;
	CURLU *u = curl_url();
	if (!u)
		return OCI_ENOMEM_SET();
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, ref, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK) {
		rc = oci_error_set(OCI_ENET, "registry sent an unusable URL '%.200s'", ref);
		goto cleanup;
	}
	if (same_origin && !oci_http_same_origin(base, s)) {
		rc = oci_error_set(OCI_ENET, "registry pointed to another origin (%.200s); refused", s);
		goto cleanup;
	}
	*out = strdup(s);
	if (!*out)
		rc = OCI_ENOMEM_SET();
cleanup:
	curl_free(s);
	curl_url_cleanup(u);
	return rc;
}

int oci_http_url_add_query(char **out, const char *url, const char *name, const char *value)
{
	*out = NULL;
	int rc = 0;
	char *s = NULL, *pair = NULL;
	CURLU *u = curl_url();
	if (!u)
		return OCI_ENOMEM_SET();
	if (asprintf(&pair, "%s=%s", name, value) < 0) {
		pair = NULL;
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, pair, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK) {
		rc = oci_error_set(OCI_ENET, "cannot add %s to URL %.200s", name, url);
		goto cleanup;
	}
	*out = strdup(s);
	if (!*out)
		rc = OCI_ENOMEM_SET();
cleanup:
	free(pair);
	curl_free(s);
	curl_url_cleanup(u);
	return rc;
}

static int url_origin(const char *url, char **scheme, char **host, char **port)
{
	CURLU *u = curl_url();
	*scheme = *host = *port = NULL;
	if (!u)
		return -1;
	int ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		 curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
		 curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
		 curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
	curl_url_cleanup(u);
	return ok ? 0 : -1;
}

int oci_http_same_origin(const char *a, const char *b)
{
	char *sa, *ha, *pa, *sb, *hb, *pb;
	int ra = url_origin(a, &sa, &ha, &pa);
	int rb = url_origin(b, &sb, &hb, &pb);
	int same = ra == 0 && rb == 0 && strcasecmp(sa, sb) == 0 && strcasecmp(ha, hb) == 0 && strcmp(pa, pb) == 0;
	curl_free(sa), curl_free(ha), curl_free(pa);
	curl_free(sb), curl_free(hb), curl_free(pb);
	return same;
}

void oci_http_url_hostport(char *out, size_t n, const char *url)
{
	char *s, *hst, *p;
	if (url_origin(url, &s, &hst, &p) == 0)
		snprintf(out, n, "%s:%s", hst, p);
	else
		snprintf(out, n, "%.100s", url);
	curl_free(s), curl_free(hst), curl_free(p);
}

void oci_http_url_host(char *out, size_t n, const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	snprintf(out, n, "%s", url);
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port)
			snprintf(out, n, "%s:%s", host, port);
		else
			snprintf(out, n, "%s", host);
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

char *oci_http_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *copy = e ? strdup(e) : NULL;
	if (e) {
		explicit_bzero(e, strlen(e)); /* form values may be secrets */
		curl_free(e);
	}
	return copy;
}
