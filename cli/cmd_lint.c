/* ocisync lint PATH: the policy checks push runs, on their own. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "policy.h"

static int list_rules(cli *c)
{
	json_t *arr = c->json ? json_array() : NULL;
	for (const oci_lint_rule_info *r = oci_lint_rules(); r->id; r++) {
		if (arr)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "rule", r->id, "default",
							     oci_lint_severity_name(r->default_severity), "reason",
							     r->reason));
		else
			printf("%-18s %-8s %s\n", r->id, oci_lint_severity_name(r->default_severity), r->reason);
	}
	if (arr)
		cli_print_json(json_pack("{s:o}", "rules", arr));
	return EXIT_OK;
}

static int cmd_lint(cli *c, int argc, char **argv)
{
	oci_strlist ignore = OCI_STRLIST_INIT;
	const char *policy_file = NULL;
	int require_digest = 0, rules = 0, opt, rc;
	oci_lint_policy *policy = NULL;
	oci_lint_report rep = { 0 };
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_lint, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		switch (opt) {
		case 'P': policy_file = a.value; break;
		case 'd': require_digest = 1; break;
		case 'i': oci_strlist_push(&ignore, a.value); break;
		case 'R': rules = 1; break;
		}
	}
	if (opt < 0) {
		rc = a.rc;
		goto cleanup;
	}
	if (rules) {
		rc = list_rules(c);
		goto cleanup;
	}
	if (a.nargs != 1) {
		rc = cli_usage_error(c, "lint takes PATH");
		goto cleanup;
	}
	if ((rc = cli_policy_open(c, &policy, policy_file, require_digest)) != 0)
		goto cleanup;
	oci_pack_opts popts; oci_pack_opts_init(&popts);
	popts.ignore = &ignore;
	if (oci_lint_path(&rep, a.args[0], &popts, policy) < 0) {
		/* PATH missing or unreadable: nothing was checked */
		cli_fail(c, a.args[0]);
		rc = EXIT_USAGE;
		goto cleanup;
	}
	if (c->json) {
		cli_print_json(cli_lint_json(&rep));
	} else {
		cli_lint_print(stdout, &rep);
		if (!c->quiet)
			cli_lint_summary(stdout, &rep);
	}
	rc = rep.errors ? EXIT_FAIL : EXIT_OK;
cleanup:
	oci_lint_report_dispose(&rep);
	oci_lint_policy_free(policy);
	oci_strlist_dispose(&ignore);
	return rc;
}

static const cli_option options[] = {
	{ 'P', "policy", 0, CLI_VALUE_FILE, "FILE", NULL, "rule severities and allow-lists (YAML or JSON; see ocisync-lint(1))" },
	{ 'd', "require-digest", 0, CLI_VALUE_NONE, NULL, NULL, "image-unpinned also wants every image pinned by @sha256:" },
	{ 'i', "ignore", 0, CLI_VALUE_TEXT, "PATTERN", NULL, "gitignore-style pattern to leave out (repeatable)" },
	{ 'R', "rules", 0, CLI_VALUE_NONE, NULL, NULL, "list the rules, their default severity and why they matter" },
	{ 0 },
};

const cli_command cli_cmd_lint = {
	.name = "lint",
	.run = cmd_lint,
	.summary = "check manifests for GitOps anti-patterns (push runs the same checks)",
	.usage = "lint PATH [--policy FILE]",
	.description =
		"Checks the Kubernetes manifests PATH would pack to (*.yaml, *.yml, *.json; the same\n"
		"--ignore and .sourceignore rules as push) for GitOps anti-patterns. push runs the same\n"
		"checks before it uploads anything.\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_DIR, "PATH", NULL, 0 }, { 0 } },
	.footer =
		"Prints FILE:LINE: SEVERITY RULE: MESSAGE (document N) per finding and a summary line.\n"
		"Exit status: 0 no error findings (warnings allowed), 1 error findings, 2 usage error.\n",
};
