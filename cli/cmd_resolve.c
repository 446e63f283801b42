/* ocisync resolve REF: tag → digest. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_resolve(cli *c, int argc, char **argv)
{
	cli_args a;
	if (cli_args_operands_only(&a, c, &cli_cmd_resolve, argc, argv) < 0)
		return a.rc;
	if (a.nargs != 1)
		return cli_usage_error(c, "resolve takes one REF");
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	int rc = cli_open_target(c, a.args[0], &ref, &t);
	if (rc)
		return rc;
	char digest[OCI_DIGEST_SIZE];
	char *mt = NULL;
	if (oci_resolve_ref(digest, &mt, t) < 0) {
		rc = cli_fail(c, a.args[0]);
	} else if (c->json) {
		char *pinned = NULL;
		oci_ref_format_pinned(&pinned, ref, digest);
		cli_print_json(json_pack("{s:s, s:s, s:s?}", "digest", digest, "reference", pinned, "media_type", mt));
		free(pinned);
	} else if (!c->quiet) {
		printf("%s\n", digest);
	}
	free(mt);
	oci_target_free(t);
	oci_ref_free(ref);
	return rc;
}

const cli_command cli_cmd_resolve = {
	.name = "resolve",
	.run = cmd_resolve,
	.summary = "print the digest a reference resolves to",
	.usage = "resolve REF",
	.description =
		"Resolves REF's tag (or checks its digest) with one request and prints\n"
		"the manifest digest sha256:HEX.\n",
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "REF", NULL, 0 }, { 0 } },
};
