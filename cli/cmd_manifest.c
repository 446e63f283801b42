/* ocisync manifest REF: the manifest bytes exactly as stored. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cmd_manifest(cli *c, int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return cli_help(c, "Prints the manifest REF names, byte for byte as stored (its digest is\n"
				   "checked). With -o json it prints an object with digest, mediaType and the\n"
				   "manifest parsed.\n");
	if (argc != 2 || argv[1][0] == '-')
		return argc == 2 ? cli_usage_error(c, "unknown option %s", argv[1]) : cli_usage_error(c, "manifest takes one REF");
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	int rc = cli_open_target(c, argv[1], &ref, &t);
	if (rc)
		return rc;
	oci_buf b = OCI_BUF_INIT;
	char *mt = NULL;
	char digest[OCI_DIGEST_SIZE];
	const char *what = ref->digest ? ref->digest : ref->tags.n ? ref->tags.items[0] : "latest";
	if (oci_target_manifest_get(&b, &mt, digest, t, what) < 0) {
		rc = cli_fail(c, argv[1]);
	} else if (c->json) {
		json_t *doc = json_loadb(b.data, b.len, 0, NULL);
		cli_print_json(json_pack("{s:s, s:s?, s:o?}", "digest", digest, "mediaType", mt, "manifest", doc));
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
