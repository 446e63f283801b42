/* ocisync delete REF: a manifest by digest (a tag is resolved first), or
 * with --untag only the tag. Deleting a manifest cannot be undone and takes
 * every tag naming it along, which a registry cannot list cheaply: it asks
 * for --yes every time. Removing a tag alone can be undone (ocisync tag), so
 * --untag needs none. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_delete(cli *c, int argc, char **argv)
{
	int yes = 0, untag = 0, opt;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_delete, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		switch (opt) {
		case 'y': yes = 1; break;
		case 'u': untag = 1; break;
		}
	}
	if (opt < 0)
		return a.rc;
	if (a.nargs != 1)
		return cli_usage_error(c, "delete takes one REF");
	const char *refstr = a.args[0];
	oci_ref *ref = NULL;
	if (oci_ref_parse(&ref, refstr) < 0)
		return cli_usage_error(c, "%s", oci_error_last()->message);
	int has_tag = ref->tags.n > 0, has_digest = ref->digest != NULL;
	oci_ref_free(ref);
	/* every refusal before any request */
	if (!has_tag && !has_digest)
		return cli_usage_error(c, "%s names neither a tag nor a digest: name what to delete", refstr);
	if (untag && !has_tag)
		return cli_usage_error(c, "--untag removes a tag, and %s names none", refstr);
	if (!untag && !yes)
		return cli_usage_error(c, "deleting the manifest %s cannot be undone and removes every tag naming it: "
					  "pass --yes (or --untag to remove only the tag)", refstr);
	oci_target *t = NULL;
	int rc = cli_open_target(c, refstr, &ref, &t);
	if (rc)
		return rc;
	char digest[OCI_DIGEST_SIZE], *pinned = NULL;
	if (oci_delete(digest, t, untag ? OCI_DELETE_UNTAG : 0) < 0) {
		rc = cli_fail(c, refstr);
	} else {
		oci_ref_format_pinned(&pinned, ref, digest);
		if (c->json) {
			json_t *tags = json_array();
			for (size_t i = 0; untag && i < ref->tags.n; i++)
				json_array_append_new(tags, json_string(ref->tags.items[i]));
			cli_print_json(json_pack("{s:s, s:s, s:s, s:o}", "reference", pinned, "digest", digest, "deleted",
						 untag ? "tag" : "manifest", "untagged", tags));
		} else if (!c->quiet) {
			printf("%s %s\n", untag ? "untagged" : "deleted", untag ? refstr : pinned);
		}
		if (!untag && !c->quiet && !strcmp(oci_target_kind(t), "oci-layout"))
			fprintf(stderr, "ocisync delete: the blobs stay in the layout until a garbage collection\n");
	}
	free(pinned);
	oci_target_free(t);
	oci_ref_free(ref);
	return rc;
}

static const cli_option options[] = {
	{ 'y', "yes", 'y', CLI_VALUE_NONE, NULL, NULL, "delete the manifest (required: it cannot be undone)" },
	{ 'u', "untag", 0, CLI_VALUE_NONE, NULL, NULL, "remove only REF's tags; the manifest and its other tags stay\n(oci-layout:; a registry must support deleting a tag alone)" },
	{ 0 },
};

const cli_command cli_cmd_delete = {
	.name = "delete",
	.run = cmd_delete,
	.summary = "delete a manifest (every tag naming it), or with --untag only a tag",
	.usage = "delete REF (--yes | --untag)",
	.description =
		"Deletes the manifest REF names: its digest, or the digest its tag resolves to\n"
		"(resolved first, so what is deleted is what the tag named then). Every tag naming\n"
		"that digest goes with it. A registry must allow deletes (docker-registry:\n"
		"REGISTRY_STORAGE_DELETE_ENABLED=true); in an oci-layout: the entries leave\n"
		"index.json and the blobs stay until a garbage collection.\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "REF", NULL, 0 }, { 0 } },
	.footer = "Prints the pinned reference of what was deleted (or untagged).\n",
};
