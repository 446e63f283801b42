/* ocisync tag REF NEWTAG...: more tags for the same digest, no blob moved. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_tag(cli *c, int argc, char **argv)
{
	cli_args a;
	if (cli_args_operands_only(&a, c, &cli_cmd_tag, argc, argv) < 0)
		return a.rc;
	if (a.nargs < 2)
		return cli_usage_error(c, "tag takes REF and at least one NEWTAG");
	oci_strlist tags = OCI_STRLIST_INIT;
	for (int i = 1; i < a.nargs; i++) {
		char *copy = strdup(a.args[i]), *save = NULL;
		for (char *tk = strtok_r(copy, ",", &save); tk; tk = strtok_r(NULL, ",", &save)) {
			if (oci_tag_validate(tk) < 0) {
				free(copy);
				oci_strlist_dispose(&tags);
				return cli_usage_error(c, "%s", cli_last_error());
			}
			oci_strlist_push(&tags, tk);
		}
		free(copy);
	}
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	int rc = cli_open_target(c, a.args[0], &ref, &t);
	if (rc) {
		oci_strlist_dispose(&tags);
		return rc;
	}
	char digest[OCI_DIGEST_SIZE];
	char *pinned = NULL;
	if (oci_tag_add(digest, t, &tags) < 0) {
		rc = cli_fail(c, a.args[0]);
	} else {
		oci_ref_format_pinned(&pinned, ref, digest);
		if (c->json) {
			json_t *a = json_array();
			for (size_t i = 0; i < tags.n; i++)
				json_array_append_new(a, json_string(tags.items[i]));
			cli_print_json(json_pack("{s:s, s:s, s:o}", "reference", pinned, "digest", digest, "tags", a));
		} else if (!c->quiet) {
			printf("%s\n", pinned);
		}
	}
	free(pinned);
	oci_strlist_dispose(&tags);
	oci_target_free(t);
	oci_ref_free(ref);
	return rc;
}

const cli_command cli_cmd_tag = {
	.name = "tag",
	.run = cmd_tag,
	.summary = "point more tags at a reference's digest",
	.usage = "tag REF NEWTAG...",
	.description =
		"Points each NEWTAG (also comma-separated lists) at the digest REF resolves to.\n"
		"Only the manifest is written again; no blob is uploaded.\n",
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "REF", NULL, 0 }, { CLI_VALUE_TEXT, "NEWTAG", NULL, 1 }, { 0 } },
};
