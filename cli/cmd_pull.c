/* ocisync pull REF DIR: resolve, verify, download and extract atomically. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "keys.h"

static int cmd_pull(cli *c, int argc, char **argv)
{
	oci_pull_opts opts; oci_pull_opts_init(&opts);
	oci_strlist keys = OCI_STRLIST_INIT;
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	cli_verifier *verifier = NULL;
	char *pinned = NULL;
	int rc = EXIT_FAIL, opt;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_pull, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		switch (opt) {
		case 'k': oci_strlist_push(&keys, a.value); break;
		case 'p': opts.extract.subpath = a.value; break;
		case 'f': opts.force = 1; break;
		case 'm':
			if ((rc = cli_parse_limit(c, &opts.extract.max_size, "--max-size", a.value)) != 0)
				goto cleanup;
			break;
		case 'n':
			if ((rc = cli_parse_limit(c, &opts.extract.max_entries, "--max-entries", a.value)) != 0)
				goto cleanup;
			break;
		case 'P': opts.publisher_limits = 1; break;
		}
	}
	if (opt < 0) {
		rc = a.rc;
		goto cleanup;
	}
	if (a.nargs != 2) {
		rc = cli_usage_error(c, "pull takes REF and DIR");
		goto cleanup;
	}
	if (keys.n && (rc = cli_verifier_open(c, &verifier, &keys, NULL)) != 0)
		goto cleanup;
	/* SIGTERM, Ctrl-C: the transfer aborts, temporaries are removed */
	cli_cancel_on_signals(c);
	if ((rc = cli_open_target(c, a.args[0], &ref, &t)) != 0)
		goto cleanup;
	if (verifier)
		cli_verifier_attach(verifier, &opts.verify, &opts.verify_ctx);
	oci_pull_result res;
	if (oci_pull(&res, t, a.args[1], &opts) < 0) {
		int code = oci_error_last()->code;
		rc = cli_fail(c, a.args[0]);
		if (code == OCI_EINTERRUPTED)
			rc = cli_exit_interrupted();
		goto cleanup;
	}
	cli_progress_done(c);
	oci_ref_format_pinned(&pinned, ref, res.digest);
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b}", "reference", pinned, "digest", res.digest,
				      "directory", a.args[1], "bytes", (json_int_t)res.stats.bytes, "entries",
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

static const cli_option options[] = {
	{ 'k', "verify-key", 0, CLI_VALUE_FILE, "PUB", NULL, "require a signature by this key (repeatable: any one suffices)" },
	{ 'p', "path", 0, CLI_VALUE_TEXT, "SUBDIR", NULL, "extract only this folder of the artifact" },
	{ 'f', "force", 0, CLI_VALUE_NONE, NULL, NULL, "replace a non-empty DIR (atomically)" },
	CLI_OPTIONS_EXTRACT_LIMITS,
	{ 0 },
};

const cli_command cli_cmd_pull = {
	.name = "pull",
	.run = cmd_pull,
	.summary = "download, verify and extract an artifact atomically",
	.usage = "pull REF DIR [options]",
	.description =
		"Resolves REF once, verifies its signature when keys are given, downloads the layer\n"
		"by digest (size and sha256 checked while it streams) and extracts it into DIR through\n"
		"a temporary directory beside it, renamed into place.\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "REF", NULL, 0 }, { CLI_VALUE_DIR, "DIR", NULL, 0 }, { 0 } },
	.footer = "Prints the pinned reference REPO@sha256:HEX.\n",
};
