/* ocisync manifest REF: the manifest bytes exactly as stored. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int cmd_manifest(cli *c, int argc, char **argv)
{
	cli_args a;
	if (cli_args_operands_only(&a, c, &cli_cmd_manifest, argc, argv) < 0)
		return a.rc;
	if (a.nargs != 1)
		return cli_usage_error(c, "manifest takes one REF");
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	int rc = cli_open_target(c, a.args[0], &ref, &t);
	if (rc)
		return rc;
	oci_buf b = OCI_BUF_INIT;
	char *mt = NULL;
	char digest[OCI_DIGEST_SIZE];
	const char *what = ref->digest ? ref->digest : ref->tags.n ? ref->tags.items[0] : "latest";
	if (oci_target_manifest_get(&b, &mt, digest, t, what) < 0) {
		rc = cli_fail(c, a.args[0]);
	} else if (c->json) {
		json_t *doc = json_loadb(b.data, b.len, 0, NULL);
		cli_print_json(json_pack("{s:s, s:s?, s:o?}", "digest", digest, "media_type", mt, "manifest", doc));
	} else {
		fwrite(b.data, 1, b.len, stdout);
		if (isatty(1) && (b.len == 0 || b.data[b.len - 1] != '\n'))
			putchar('\n');
	}
	free(mt);
	oci_buf_dispose(&b);
	oci_target_free(t);
	oci_ref_free(ref);
	return rc;
}

const cli_command cli_cmd_manifest = {
	.name = "manifest",
	.run = cmd_manifest,
	.summary = "print the manifest bytes exactly as stored",
	.usage = "manifest REF",
	.description =
		"Prints the manifest REF names, byte for byte as stored (its digest is\n"
		"checked). With -o json it prints an object with digest, media_type and the\n"
		"manifest parsed.\n",
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "REF", NULL, 0 }, { 0 } },
};
