/* ocisync delete REF: a manifest by digest (a tag is resolved first), or
 * with --untag only the tag. Deleting a manifest cannot be undone and takes
 * every tag naming it along, which a registry cannot list cheaply: it asks
 * for --yes every time. Removing a tag alone can be undone (ocisync tag), so
 * --untag needs none. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char delete_help[] =
	"Deletes the manifest REF names: its digest, or the digest its tag resolves to\n"
	"(resolved first, so what is deleted is what the tag named then). Every tag naming\n"
	"that digest goes with it. A registry must allow deletes (docker-registry:\n"
	"REGISTRY_STORAGE_DELETE_ENABLED=true); in an oci-layout: the entries leave\n"
	"index.json and the blobs stay until a garbage collection.\n\n"
	"Options:\n"
	"  -y, --yes     delete the manifest (required: it cannot be undone)\n"
	"  --untag       remove only REF's tags; the manifest and its other tags stay\n"
	"                (oci-layout:; a registry must support deleting a tag alone)\n"
	"  -h, --help    this help\n\n"
	"Prints the pinned reference of what was deleted (or untagged).\n";

int cmd_delete(cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "untag", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int yes = 0, untag = 0, opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":yh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'y': yes = 1; break;
		case 'u': untag = 1; break;
		case 'h': return cli_help(c, delete_help);
		default: return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(c, "delete takes one REF");
	const char *refstr = argv[optind];
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
