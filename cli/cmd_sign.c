/* ocisync sign --key KEY REF [-a K=V]...: sign the digest REF resolves to. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "keys.h"
#include "oci/sigstore.h"

static int cmd_sign(cli *c, int argc, char **argv)
{
	const char *key_path = NULL;
	oci_kvlist ann = OCI_KVLIST_INIT;
	oci_key *key = NULL;
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	char *pinned = NULL, *tag = NULL;
	char digest[OCI_DIGEST_SIZE];
	char referrer[OCI_DIGEST_SIZE] = "";
	int rc = EXIT_FAIL, opt, added = 0, bundle = 0;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_sign, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		switch (opt) {
		case 'k': key_path = a.value; break;
		case 'F':
			if ((bundle = cli_signature_format(a.value)) < 0) {
				rc = cli_usage_error(c, "--signature-format takes sig or bundle, not '%s'", a.value);
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
	if (!key_path) {
		rc = cli_usage_error(c, "sign needs --key KEY");
		goto cleanup;
	}
	if (a.nargs != 1) {
		rc = cli_usage_error(c, "sign takes one REF");
		goto cleanup;
	}
	const char *refstr = a.args[0];
	/* The key (and its password) first: nothing is contacted with a bad key. */
	if ((rc = cli_key_load_private(c, &key, key_path)) != 0)
		goto cleanup;
	if ((rc = cli_open_target(c, refstr, &ref, &t)) != 0)
		goto cleanup;
	/* Resolved once: what is signed is exactly this digest. */
	if (oci_resolve_ref(digest, NULL, t) < 0 ||
	    (bundle ? oci_sign_digest_bundle(referrer, &added, t, digest, key, &ann) : oci_sign_digest_ex(&added, t, digest, key, &ann)) < 0 ||
	    oci_ref_format_pinned(&pinned, ref, digest) < 0 || oci_signature_tag(&tag, digest) < 0) {
		rc = cli_fail(c, refstr);
		goto cleanup;
	}
	rc = EXIT_OK;
	if (bundle && c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:b}", "reference", pinned, "digest", digest,
					 "signature_format", "bundle", "referrer", referrer, "added", added));
	} else if (c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:b}", "reference", pinned, "digest", digest,
					 "signature_format", "sig", "signature_tag", tag, "added", added));
	} else if (!c->quiet) {
		printf("%s\n", pinned);
		if (bundle && added)
			fprintf(stderr, "ocisync sign: attached Sigstore bundle referrer %s\n", referrer);
		else if (bundle)
			fprintf(stderr, "ocisync sign: %s is already signed with this key (Sigstore bundle referrer %s); nothing changed\n",
				pinned, referrer);
		else if (!added)
			fprintf(stderr, "ocisync sign: %s is already signed with this key; nothing changed\n", pinned);
	}
cleanup:
	oci_kvlist_dispose(&ann);
	oci_key_free(key);
	oci_target_free(t);
	oci_ref_free(ref);
	free(pinned);
	free(tag);
	return rc;
}

static const cli_option options[] = {
	{ 'k', "key", 0, CLI_VALUE_FILE, "KEY", NULL, "the private key (cosign's encrypted format, or a PKCS#8\n\"PRIVATE KEY\" PEM)" },
	{ 'a', "annotation", 'a', CLI_VALUE_TEXT, "K=V", NULL, "an annotation to sign with the digest (repeatable); verify\ncan require it" },
	{ 'F', "signature-format", 0, CLI_VALUE_ENUM, NULL, "sig bundle", "sig (default): the .sig tag above; bundle: a\nSigstore bundle (DSSE envelope of an in-toto statement) attached\nas an OCI 1.1 referrer, as cosign v3 writes it (no Rekor entry)" },
	{ 0 },
};

const cli_command cli_cmd_sign = {
	.name = "sign",
	.run = cmd_sign,
	.summary = "sign the digest a reference resolves to, as cosign does",
	.usage = "sign --key KEY REF [-a KEY=VAL]...",
	.description =
		"Signs the manifest digest REF resolves to with a cosign private key and stores the\n"
		"signature as cosign stores it: tag sha256-<hex>.sig in the same repository (or\n"
		"oci-layout directory), one layer per signature. Existing signatures are kept; the\n"
		"same signature is never added twice. `cosign verify --key` accepts the result.\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "REF", NULL, 0 }, { 0 } },
	.footer =
		"The password comes from COSIGN_PASSWORD when it is set (even empty), else it is\n"
		"asked on the terminal without echo.\n"
		"Prints the signed pinned reference REPO@sha256:HEX.\n",
};
