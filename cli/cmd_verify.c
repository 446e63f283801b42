/* ocisync verify --key PUB [--key PUB]... REF [-a K=V]...: check cosign signatures. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "keys.h"

/* Each signature tried, for -o json: kind ".sig" or "bundle", its digest,
 * ok, and the key that verified it or why it was refused. */
static json_t *attempts_json(const oci_verifier *v)
{
	const oci_verify_attempt *a;
	size_t n = oci_verifier_attempts(&a, v);
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		json_t *o = json_pack("{s:s, s:s, s:b}", "kind", strcmp(a[i].kind, "sig") ? "bundle" : ".sig", "digest",
				      a[i].where, "ok", a[i].reason == NULL);
		if (!o)
			continue;
		if (a[i].key)
			json_object_set_new(o, "key", json_string(a[i].key));
		if (a[i].reason)
			json_object_set_new(o, "reason", json_string(a[i].reason));
		json_array_append_new(arr, o);
	}
	return arr;
}

static int cmd_verify(cli *c, int argc, char **argv)
{
	oci_strlist keys = OCI_STRLIST_INIT;
	oci_kvlist ann = OCI_KVLIST_INIT;
	oci_verifier *v = NULL;
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	char *pinned = NULL;
	const char *used = NULL;
	char digest[OCI_DIGEST_SIZE];
	int rc = EXIT_FAIL, opt;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_verify, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		switch (opt) {
		case 'k':
			if (oci_strlist_push(&keys, a.value) < 0) {
				rc = cli_fail(c, NULL);
				goto cleanup;
			}
			break;
		case 'a':
			if (oci_kvlist_set_pair(&ann, a.value) < 0) {
				rc = cli_usage_error(c, "%s", cli_last_error());
				goto cleanup;
			}
			break;
		}
	}
	if (opt < 0) {
		rc = a.rc;
		goto cleanup;
	}
	if (!keys.n) {
		rc = cli_usage_error(c, "verify needs at least one --key PUB");
		goto cleanup;
	}
	if (a.nargs != 1) {
		rc = cli_usage_error(c, "verify takes one REF");
		goto cleanup;
	}
	const char *refstr = a.args[0];
	if ((rc = cli_verifier_load(c, &v, &keys, &ann)) != 0)
		goto cleanup;
	if ((rc = cli_open_target(c, refstr, &ref, &t)) != 0)
		goto cleanup;
	/* Resolved once; the signatures are checked against exactly this digest. */
	if (oci_resolve_ref(digest, NULL, t) < 0 || oci_ref_format_pinned(&pinned, ref, digest) < 0) {
		rc = cli_fail(c, refstr);
		goto cleanup;
	}
	if (oci_verifier_verify(&used, v, t, digest) < 0) {
		if (c->json) /* the error object says what each signature was refused for */
			c->json_extra = json_pack("{s:b, s:s, s:o}", "verified", 0, "digest", digest, "signatures",
						  attempts_json(v));
		rc = cli_fail(c, pinned);
		goto cleanup;
	}
	rc = EXIT_OK;
	if (c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "reference", pinned, "digest", digest, "key", used,
					 "signature", oci_verifier_source(v), "verified", 1, "signatures", attempts_json(v)));
	} else if (!c->quiet) {
		printf("%s\n", pinned);
		fprintf(stderr, "Verified %s with key %s (%s)\n", pinned, used, oci_verifier_source(v));
	}
cleanup:
	oci_strlist_dispose(&keys);
	oci_kvlist_dispose(&ann);
	oci_verifier_free(v);
	oci_target_free(t);
	oci_ref_free(ref);
	free(pinned);
	return rc;
}

static const cli_option options[] = {
	{ 'k', "key", 0, CLI_VALUE_FILE, "PUB", NULL, "a trusted public key, PEM \"PUBLIC KEY\" (repeatable)" },
	{ 'a', "annotation", 'a', CLI_VALUE_TEXT, "K=V", NULL, "an annotation the signature must carry (repeatable)" },
	{ 0 },
};

const cli_command cli_cmd_verify = {
	.name = "verify",
	.run = cmd_verify,
	.summary = "check cosign signatures of a reference against trusted keys",
	.usage = "verify --key PUB [--key PUB]... REF [-a KEY=VAL]...",
	.description =
		"Succeeds when a cosign signature stored for the digest REF resolves to verifies with\n"
		"one of the given public keys, names exactly that digest, and carries every -a\n"
		"annotation. Keys or certificates found in the artifact are never trusted.\n"
		"A signature counts in either form: cosign's sha256-<hex>.sig tag, or a Sigstore\n"
		"bundle attached as an OCI 1.1 referrer (cosign v3), checked offline: Rekor is never\n"
		"contacted and keyless (certificate) bundles are refused.\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "REF", NULL, 0 }, { 0 } },
	.footer =
		"Prints the verified pinned reference REPO@sha256:HEX (and, on stderr, which key\n"
		"verified it and which signature was used). Exit 1 with the reason when no signature\n"
		"is valid.\n",
};
