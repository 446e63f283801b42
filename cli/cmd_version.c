#include <string.h>

#include "cli.h"

int cmd_version(cli *c, int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return cli_help(c, "Prints the versions of ocisync, liboci and the libraries it links.\n");
	if (c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s}", "ocisync", OCI_VERSION_STRING,
					 "liboci", oci_version(), "libraries", oci_version_deps()));
		return EXIT_OK;
	}
	printf("ocisync %s\nliboci %s\n%s\n", OCI_VERSION_STRING, oci_version(), oci_version_deps());
	return EXIT_OK;
}
