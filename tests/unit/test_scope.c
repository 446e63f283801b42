/* Token scope algebra (auth/scope.c): merging, normalising, dedupe and
 * whether one token's scope serves another request. */
#include "test.h"
#include "scope.h"

#include <stdlib.h>

static void merge_is(const char *a, const char *b, const char *want)
{
	char *m = oci_scope_merge(a, b);
	CHECK_STR(m, want);
	free(m);
}

static void test_merge(void)
{
	merge_is("repository:team/app:pull", NULL, "repository:team/app:pull");
	merge_is(NULL, NULL, "");
	merge_is("", "  ", "");
	/* the challenge's scope adds what the request lacked */
	merge_is("repository:team/app:pull", "repository:team/base:pull",
		 "repository:team/app:pull repository:team/base:pull");
	/* one item per resource, actions unioned in order of appearance */
	merge_is("repository:team/app:pull", "repository:team/app:push", "repository:team/app:pull,push");
	merge_is("repository:a:pull repository:a:push,pull", NULL, "repository:a:pull,push");
	/* dedupe, and extra spaces go */
	merge_is("  repository:a:pull,pull   repository:a:pull ", "repository:a:pull", "repository:a:pull");
	merge_is("repository:team/other:pull,push repository:team/app:pull", "repository:team/other:pull,push",
		 "repository:team/other:pull,push repository:team/app:pull");
	/* registry-wide scopes and names with ':' in the resource type */
	merge_is("registry:catalog:*", "repository:plugin:x:pull", "registry:catalog:* repository:plugin:x:pull");
}

static void test_covers(void)
{
	/* superset reuse: a push token serves pulls, a mount token the push */
	CHECK(oci_scope_covers("repository:a:pull,push", "repository:a:pull"));
	CHECK(oci_scope_covers("repository:a:pull,push repository:b:pull", "repository:a:pull,push"));
	CHECK(oci_scope_covers("repository:a:*", "repository:a:delete"));
	CHECK(oci_scope_covers("repository:a:pull", "repository:a:pull"));
	CHECK(!oci_scope_covers("repository:a:pull", "repository:a:pull,push"));
	CHECK(!oci_scope_covers("repository:a:pull", "repository:b:pull"));
	CHECK(!oci_scope_covers("repository:ab:pull", "repository:a:pull"));
	CHECK(!oci_scope_covers("repository:a:pull", "repository:a:pull repository:b:pull"));
	/* the empty scope (GET /v2/) is only served by its own token */
	CHECK_EQ_INT(oci_scope_covers("repository:a:pull", ""), 0);
	CHECK_EQ_INT(oci_scope_covers("", ""), 1);
	CHECK(!oci_scope_covers("repository:a:pull", "noactions"));
}

static void test_first_repository(void)
{
	char name[64], acts[32];
	CHECK(oci_scope_first_repository(name, sizeof name, acts, sizeof acts,
					 "repository:team/app:pull,push repository:team/base:pull"));
	CHECK_STR(name, "team/app");
	CHECK_STR(acts, "pull,push");
	CHECK(!oci_scope_first_repository(name, sizeof name, acts, sizeof acts, "registry:catalog:*"));
	CHECK(!oci_scope_first_repository(name, sizeof name, acts, sizeof acts, ""));
	CHECK(!oci_scope_first_repository(name, sizeof name, acts, sizeof acts, "repository"));
	CHECK(!oci_scope_first_repository(name, 4, acts, sizeof acts, "repository:team/app:pull"));
}

int main(void)
{
	RUN(test_merge);
	RUN(test_covers);
	RUN(test_first_repository);
	TEST_END();
}
