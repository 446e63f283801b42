/* ocisync logout HOST: removes HOST's credentials from where login put
 * them (the credential helper configured for HOST, else the config file). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char logout_help[] =
	"Removes the credentials stored for HOST: through the Docker config's\n"
	"credential helper for HOST when one is configured, else from the config\n"
	"file's \"auths\" (every spelling of HOST; the file keeps its other keys).\n"
	"Fails when nothing was stored for HOST.\n";

int cmd_logout(cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == 'h')
			return cli_help(c, logout_help);
		return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
	}
	if (optind + 1 != argc)
		return cli_usage_error(c, "logout takes one HOST");
	char host[256];
	oci_credentials_normalize_host(host, sizeof host, argv[optind]);
	if (!*host)
		return cli_usage_error(c, "'%s' is not a registry host", argv[optind]);
	char *where = NULL;
	if (oci_credentials_erase(&where, host, c->client.registry_config) < 0)
		return cli_fail(c, NULL);
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s}", "host", host, "removed_from", where));
	else if (!c->quiet)
		printf("Removed credentials for %s\n", host);
	free(where);
	return EXIT_OK;
}
