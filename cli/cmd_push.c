/* ocisync push REF PATH: pack PATH and push it as one artifact. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "policy.h"
#include "signing.h"

static const char help[] =
	"Packs PATH (a directory or one file) into one reproducible tar+gzip layer and pushes\n"
	"it with its manifest to REF, under every tag REF lists (app:v1.2.3,prod); a REF\n"
	"without a tag is pushed as :latest, the tag sync and pull read from such a REF.\n\n"
	"Options:\n"
	"  --source URL          org.opencontainers.image.source annotation (e.g. the Git URL)\n"
	"  --revision REV        org.opencontainers.image.revision annotation (e.g. main@sha1:...)\n"
	"  --created RFC3339     creation time (default: SOURCE_DATE_EPOCH, else now)\n"
	"  -a, --annotation K=V  extra manifest annotation (repeatable)\n"
	"  --ignore PATTERN      gitignore-style pattern to leave out (repeatable; .sourceignore\n"
	"                        at PATH's root is read too; .git/ is never packed)\n"
	"  --profile portable|flux   manifest layout (default portable); flux warns about\n"
	"                        what Flux drops (symlinks) or refuses (names with '\\' or '../')\n"
	"  --strict              with --profile flux: refuse to push such a tree instead\n"
	"  --sign-key KEY        sign what was pushed with this cosign key\n"
	"  --policy FILE         lint policy (see ocisync-lint(1)); without it the default policy:\n"
	"                        image-unpinned and plaintext-secret are errors\n"
	"  --require-digest      image-unpinned also wants images pinned by @sha256:\n"
	"  --no-policy           skip the lint checks (recorded as io.ocisync.policy: skipped)\n"
	"  --signature-format sig|bundle   with --sign-key: cosign's .sig tag (default), or a\n"
	"                        Sigstore bundle attached as an OCI 1.1 referrer (cosign v3)\n"
	"  --max-size BYTES      refuse more file content than this (default 1 GiB, as pull and sync)\n"
	"  --max-entries N       refuse more files, directories and links (default 100000, as pull\n"
	"                        and sync); limits other than the defaults are recorded in the\n"
	"                        manifest for pull/sync --publisher-limits\n"
	"  --allow-empty         push a tree without any file (refused by default: an empty\n"
	"                        directory is almost always a wrong PATH)\n"
	"  -h, --help            this help\n\n"
	"Lint findings go to stderr; an error finding refuses the push before anything is\n"
	"uploaded (exit 1). Prints the pinned reference REPO@sha256:HEX.\n";

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
		{ "policy", required_argument, NULL, 'P' },
		{ "require-digest", no_argument, NULL, 'd' },
		{ "no-policy", no_argument, NULL, 'N' },
		{ "allow-empty", no_argument, NULL, 'E' },
		{ "strict", no_argument, NULL, 'S' },
		{ "signature-format", required_argument, NULL, 'F' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "max-entries", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
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
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":a:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': opts.source = optarg; break;
		case 'r': opts.revision = optarg; break;
		case 'c': opts.created = optarg; break;
		case 'a':
			if (oci_kvlist_set_pair(&ann, optarg) < 0) {
				rc = cli_usage_error(c, "%s", cli_last_error());
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
		case 'P': policy_file = optarg; break;
		case 'd': require_digest = 1; break;
		case 'N': no_policy = 1; break;
		case 'S': strict = 1; break;
		case 'F':
			if ((bundle = cli_signature_format(optarg)) < 0) {
				rc = cli_usage_error(c, "--signature-format takes sig or bundle, not '%s'", optarg);
				goto cleanup;
			}
			break;
		case 'm':
			if ((rc = cli_parse_limit(c, &opts.max_size, "--max-size", optarg)) != 0)
				goto cleanup;
			break;
		case 'E': opts.allow_empty = 1; break;
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
	if (opts.profile == OCI_PROFILE_FLUX && (rc = flux_check(c, argv[optind + 1], &ignore, strict)) != 0)
		goto cleanup;
	/* A key that can't be read fails before anything is pushed. */
	cli_signer *signer = NULL;
	if (sign_key && (rc = cli_signer_open(c, &signer, sign_key)) != 0)
		goto cleanup;
	/* SIGTERM, Ctrl-C: the transfer aborts, temporaries are removed */
	cli_cancel_on_signals(c);
	if ((rc = cli_open_target(c, argv[optind], &ref, &t)) != 0) {
		cli_signer_close(signer);
		goto cleanup;
	}
	if (ref->digest) {
		cli_signer_close(signer);
		rc = cli_usage_error(c, "push needs a tag, not a digest, in '%s'", argv[optind]);
		goto cleanup;
	}
	if (!ref->tags.n && !c->quiet && !c->json)
		fprintf(stderr, "ocisync push: no tag in %s: using the default tag latest\n", argv[optind]);
	int push_rc = oci_push(&res, t, argv[optind + 1], &opts);
	if (res.policy_checked && !c->json)
		cli_lint_print(stderr, &res.lint);
	if (push_rc < 0) {
		cli_signer_close(signer);
		if (c->json && push_rc == OCI_EPOLICY) /* the findings, beside the error object */
			c->json_top = json_pack("{s:o}", "policy", cli_lint_json(&res.lint));
		rc = cli_fail(c, argv[optind + 1]);
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
