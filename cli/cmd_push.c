/* ocisync push REF PATH: pack PATH and push it as one artifact. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "signing.h"

static const char help[] =
	"Packs PATH (a directory or one file) into one reproducible tar+gzip layer and pushes\n"
	"it with its manifest to REF, under every tag REF lists (app:v1.2.3,prod).\n\n"
	"Options:\n"
	"  --source URL          org.opencontainers.image.source annotation (e.g. the Git URL)\n"
	"  --revision REV        org.opencontainers.image.revision annotation (e.g. main@sha1:...)\n"
	"  --created RFC3339     creation time (default: SOURCE_DATE_EPOCH, else now)\n"
	"  -a, --annotation K=V  extra manifest annotation (repeatable)\n"
	"  --ignore PATTERN      gitignore-style pattern to leave out (repeatable; .sourceignore\n"
	"                        at PATH's root is read too; .git/ is never packed)\n"
	"  --profile portable|flux   manifest layout (default portable)\n"
	"  --sign-key KEY        sign what was pushed with this cosign key\n"
	"  --max-size BYTES      refuse more file content than this (default 1 GiB, as pull and sync)\n"
	"  --max-entries N       refuse more files, directories and links (default 100000, as pull\n"
	"                        and sync); limits other than the defaults are recorded in the\n"
	"                        manifest for pull/sync --publisher-limits\n"
	"  -h, --help            this help\n\n"
	"Prints the pinned reference REPO@sha256:HEX.\n";

int cmd_push(cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "revision", required_argument, NULL, 'r' },
		{ "created", required_argument, NULL, 'c' },
		{ "annotation", required_argument, NULL, 'a' },
		{ "ignore", required_argument, NULL, 'i' },
		{ "profile", required_argument, NULL, 'p' },
		{ "sign-key", required_argument, NULL, 'k' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "max-entries", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	oci_push_opts opts = OCI_PUSH_OPTS_INIT;
	oci_kvlist ann = OCI_KVLIST_INIT;
	oci_strlist ignore = OCI_STRLIST_INIT;
	const char *sign_key = NULL;
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	char *pinned = NULL;
	int rc = EXIT_FAIL, opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":a:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': opts.source = optarg; break;
		case 'r': opts.revision = optarg; break;
		case 'c': opts.created = optarg; break;
		case 'a':
			if (oci_kvlist_set_pair(&ann, optarg) < 0) {
				rc = cli_usage_error(c, "%s", oci_error_last()->message);
				goto cleanup;
			}
			break;
		case 'i': oci_strlist_push(&ignore, optarg); break;
		case 'p':
			if (!strcmp(optarg, "portable")) opts.profile = OCI_PROFILE_PORTABLE;
			else if (!strcmp(optarg, "flux")) opts.profile = OCI_PROFILE_FLUX;
			else { rc = cli_usage_error(c, "--profile takes portable or flux, not '%s'", optarg); goto cleanup; }
			break;
		case 'k': sign_key = optarg; break;
		case 'm':
			if ((rc = cli_parse_limit(c, &opts.max_size, "--max-size", optarg)) != 0)
				goto cleanup;
			break;
		case 'n':
			if ((rc = cli_parse_limit(c, &opts.max_entries, "--max-entries", optarg)) != 0)
				goto cleanup;
			break;
		case 'h': rc = cli_help(c, help); goto cleanup;
		case ':': rc = cli_usage_error(c, "option %s needs a value", argv[optind - 1]); goto cleanup;
		default: rc = cli_usage_error(c, "unknown option %s", argv[optind - 1]); goto cleanup;
		}
	}
	if (argc - optind != 2) {
		rc = cli_usage_error(c, "push takes REF and PATH");
		goto cleanup;
	}
	opts.annotations = &ann;
	opts.ignore = &ignore;
	/* A key that can't be read fails before anything is pushed. */
	cli_signer *signer = NULL;
	if (sign_key && (rc = cli_signer_open(c, &signer, sign_key)) != 0)
		goto cleanup;
	if ((rc = cli_open_target(c, argv[optind], &ref, &t)) != 0) {
		cli_signer_close(signer);
		goto cleanup;
	}
	if (ref->digest) {
		cli_signer_close(signer);
		rc = cli_usage_error(c, "push needs a tag, not a digest, in '%s'", argv[optind]);
		goto cleanup;
	}
	oci_push_result res;
	if (oci_push(&res, t, argv[optind + 1], &opts) < 0) {
		cli_signer_close(signer);
		rc = cli_fail(c, argv[optind + 1]);
		goto cleanup;
	}
	if (signer) {
		rc = cli_signer_sign(c, signer, t, res.digest, NULL);
		cli_signer_close(signer);
		if (rc != 0)
			goto cleanup;
	}
	cli_progress_done(c);
	oci_ref_format_pinned(&pinned, ref, res.digest);
	if (c->json) {
		json_t *tags = json_array();
		for (size_t i = 0; i < ref->tags.n; i++)
			json_array_append_new(tags, json_string(ref->tags.items[i]));
		cli_print_json(json_pack("{s:s, s:s, s:o, s:{s:s, s:I, s:s, s:b}, s:I, s:b}", "reference", pinned,
					 "digest", res.digest, "tags", tags, "layer", "digest", res.layer.digest, "size",
					 (json_int_t)res.layer.size, "diff_id", res.layer.diff_id, "uploaded",
					 res.layer_uploaded, "entries", (json_int_t)res.layer.entries, "signed", signer != NULL));
	} else if (!c->quiet) {
		printf("%s\n", pinned);
	}
	rc = EXIT_OK;
cleanup:
	free(pinned);
	oci_target_free(t);
	oci_ref_free(ref);
	oci_kvlist_dispose(&ann);
	oci_strlist_dispose(&ignore);
	return rc;
}
