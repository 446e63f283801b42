/* ocisync tag REF NEWTAG...: more tags for the same digest, no blob moved. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_tag(cli *c, int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return cli_help(c, "Points each NEWTAG (also comma-separated lists) at the digest REF resolves to.\n"
				   "Only the manifest is written again; no blob is uploaded.\n\n"
				   "Prints the pinned reference.\n");
	if (argc < 3)
		return cli_usage_error(c, "tag takes REF and at least one NEWTAG");
	oci_strlist tags = OCI_STRLIST_INIT;
	for (int i = 2; i < argc; i++) {
		if (argv[i][0] == '-') {
			oci_strlist_dispose(&tags);
			return cli_usage_error(c, "unknown option %s", argv[i]);
		}
		char *copy = strdup(argv[i]), *save = NULL;
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
	int rc = cli_open_target(c, argv[1], &ref, &t);
	if (rc) {
		oci_strlist_dispose(&tags);
		return rc;
	}
	char digest[OCI_DIGEST_SIZE];
	char *pinned = NULL;
	if (oci_tag_add(digest, t, &tags) < 0) {
		rc = cli_fail(c, argv[1]);
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
