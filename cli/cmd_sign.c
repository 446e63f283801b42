/* ocisync sign --key KEY REF [-a K=V]...: sign the digest REF resolves to. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "password.h"
#include "signing.h"
#include "oci/sigstore.h"

static const char help[] =
	"Signs the manifest digest REF resolves to with a cosign private key and stores the\n"
	"signature as cosign stores it: tag sha256-<hex>.sig in the same repository (or\n"
	"oci-layout directory), one layer per signature. Existing signatures are kept; the\n"
	"same signature is never added twice. `cosign verify --key` accepts the result.\n\n"
	"Options:\n"
	"  --key KEY             the private key (cosign's encrypted format, or a PKCS#8\n"
	"                        \"PRIVATE KEY\" PEM)\n"
	"  -a, --annotation K=V  an annotation to sign with the digest (repeatable); verify\n"
	"                        can require it\n"
	"  --signature-format sig|bundle   sig (default): the .sig tag above; bundle: a\n"
	"                        Sigstore bundle (DSSE envelope of an in-toto statement) attached\n"
	"                        as an OCI 1.1 referrer, as cosign v3 writes it (no Rekor entry)\n"
	"  -h, --help            this help\n\n"
	"The password comes from COSIGN_PASSWORD when it is set (even empty), else it is\n"
	"asked on the terminal without echo.\n"
	"Prints the signed pinned reference REPO@sha256:HEX.\n";

/* Loads the key, asking for a password only when the file is encrypted. */
static int load_key(cli *c, oci_key **out, const char *path)
{
	int encrypted = 0;
	char *password = NULL;
	if (oci_key_is_encrypted_file(&encrypted, path) < 0)
		return cli_fail(c, NULL);
	if (encrypted) {
		int rc = cli_password_read(&password, c, path, 0);
		if (rc != 0)
			return rc;
	}
	int rc = oci_key_load_private(out, path, password);
	cli_password_free(password);
	return rc < 0 ? cli_fail(c, NULL) : 0;
}

int cmd_sign(cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "annotation", required_argument, NULL, 'a' },
		{ "signature-format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key_path = NULL;
	oci_kvlist ann = OCI_KVLIST_INIT;
	oci_key *key = NULL;
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	char *pinned = NULL, *tag = NULL;
	char digest[OCI_DIGEST_SIZE];
	char referrer[OCI_DIGEST_SIZE] = "";
	int rc = EXIT_FAIL, opt, added = 0, bundle = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":a:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k': key_path = optarg; break;
		case 'F':
			if ((bundle = cli_signature_format(optarg)) < 0) {
				rc = cli_usage_error(c, "--signature-format takes sig or bundle, not '%s'", optarg);
				goto cleanup;
			}
			break;
		case 'a':
			if (oci_kvlist_set_pair(&ann, optarg) < 0) {
				rc = cli_usage_error(c, "%s", cli_last_error());
				goto cleanup;
			}
			break;
		case 'h': rc = cli_help(c, help); goto cleanup;
		case ':': rc = cli_usage_error(c, "option %s needs a value", argv[optind - 1]); goto cleanup;
		default: rc = cli_usage_error(c, "unknown option %s", argv[optind - 1]); goto cleanup;
		}
	}
	if (!key_path) {
		rc = cli_usage_error(c, "sign needs --key KEY");
		goto cleanup;
	}
	if (argc - optind != 1) {
		rc = cli_usage_error(c, "sign takes one REF");
		goto cleanup;
	}
	const char *refstr = argv[optind];
	/* The key (and its password) first: nothing is contacted with a bad key. */
	if ((rc = load_key(c, &key, key_path)) != 0)
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
					 "signatureFormat", "bundle", "referrer", referrer, "added", added));
	} else if (c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:b}", "reference", pinned, "digest", digest,
					 "signatureFormat", "sig", "signatureTag", tag, "added", added));
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
