/* ocisync pull REF DIR: resolve, verify, download and extract atomically. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "signing.h"

static const char help[] =
	"Resolves REF once, verifies its signature when keys are given, downloads the layer\n"
	"by digest (size and sha256 checked while it streams) and extracts it into DIR through\n"
	"a temporary directory beside it, renamed into place.\n\n"
	"Options:\n"
	"  --verify-key PUB      require a signature by this key (repeatable: any one suffices)\n"
	"  --path SUBDIR         extract only this folder of the artifact\n"
	"  --force               replace a non-empty DIR (atomically)\n"
	"  --max-size BYTES      limit on extracted bytes (default 1 GiB; K, M, G suffixes)\n"
	"  --max-entries N       limit on files, directories and links (default 100000)\n"
	"  --publisher-limits    use the limits the artifact records (push --max-size/--max-entries)\n"
	"                        instead of the two above: only for publishers you trust\n"
	"  -h, --help            this help\n\n"
	"Prints the pinned reference REPO@sha256:HEX.\n";

int cmd_pull(cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "verify-key", required_argument, NULL, 'k' },
		{ "path", required_argument, NULL, 'p' },
		{ "force", no_argument, NULL, 'f' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "max-entries", required_argument, NULL, 'n' },
		{ "publisher-limits", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	oci_pull_opts opts; oci_pull_opts_init(&opts);
	oci_strlist keys = OCI_STRLIST_INIT;
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	cli_verifier *verifier = NULL;
	char *pinned = NULL;
	int rc = EXIT_FAIL, opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k': oci_strlist_push(&keys, optarg); break;
		case 'p': opts.extract.subpath = optarg; break;
		case 'f': opts.force = 1; break;
		case 'm':
			if ((rc = cli_parse_limit(c, &opts.extract.max_size, "--max-size", optarg)) != 0)
				goto cleanup;
			break;
		case 'n':
			if ((rc = cli_parse_limit(c, &opts.extract.max_entries, "--max-entries", optarg)) != 0)
				goto cleanup;
			break;
		case 'P': opts.publisher_limits = 1; break;
		case 'h': rc = cli_help(c, help); goto cleanup;
		case ':': rc = cli_usage_error(c, "option %s needs a value", argv[optind - 1]); goto cleanup;
		default: rc = cli_usage_error(c, "unknown option %s", argv[optind - 1]); goto cleanup;
		}
	}
	if (argc - optind != 2) {
		rc = cli_usage_error(c, "pull takes REF and DIR");
		goto cleanup;
	}
	if (keys.n && (rc = cli_verifier_open(c, &verifier, &keys, NULL)) != 0)
		goto cleanup;
	/* SIGTERM, Ctrl-C: the transfer aborts, temporaries are removed */
	cli_cancel_on_signals(c);
	if ((rc = cli_open_target(c, argv[optind], &ref, &t)) != 0)
		goto cleanup;
	if (verifier)
		cli_verifier_attach(verifier, &opts.verify, &opts.verify_ctx);
	oci_pull_result res;
	if (oci_pull(&res, t, argv[optind + 1], &opts) < 0) {
		int code = oci_error_last()->code;
		rc = cli_fail(c, argv[optind]);
		if (code == OCI_EINTERRUPTED)
			rc = cli_exit_interrupted();
		goto cleanup;
	}
	cli_progress_done(c);
	oci_ref_format_pinned(&pinned, ref, res.digest);
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b}", "reference", pinned, "digest", res.digest,
				      "directory", argv[optind + 1], "bytes", (json_int_t)res.stats.bytes, "entries",
				      (json_int_t)res.stats.entries, "verified", verifier != NULL);
		if (verifier && cli_verifier_key_used(verifier))
			json_object_set_new(o, "verified_by", json_string(cli_verifier_key_used(verifier)));
		if (verifier && cli_verifier_source(verifier))
			json_object_set_new(o, "signature", json_string(cli_verifier_source(verifier)));
		cli_print_json(o);
	} else if (!c->quiet) {
		printf("%s\n", pinned);
		if (verifier && cli_verifier_source(verifier))
			fprintf(stderr, "Verified %s with key %s (%s)\n", pinned, cli_verifier_key_used(verifier),
				cli_verifier_source(verifier));
	}
	oci_pull_result_dispose(&res);
	rc = EXIT_OK;
cleanup:
	free(pinned);
	cli_verifier_close(verifier);
	oci_target_free(t);
	oci_ref_free(ref);
	oci_strlist_dispose(&keys);
	return rc;
}
