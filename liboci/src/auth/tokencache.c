/* The token cache (see tokencache.h). A short list: a process holds a
 * handful of tokens (one per repository and action set), so lookups walk
 * it; the bound only guards against a pathological loop. */
#include "tokencache.h"
#include "scope.h"
#include "oci/error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GLOBAL_MAX 256

typedef struct entry {
	char owner[OCI_TOKEN_OWNER_KEY_SIZE];
	char *scope;
	char *token;
	int64_t expires;
	struct entry *next;    /* newest first */
} entry;

struct oci_token_cache {
	pthread_mutex_t lock;
	entry *head;
	size_t max;
	oci_token_clock clock;
	void *clock_ctx;
};

static int64_t monotonic_seconds(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

void oci_token_owner_key(char key[OCI_TOKEN_OWNER_KEY_SIZE], const oci_token_owner *o)
{
	const char *parts[] = { o->registry, o->user, o->secret, o->identity_token ? "i" : "p", o->realm, o->service };
	unsigned char md[32];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	memset(md, 0, sizeof md);
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
			const char *p = parts[i] ? parts[i] : "";
			EVP_DigestUpdate(ctx, p, strlen(p) + 1); /* the NUL separates fields */
		}
		EVP_DigestFinal_ex(ctx, md, &n);
	}
	EVP_MD_CTX_free(ctx);
	for (size_t i = 0; i < sizeof md; i++)
		snprintf(key + 2 * i, 3, "%02x", md[i]);
}

int oci_token_cache_new(oci_token_cache **out, size_t max, oci_token_clock clock, void *clock_ctx)
{
	oci_token_cache *c = calloc(1, sizeof *c);
	*out = NULL;
	if (!c)
		return OCI_ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->max = max ? max : 1;
	c->clock = clock ? clock : monotonic_seconds;
	c->clock_ctx = clock_ctx;
	*out = c;
	return 0;
}

static void entry_free(entry *e)
{
	if (e->token) {
		OPENSSL_cleanse(e->token, strlen(e->token));
		free(e->token);
	}
	free(e->scope);
	free(e);
}

void oci_token_cache_free(oci_token_cache *c)
{
	if (!c)
		return;
	for (entry *e = c->head, *next; e; e = next) {
		next = e->next;
		entry_free(e);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Unlinks (owner, scope)'s entry when scope is given, and every expired one. */
static void prune(oci_token_cache *c, const char *owner, const char *scope)
{
	int64_t now = c->clock(c->clock_ctx);
	for (entry **pp = &c->head; *pp;) {
		entry *e = *pp;
		if (now >= e->expires || (scope && !strcmp(e->owner, owner) && !strcmp(e->scope, scope))) {
			*pp = e->next;
			entry_free(e);
		} else {
			pp = &e->next;
		}
	}
}

char *oci_token_cache_get(oci_token_cache *c, const char *owner, const char *scope, int64_t *expires,
			  char **issued_scope)
{
	char *copy = NULL;
	if (issued_scope)
		*issued_scope = NULL;
	pthread_mutex_lock(&c->lock);
	prune(c, owner, NULL);
	entry *hit = NULL;
	for (entry *e = c->head; e && !hit; e = e->next)
		if (!strcmp(e->owner, owner) && !strcmp(e->scope, scope))
			hit = e;
	for (entry *e = c->head; e && !hit && *scope; e = e->next)
		if (!strcmp(e->owner, owner) && oci_scope_covers(e->scope, scope))
			hit = e;
	if (hit && (copy = strdup(hit->token)) != NULL) {
		if (expires)
			*expires = hit->expires;
		if (issued_scope && !(*issued_scope = strdup(hit->scope))) {
			OPENSSL_cleanse(copy, strlen(copy));
			free(copy);
			copy = NULL;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return copy;
}

int oci_token_cache_put(oci_token_cache *c, const char *owner, const char *scope, const char *token, int64_t expires)
{
	entry *e = calloc(1, sizeof *e);
	if (!e || !(e->scope = strdup(scope)) || !(e->token = strdup(token))) {
		if (e)
			entry_free(e);
		return OCI_ENOMEM;
	}
	snprintf(e->owner, sizeof e->owner, "%s", owner);
	e->expires = expires;
	pthread_mutex_lock(&c->lock);
	prune(c, owner, scope);
	e->next = c->head;
	c->head = e;
	size_t n = 0;
	for (entry **pp = &c->head; *pp; pp = &(*pp)->next) {
		if (++n > c->max) { /* the oldest go */
			entry *rest = *pp;
			*pp = NULL;
			while (rest) {
				entry *next = rest->next;
				entry_free(rest);
				rest = next;
			}
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void oci_token_cache_drop(oci_token_cache *c, const char *owner, const char *scope)
{
	pthread_mutex_lock(&c->lock);
	prune(c, owner, scope);
	pthread_mutex_unlock(&c->lock);
}

size_t oci_token_cache_count(oci_token_cache *c)
{
	size_t n = 0;
	pthread_mutex_lock(&c->lock);
	for (entry *e = c->head; e; e = e->next)
		n++;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* ---- the process-wide instance ---- */

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static oci_token_cache *global;

oci_token_cache *oci_token_cache_global(void)
{
	pthread_mutex_lock(&global_lock);
	if (!global)
		oci_token_cache_new(&global, GLOBAL_MAX, NULL, NULL);
	oci_token_cache *c = global;
	pthread_mutex_unlock(&global_lock);
	return c;
}

void oci_token_cache_global_free(void)
{
	pthread_mutex_lock(&global_lock);
	oci_token_cache_free(global);
	global = NULL;
	pthread_mutex_unlock(&global_lock);
}
