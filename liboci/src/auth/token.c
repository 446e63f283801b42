/* Bearer tokens from a registry's token service (the distribution token
 * spec, and the OAuth2 refresh-token grant for identity tokens), fetched
 * through the registry's HTTP engine: the same TLS settings, retries,
 * redirects (credentials only to the realm's own origin), deadline and
 * cancel flag as every other request. Also what a JWT says it grants, for
 * a clear refusal before the registry gives a bare 401. */
#include "auth_internal.h"
#include "error_internal.h"
#include "scope.h"
#include "tls.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_RESPONSE_MAX (1024 * 1024)
#define DEFAULT_TOKEN_LIFETIME 60 /* seconds, as the token spec says */

/* ---- what a JWT grants (for clear refusals, not for trust) ---- */


/* The actions a token grants on repository name, comma-separated, into buf.
 * Returns 1 when the token is a JWT with an `access` claim, 0 otherwise. */
static int jwt_granted(char *buf, size_t n, const char *token, const char *name)
{
	const char *p1 = strchr(token, '.');
	const char *p2 = p1 ? strchr(p1 + 1, '.') : NULL;
	int found = 0;
	buf[0] = '\0';
	if (!p2 || p2 - p1 - 1 > 64 * 1024 || p2 == p1 + 1)
		return 0;
	size_t len = (size_t)(p2 - p1 - 1);
	size_t padded = (len + 3) / 4 * 4;
	char *b64 = malloc(padded + 1);
	unsigned char *raw = malloc(padded / 4 * 3 + 1);
	json_t *claims = NULL;
	if (!b64 || !raw)
		goto cleanup;
	for (size_t i = 0; i < len; i++) {
		char c = p1[1 + i];
		b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	for (size_t i = len; i < padded; i++)
		b64[i] = '=';
	b64[padded] = '\0';
	int rawlen = EVP_DecodeBlock(raw, (unsigned char *)b64, (int)padded);
	if (rawlen < 0)
		goto cleanup;
	rawlen -= (int)(padded - len);
	claims = json_loadb((char *)raw, (size_t)rawlen, 0, NULL);
	json_t *access = json_object_get(claims, "access");
	if (!json_is_array(access))
		goto cleanup;
	found = 1;
	size_t i;
	json_t *entry;
	json_array_foreach(access, i, entry) {
		const char *type = json_string_value(json_object_get(entry, "type"));
		const char *ename = json_string_value(json_object_get(entry, "name"));
		json_t *actions = json_object_get(entry, "actions");
		if (!type || strcmp(type, "repository") || !ename || strcmp(ename, name) || !json_is_array(actions))
			continue;
		size_t j;
		json_t *act;
		json_array_foreach(actions, j, act) {
			const char *s = json_string_value(act);
			size_t used = strlen(buf);
			if (s)
				snprintf(buf + used, n - used, "%s%s", used ? "," : "", s);
		}
	}
cleanup:
	json_decref(claims);
	free(b64);
	free(raw);
	return found;
}

static int action_in(const char *granted, const char *action, size_t len)
{
	const char *p = granted;
	while (*p) {
		size_t l = strcspn(p, ",");
		if ((l == len && !strncmp(p, action, len)) || (l == 1 && *p == '*'))
			return 1;
		p += l;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Fails when a JWT plainly lacks an action of the first scope (the target
 * repository). Later scopes are mount sources: a refusal there only means
 * the blob is uploaded instead. Opaque tokens are trusted to the registry. */
int oci_auth_check_grant(oci_auth *a, const char *token, const char *scope)
{
	char name[512], actions[256];
	if (!oci_scope_first_repository(name, sizeof name, actions, sizeof actions, scope))
		return 0;
	char granted[256];
	if (!jwt_granted(granted, sizeof granted, token, name))
		return 0;
	const char *p = actions;
	while (*p) {
		size_t al = strcspn(p, ",");
		if (al && !action_in(granted, p, al)) {
			if (!a->user)
				return oci_auth_login_hint(a);
			return oci_error_set(OCI_EAUTH,
					     "registry %s refused %.*s access to repository %s for user %s (the token service granted: %s)",
					     a->config_host, (int)al, p, name, a->user, granted[0] ? granted : "nothing");
		}
		p += al;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* ---- the request ---- */

/* Builds "realm?service=S&scope=A&scope=B" (one scope= each, as registries expect). */
static int token_get_url(char **out, const char *realm, const char *service, const char *scope)
{
	char *url = strdup(realm), *next;
	int rc = url ? 0 : OCI_ENOMEM_SET();
	if (!rc && service) {
		rc = oci_http_url_add_query(&next, url, "service", service);
		free(url);
		url = next;
	}
	const char *p = scope;
	while (!rc && p && *p) {
		while (*p == ' ')
			p++;
		size_t l = strcspn(p, " ");
		if (l) {
			char *item = strndup(p, l);
			rc = item ? oci_http_url_add_query(&next, url, "scope", item) : OCI_ENOMEM_SET();
			free(item);
			free(url);
			url = rc ? NULL : next;
		}
		p += l;
	}
	*out = url;
	return rc;
}

/* OAuth2 form body for a refresh token: every value escaped. */
static char *token_post_form(const char *service, const char *scope, const char *refresh)
{
	char *svc = oci_http_escape(service ? service : "");
	char *scp = oci_http_escape(scope ? scope : "");
	char *tok = oci_http_escape(refresh);
	char *form = NULL;
	if (svc && scp && tok &&
	    asprintf(&form, "grant_type=refresh_token&service=%s&scope=%s&client_id=ocisync&refresh_token=%s", svc, scp,
		     tok) < 0)
		form = NULL;
	free(svc);
	free(scp);
	oci_auth_wipe_free(tok);
	return form;
}

/* Reads the token out of a 200 answer. */
static int parse_token_response(char **token, long *lifetime, const oci_buf *body, const char *realm_host)
{
	json_error_t jerr;
	json_t *j = json_loadb(body->data ? body->data : "", body->len, 0, &jerr);
	int rc = 0;
	*token = NULL;
	*lifetime = DEFAULT_TOKEN_LIFETIME;
	if (!json_is_object(j)) {
		rc = oci_error_set(OCI_EAUTH, "token service at %s answered with something that is not a JSON object",
				   realm_host);
		goto cleanup;
	}
	const char *t = json_string_value(json_object_get(j, "token"));
	if (!t || !*t)
		t = json_string_value(json_object_get(j, "access_token"));
	if (!t || !*t) {
		rc = oci_error_set(OCI_EAUTH, "token service at %s answered without a token", realm_host);
		goto cleanup;
	}
	if (strpbrk(t, "\r\n")) {
		rc = oci_error_set(OCI_EAUTH, "token service at %s answered with a malformed token", realm_host);
		goto cleanup;
	}
	json_t *exp = json_object_get(j, "expires_in");
	if (json_is_integer(exp) && json_integer_value(exp) > 0)
		*lifetime = (long)json_integer_value(exp);
	*token = strdup(t);
	if (!*token)
		rc = OCI_ENOMEM_SET();
cleanup:
	json_decref(j);
	return rc;
}

/* One request to the token service: a GET of url with Basic credentials
 * when known, or (form non-NULL) the OAuth2 POST. A failure to get any
 * answer names the token service; an answer, whatever its status, is left
 * in resp for the caller to judge (0). */
static int token_request(oci_http_resp *resp, oci_auth *a, const char *url, const char *form, const char *realm_host)
{
	char *basic = NULL, what[300];
	int rc = 0;
	if (!form && a->user && (rc = oci_auth_basic_line(&basic, a)) < 0)
		return rc;
	snprintf(what, sizeof what, "a token from the token service at %s", realm_host);
	oci_http_body body = { form, form ? strlen(form) : 0, NULL, NULL, 0, NULL };
	oci_http_req req = {
		.method = form ? "POST" : "GET", .url = url, .authorization = basic,
		.headers = { "Accept: application/json",
			     form ? "Content-Type: application/x-www-form-urlencoded" : NULL },
		.body = form ? &body : NULL, .body_limit = TOKEN_RESPONSE_MAX,
		.flags = form ? 0 : OCI_HTTP_FOLLOW, .what = what,
	};
	rc = oci_http_do(resp, a->http, &req);
	oci_auth_wipe_free(basic);
	if (rc == OCI_ELIMIT)
		return oci_error_set(OCI_ELIMIT, "token service at %s answered with more than %d bytes", realm_host,
				     TOKEN_RESPONSE_MAX);
	if (rc < 0 && resp->status == 0 && rc != OCI_EINTERRUPTED && rc != OCI_ETIMEOUT)
		return oci_error_wrap("cannot reach the token service at %s: ", realm_host);
	if (rc < 0 && resp->status == 0)
		return rc;
	oci_error_clear(); /* a status: judged by the caller */
	return 0;
}

static void resp_wipe_dispose(oci_http_resp *resp)
{
	if (resp->body.data)
		OPENSSL_cleanse(resp->body.data, resp->body.len);
	oci_http_resp_dispose(resp);
}

int oci_auth_fetch_token(char **token, long *lifetime, oci_auth *a, const char *scope)
{
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	char *url = NULL, *form = NULL;
	char realm_host[256];
	int rc;
	*token = NULL;
	oci_http_url_host(realm_host, sizeof realm_host, a->realm);
	if ((rc = oci_auth_load_credentials(a)) < 0)
		return rc;
	if (a->user && !strncasecmp(a->realm, "http://", 7) && !oci_host_is_loopback(realm_host) &&
	    !strncasecmp(oci_http_base(a->http), "https:", 6)) {
		/* A registry reached over TLS must not lead the password onto
		 * an unencrypted connection elsewhere. */
		return oci_error_set(OCI_EAUTH,
				     "registry %s sends clients to the token service http://%s without TLS: refusing to send the credentials of user %s there",
				     a->config_host, realm_host, a->user);
	}
	if (a->user && a->identity_token) {
		/* OAuth2 refresh-token grant (what `docker login` stored). */
		if (!(form = token_post_form(a->service, scope, a->secret))) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
		oci_auth_log(a, "auth: POST %s (OAuth2 refresh token of %s) for scope '%s'", a->realm, a->user, scope);
		if ((rc = token_request(&resp, a, a->realm, form, realm_host)) < 0)
			goto cleanup;
		if (resp.status != 404 && resp.status != 405)
			goto answer;
		/* Token services without OAuth2 (404/405): the plain GET, with
		 * the identity token as the password. */
		resp_wipe_dispose(&resp);
		oci_auth_log(a, "auth: %s has no OAuth2 endpoint (HTTP 404), falling back to GET", realm_host);
	}
	if ((rc = token_get_url(&url, a->realm, a->service, scope)) < 0)
		goto cleanup;
	oci_auth_log(a, "auth: GET %s (%s)", url, a->user ? a->user : "anonymous");
	if ((rc = token_request(&resp, a, url, NULL, realm_host)) < 0)
		goto cleanup;
answer:
	if (resp.status == 401 || resp.status == 403) {
		if (!a->user)
			rc = oci_auth_login_hint(a);
		else
			rc = oci_error_set(OCI_EAUTH, "%s: authentication failed for user %s (%ld from token service %s)",
					   a->config_host, a->user, resp.status, realm_host);
		goto cleanup;
	}
	if (resp.status != 200) {
		rc = oci_error_set(OCI_EAUTH, "token service at %s answered HTTP %ld for scope '%s'", realm_host,
				   resp.status, scope);
		goto cleanup;
	}
	rc = parse_token_response(token, lifetime, &resp.body, realm_host);
cleanup:
	resp_wipe_dispose(&resp);
	oci_auth_wipe_free(form);
	free(url);
	return rc;
}
