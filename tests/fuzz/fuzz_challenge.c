/* WWW-Authenticate values (RFC 7235), as a registry's 401 carries them.
 * Each line of the input is one header value; all go into one list, as for
 * a response with several headers. Invariants: a failure names the problem;
 * what was parsed is well formed (lower-case scheme, named parameters); the
 * picked challenge is Bearer or Basic and one of the list. */
#include "fuzz.h"

#include <ctype.h>

#include "challenge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstring(data, size);
	if (!s)
		return 0;
	oci_challenge_list list = OCI_CHALLENGE_LIST_INIT;
	char *save = NULL;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		FUZZ_CHECK_FAILURE(oci_challenge_parse(&list, line));
	for (size_t i = 0; i < list.n; i++) {
		const oci_challenge *c = &list.items[i];
		FUZZ_CHECK(c->scheme && *c->scheme);
		for (const char *p = c->scheme; *p; p++)
			FUZZ_CHECK(!isupper((unsigned char)*p));
		for (size_t j = 0; j < c->nparams; j++) {
			FUZZ_CHECK(c->params[j].name && *c->params[j].name && c->params[j].value);
			FUZZ_CHECK(oci_challenge_param_get(c, c->params[j].name) != NULL);
		}
		(void)oci_challenge_param_get(c, "realm");
		(void)oci_challenge_param_get(c, "scope");
	}
	const oci_challenge *pick = oci_challenge_pick(&list);
	if (pick) {
		FUZZ_CHECK(!strcmp(pick->scheme, "bearer") || !strcmp(pick->scheme, "basic"));
		FUZZ_CHECK(pick >= list.items && pick < list.items + list.n);
	}
	char schemes[64];
	oci_challenge_schemes(schemes, sizeof schemes, &list);
	FUZZ_CHECK(strlen(schemes) < sizeof schemes);
	oci_challenge_list_dispose(&list);
	free(s);
	return 0;
}
