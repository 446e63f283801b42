/* ocisync logout HOST: removes HOST's credentials from where login put
 * them (the credential helper configured for HOST, else the config file). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_logout(cli *c, int argc, char **argv)
{
	int opt;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_logout, argc, argv);
	while ((opt = cli_args_next(&a)) > 0)
		; /* no options of its own */
	if (opt < 0)
		return a.rc;
	if (a.nargs != 1)
		return cli_usage_error(c, "logout takes one HOST");
	char host[256];
	oci_credentials_normalize_host(host, sizeof host, a.args[0]);
	if (!*host)
		return cli_usage_error(c, "'%s' is not a registry host", a.args[0]);
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

static const cli_option options[] = {
	{ 0 },
};

const cli_command cli_cmd_logout = {
	.name = "logout",
	.run = cmd_logout,
	.summary = "remove the credentials stored for a registry",
	.usage = "logout HOST",
	.description =
		"Removes the credentials stored for HOST: through the Docker config's\n"
		"credential helper for HOST when one is configured, else from the config\n"
		"file's \"auths\" (every spelling of HOST; the file keeps its other keys).\n"
		"Fails when nothing was stored for HOST.\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_TEXT, "HOST", NULL, 0 }, { 0 } },
	.footer = NULL,
};
