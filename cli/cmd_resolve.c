/* ocisync resolve REF: tag → digest. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_resolve(cli *c, int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return cli_help(c, "Resolves REF's tag (or checks its digest) with one request and prints\n"
				   "the manifest digest sha256:HEX.\n");
	if (argc != 2 || argv[1][0] == '-')
		return argc == 2 ? cli_usage_error(c, "unknown option %s", argv[1]) : cli_usage_error(c, "resolve takes one REF");
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	int rc = cli_open_target(c, argv[1], &ref, &t);
	if (rc)
		return rc;
	char digest[OCI_DIGEST_SIZE];
	char *mt = NULL;
	if (oci_resolve_ref(digest, &mt, t) < 0) {
		rc = cli_fail(c, argv[1]);
	} else if (c->json) {
		char *pinned = NULL;
		oci_ref_format_pinned(&pinned, ref, digest);
		cli_print_json(json_pack("{s:s, s:s, s:s?}", "digest", digest, "reference", pinned, "mediaType", mt));
		free(pinned);
	} else if (!c->quiet) {
		printf("%s\n", digest);
	}
	free(mt);
	oci_target_free(t);
	oci_ref_free(ref);
	return rc;
}
