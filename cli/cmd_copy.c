/* ocisync copy SRC DST: any target to any target. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_copy(cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "with-signatures", no_argument, NULL, 's' },
		{ "allow-unsigned", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int with_sigs = 0, allow_unsigned = 0, opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': with_sigs = 1; break;
		case 'u': allow_unsigned = 1; break;
		case 'h':
			return cli_help(c, "Copies the artifact SRC names (manifest, blobs, an index's manifests) to DST:\n"
					   "registry to registry, registry to oci-layout: and back. Blobs DST already has are\n"
					   "skipped; within one registry they are mounted, not uploaded. DST's tags are used,\n"
					   "or SRC's when DST names none.\n\n"
					   "Options:\n  --with-signatures   also copy the cosign signatures (sha256-<hex>.sig) and the\n"
					   "                      OCI 1.1 referrers; a SRC without any is refused\n"
					   "  --allow-unsigned    with --with-signatures: copy a SRC without signatures anyway\n"
					   "  -h, --help          this help\n\nPrints the pinned destination reference.\n");
		default: return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(c, "copy takes SRC and DST");
	if (allow_unsigned && !with_sigs)
		return cli_usage_error(c, "--allow-unsigned goes with --with-signatures");
	oci_ref *sref = NULL, *dref = NULL;
	oci_target *src = NULL, *dst = NULL;
	char digest[OCI_DIGEST_SIZE], *pinned = NULL;
	int rc = cli_open_target(c, argv[optind], &sref, &src);
	if (rc == 0)
		rc = cli_open_target(c, argv[optind + 1], &dref, &dst);
	if (rc == 0) {
		int flags = (with_sigs ? OCI_COPY_SIGNATURES : 0) | (allow_unsigned ? OCI_COPY_ALLOW_UNSIGNED : 0);
		if (oci_copy(digest, src, dst, flags) < 0) {
			rc = cli_fail(c, argv[optind + 1]);
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
