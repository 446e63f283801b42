/* Registry authentication: the HTTP engine's authorizer (net/authorizer.h)
 * for one registry host, shared by every request a registry target makes.
 *
 * The first request goes out anonymously (or, for a host known to ask for
 * Basic, with the stored credentials). A 401 brings a challenge:
 *  - Bearer: a token for the request's scope comes from the realm
 *    (token.c), through the same engine; tokens live in the process-wide
 *    cache (tokencache.c), and once the realm is known, tokens for new
 *    scopes are fetched before the request, saving a 401 round trip each;
 *  - Basic: the stored credentials are checked once on /v2/ and then sent
 *    with every request.
 * Nothing here logs or returns a secret in a message. */
#include "auth_internal.h"
#include "challenge.h"
#include "error_internal.h"
#include "contract.h"
#include "oci/credentials.h"
#include "scope.h"
#include "tokencache.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int shared_host_adopt(oci_auth *a);

void oci_auth_wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* Through the connection's options, not this copy of them: a transfer
 * pool swaps the target's callbacks for serialised ones while it runs
 * (transfer.c), and the auth lines must go through the same lock. */
void oci_auth_log(oci_auth *a, const char *fmt, ...)
{
	if (!a->opts.verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (a->http)
		oci_http_logv(a->http, fmt, ap);
	else
		oci__logv(&a->opts.callbacks, OCI_LOG_DEBUG, fmt, ap);
	va_end(ap);
}

static int64_t now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static void drop_tokens(oci_auth *a)
{
	token_entry *e = a->tokens;
	while (e) {
		token_entry *next = e->next;
		free(e->scope);
		oci_auth_wipe_free(e->token);
		free(e);
		e = next;
	}
	a->tokens = NULL;
}

static void auth_free(oci_auth *a)
{
	if (!a)
		return;
	drop_tokens(a);
	free(a->api_host);
	free(a->config_host);
	free(a->user);
	oci_auth_wipe_free(a->secret);
	free(a->realm);
	free(a->service);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* Private (auth.h): credentials given by the caller instead of the config. */
int oci_auth_set_credentials(oci_auth *a, const char *user, const char *secret, int identity_token)
{
	free(a->user);
	oci_auth_wipe_free(a->secret);
	a->user = user ? strdup(user) : NULL;
	a->secret = secret ? strdup(secret) : NULL;
	a->identity_token = identity_token;
	a->creds_loaded = 1;
	if ((user && !a->user) || (secret && !a->secret))
		return OCI_ENOMEM_SET();
	return 0;
}

int oci_auth_load_credentials(oci_auth *a)
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
		oci_auth_log(a, "auth: %s; trying anonymously", a->creds_error);
		rc = 0;
	}
	if (rc < 0)
		return rc;
	a->creds_loaded = 1;
	if (a->user)
		oci_auth_log(a, "auth: using stored credentials of user %s for %s", a->user, a->config_host);
	else
		oci_auth_log(a, "auth: no stored credentials for %s, trying anonymously", a->config_host);
	return 0;
}

int oci_auth_login_hint(oci_auth *a)
{
	if (a->creds_error[0])
		return oci_error_set(OCI_EAUTH, "registry %s requires authentication, and its stored credentials cannot be read: %s",
				     a->config_host, a->creds_error);
	oci_error_set(OCI_EAUTH, "registry %s requires authentication", a->config_host);
	return oci_error_hint_set(OCI_HINT_LOGIN, a->config_host);
}

/* ---- what a host asked for, shared by every oci_auth of the process ----
 * Parallel transfers open one target (and one oci_auth) per worker, and a
 * sync loop may reopen its target: what a host's challenge said is kept
 * so none of them waits for a 401 again. Tokens are in tokencache.c. */

typedef struct shared_host {
	char *host;
	int mode;
	char *realm;
	char *service;
	struct shared_host *next;
} shared_host;

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static shared_host *shared_hosts;

/* host's entry, created when create (lock held); NULL when absent or out
 * of memory. */
static shared_host *shared_host_find(const char *host, int create)
{
	shared_host *h = shared_hosts;
	while (h && strcmp(h->host, host))
		h = h->next;
	if (!h && create && (h = calloc(1, sizeof *h)) != NULL) {
		if (!(h->host = strdup(host))) {
			free(h);
			return NULL;
		}
		h->next = shared_hosts;
		shared_hosts = h;
	}
	return h;
}

/* Remembers how host answers challenges, for the next oci_auth of it. */
static void shared_host_put(const oci_auth *a)
{
	pthread_mutex_lock(&shared_lock);
	shared_host *h = shared_host_find(a->api_host, 1);
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
	shared_host *h = shared_host_find(a->api_host, 0);
	if (h && h->mode != MODE_NONE) {
		a->mode = h->mode;
		if ((h->realm && !(a->realm = strdup(h->realm))) || (h->service && !(a->service = strdup(h->service))))
			rc = OCI_ENOMEM_SET();
	}
	pthread_mutex_unlock(&shared_lock);
	return rc;
}

const char *oci_auth_scheme_name(const char *api_host)
{
	pthread_mutex_lock(&shared_lock);
	shared_host *h = shared_host_find(api_host, 0);
	int mode = h ? h->mode : MODE_NONE;
	pthread_mutex_unlock(&shared_lock);
	return mode == MODE_BASIC ? "basic" : mode == MODE_BEARER ? "bearer" : NULL;
}

int oci_auth_remember_basic(const char *api_host)
{
	int rc = 0;
	pthread_mutex_lock(&shared_lock);
	shared_host *h = shared_host_find(api_host, 1);
	if (!h)
		rc = OCI_ENOMEM_SET();
	else if (h->mode == MODE_NONE)
		h->mode = MODE_BASIC;
	pthread_mutex_unlock(&shared_lock);
	return rc;
}

/* ---- this oci_auth's tokens ---- */

static int expired(const token_entry *e)
{
	return now_seconds() >= e->expires;
}

static token_entry *find_token(oci_auth *a, const char *scope)
{
	for (token_entry *e = a->tokens; e; e = e->next)
		if (!strcmp(e->scope, scope))
			return e;
	if (!*scope)
		return NULL;
	for (token_entry *e = a->tokens; e; e = e->next)
		if (!expired(e) && oci_scope_covers(e->scope, scope))
			return e;
	return NULL;
}

static void remove_token(oci_auth *a, token_entry *victim)
{
	for (token_entry **pp = &a->tokens; *pp; pp = &(*pp)->next) {
		if (*pp == victim) {
			*pp = victim->next;
			free(victim->scope);
			oci_auth_wipe_free(victim->token);
			free(victim);
			return;
		}
	}
}

static void owner_key(char key[OCI_TOKEN_OWNER_KEY_SIZE], const oci_auth *a)
{
	oci_token_owner o = { a->api_host, a->user, a->secret, a->identity_token, a->realm, a->service };
	oci_token_owner_key(key, &o);
}

/* Gets a token for scope (from the process's cache, or the realm) and
 * records it under as_scope (the caller's scope, what the header callback
 * looks up) (lock held). fresh: the registry refused the cached one. */
static int obtain_token(token_entry **out, oci_auth *a, const char *scope, const char *as_scope, int fresh)
{
	char *token = NULL;
	int64_t expires = 0;
	char key[OCI_TOKEN_OWNER_KEY_SIZE];
	oci_token_cache *cache = oci_token_cache_global();
	int rc = oci_auth_load_credentials(a);
	if (rc < 0)
		return rc;
	owner_key(key, a);
	if (fresh && cache)
		oci_token_cache_drop(cache, key, scope);
	else if (cache && (token = oci_token_cache_get(cache, key, scope, &expires, NULL)) != NULL)
		oci_auth_log(a, "auth: reusing this process's token for scope '%s'", scope);
	if (!token) {
		long lifetime = 0;
		rc = oci_auth_fetch_token(&token, &lifetime, a, scope);
		if (rc < 0)
			return rc;
		rc = oci_auth_check_grant(a, token, scope);
		if (rc < 0) {
			oci_auth_wipe_free(token);
			return rc;
		}
		/* Renew a little before the service's deadline, so a request
		 * never leaves with a token that expires on the way. */
		long margin = lifetime > 20 ? 10 : lifetime / 2;
		expires = now_seconds() + lifetime - margin;
		if (cache)
			oci_token_cache_put(cache, key, scope, token, expires); /* only a cache: a failure is no error */
		oci_auth_log(a, "auth: token for scope '%s' valid for %lds", scope, lifetime);
	}
	token_entry *e = calloc(1, sizeof *e);
	if (!e || !(e->scope = strdup(as_scope))) {
		free(e);
		oci_auth_wipe_free(token);
		return OCI_ENOMEM_SET();
	}
	e->token = token;
	e->expires = expires;
	e->next = a->tokens;
	a->tokens = e;
	*out = e;
	return 0;
}

int oci_auth_basic_line(char **out, const oci_auth *a)
{
	size_t plen = strlen(a->user) + 1 + strlen(a->secret ? a->secret : "");
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
	snprintf(pair, plen + 1, "%s:%s", a->user, a->secret ? a->secret : "");
	memcpy(line, prefix, sizeof prefix - 1);
	EVP_EncodeBlock((unsigned char *)line + sizeof prefix - 1, (unsigned char *)pair, (int)plen);
	OPENSSL_cleanse(pair, plen);
	free(pair);
	*out = line;
	return 0;
}

/* ---- the authorizer ---- */

static int auth_header(void *ctx, char **out, const char *scope)
{
	oci_auth *a = ctx;
	int rc = 0;
	*out = NULL;
	if (!scope)
		scope = "";
	pthread_mutex_lock(&a->lock);
	/* another oci_auth of this host (or the sync state) may have learnt
	 * its scheme since this one was made */
	if (a->mode == MODE_NONE)
		rc = shared_host_adopt(a);
	if (rc == 0 && a->mode == MODE_BASIC && (rc = oci_auth_load_credentials(a)) == 0 && a->user) {
		rc = oci_auth_basic_line(out, a);
	} else if (rc == 0 && a->mode == MODE_BEARER) {
		token_entry *e = find_token(a, scope);
		if (e && expired(e)) {
			remove_token(a, e);
			e = NULL;
		}
		if (e) {
			oci_auth_log(a, "auth: reusing the token for scope '%s'", scope);
		} else {
			/* The realm is known: fetch before the request, not after its 401. */
			rc = obtain_token(&e, a, scope, scope, 0);
		}
		if (rc == 0) {
			e->used = 1;
			if (asprintf(out, "Authorization: Bearer %s", e->token) < 0) {
				*out = NULL;
				rc = OCI_ENOMEM_SET();
			}
		}
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

/* Tries Basic credentials on GET /v2/ once, so a wrong password is named as
 * such instead of surfacing as a bare 401 on some later request. */
static int check_basic(oci_auth *a)
{
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	char *url = NULL, *line = NULL;
	int rc;
	if (a->basic_checked)
		return 0;
	if (asprintf(&url, "%s/v2/", oci_http_base(a->http)) < 0)
		return OCI_ENOMEM_SET();
	if ((rc = oci_auth_basic_line(&line, a)) < 0)
		goto cleanup;
	oci_auth_log(a, "auth: checking Basic credentials of %s on %s", a->user, url);
	oci_http_req req = { .method = "GET", .url = url, .authorization = line, .flags = OCI_HTTP_FOLLOW,
			     .what = "credentials check (GET /v2/)" };
	rc = oci_http_do(&resp, a->http, &req);
	if (resp.status == 401 || resp.status == 403)
		rc = oci_error_set(OCI_EAUTH, "%s: authentication failed for user %s (%ld from registry)", a->config_host,
				   a->user, resp.status);
	else if (rc < 0 && resp.status == 0 && rc != OCI_EINTERRUPTED && rc != OCI_ETIMEOUT)
		oci_error_wrap("cannot reach registry at %s: ", a->api_host);
	else if (resp.status)
		rc = 0; /* any other answer: the credentials were not refused */
	if (rc == 0) {
		oci_error_clear();
		a->basic_checked = 1;
	}
cleanup:
	oci_http_resp_dispose(&resp);
	oci_auth_wipe_free(line);
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
	/* the registry knows best what the request needs */
	want = oci_scope_merge(scope, oci_challenge_param_get(c, "scope"));
	if (!want)
		return OCI_ENOMEM_SET();
	a->mode = MODE_BEARER;
	shared_host_put(a);
	token_entry *e = find_token(a, scope);
	if (e && e->used && !expired(e)) {
		/* The request carried this token and was still refused. */
		if ((error && !strcmp(error, "insufficient_scope")) || e->retried) {
			if (!a->user) {
				rc = oci_auth_login_hint(a);
			} else {
				rc = oci_error_set(OCI_EAUTH, "registry %s refused access (%s) for user %s: the token does not grant it",
						   a->config_host, scope[0] ? scope : "registry", a->user);
			}
			goto cleanup;
		}
		remove_token(a, e); /* perhaps revoked: one fresh try */
		rc = obtain_token(&e, a, scope, scope, 1);
		if (rc == 0)
			e->retried = 1;
		goto cleanup;
	}
	if (e)
		remove_token(a, e);
	/* Cached under the caller's scope, fetched for the merged one. */
	rc = obtain_token(&e, a, want, scope, 0);
cleanup:
	free(want);
	return rc;
}

static int answer_challenge(oci_auth *a, const char *www_authenticate, const char *scope)
{
	oci_challenge_list list = OCI_CHALLENGE_LIST_INIT;
	int rc = oci_challenge_parse(&list, www_authenticate);
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
	if ((rc = oci_auth_load_credentials(a)) < 0)
		goto cleanup;
	if (!strcmp(c->scheme, "bearer")) {
		rc = handle_bearer(a, c, scope);
		goto cleanup;
	}
	/* Basic */
	if (!a->user) {
		rc = oci_auth_login_hint(a);
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
	return rc;
}

static int auth_challenge(void *ctx, const char *www_authenticate, const char *scope)
{
	oci_auth *a = ctx;
	pthread_mutex_lock(&a->lock);
	int rc = answer_challenge(a, www_authenticate, scope ? scope : "");
	a->challenge_failed = rc < 0;
	pthread_mutex_unlock(&a->lock);
	return rc;
}

static void auth_release(void *ctx)
{
	auth_free(ctx);
}

int oci_auth_http_new(oci_http **out, oci_auth **auth_out, const char *api_host, const char *config_host,
		      const oci_client_opts *opts)
{
	static const oci_client_opts defaults = { .version = OCI_CLIENT_OPTS_VERSION };
	oci_http *h = NULL;
	*out = NULL;
	if (auth_out)
		*auth_out = NULL;
	if (!api_host || !*api_host)
		return oci_error_set(OCI_EINVALID, "auth: empty registry host");
	int rc = oci_http_new(&h, api_host, opts);
	if (rc < 0)
		return rc;
	oci_auth *a = calloc(1, sizeof *a);
	if (!a) {
		oci_http_free(h);
		return OCI_ENOMEM_SET();
	}
	pthread_mutex_init(&a->lock, NULL);
	a->api_host = strdup(api_host);
	a->config_host = strdup(config_host && *config_host ? config_host : api_host);
	a->opts = opts ? *opts : defaults;
	a->http = h;
	if (!a->api_host || !a->config_host || shared_host_adopt(a) < 0) {
		auth_free(a);
		oci_http_free(h);
		return OCI_ENOMEM_SET();
	}
	oci_authorizer az = { a, auth_header, auth_challenge, auth_release };
	oci_http_set_authorizer(h, &az);
	*out = h;
	if (auth_out)
		*auth_out = a;
	return 0;
}

/* oci_shutdown (ops/shutdown.c): empties the process-wide caches, wiping
 * the tokens. Later requests simply fill them again. */
void oci__auth_cache_free(void)
{
	oci_token_cache_global_free();
	pthread_mutex_lock(&shared_lock);
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
