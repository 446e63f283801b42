/* ocisync discover REF [--artifact-type TYPE]: list the OCI 1.1 referrers
 * of the digest REF resolves to (signatures, Sigstore bundles, SBOMs). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "oci/referrers.h"

static int cmd_discover(cli *c, int argc, char **argv)
{
	const char *artifact_type = NULL;
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	oci_referrers refs = OCI_REFERRERS_INIT;
	char *pinned = NULL;
	char digest[OCI_DIGEST_SIZE];
	int rc = EXIT_FAIL, opt;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_discover, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		switch (opt) {
		case 't':
			if (!*a.value) {
				rc = cli_usage_error(c, "--artifact-type needs a media type");
				goto cleanup;
			}
			artifact_type = a.value;
			break;
		}
	}
	if (opt < 0) {
		rc = a.rc;
		goto cleanup;
	}
	if (a.nargs != 1) {
		rc = cli_usage_error(c, "discover takes one REF");
		goto cleanup;
	}
	const char *refstr = a.args[0];
	if ((rc = cli_open_target(c, refstr, &ref, &t)) != 0)
		goto cleanup;
	if (oci_resolve_ref(digest, NULL, t) < 0 || oci_ref_format_pinned(&pinned, ref, digest) < 0 ||
	    oci_referrers_list(&refs, t, digest, artifact_type) < 0) {
		rc = cli_fail(c, refstr);
		goto cleanup;
	}
	rc = EXIT_OK;
	if (c->json) {
		json_t *list = json_array();
		for (size_t i = 0; list && i < refs.n; i++) {
			const oci_referrer *r = &refs.items[i];
			json_t *ann = json_object();
			for (size_t k = 0; ann && k < r->annotations.n; k++)
				json_object_set_new(ann, r->annotations.items[k].key, json_string(r->annotations.items[k].value));
			json_array_append_new(list, json_pack("{s:s, s:s, s:s?, s:I, s:o}", "digest", r->digest, "mediaType",
							      r->media_type, "artifactType", r->artifact_type, "size",
							      (json_int_t)r->size, "annotations", ann));
		}
		cli_print_json(json_pack("{s:s, s:s, s:s, s:o}", "reference", pinned, "digest", digest, "source",
					 refs.via_api ? "referrers-api" : "tag-schema", "referrers", list));
	} else if (!c->quiet) {
		for (size_t i = 0; i < refs.n; i++)
			printf("%s %s %lld\n", refs.items[i].digest,
			       refs.items[i].artifact_type ? refs.items[i].artifact_type : "-",
			       (long long)refs.items[i].size);
	}
cleanup:
	oci_referrers_dispose(&refs);
	oci_target_free(t);
	oci_ref_free(ref);
	free(pinned);
	return rc;
}

static const cli_option options[] = {
	{ 't', "artifact-type", 0, CLI_VALUE_TEXT, "TYPE", NULL, "only referrers of this artifact type" },
	{ 0 },
};

const cli_command cli_cmd_discover = {
	.name = "discover",
	.run = cmd_discover,
	.summary = "list the OCI 1.1 referrers of a reference (Sigstore bundles, SBOMs)",
	.usage = "discover REF [--artifact-type TYPE]",
	.description =
		"Lists the OCI 1.1 referrers of the manifest REF resolves to: manifests whose\n"
		"\"subject\" names it (Sigstore bundles cosign v3 attaches, SBOMs, ...). Read through\n"
		"the registry's referrers API when it has one, else the referrers tag sha256-<hex>\n"
		"(the tag schema; oci-layout directories always use it).\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "REF", NULL, 0 }, { 0 } },
	.footer =
		"Prints one line per referrer: DIGEST ARTIFACT-TYPE SIZE (\"-\" for no type); with\n"
		"-o json an object with the reference, where the list came from (\"referrers-api\"\n"
		"or \"tag-schema\") and each referrer's descriptor with its annotations.\n",
};
