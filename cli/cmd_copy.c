/* ocisync copy SRC DST: any target to any target. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_copy(cli *c, int argc, char **argv)
{
	int with_sigs = 0, allow_unsigned = 0, opt;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_copy, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		switch (opt) {
		case 's': with_sigs = 1; break;
		case 'u': allow_unsigned = 1; break;
		}
	}
	if (opt < 0)
		return a.rc;
	if (a.nargs != 2)
		return cli_usage_error(c, "copy takes SRC and DST");
	if (allow_unsigned && !with_sigs)
		return cli_usage_error(c, "--allow-unsigned goes with --with-signatures");
	oci_ref *sref = NULL, *dref = NULL;
	oci_target *src = NULL, *dst = NULL;
	char digest[OCI_DIGEST_SIZE], *pinned = NULL;
	int rc = cli_open_target(c, a.args[0], &sref, &src);
	if (rc == 0)
		rc = cli_open_target(c, a.args[1], &dref, &dst);
	if (rc == 0) {
		int flags = (with_sigs ? OCI_COPY_SIGNATURES : 0) | (allow_unsigned ? OCI_COPY_ALLOW_UNSIGNED : 0);
		if (oci_copy(digest, src, dst, flags) < 0) {
			rc = cli_fail(c, a.args[1]);
		} else {
			cli_progress_done(c);
			oci_ref_format_pinned(&pinned, dref, digest);
			if (c->json)
				cli_print_json(json_pack("{s:s, s:s}", "reference", pinned, "digest", digest));
			else if (!c->quiet)
				printf("%s\n", pinned);
		}
	}
	free(pinned);
	oci_target_free(src);
	oci_target_free(dst);
	oci_ref_free(sref);
	oci_ref_free(dref);
	return rc;
}

static const cli_option options[] = {
	{ 's', "with-signatures", 0, CLI_VALUE_NONE, NULL, NULL, "also copy the cosign signatures (sha256-<hex>.sig) and the\nOCI 1.1 referrers; a SRC without any is refused" },
	{ 'u', "allow-unsigned", 0, CLI_VALUE_NONE, NULL, NULL, "with --with-signatures: copy a SRC without signatures anyway" },
	{ 0 },
};

const cli_command cli_cmd_copy = {
	.name = "copy",
	.run = cmd_copy,
	.summary = "copy an artifact between any two references",
	.usage = "copy SRC DST [--with-signatures]",
	.description =
		"Copies the artifact SRC names (manifest, blobs, an index's manifests) to DST:\n"
		"registry to registry, registry to oci-layout: and back. Blobs DST already has are\n"
		"skipped; within one registry they are mounted, not uploaded. DST's tags are used,\n"
		"or SRC's when DST names none.\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "SRC", NULL, 0 }, { CLI_VALUE_REF, "DST", NULL, 0 }, { 0 } },
	.footer = "Prints the pinned destination reference.\n",
};
