/* The token cache (auth/tokencache.c), a pure unit: exact and superset
 * lookups, expiry on an injected clock, eviction of the oldest, keys per
 * registry and per credential; and the process-wide instance, which
 * oci_shutdown frees: filled here, then shut down. In the ASan build
 * (detect_leaks=1) LeakSanitizer fails this test when a token or entry is
 * dropped without being freed; a cache still in place after oci_shutdown
 * (reachable, so no leak to LSan) fails the count check. */
#include "test.h"
#include "tokencache.h"
#include "oci/oci.h"

#include <stdlib.h>
#include <string.h>

static int64_t fake_now;
static int64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static void owner(char key[OCI_TOKEN_OWNER_KEY_SIZE], const char *reg, const char *user, const char *secret)
{
	oci_token_owner o = { reg, user, secret, 0, "https://auth.example/token", "registry" };
	oci_token_owner_key(key, &o);
}

static void get_is(oci_token_cache *c, const char *key, const char *scope, const char *want)
{
	char *t = oci_token_cache_get(c, key, scope, NULL, NULL);
	if (want)
		CHECK_STR(t, want);
	else
		CHECK(t == NULL);
	free(t);
}

static void test_lookup(void)
{
	oci_token_cache *c = NULL;
	char k[OCI_TOKEN_OWNER_KEY_SIZE];
	owner(k, "r.example", "alice", "pw");
	CHECK_EQ_INT(oci_token_cache_new(&c, 8, fake_clock, NULL), 0);
	fake_now = 1000;
	CHECK_EQ_INT(oci_token_cache_put(c, k, "repository:a:pull,push", "tok-push", 1100), 0);
	get_is(c, k, "repository:a:pull,push", "tok-push");
	/* superset reuse: the push token serves the pull */
	char *issued = NULL;
	int64_t exp = 0;
	char *t = oci_token_cache_get(c, k, "repository:a:pull", &exp, &issued);
	CHECK_STR(t, "tok-push");
	CHECK_STR(issued, "repository:a:pull,push");
	CHECK_EQ_INT(exp, 1100);
	free(t);
	free(issued);
	get_is(c, k, "repository:b:pull", NULL);
	get_is(c, k, "", NULL);
	/* an exact entry wins over a covering one */
	CHECK_EQ_INT(oci_token_cache_put(c, k, "repository:a:pull", "tok-pull", 1100), 0);
	get_is(c, k, "repository:a:pull", "tok-pull");
	/* put replaces the pair's entry; drop forgets exactly it */
	CHECK_EQ_INT(oci_token_cache_put(c, k, "repository:a:pull", "tok-pull-2", 1100), 0);
	CHECK_EQ_INT(oci_token_cache_count(c), 2);
	get_is(c, k, "repository:a:pull", "tok-pull-2");
	oci_token_cache_drop(c, k, "repository:a:pull");
	get_is(c, k, "repository:a:pull", "tok-push");
	CHECK_EQ_INT(oci_token_cache_count(c), 1);
	oci_token_cache_free(c);
}

static void test_expiry(void)
{
	oci_token_cache *c = NULL;
	char k[OCI_TOKEN_OWNER_KEY_SIZE];
	owner(k, "r.example", "alice", "pw");
	CHECK_EQ_INT(oci_token_cache_new(&c, 8, fake_clock, NULL), 0);
	fake_now = 50;
	CHECK_EQ_INT(oci_token_cache_put(c, k, "repository:a:pull", "tok", 60), 0);
	fake_now = 59;
	get_is(c, k, "repository:a:pull", "tok");
	fake_now = 60; /* expires is the first second it is no longer valid */
	get_is(c, k, "repository:a:pull", NULL);
	CHECK_EQ_INT(oci_token_cache_count(c), 0);
	oci_token_cache_free(c);
}

static void test_eviction(void)
{
	oci_token_cache *c = NULL;
	char k[OCI_TOKEN_OWNER_KEY_SIZE];
	owner(k, "r.example", NULL, NULL);
	CHECK_EQ_INT(oci_token_cache_new(&c, 3, fake_clock, NULL), 0);
	fake_now = 0;
	const char *scopes[] = { "repository:a:pull", "repository:b:pull", "repository:c:pull", "repository:d:pull" };
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(oci_token_cache_put(c, k, scopes[i], scopes[i], 100), 0);
	CHECK_EQ_INT(oci_token_cache_count(c), 3);
	get_is(c, k, "repository:a:pull", NULL); /* the oldest went */
	get_is(c, k, "repository:d:pull", "repository:d:pull");
	get_is(c, k, "repository:b:pull", "repository:b:pull");
	oci_token_cache_free(c);
}

static void test_keys(void)
{
	oci_token_cache *c = NULL;
	char alice[OCI_TOKEN_OWNER_KEY_SIZE], alice2[OCI_TOKEN_OWNER_KEY_SIZE], bob[OCI_TOKEN_OWNER_KEY_SIZE],
		other_reg[OCI_TOKEN_OWNER_KEY_SIZE], alice_new_pw[OCI_TOKEN_OWNER_KEY_SIZE], anon[OCI_TOKEN_OWNER_KEY_SIZE];
	owner(alice, "r.example", "alice", "pw");
	owner(alice2, "r.example", "alice", "pw");
	owner(bob, "r.example", "bob", "pw");
	owner(other_reg, "s.example", "alice", "pw");
	owner(alice_new_pw, "r.example", "alice", "pw2");
	owner(anon, "r.example", NULL, NULL);
	CHECK_STR(alice, alice2);
	CHECK_EQ_INT(strlen(alice), 64);
	CHECK_EQ_INT(strspn(alice, "0123456789abcdef"), 64); /* a hash: no secret in it */
	CHECK_EQ_INT(oci_token_cache_new(&c, 8, fake_clock, NULL), 0);
	fake_now = 0;
	CHECK_EQ_INT(oci_token_cache_put(c, alice, "repository:a:pull", "alice-tok", 100), 0);
	get_is(c, alice2, "repository:a:pull", "alice-tok");
	get_is(c, bob, "repository:a:pull", NULL);
	get_is(c, other_reg, "repository:a:pull", NULL);
	get_is(c, alice_new_pw, "repository:a:pull", NULL);
	get_is(c, anon, "repository:a:pull", NULL);
	oci_token_cache_free(c);
}

/* The process-wide cache, filled and then freed by oci_shutdown. */
static void test_global_freed_by_shutdown(void)
{
	char k[OCI_TOKEN_OWNER_KEY_SIZE];
	owner(k, "r.example", "alice", "pw");
	oci_token_cache *g = oci_token_cache_global();
	CHECK(g != NULL);
	if (!g)
		return;
	CHECK(oci_token_cache_global() == g);
	char scope[64];
	for (int i = 0; i < 50; i++) {
		snprintf(scope, sizeof scope, "repository:r%d:pull", i);
		CHECK_EQ_INT(oci_token_cache_put(g, k, scope, "a-token-that-must-be-freed", INT64_MAX), 0);
	}
	CHECK_EQ_INT(oci_token_cache_count(g), 50);
	oci_shutdown();
	/* a new, empty cache after it */
	g = oci_token_cache_global();
	CHECK(g != NULL);
	if (g)
		CHECK_EQ_INT(oci_token_cache_count(g), 0);
	oci_shutdown();
}

int main(void)
{
	RUN(test_lookup);
	RUN(test_expiry);
	RUN(test_eviction);
	RUN(test_keys);
	RUN(test_global_freed_by_shutdown);
	TEST_END();
}
