/* ocisync: the command table, the overview and dispatch. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* One line per command; its spec (options, operands, help) is in its
 * cmd_<name>.c. The order is the order of ocisync --help. */
const cli_command *const cli_commands[] = {
	&cli_cmd_push,
	&cli_cmd_pull,
	&cli_cmd_resolve,
	&cli_cmd_manifest,
	&cli_cmd_inspect,
	&cli_cmd_tag,
	&cli_cmd_copy,
	&cli_cmd_delete,
	&cli_cmd_tags,
	&cli_cmd_diff,
	&cli_cmd_lint,
	&cli_cmd_sync,
	&cli_cmd_keygen,
	&cli_cmd_sign,
	&cli_cmd_verify,
	&cli_cmd_discover,
	&cli_cmd_login,
	&cli_cmd_logout,
	&cli_cmd_completion,
	&cli_cmd_version,
	NULL,
};

const cli_command *cli_find_command(const char *name)
{
	for (const cli_command *const *cmd = cli_commands; *cmd; cmd++)
		if (strcmp((*cmd)->name, name) == 0)
			return *cmd;
	return NULL;
}

static void print_overview(FILE *f)
{
	fprintf(f, "Usage: ocisync [global options] COMMAND [options] [args]\n\n"
		   "Packs rendered Kubernetes manifests into reproducible, signed OCI artifacts,\n"
		   "pushes them to any OCI registry or an oci-layout: directory, and pulls,\n"
		   "verifies and syncs them on clusters.\n\nCommands:\n");
	for (const cli_command *const *cmd = cli_commands; *cmd; cmd++)
		fprintf(f, "  %-10s %s\n", (*cmd)->name, (*cmd)->summary);
	fprintf(f, "\nGlobal options (before or after the command):\n");
	for (const cli_option *o = cli_global_options; o->id; o++) {
		char left[64];
		int n = o->short_name ? snprintf(left, sizeof left, "  -%c, --%s", o->short_name, o->name)
				      : snprintf(left, sizeof left, "  --%s", o->name);
		if (o->value == CLI_VALUE_ENUM)
			snprintf(left + n, sizeof left - (size_t)n, " text|json");
		else if (o->value != CLI_VALUE_NONE)
			snprintf(left + n, sizeof left - (size_t)n, " %s", o->metavar);
		fprintf(f, "%-26s", left);
		for (const char *h = o->help; *h; h++) {
			fputc(*h, f);
			if (*h == '\n')
				fprintf(f, "%26s", "");
		}
		fputc('\n', f);
	}
	fprintf(f, "  -h, --help              help (ocisync COMMAND --help for a command)\n\n"
		   "Options and operands mix; -- ends the options; short flags combine (-qv).\n"
		   "References: [oci://]HOST[:PORT]/REPO[:TAG[,TAG...]][@sha256:HEX] or\n"
		   "            oci-layout:PATH[:TAG[,TAG...]][@sha256:HEX]\n"
		   "Exit codes: 0 success, 1 failure, 2 usage error. See ocisync(1).\n");
}

static void log_line(void *ctx, oci_log_level level, const char *line)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "ocisync: %s\n", line);
}

static int run(cli *c, int argc, char **argv)
{
	/* The global options before the command; the command's parser reads
	 * those after it (and checks them all once the line is read). */
	cli_args a;
	cli_args_init(&a, c, NULL, argc, argv);
	int opt;
	while ((opt = cli_args_next(&a)) > 0)
		; /* only global options: applied by the parser */
	if (opt < 0)
		return a.rc;
	c->client.callbacks.log = log_line;
	c->client.callbacks.payload = c;
	c->client.user_agent = "ocisync/" OCI_VERSION_STRING;
	oci_init();

	if (a.nargs < 1) {
		if (c->want_version && !c->want_help)
			return cmd_version(c, 0, NULL);
		print_overview(c->want_help ? stdout : stderr);
		if (!c->want_help)
			cli_json_error(c, "usage", NULL, "no command given (see ocisync --help)");
		return c->want_help ? EXIT_OK : EXIT_USAGE;
	}
	const char *name = a.args[0];
	const cli_command *cmd = cli_find_command(name);
	if (!cmd && strcmp(name, "help") == 0) {
		if (a.nargs > 1 && (cmd = cli_find_command(a.args[1]))) {
			c->command = cmd->name;
			return cli_command_help(c, cmd);
		}
		print_overview(stdout);
		return EXIT_OK;
	}
	if (!cmd)
		return cli_usage_error(c, "unknown command '%s' (see ocisync --help)", name);
	c->command = cmd->name;
	if (c->want_help)
		return cli_command_help(c, cmd);
	if (c->want_version)
		return cmd_version(c, 0, NULL);
	return cmd->run(c, a.nargs, a.args);
}

int main(int argc, char **argv)
{
	cli c;
	memset(&c, 0, sizeof c);
	oci_client_opts_init(&c.client);
	c.prog = "ocisync";
	c.json = cli_wants_json(argc, argv);
	/* every way out passes here: the -o json error object, once */
	int rc = cli_json_finish(&c, run(&c, argc, argv));
	oci_registry_settings_free(c.settings);
	/* The process-wide caches (registry tokens, wiped) go before exit, so
	 * a leak checker sees none and no token outlives its use in memory. */
	oci_shutdown();
	return rc;
}
