/* Registry authentication: one oci_auth per registry host, shared by every
 * request a registry target makes.
 *
 * The first request goes out anonymously. A 401 brings a challenge:
 *  - Bearer: a token for the request's scope comes from the realm (GET with
 *    Basic credentials when known, or the OAuth2 refresh-token POST for
 *    identity tokens); tokens are cached per scope for the process, and once
 *    the realm is known, tokens for new scopes are fetched before the
 *    request, saving a 401 round trip each;
 *  - Basic: the stored credentials are sent with every request.
 * Nothing here logs or returns a secret in a message. */
#include "auth.h"
#include "challenge.h"
#include "error_internal.h"
#include "contract.h"
#include "oci/credentials.h"
#include "oci/io.h"
#include "tls.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOKEN_RESPONSE_MAX (1024 * 1024)
#define CHALLENGE_HEADER_MAX (16 * 1024)
#define DEFAULT_TOKEN_LIFETIME 60 /* seconds, as the token spec says */

typedef struct token_entry {
	char *scope;
	char *token;
	time_t expires;        /* CLOCK_MONOTONIC seconds */
	int used;              /* handed out by oci_auth_header */
	int retried;           /* fetched again after the registry refused it */
	struct token_entry *next;
} token_entry;

enum { MODE_NONE, MODE_BASIC, MODE_BEARER };

struct oci_auth {
	char *api_host;
	char *config_host;
	oci_client_opts opts;
	const oci_client_opts *live; /* the caller's, for the deadline it moves (may be NULL) */
	pthread_mutex_t lock;
	int creds_loaded;
	char *user;            /* NULL: anonymous */
	char *secret;
	int identity_token;    /* secret is an OAuth2 refresh token */
	char creds_error[512]; /* why stored credentials could not be read, for the login hint */
	int mode;
	int basic_checked;     /* Basic credentials were tried against /v2/ */
	char *realm;
	char *service;
	token_entry *tokens;
};

static int shared_host_adopt(oci_auth *a);

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static void auth_log(oci_auth *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void auth_log(oci_auth *a, const char *fmt, ...)
{
	if (!a->opts.verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	oci__logv(&a->opts.callbacks, OCI_LOG_DEBUG, fmt, ap);
	va_end(ap);
}

static time_t now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int oci_auth_new(oci_auth **out, const char *api_host, const char *config_host,
		 const oci_client_opts *opts)
{
	static const oci_client_opts defaults = { .version = OCI_CLIENT_OPTS_VERSION };
	*out = NULL;
	if (!api_host || !*api_host)
		return oci_error_set(OCI_EINVALID, "auth: empty registry host");
	oci_auth *a = calloc(1, sizeof *a);
	if (!a)
		return OCI_ENOMEM_SET();
	a->api_host = strdup(api_host);
	a->config_host = strdup(config_host && *config_host ? config_host : api_host);
	a->opts = opts ? *opts : defaults;
	a->live = opts;
	/* used without a target (login): the deadline starts here */
	if (!a->opts.deadline_ms && a->opts.timeout_ms > 0)
		a->opts.deadline_ms = oci_clock_ms() + a->opts.timeout_ms;
	pthread_mutex_init(&a->lock, NULL);
	if (!a->api_host || !a->config_host || shared_host_adopt(a) < 0) {
		oci_auth_free(a);
		return OCI_ENOMEM_SET();
	}
	*out = a;
	return 0;
}

static void drop_tokens(oci_auth *a)
{
	token_entry *e = a->tokens;
	while (e) {
		token_entry *next = e->next;
		free(e->scope);
		wipe_free(e->token);
		free(e);
		e = next;
	}
	a->tokens = NULL;
}

void oci_auth_free(oci_auth *a)
{
	if (!a)
		return;
	drop_tokens(a);
	free(a->api_host);
	free(a->config_host);
	free(a->user);
	wipe_free(a->secret);
	free(a->realm);
	free(a->service);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* Private (auth.h): credentials given by the caller instead of the config. */
int oci_auth_set_credentials(oci_auth *a, const char *user, const char *secret, int identity_token)
{
	free(a->user);
	wipe_free(a->secret);
	a->user = user ? strdup(user) : NULL;
	a->secret = secret ? strdup(secret) : NULL;
	a->identity_token = identity_token;
	a->creds_loaded = 1;
	if ((user && !a->user) || (secret && !a->secret))
		return OCI_ENOMEM_SET();
	return 0;
}

static int load_credentials(oci_auth *a)
{
	if (a->creds_loaded)
		return 0;
	int rc = oci_credentials_get(&a->user, &a->secret, &a->identity_token, a->config_host,
				     a->opts.registry_config);
	if (rc == OCI_ENOTFOUND) {
		/* A configured helper that is not installed (a Docker Desktop
		 * config on a CI machine): public content stays reachable
		 * anonymously; a registry that insists hears why. */
		snprintf(a->creds_error, sizeof a->creds_error, "%.500s", oci_error_last()->message);
		auth_log(a, "auth: %s; trying anonymously", a->creds_error);
		rc = 0;
	}
	if (rc < 0)
		return rc;
	a->creds_loaded = 1;
	if (a->user)
		auth_log(a, "auth: using stored credentials of user %s for %s", a->user, a->config_host);
	else
		auth_log(a, "auth: no stored credentials for %s, trying anonymously", a->config_host);
	return 0;
}

static int login_hint(oci_auth *a)
{
	if (a->creds_error[0])
		return oci_error_set(OCI_EAUTH, "registry %s requires authentication, and its stored credentials cannot be read: %s",
				     a->config_host, a->creds_error);
	oci_error_set(OCI_EAUTH, "registry %s requires authentication", a->config_host);
	return oci_error_hint_set(OCI_HINT_LOGIN, a->config_host);
}

/* ---- a small HTTP exchange for token services and /v2/ checks ---- */

typedef struct http_exchange {
	long status;
	oci_buf body;
	size_t limit;
	int over_limit;
	oci_buf challenge;     /* WWW-Authenticate values of the final response, joined by ", " */
	char errbuf[CURL_ERROR_SIZE];
} http_exchange;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	http_exchange *x = ctx;
	size_t n = size * nmemb;
	if (x->body.len + n > x->limit) {
		x->over_limit = 1;
		return 0;
	}
	return oci_buf_append(&x->body, data, n) < 0 ? 0 : n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	http_exchange *x = ctx;
	size_t n = size * nmemb;
	if (n >= 5 && !strncmp(data, "HTTP/", 5)) {
		x->challenge.len = 0; /* a new response (after a redirect): forget the last one's */
		if (x->challenge.data)
			x->challenge.data[0] = '\0';
		return n;
	}
	static const char name[] = "www-authenticate:";
	if (n > sizeof name - 1 && !strncasecmp(data, name, sizeof name - 1)) {
		const char *v = data + sizeof name - 1;
		size_t vlen = n - (sizeof name - 1);
		while (vlen && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
			vlen--;
		if (x->challenge.len + vlen + 2 > CHALLENGE_HEADER_MAX)
			return n; /* ignore the excess; the parse sees what fits */
		if (x->challenge.len)
			oci_buf_append(&x->challenge, ", ", 2);
		oci_buf_append(&x->challenge, v, vlen);
	}
	return n;
}

static void http_exchange_dispose(http_exchange *x)
{
	if (x->body.data)
		OPENSSL_cleanse(x->body.data, x->body.len);
	oci_buf_dispose(&x->body);
	oci_buf_dispose(&x->challenge);
}

/* One request. form (may be NULL) makes it a POST; user/pass (may be NULL)
 * add Basic credentials, which libcurl does not carry across a redirect to
 * another host; bearer (may be NULL) is a whole "Authorization: ..." line.
 * Returns 0 with x->status set, or the CURLcode (x->errbuf says why). */
static CURLcode http_run(http_exchange *x, oci_auth *a, const char *url, const char *form,
			 const char *user, const char *pass, const char *auth_line)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	CURLcode cc;
	memset(x, 0, sizeof *x);
	x->limit = TOKEN_RESPONSE_MAX;
	if (!h) {
		snprintf(x->errbuf, sizeof x->errbuf, "cannot create a libcurl handle");
		return CURLE_FAILED_INIT;
	}
	if (oci_http_setup_tls(h, &a->opts) < 0) {
		snprintf(x->errbuf, sizeof x->errbuf, "%.200s", oci_error_last()->message);
		curl_easy_cleanup(h);
		return CURLE_FAILED_INIT;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* token requests are bounded by the operation's deadline too */
	long timeout_ms = 120000L;
	int64_t dl = a->live && a->live->deadline_ms ? a->live->deadline_ms : a->opts.deadline_ms;
	if (dl) {
		int64_t left = dl - oci_clock_ms();
		if (left < timeout_ms)
			timeout_ms = left > 1 ? (long)left : 1L;
	}
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_USERAGENT, a->opts.user_agent ? a->opts.user_agent : "liboci");
	if (form) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/x-www-form-urlencoded");
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (auth_line)
		hdrs = curl_slist_append(hdrs, auth_line);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (user && pass) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, pass);
	}
	x->errbuf[0] = '\0';
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && x->over_limit))
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->status);
	if (!x->errbuf[0])
		snprintf(x->errbuf, sizeof x->errbuf, "%s", curl_easy_strerror(cc));
	/* libcurl keeps copies of what it was given; the handle is freed here. */
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return cc;
}

/* "host[:port]" of a URL, for messages. */
static void url_host(char *buf, size_t n, const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	snprintf(buf, n, "%s", url);
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port)
			snprintf(buf, n, "%s:%s", host, port);
		else
			snprintf(buf, n, "%s", host);
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

/* A CURLcode as an error naming who could not be reached. */
static int network_error(CURLcode cc, const http_exchange *x, const char *what, const char *host, const char *url,
			 const oci_client_opts *opts)
{
	int https = !strncasecmp(url, "https:", 6);
	const char *text = x->errbuf;
	/* libcurl's words when a TLS 1.3 server drops the connection after
	 * refusing the client (no certificate) say nothing useful. */
	if (strstr(text, "getpeername") || strstr(text, "Transport endpoint"))
		text = "the server closed the connection";
	char proxy[1024];
	if (oci_proxy_failure(proxy, sizeof proxy, cc, text, url, host))
		return oci_error_set(OCI_ENET, "cannot reach %s at %s: %s", what, host, proxy);
	oci_hint hint;
	const char *why = oci_tls_hint(&hint, cc, https, text, opts);
	oci_error_set(OCI_ENET, "cannot reach %s at %s: %s%s", what, host, text, why);
	return oci_error_hint_set(hint, NULL);
}

/* ---- scopes ---- */

/* Appends text to a growing string; returns NULL (and frees) on failure. */
static char *str_append(char *s, const char *text)
{
	size_t a = s ? strlen(s) : 0, b = strlen(text);
	char *r = realloc(s, a + b + 1);
	if (!r) {
		free(s);
		return NULL;
	}
	memcpy(r + a, text, b + 1);
	return r;
}

/* True when the space-separated list contains item. */
static int scope_has(const char *list, const char *item, size_t len)
{
	const char *p = list;
	while (p && *p) {
		while (*p == ' ')
			p++;
		size_t l = strcspn(p, " ");
		if (l == len && !strncmp(p, item, len))
			return 1;
		p += l;
	}
	return 0;
}

/* The request's scope plus any scope the registry's challenge names that it
 * lacks (the registry knows best what the request needs). */
static char *merge_scopes(const char *scope, const char *challenge_scope)
{
	char *r = strdup(scope ? scope : "");
	const char *p = challenge_scope;
	while (r && p && *p) {
		while (*p == ' ')
			p++;
		size_t l = strcspn(p, " ");
		if (l && !scope_has(r, p, l)) {
			char *item = strndup(p, l);
			if (!item) {
				free(r);
				return NULL;
			}
			if (*r)
				r = str_append(r, " ");
			if (r)
				r = str_append(r, item);
			free(item);
		}
		p += l;
	}
	return r;
}

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
static int check_grant(oci_auth *a, const char *token, const char *scope)
{
	char first[512];
	size_t l = strcspn(scope, " ");
	if (l == 0 || l >= sizeof first)
		return 0;
	memcpy(first, scope, l);
	first[l] = '\0';
	if (strncmp(first, "repository:", 11) != 0)
		return 0;
	char *name = first + 11;
	char *actions = strrchr(name, ':');
	if (!actions)
		return 0;
	*actions++ = '\0';
	char granted[256];
	if (!jwt_granted(granted, sizeof granted, token, name))
		return 0;
	const char *p = actions;
	while (*p) {
		size_t al = strcspn(p, ",");
		if (al && !action_in(granted, p, al)) {
			if (!a->user)
				return login_hint(a);
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

/* ---- tokens ---- */

static int expired(const token_entry *e)
{
	return now_seconds() >= e->expires;
}

/* True when the scope list have asks for action on resource ("repository:x"). */
static int scope_grants(const char *have, const char *resource, size_t rlen, const char *action, size_t alen)
{
	const char *p = have;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t l = strcspn(p, " ");
		const char *colon = l ? memrchr(p, ':', l) : NULL;
		if (colon && (size_t)(colon - p) == rlen && !strncmp(p, resource, rlen)) {
			const char *acts = colon + 1, *end = p + l;
			while (acts < end) {
				size_t al = strcspn(acts, ", ");
				if (al > (size_t)(end - acts))
					al = (size_t)(end - acts);
				if ((al == alen && !strncmp(acts, action, alen)) || (al == 1 && *acts == '*'))
					return 1;
				acts += al + 1;
			}
		}
		p += l;
	}
	return 0;
}

/* True when a token asked for have also covers want: a push token serves
 * the pulls of the same repository, a mount token the plain push. */
static int scope_covers(const char *have, const char *want)
{
	const char *p = want;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t l = strcspn(p, " ");
		if (!l)
			break;
		const char *colon = memrchr(p, ':', l);
		if (!colon)
			return 0;
		const char *acts = colon + 1, *end = p + l;
		while (acts < end) {
			size_t al = strcspn(acts, ", ");
			if (al > (size_t)(end - acts))
				al = (size_t)(end - acts);
			if (al && !scope_grants(have, p, (size_t)(colon - p), acts, al))
				return 0;
			acts += al + 1;
		}
		p += l;
	}
	return 1;
}

static token_entry *find_token(oci_auth *a, const char *scope)
{
	for (token_entry *e = a->tokens; e; e = e->next)
		if (!strcmp(e->scope, scope))
			return e;
	if (!*scope)
		return NULL;
	for (token_entry *e = a->tokens; e; e = e->next)
		if (!expired(e) && scope_covers(e->scope, scope))
			return e;
	return NULL;
}

static void remove_token(oci_auth *a, token_entry *victim)
{
	for (token_entry **pp = &a->tokens; *pp; pp = &(*pp)->next) {
		if (*pp == victim) {
			*pp = victim->next;
			free(victim->scope);
			wipe_free(victim->token);
			free(victim);
			return;
		}
	}
}

/* Builds "realm?service=S&scope=A&scope=B" (one scope= each, as registries expect). */
static char *token_get_url(CURL *esc, const char *realm, const char *service, const char *scope)
{
	char *url = strdup(realm);
	char sep = strchr(realm, '?') ? '&' : '?';
	if (url && service) {
		char *e = curl_easy_escape(esc, service, 0);
		char part[2048];
		snprintf(part, sizeof part, "%cservice=%s", sep, e ? e : "");
		curl_free(e);
		url = str_append(url, part);
		sep = '&';
	}
	const char *p = scope;
	while (url && p && *p) {
		while (*p == ' ')
			p++;
		size_t l = strcspn(p, " ");
		if (l) {
			char *e = curl_easy_escape(esc, p, (int)l);
			char part[2048];
			snprintf(part, sizeof part, "%cscope=%s", sep, e ? e : "");
			curl_free(e);
			url = str_append(url, part);
			sep = '&';
		}
		p += l;
	}
	return url;
}

/* OAuth2 form body for a refresh token: every value escaped. */
static char *token_post_form(CURL *esc, const char *service, const char *scope, const char *refresh)
{
	char *svc = curl_easy_escape(esc, service ? service : "", 0);
	char *scp = curl_easy_escape(esc, scope ? scope : "", 0);
	char *tok = curl_easy_escape(esc, refresh, 0);
	char *form = NULL;
	if (svc && scp && tok &&
	    asprintf(&form, "grant_type=refresh_token&service=%s&scope=%s&client_id=ocisync&refresh_token=%s", svc, scp,
		     tok) < 0)
		form = NULL;
	curl_free(svc);
	curl_free(scp);
	if (tok) {
		OPENSSL_cleanse(tok, strlen(tok));
		curl_free(tok);
	}
	return form;
}

/* Reads the token out of a 200 answer. */
static int parse_token_response(char **token, long *lifetime, const http_exchange *x, const char *realm_host)
{
	json_error_t jerr;
	json_t *j = json_loadb(x->body.data ? x->body.data : "", x->body.len, 0, &jerr);
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

/* Fetches a token for scope from the realm (lock held). */
static int fetch_token(char **token, long *lifetime, oci_auth *a, const char *scope)
{
	http_exchange x;
	CURL *esc = curl_easy_init();
	char *url = NULL, *form = NULL;
	char realm_host[256];
	int rc = 0, have_x = 0;
	CURLcode cc;
	*token = NULL;
	url_host(realm_host, sizeof realm_host, a->realm);
	if (!esc)
		return OCI_ENOMEM_SET();
	rc = load_credentials(a);
	if (rc < 0)
		goto cleanup;
	if (a->user && !strncasecmp(a->realm, "http://", 7) && !oci_host_is_loopback(realm_host) &&
	    strcmp(oci_http_scheme(a->api_host, &a->opts), "https") == 0) {
		/* A registry reached over TLS must not lead the password onto
		 * an unencrypted connection elsewhere. */
		rc = oci_error_set(OCI_EAUTH,
				   "registry %s sends clients to the token service http://%s without TLS: refusing to send the credentials of user %s there",
				   a->config_host, realm_host, a->user);
		goto cleanup;
	}
	if (a->user && a->identity_token) {
		/* OAuth2 refresh-token grant (what `docker login` stored). */
		form = token_post_form(esc, a->service, scope, a->secret);
		if (!form) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
		auth_log(a, "auth: POST %s (OAuth2 refresh token of %s) for scope '%s'", a->realm, a->user, scope);
		cc = http_run(&x, a, a->realm, form, NULL, NULL, NULL);
		have_x = 1;
		if (cc != CURLE_OK) {
			rc = network_error(cc, &x, "the token service", realm_host, a->realm, &a->opts);
			goto cleanup;
		}
		if (x.status != 404 && x.status != 405)
			goto answer;
		/* Token services without OAuth2 (404/405): the plain GET, with
		 * the identity token as the password. */
		http_exchange_dispose(&x);
		have_x = 0;
		auth_log(a, "auth: %s has no OAuth2 endpoint (HTTP 404), falling back to GET", realm_host);
	}
	url = token_get_url(esc, a->realm, a->service, scope);
	if (!url) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	auth_log(a, "auth: GET %s (%s)", url, a->user ? a->user : "anonymous");
	cc = http_run(&x, a, url, NULL, a->user, a->secret, NULL);
	have_x = 1;
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && x.over_limit)) {
		rc = network_error(cc, &x, "the token service", realm_host, a->realm, &a->opts);
		goto cleanup;
	}
answer:
	if (x.over_limit) {
		rc = oci_error_set(OCI_ELIMIT, "token service at %s answered with more than %d bytes", realm_host,
				   TOKEN_RESPONSE_MAX);
		goto cleanup;
	}
	if (x.status == 401 || x.status == 403) {
		if (!a->user)
			rc = login_hint(a);
		else
			rc = oci_error_set(OCI_EAUTH, "%s: authentication failed for user %s (%ld from token service %s)",
					   a->config_host, a->user, x.status, realm_host);
		goto cleanup;
	}
	if (x.status != 200) {
		rc = oci_error_set(OCI_EAUTH, "token service at %s answered HTTP %ld for scope '%s'", realm_host,
				   x.status, scope);
		goto cleanup;
	}
	rc = parse_token_response(token, lifetime, &x, realm_host);
cleanup:
	if (have_x)
		http_exchange_dispose(&x);
	wipe_free(form);
	free(url);
	curl_easy_cleanup(esc);
	return rc;
}

/* ---- shared by every oci_auth of the process ----
 * Parallel transfers open one target (and one oci_auth) per worker, and a
 * sync loop may reopen its target: tokens and what a host's challenge said
 * are kept process-wide so none of them asks the token service again. A
 * token's key is a hash over everything that decides it (host, realm,
 * service, scope and the credentials), so the secret itself is no key. */
#define SHARED_TOKENS_MAX 256

typedef struct shared_token {
	unsigned char key[32];
	char *token;
	time_t expires;
	struct shared_token *next;
} shared_token;

typedef struct shared_host {
	char *host;
	int mode;
	char *realm;
	char *service;
	struct shared_host *next;
} shared_host;

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static shared_token *shared_tokens;
static shared_host *shared_hosts;

static void token_key(unsigned char key[32], const oci_auth *a, const char *scope)
{
	const char *parts[] = { a->api_host, a->user ? a->user : "", a->secret ? a->secret : "",
				a->identity_token ? "i" : "p", a->realm ? a->realm : "", a->service ? a->service : "",
				scope };
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;
	memset(key, 0, 32);
	if (!md)
		return;
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
		EVP_DigestUpdate(md, parts[i], strlen(parts[i]) + 1); /* the NUL separates fields */
	EVP_DigestFinal_ex(md, key, &n);
	EVP_MD_CTX_free(md);
}

static void shared_token_free(shared_token *t)
{
	wipe_free(t->token);
	free(t);
}

/* Unlinks entries matching key (or every expired one when key is NULL). */
static void shared_token_prune(const unsigned char *key)
{
	time_t now = now_seconds();
	shared_token **pp = &shared_tokens;
	while (*pp) {
		shared_token *t = *pp;
		if (key ? !memcmp(t->key, key, 32) : now >= t->expires) {
			*pp = t->next;
			shared_token_free(t);
		} else {
			pp = &t->next;
		}
	}
}

/* A copy of a live token for key, or NULL. */
static char *shared_token_get(const unsigned char *key, time_t *expires)
{
	char *copy = NULL;
	pthread_mutex_lock(&shared_lock);
	for (shared_token *t = shared_tokens; t; t = t->next) {
		if (!memcmp(t->key, key, 32) && now_seconds() < t->expires) {
			copy = strdup(t->token);
			*expires = t->expires;
			break;
		}
	}
	pthread_mutex_unlock(&shared_lock);
	return copy;
}

static void shared_token_put(const unsigned char *key, const char *token, time_t expires)
{
	shared_token *t = calloc(1, sizeof *t);
	if (!t || !(t->token = strdup(token))) {
		free(t);
		return; /* only a cache */
	}
	memcpy(t->key, key, 32);
	t->expires = expires;
	pthread_mutex_lock(&shared_lock);
	shared_token_prune(key);
	shared_token_prune(NULL);
	t->next = shared_tokens;
	shared_tokens = t;
	size_t n = 0;
	for (shared_token **pp = &shared_tokens; *pp; pp = &(*pp)->next) {
		if (++n > SHARED_TOKENS_MAX) { /* drop the oldest */
			shared_token *rest = *pp;
			*pp = NULL;
			while (rest) {
				shared_token *next = rest->next;
				shared_token_free(rest);
				rest = next;
			}
			break;
		}
	}
	pthread_mutex_unlock(&shared_lock);
}

static void shared_token_drop(const unsigned char *key)
{
	pthread_mutex_lock(&shared_lock);
	shared_token_prune(key);
	pthread_mutex_unlock(&shared_lock);
}

/* Remembers how host answers challenges, for the next oci_auth of it. */
static void shared_host_put(const oci_auth *a)
{
	pthread_mutex_lock(&shared_lock);
	shared_host *h = shared_hosts;
	while (h && strcmp(h->host, a->api_host))
		h = h->next;
	if (!h && (h = calloc(1, sizeof *h)) != NULL) {
		if (!(h->host = strdup(a->api_host))) {
			free(h);
			h = NULL;
		} else {
			h->next = shared_hosts;
			shared_hosts = h;
		}
	}
	if (h) {
		char *realm = a->realm ? strdup(a->realm) : NULL;
		char *service = a->service ? strdup(a->service) : NULL;
		free(h->realm);
		free(h->service);
		h->realm = realm;
		h->service = service;
		h->mode = (a->mode == MODE_BEARER && !realm) ? MODE_NONE : a->mode;
	}
	pthread_mutex_unlock(&shared_lock);
}

static int shared_host_adopt(oci_auth *a)
{
	int rc = 0;
	pthread_mutex_lock(&shared_lock);
	for (shared_host *h = shared_hosts; h; h = h->next) {
		if (strcmp(h->host, a->api_host))
			continue;
		a->mode = h->mode;
		if ((h->realm && !(a->realm = strdup(h->realm))) || (h->service && !(a->service = strdup(h->service))))
			rc = OCI_ENOMEM_SET();
		break;
	}
	pthread_mutex_unlock(&shared_lock);
	return rc;
}

/* Gets a token for scope into the cache and checks what it grants (lock held). */
static int obtain_token(token_entry **out, oci_auth *a, const char *scope, int fresh)
{
	char *token = NULL;
	long lifetime = 0;
	time_t expires = 0;
	unsigned char key[32];
	int rc = load_credentials(a);
	if (rc < 0)
		return rc;
	token_key(key, a, scope);
	if (fresh)
		shared_token_drop(key);
	else if ((token = shared_token_get(key, &expires)) != NULL)
		auth_log(a, "auth: reusing this process's token for scope '%s'", scope);
	if (!token) {
		rc = fetch_token(&token, &lifetime, a, scope);
		if (rc < 0)
			return rc;
		rc = check_grant(a, token, scope);
		if (rc < 0) {
			wipe_free(token);
			return rc;
		}
		/* Renew a little before the service's deadline, so a request
		 * never leaves with a token that expires on the way. */
		long margin = lifetime > 20 ? 10 : lifetime / 2;
		expires = now_seconds() + lifetime - margin;
		shared_token_put(key, token, expires);
		auth_log(a, "auth: token for scope '%s' valid for %lds", scope, lifetime);
	}
	token_entry *e = calloc(1, sizeof *e);
	if (!e || !(e->scope = strdup(scope))) {
		free(e);
		wipe_free(token);
		return OCI_ENOMEM_SET();
	}
	e->token = token;
	e->expires = expires;
	e->next = a->tokens;
	a->tokens = e;
	*out = e;
	return 0;
}

/* "Authorization: Basic base64(user:secret)". */
static int basic_line(char **out, const oci_auth *a)
{
	size_t plen = strlen(a->user) + 1 + strlen(a->secret);
	char *pair = malloc(plen + 1);
	size_t b64len = 4 * ((plen + 2) / 3);
	static const char prefix[] = "Authorization: Basic ";
	char *line = malloc(sizeof prefix + b64len);
	*out = NULL;
	if (!pair || !line) {
		free(pair);
		free(line);
		return OCI_ENOMEM_SET();
	}
	snprintf(pair, plen + 1, "%s:%s", a->user, a->secret);
	memcpy(line, prefix, sizeof prefix - 1);
	EVP_EncodeBlock((unsigned char *)line + sizeof prefix - 1, (unsigned char *)pair, (int)plen);
	OPENSSL_cleanse(pair, plen);
	free(pair);
	*out = line;
	return 0;
}

static int bearer_line(char **out, const char *token)
{
	if (asprintf(out, "Authorization: Bearer %s", token) < 0) {
		*out = NULL;
		return OCI_ENOMEM_SET();
	}
	return 0;
}


int oci_auth_header(char **out, oci_auth *a, const char *scope)
{
	int rc = 0;
	*out = NULL;
	if (!scope)
		scope = "";
	pthread_mutex_lock(&a->lock);
	if (a->mode == MODE_BASIC && (rc = load_credentials(a)) == 0 && a->user) {
		rc = basic_line(out, a);
	} else if (a->mode == MODE_BEARER) {
		token_entry *e = find_token(a, scope);
		if (e && expired(e)) {
			remove_token(a, e);
			e = NULL;
		}
		if (e) {
			auth_log(a, "auth: reusing the token for scope '%s'", scope);
		} else {
			/* The realm is known: fetch before the request, not after its 401. */
			rc = obtain_token(&e, a, scope, 0);
		}
		if (rc == 0) {
			e->used = 1;
			rc = bearer_line(out, e->token);
		}
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* Tries Basic credentials on GET /v2/ once, so a wrong password is named as
 * such instead of surfacing as a bare 401 on some later request. */
static int check_basic(oci_auth *a)
{
	http_exchange x;
	char *url = NULL;
	int rc = 0;
	if (a->basic_checked)
		return 0;
	if (asprintf(&url, "%s://%s/v2/", oci_http_scheme(a->api_host, &a->opts), a->api_host) < 0)
		return OCI_ENOMEM_SET();
	auth_log(a, "auth: checking Basic credentials of %s on %s", a->user, url);
	CURLcode cc = http_run(&x, a, url, NULL, a->user, a->secret, NULL);
	if (cc != CURLE_OK)
		rc = network_error(cc, &x, "registry", a->api_host, url, &a->opts);
	else if (x.status == 401 || x.status == 403)
		rc = oci_error_set(OCI_EAUTH, "%s: authentication failed for user %s (%ld from registry)", a->config_host,
				   a->user, x.status);
	else
		a->basic_checked = 1;
	http_exchange_dispose(&x);
	free(url);
	return rc;
}

static int replace_str(char **dst, const char *src)
{
	char *copy = src ? strdup(src) : NULL;
	if (src && !copy)
		return OCI_ENOMEM_SET();
	free(*dst);
	*dst = copy;
	return 0;
}

static int handle_bearer(oci_auth *a, const oci_challenge *c, const char *scope)
{
	const char *realm = oci_challenge_param_get(c, "realm");
	const char *error = oci_challenge_param_get(c, "error");
	char *want = NULL;
	int rc;
	if (!realm || (strncasecmp(realm, "https://", 8) && strncasecmp(realm, "http://", 7)))
		return oci_error_set(OCI_EAUTH, "registry %s: bearer challenge without a usable realm URL", a->config_host);
	if ((rc = replace_str(&a->realm, realm)) < 0 ||
	    (rc = replace_str(&a->service, oci_challenge_param_get(c, "service"))) < 0)
		return rc;
	want = merge_scopes(scope, oci_challenge_param_get(c, "scope"));
	if (!want)
		return OCI_ENOMEM_SET();
	a->mode = MODE_BEARER;
	shared_host_put(a);
	token_entry *e = find_token(a, scope);
	if (e && e->used && !expired(e)) {
		/* The request carried this token and was still refused. */
		if ((error && !strcmp(error, "insufficient_scope")) || e->retried) {
			if (!a->user) {
				rc = login_hint(a);
			} else {
				rc = oci_error_set(OCI_EAUTH, "registry %s refused access (%s) for user %s: the token does not grant it",
						   a->config_host, scope[0] ? scope : "registry", a->user);
			}
			goto cleanup;
		}
		remove_token(a, e); /* perhaps revoked: one fresh try */
		rc = obtain_token(&e, a, scope, 1);
		if (rc == 0)
			e->retried = 1;
		goto cleanup;
	}
	if (e)
		remove_token(a, e);
	/* Cached under the caller's scope (what oci_auth_header looks up),
	 * fetched for the merged one. */
	rc = obtain_token(&e, a, want, 0);
	if (rc == 0 && strcmp(want, scope) != 0) {
		char *s = strdup(scope);
		if (!s) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
		free(e->scope);
		e->scope = s;
	}
cleanup:
	free(want);
	return rc;
}

int oci_auth_handle_challenge(oci_auth *a, const char *www_authenticate, const char *scope)
{
	oci_challenge_list list = OCI_CHALLENGE_LIST_INIT;
	int rc;
	if (!scope)
		scope = "";
	pthread_mutex_lock(&a->lock);
	rc = oci_challenge_parse(&list, www_authenticate);
	if (rc < 0 && list.n == 0) {
		oci_error_wrap("registry %s answered 401 with an unreadable challenge: ", a->config_host);
		goto cleanup;
	}
	rc = 0;
	const oci_challenge *c = oci_challenge_pick(&list);
	if (!c) {
		char schemes[256];
		oci_challenge_schemes(schemes, sizeof schemes, &list);
		rc = oci_error_set(OCI_EAUTH, "registry %s asks for authentication by %s, which ocisync does not support",
				   a->config_host, schemes);
		goto cleanup;
	}
	if ((rc = load_credentials(a)) < 0)
		goto cleanup;
	if (!strcmp(c->scheme, "bearer")) {
		rc = handle_bearer(a, c, scope);
		goto cleanup;
	}
	/* Basic */
	if (!a->user) {
		rc = login_hint(a);
		goto cleanup;
	}
	if (a->mode == MODE_BASIC) {
		rc = oci_error_set(OCI_EAUTH, "%s: authentication failed for user %s (401 from registry)", a->config_host,
				   a->user);
		goto cleanup;
	}
	rc = check_basic(a);
	if (rc == 0) {
		a->mode = MODE_BASIC;
		shared_host_put(a);
	}
cleanup:
	oci_challenge_list_dispose(&list);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* ---- oci_credentials_verify: what `ocisync login` runs ---- */

int oci_credentials_verify(const char *host, const char *user, const char *secret, const oci_client_opts *opts)
{
	char norm[256];
	oci_auth *a = NULL;
	http_exchange x;
	int have_x = 0, rc;
	char *url = NULL, *line = NULL;
	if ((rc = oci__opts_check(opts, "oci_client_opts", OCI_CLIENT_OPTS_VERSION)) < 0)
		return rc;
	oci_credentials_normalize_host(norm, sizeof norm, host);
	const char *api = strcmp(norm, "docker.io") ? norm : "registry-1.docker.io";
	rc = oci_auth_new(&a, api, norm, opts);
	if (rc < 0)
		return rc;
	rc = oci_auth_set_credentials(a, user, secret, 0);
	if (rc < 0)
		goto cleanup;
	if (asprintf(&url, "%s://%s/v2/", oci_http_scheme(api, &a->opts), api) < 0) {
		url = NULL;
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		rc = oci_auth_header(&line, a, "");
		if (rc < 0)
			goto cleanup;
		auth_log(a, "auth: GET %s%s", url, line ? " (with credentials)" : "");
		CURLcode cc = http_run(&x, a, url, NULL, NULL, NULL, line);
		have_x = 1;
		wipe_free(line);
		line = NULL;
		if (cc != CURLE_OK) {
			rc = network_error(cc, &x, "registry", api, url, &a->opts);
			goto cleanup;
		}
		if (x.status == 200)
			goto cleanup;
		if (x.status == 400 && !strcmp(oci_http_scheme(api, &a->opts), "http") && x.body.data &&
		    strstr(x.body.data, "HTTPS server")) {
			oci_error_set(OCI_ENET, "registry %s speaks HTTPS", api);
			rc = oci_error_hint_set(OCI_HINT_CA_FILE, NULL);
			goto cleanup;
		}
		if (x.status != 401) {
			rc = oci_error_set(OCI_ENET, "registry %s answered HTTP %ld to GET /v2/ (is it an OCI registry?)", api,
					   x.status);
			goto cleanup;
		}
		if (attempt == 1) {
			rc = oci_error_set(OCI_EAUTH, "%s: authentication failed for user %s (401 from registry)", norm, user);
			goto cleanup;
		}
		rc = oci_auth_handle_challenge(a, x.challenge.data ? x.challenge.data : "", "");
		if (rc < 0)
			goto cleanup;
		http_exchange_dispose(&x);
		have_x = 0;
	}
cleanup:
	if (have_x)
		http_exchange_dispose(&x);
	wipe_free(line);
	free(url);
	oci_auth_free(a);
	return rc;
}

/* oci_shutdown (ops/shutdown.c): empties the process-wide caches above,
 * wiping the tokens. Later requests simply fill them again. */
void oci__auth_cache_free(void)
{
	pthread_mutex_lock(&shared_lock);
	while (shared_tokens) {
		shared_token *t = shared_tokens;
		shared_tokens = t->next;
		shared_token_free(t);
	}
	while (shared_hosts) {
		shared_host *h = shared_hosts;
		shared_hosts = h->next;
		free(h->host);
		free(h->realm);
		free(h->service);
		free(h);
	}
	pthread_mutex_unlock(&shared_lock);
}
