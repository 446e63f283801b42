/* ocisync push REF PATH: pack PATH and push it as one artifact. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "policy.h"
#include "keys.h"

typedef struct issue_ctx {
	const cli *c;
	int strict;
} issue_ctx;

static void print_issue(void *ctx, const char *path, const char *why)
{
	const issue_ctx *ic = ctx;
	if (!ic->c->quiet || ic->strict)
		fprintf(stderr, "ocisync push: %s: %s %s\n", ic->strict ? "error" : "warning", path, why);
}

/* --profile flux: say what Flux would drop or refuse; --strict refuses
 * before anything is pushed. */
static int flux_check(cli *c, const char *path, const oci_strlist *ignore, int strict)
{
	oci_pack_opts po; oci_pack_opts_init(&po);
	po.ignore = ignore;
	issue_ctx ic = { c, strict };
	size_t n = 0;
	if (oci_bundle_flux_check(&n, path, &po, print_issue, &ic) < 0)
		return cli_fail(c, path);
	if (n && strict) {
		char msg[160];
		snprintf(msg, sizeof msg, "%zu %s that Flux would drop or refuse (listed above); nothing pushed (--strict)",
			 n, n == 1 ? "entry" : "entries");
		oci_error_set_str(OCI_EINVALID, msg);
		return cli_fail(c, path);
	}
	return 0;
}

static int cmd_push(cli *c, int argc, char **argv)
{
	oci_push_opts opts; oci_push_opts_init(&opts);
	oci_kvlist ann = OCI_KVLIST_INIT;
	oci_strlist ignore = OCI_STRLIST_INIT;
	const char *sign_key = NULL, *policy_file = NULL;
	int require_digest = 0, no_policy = 0;
	oci_lint_policy *policy = NULL;
	oci_push_result res;
	memset(&res, 0, sizeof res);
	int bundle = 0;
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	char *pinned = NULL;
	int rc = EXIT_FAIL, opt, strict = 0;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_push, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		switch (opt) {
		case 's': opts.source = a.value; break;
		case 'r': opts.revision = a.value; break;
		case 'c': {
			char ts[32]; /* checked here: a malformed time is a usage error, before any packing */
			if (oci_created_timestamp(ts, a.value) < 0) {
				rc = cli_usage_error(c, "--created takes an RFC 3339 time like 2006-01-02T15:04:05Z, not '%s'", a.value);
				goto cleanup;
			}
			opts.created = a.value;
			break;
		}
		case 'a':
			if (oci_kvlist_set_pair(&ann, a.value) < 0) {
				rc = cli_usage_error(c, "%s", cli_last_error());
				goto cleanup;
			}
			break;
		case 'i': oci_strlist_push(&ignore, a.value); break;
		case 'p':
			if (!strcmp(a.value, "portable")) opts.profile = OCI_PROFILE_PORTABLE;
			else if (!strcmp(a.value, "flux")) opts.profile = OCI_PROFILE_FLUX;
			else { rc = cli_usage_error(c, "--profile takes portable or flux, not '%s'", a.value); goto cleanup; }
			break;
		case 'k': sign_key = a.value; break;
		case 'P': policy_file = a.value; break;
		case 'd': require_digest = 1; break;
		case 'N': no_policy = 1; break;
		case 'S': strict = 1; break;
		case 'F':
			if ((bundle = cli_signature_format(a.value)) < 0) {
				rc = cli_usage_error(c, "--signature-format takes sig or bundle, not '%s'", a.value);
				goto cleanup;
			}
			break;
		case 'm':
			if ((rc = cli_parse_limit(c, &opts.max_size, "--max-size", a.value)) != 0)
				goto cleanup;
			break;
		case 'E': opts.allow_empty = 1; break;
		case 'n':
			if ((rc = cli_parse_limit(c, &opts.max_entries, "--max-entries", a.value)) != 0)
				goto cleanup;
			break;
		}
	}
	if (opt < 0) {
		rc = a.rc;
		goto cleanup;
	}
	if (a.nargs != 2) {
		rc = cli_usage_error(c, "push takes REF and PATH");
		goto cleanup;
	}
	if (no_policy && (policy_file || require_digest)) {
		rc = cli_usage_error(c, "--no-policy excludes --policy and --require-digest");
		goto cleanup;
	}
	if (strict && opts.profile != OCI_PROFILE_FLUX) {
		rc = cli_usage_error(c, "--strict applies to --profile flux");
		goto cleanup;
	}
	if (bundle && !sign_key) {
		rc = cli_usage_error(c, "--signature-format needs --sign-key KEY");
		goto cleanup;
	}
	opts.annotations = &ann;
	opts.ignore = &ignore;
	if (!no_policy && (rc = cli_policy_open(c, &policy, policy_file, require_digest)) != 0)
		goto cleanup;
	opts.policy = policy;
	if (opts.profile == OCI_PROFILE_FLUX && (rc = flux_check(c, a.args[1], &ignore, strict)) != 0)
		goto cleanup;
	/* A key that can't be read fails before anything is pushed. */
	cli_signer *signer = NULL;
	if (sign_key && (rc = cli_signer_open(c, &signer, sign_key)) != 0)
		goto cleanup;
	/* SIGTERM, Ctrl-C: the transfer aborts, temporaries are removed */
	cli_cancel_on_signals(c);
	if ((rc = cli_open_target(c, a.args[0], &ref, &t)) != 0) {
		cli_signer_close(signer);
		goto cleanup;
	}
	if (ref->digest) {
		cli_signer_close(signer);
		rc = cli_usage_error(c, "push needs a tag, not a digest, in '%s'", a.args[0]);
		goto cleanup;
	}
	if (!ref->tags.n && !c->quiet && !c->json)
		fprintf(stderr, "ocisync push: no tag in %s: using the default tag latest\n", a.args[0]);
	int push_rc = oci_push(&res, t, a.args[1], &opts);
	if (res.policy_checked && !c->json)
		cli_lint_print(stderr, &res.lint);
	if (push_rc < 0) {
		cli_signer_close(signer);
		if (c->json && push_rc == OCI_EPOLICY) /* the findings, beside the error object */
			c->json_top = json_pack("{s:o}", "policy", cli_lint_json(&res.lint));
		rc = cli_fail(c, a.args[1]);
		if (push_rc == OCI_EINTERRUPTED)
			rc = cli_exit_interrupted();
		goto cleanup;
	}
	if (no_policy && !c->quiet)
		fprintf(stderr, "ocisync push: policy checks skipped (--no-policy); the manifest says so\n");
	if (signer) {
		rc = cli_signer_sign(c, signer, t, res.digest, NULL, bundle);
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
		if (!ref->tags.n)
			json_array_append_new(tags, json_string("latest"));
		json_t *o = json_pack("{s:s, s:s, s:o, s:{s:s, s:I, s:s, s:b}, s:I, s:b}", "reference", pinned,
				      "digest", res.digest, "tags", tags, "layer", "digest", res.layer.digest, "size",
				      (json_int_t)res.layer.size, "diff_id", res.layer.diff_id, "uploaded",
				      res.layer_uploaded, "entries", (json_int_t)res.layer.entries, "signed", signer != NULL);
		json_object_set_new(o, "policy", res.policy_checked ? cli_lint_json(&res.lint) : json_string("skipped"));
		cli_print_json(o);
	} else if (!c->quiet) {
		printf("%s\n", pinned);
	}
	rc = EXIT_OK;
cleanup:
	oci_push_result_dispose(&res);
	oci_lint_policy_free(policy);
	free(pinned);
	oci_target_free(t);
	oci_ref_free(ref);
	oci_kvlist_dispose(&ann);
	oci_strlist_dispose(&ignore);
	return rc;
}

static const cli_option options[] = {
	{ 's', "source", 0, CLI_VALUE_TEXT, "URL", NULL, "org.opencontainers.image.source annotation (e.g. the Git URL)" },
	{ 'r', "revision", 0, CLI_VALUE_TEXT, "REV", NULL, "org.opencontainers.image.revision annotation (e.g. main@sha1:...)" },
	{ 'c', "created", 0, CLI_VALUE_TEXT, "RFC3339", NULL, "creation time (default: SOURCE_DATE_EPOCH, else now)" },
	{ 'a', "annotation", 'a', CLI_VALUE_TEXT, "K=V", NULL, "extra manifest annotation (repeatable)" },
	{ 'i', "ignore", 0, CLI_VALUE_TEXT, "PATTERN", NULL,
	  "gitignore-style pattern to leave out (repeatable; .sourceignore\nat PATH's root is read too; .git/ is never packed)" },
	{ 'p', "profile", 0, CLI_VALUE_ENUM, NULL, "portable flux",
	  "manifest layout (default portable); flux warns about\nwhat Flux drops (symlinks) or refuses (names with '\\' or '../')" },
	{ 'S', "strict", 0, CLI_VALUE_NONE, NULL, NULL, "with --profile flux: refuse to push such a tree instead" },
	{ 'k', "sign-key", 0, CLI_VALUE_FILE, "KEY", NULL, "sign what was pushed with this cosign key" },
	{ 'F', "signature-format", 0, CLI_VALUE_ENUM, NULL, "sig bundle",
	  "with --sign-key: cosign's .sig tag (default), or a\nSigstore bundle attached as an OCI 1.1 referrer (cosign v3)" },
	{ 'P', "policy", 0, CLI_VALUE_FILE, "FILE", NULL,
	  "lint policy (see ocisync-lint(1)); without it the default policy:\nimage-unpinned and plaintext-secret are errors" },
	{ 'd', "require-digest", 0, CLI_VALUE_NONE, NULL, NULL, "image-unpinned also wants images pinned by @sha256:" },
	{ 'N', "no-policy", 0, CLI_VALUE_NONE, NULL, NULL, "skip the lint checks (recorded as io.ocisync.policy: skipped)" },
	{ 'm', "max-size", 0, CLI_VALUE_TEXT, "BYTES", NULL, "refuse more file content than this (default 1 GiB, as pull and sync)" },
	{ 'n', "max-entries", 0, CLI_VALUE_TEXT, "N", NULL,
	  "refuse more files, directories and links (default 100000, as pull\nand sync); limits other than the defaults are recorded in the\n"
	  "manifest for pull/sync --publisher-limits" },
	{ 'E', "allow-empty", 0, CLI_VALUE_NONE, NULL, NULL,
	  "push a tree without any file (refused by default: an empty\ndirectory is almost always a wrong PATH)" },
	{ 0 },
};

const cli_command cli_cmd_push = {
	.name = "push",
	.run = cmd_push,
	.summary = "pack a directory and push it as an OCI artifact",
	.usage = "push REF PATH [options]",
	.description =
		"Packs PATH (a directory or one file) into one reproducible tar+gzip layer and pushes\n"
		"it with its manifest to REF, under every tag REF lists (app:v1.2.3,prod); a REF\n"
		"without a tag is pushed as :latest, the tag sync and pull read from such a REF.\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "REF", NULL, 0 }, { CLI_VALUE_DIR, "PATH", NULL, 0 }, { 0 } },
	.footer =
		"Lint findings go to stderr; an error finding refuses the push before anything is\n"
		"uploaded (exit 1). Prints the pinned reference REPO@sha256:HEX.\n",
};
