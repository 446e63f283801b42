/* ocisync version: the versions of ocisync, liboci and its libraries. */
#include <string.h>

#include "cli.h"

int cmd_version(cli *c, int argc, char **argv)
{
	if (argc > 0) { /* argc 0: --version, the line already read */
		cli_args a;
		if (cli_args_operands_only(&a, c, &cli_cmd_version, argc, argv) < 0)
			return a.rc;
		if (a.nargs)
			return cli_usage_error(c, "version takes no arguments");
	}
	if (c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:s}", "ocisync", OCI_VERSION_STRING,
					 "liboci", oci_version(), "libraries", oci_version_deps()));
		return EXIT_OK;
	}
	printf("ocisync %s\nliboci %s\n%s\n", OCI_VERSION_STRING, oci_version(), oci_version_deps());
	return EXIT_OK;
}

const cli_command cli_cmd_version = {
	.name = "version",
	.run = cmd_version,
	.summary = "print versions of ocisync, liboci and its libraries",
	.usage = "version",
	.description = "Prints the versions of ocisync, liboci and the libraries it links.\n",
};
