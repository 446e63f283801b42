/* Private: a cache of bearer tokens, a pure unit (no I/O; time comes from
 * the clock it is given). Entries are keyed by owner and scope: the owner
 * key is a hash over everything that decides what a token service issues
 * (registry, credentials, realm, service), so the secret itself is never a
 * key and two credentials of one registry never share a token. A lookup
 * takes the entry for exactly that scope, or else a live one whose scope
 * covers it (oci_scope_covers). Expired entries are dropped as they are
 * met; beyond max entries the oldest go. Thread-safe (one mutex). */
#ifndef OCI_TOKENCACHE_H
#define OCI_TOKENCACHE_H
#include <stddef.h>
#include <stdint.h>

typedef struct oci_token_cache oci_token_cache;
/* Seconds on a monotonic clock. */
typedef int64_t (*oci_token_clock)(void *ctx);

/* Who a token was issued to: every field may be NULL (= ""). */
typedef struct oci_token_owner {
	const char *registry;  /* host[:port] requests go to */
	const char *user;
	const char *secret;
	int identity_token;    /* secret is an OAuth2 refresh token */
	const char *realm;
	const char *service;
} oci_token_owner;

#define OCI_TOKEN_OWNER_KEY_SIZE 65 /* hex of a SHA-256, NUL */
void oci_token_owner_key(char key[OCI_TOKEN_OWNER_KEY_SIZE], const oci_token_owner *o);

/* clock NULL: CLOCK_MONOTONIC. */
int oci_token_cache_new(oci_token_cache **out, size_t max, oci_token_clock clock, void *clock_ctx);
/* Wipes the tokens. */
void oci_token_cache_free(oci_token_cache *c);
/* A copy of a live token for (owner, scope) (caller wipes and frees), with
 * its expiry and the scope it was issued for when asked; NULL when none
 * (or out of memory: it is only a cache). */
char *oci_token_cache_get(oci_token_cache *c, const char *owner, const char *scope, int64_t *expires,
			  char **issued_scope);
/* Stores token for (owner, scope) until expires (clock seconds),
 * replacing that pair's entry. 0, or OCI_ENOMEM. */
int oci_token_cache_put(oci_token_cache *c, const char *owner, const char *scope, const char *token, int64_t expires);
/* Forgets the entry of exactly (owner, scope) (a token the registry refused). */
void oci_token_cache_drop(oci_token_cache *c, const char *owner, const char *scope);
size_t oci_token_cache_count(oci_token_cache *c);

/* The process-wide cache every oci_auth shares (parallel workers, a sync
 * loop reopening its target): created on first use, freed (tokens wiped)
 * by oci_token_cache_global_free (oci_shutdown); NULL when out of memory. */
oci_token_cache *oci_token_cache_global(void);
void oci_token_cache_global_free(void);

#endif
