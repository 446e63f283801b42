/* WWW-Authenticate parsing (RFC 7235) and the choice between schemes. */
#include "challenge.h"
#include "oci/error.h"
#include "test.h"

static void test_distribution_bearer(void)
{
	oci_challenge_list l = OCI_CHALLENGE_LIST_INIT;
	CHECK_EQ_INT(oci_challenge_parse(&l, "Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\",scope=\"repository:team/app:pull,push\""), 0);
	CHECK_EQ_INT(l.n, 1);
	CHECK_STR(l.items[0].scheme, "bearer");
	CHECK_STR(oci_challenge_param_get(&l.items[0], "realm"), "https://auth.example.com/token");
	CHECK_STR(oci_challenge_param_get(&l.items[0], "service"), "registry.example.com");
	/* The comma inside the quoted scope does not split anything. */
	CHECK_STR(oci_challenge_param_get(&l.items[0], "scope"), "repository:team/app:pull,push");
	oci_challenge_list_dispose(&l);
}

static void test_several_challenges_one_header(void)
{
	oci_challenge_list l = OCI_CHALLENGE_LIST_INIT;
	CHECK_EQ_INT(oci_challenge_parse(&l, "Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\""), 0);
	CHECK_EQ_INT(l.n, 2);
	CHECK_STR(l.items[0].scheme, "newauth");
	CHECK_STR(oci_challenge_param_get(&l.items[0], "type"), "1");
	CHECK_STR(oci_challenge_param_get(&l.items[0], "title"), "Login to \"apps\"");
	CHECK_STR(l.items[1].scheme, "basic");
	CHECK_STR(oci_challenge_param_get(&l.items[1], "realm"), "simple");
	const oci_challenge *c = oci_challenge_pick(&l);
	CHECK(c && !strcmp(c->scheme, "basic"));
	oci_challenge_list_dispose(&l);
}

static void test_bearer_preferred_and_case(void)
{
	oci_challenge_list l = OCI_CHALLENGE_LIST_INIT;
	/* Two headers parsed into one list; schemes and names in any case. */
	CHECK_EQ_INT(oci_challenge_parse(&l, "BASIC Realm=\"r\""), 0);
	CHECK_EQ_INT(oci_challenge_parse(&l, "bEaReR REALM=\"https://t/x\" , Service = \"svc\""), 0);
	CHECK_EQ_INT(l.n, 2);
	const oci_challenge *c = oci_challenge_pick(&l);
	CHECK(c && !strcmp(c->scheme, "bearer"));
	CHECK_STR(oci_challenge_param_get(c, "realm"), "https://t/x");
	CHECK_STR(oci_challenge_param_get(c, "Service"), "svc");
	CHECK_STR(oci_challenge_param_get(&l.items[0], "realm"), "r");
	oci_challenge_list_dispose(&l);
}

static void test_token68_and_empty_elements(void)
{
	oci_challenge_list l = OCI_CHALLENGE_LIST_INIT;
	CHECK_EQ_INT(oci_challenge_parse(&l, ", Negotiate abc+/def==, ,Basic realm=x,, Bearer"), 0);
	CHECK_EQ_INT(l.n, 3);
	CHECK_STR(l.items[0].scheme, "negotiate");
	CHECK_STR(l.items[0].token68, "abc+/def==");
	CHECK_EQ_INT(l.items[0].nparams, 0);
	CHECK_STR(oci_challenge_param_get(&l.items[1], "realm"), "x");
	CHECK_STR(l.items[2].scheme, "bearer");
	CHECK_EQ_INT(l.items[2].nparams, 0);
	oci_challenge_list_dispose(&l);
}

static void test_unknown_params_and_unquoted_url(void)
{
	oci_challenge_list l = OCI_CHALLENGE_LIST_INIT;
	CHECK_EQ_INT(oci_challenge_parse(&l, "Bearer realm=https://h:5001/token,service=reg,error=\"insufficient_scope\",foo=\"a, b\""), 0);
	CHECK_EQ_INT(l.n, 1);
	CHECK_STR(oci_challenge_param_get(&l.items[0], "realm"), "https://h:5001/token");
	CHECK_STR(oci_challenge_param_get(&l.items[0], "error"), "insufficient_scope");
	CHECK_STR(oci_challenge_param_get(&l.items[0], "foo"), "a, b");
	CHECK(oci_challenge_param_get(&l.items[0], "scope") == NULL);
	oci_challenge_list_dispose(&l);
}

static void test_malformed(void)
{
	oci_challenge_list l = OCI_CHALLENGE_LIST_INIT;
	CHECK_EQ_INT(oci_challenge_parse(&l, "Bearer realm=\"unterminated"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("unterminated quoted string");
	oci_challenge_list_dispose(&l);
	CHECK_EQ_INT(oci_challenge_parse(&l, "=oops"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("expected an authentication scheme");
	oci_challenge_list_dispose(&l);
	CHECK_EQ_INT(oci_challenge_parse(&l, "Bearer realm=\"a\" junk"), OCI_EINVALID);
	oci_challenge_list_dispose(&l);
	CHECK_EQ_INT(oci_challenge_parse(&l, ""), 0);
	CHECK_EQ_INT(l.n, 0);
	CHECK(oci_challenge_pick(&l) == NULL);
	char buf[64];
	oci_challenge_schemes(buf, sizeof buf, &l);
	CHECK_STR(buf, "none");
	CHECK_EQ_INT(oci_challenge_parse(&l, "Negotiate, NTLM"), 0);
	CHECK(oci_challenge_pick(&l) == NULL);
	oci_challenge_schemes(buf, sizeof buf, &l);
	CHECK_STR(buf, "negotiate, ntlm");
	oci_challenge_list_dispose(&l);
}

/* Random strings over the grammar's alphabet: parsing must never crash or
 * leak (run under ASan), whatever it returns. Deterministic seed. */
static void test_garbage(void)
{
	static const char *pieces[] = { "Bearer", "Basic", " ", ",", "=", "\"", "\\", "realm", "a", "==",
					"\t", "x/y", "scope", "\"q,q\"", "", "é", ";" };
	unsigned int seed = 12345;
	for (int i = 0; i < 20000; i++) {
		char buf[256] = "";
		int n = (int)(rand_r(&seed) % 12);
		for (int k = 0; k < n; k++)
			strncat(buf, pieces[rand_r(&seed) % (sizeof pieces / sizeof *pieces)], sizeof buf - strlen(buf) - 1);
		oci_challenge_list l = OCI_CHALLENGE_LIST_INIT;
		int rc = oci_challenge_parse(&l, buf);
		if (rc != 0 && rc != OCI_EINVALID)
			CHECK_EQ_INT(rc, OCI_EINVALID);
		for (size_t c = 0; c < l.n; c++)
			CHECK(l.items[c].scheme && l.items[c].scheme[0]);
		(void)oci_challenge_pick(&l);
		oci_challenge_list_dispose(&l);
	}
}

int main(void)
{
	RUN(test_distribution_bearer);
	RUN(test_several_challenges_one_header);
	RUN(test_bearer_preferred_and_case);
	RUN(test_token68_and_empty_elements);
	RUN(test_unknown_params_and_unquoted_url);
	RUN(test_malformed);
	RUN(test_garbage);
	TEST_END();
}
