/* ocisync tags REPO: list tags, following pagination. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "oci/semver.h"

static int is_cosign_tag(const char *t)
{
	size_t n = strlen(t);
	if (strncmp(t, "sha256-", 7) != 0)
		return 0;
	/* The OCI 1.1 referrers tag (distribution-spec "Referrers Tag Schema"). */
	if (n == 7 + 64 && strspn(t + 7, "0123456789abcdef") == 64)
		return 1;
	return (n > 4 && !strcmp(t + n - 4, ".sig")) || (n > 4 && !strcmp(t + n - 4, ".att")) ||
	       (n > 5 && !strcmp(t + n - 5, ".sbom"));
}

static int cmd_tags(cli *c, int argc, char **argv)
{
	const char *range = NULL;
	int all = 0, opt;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_tags, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		switch (opt) {
		case 's': range = a.value; break;
		case 'A': all = 1; break;
		}
	}
	if (opt < 0)
		return a.rc;
	if (a.nargs != 1)
		return cli_usage_error(c, "tags takes one REPO");
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	int rc = cli_open_target(c, a.args[0], &ref, &t);
	if (rc)
		return rc;
	oci_strlist tags = OCI_STRLIST_INIT, shown = OCI_STRLIST_INIT;
	if (oci_target_tags(&tags, t) < 0) {
		rc = cli_fail(c, a.args[0]);
		goto cleanup;
	}
	if (range) {
		if (oci_semver_filter(&shown, &tags, range) < 0) {
			rc = oci_error_last()->code == OCI_EINVALID ? cli_usage_error(c, "%s", cli_last_error())
								     : cli_fail(c, a.args[0]);
			goto cleanup;
		}
	} else {
		for (size_t i = 0; i < tags.n; i++)
			if (all || !is_cosign_tag(tags.items[i]))
				oci_strlist_push(&shown, tags.items[i]);
	}
	if (c->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < shown.n; i++)
			json_array_append_new(a, json_string(shown.items[i]));
		char *repo = NULL;
		oci_ref_format_repo(&repo, ref);
		cli_print_json(json_pack("{s:s, s:o}", "repository", repo, "tags", a));
		free(repo);
	} else {
		for (size_t i = 0; i < shown.n; i++)
			printf("%s\n", shown.items[i]);
	}
cleanup:
	oci_strlist_dispose(&tags);
	oci_strlist_dispose(&shown);
	oci_target_free(t);
	oci_ref_free(ref);
	return rc;
}

static const cli_option options[] = {
	{ 's', "semver", 0, CLI_VALUE_TEXT, "RANGE", NULL, "only tags that are versions in RANGE, in ascending order\n('>=1.2.0 <2.0.0', '^1.2', '~1.2', '1.x'; a 'v' prefix is allowed)" },
	{ 'A', "all", 0, CLI_VALUE_NONE, NULL, NULL, "include cosign signature tags" },
	{ 0 },
};

const cli_command cli_cmd_tags = {
	.name = "tags",
	.run = cmd_tags,
	.summary = "list a repository's tags",
	.usage = "tags REPO [--semver RANGE] [--all]",
	.description =
		"Lists REPO's tags, one a line, following the registry's pagination.\n"
		"cosign tags (sha256-<hex>.sig/.att/.sbom) and referrers tags (sha256-<hex>) are\n"
		"hidden unless --all.\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "REPO", NULL, 0 }, { 0 } },
	.footer = NULL,
};
