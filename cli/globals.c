/* The global options: their spec (shared by the parser, --help and the
 * completions) and what each one sets. Their errors read "ocisync: ...",
 * wherever on the line the option stood: they are not the command's. */
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum {
	G_PLAIN = CLI_GLOBAL_BASE + 1, G_INSECURE, G_CA, G_CERT, G_KEY, G_CONFIG, G_OUTPUT, G_QUIET, G_VERBOSE,
	G_NOPROG, G_TIMEOUT, G_MINSPEED,
};

const cli_option cli_global_options[] = {
	{ .id = G_PLAIN, .name = "plain-http", .help = "HTTP instead of HTTPS (default for loopback hosts)" },
	{ .id = G_INSECURE, .name = "insecure", .help = "HTTPS without certificate checks" },
	{ .id = G_CA, .name = "ca-file", .value = CLI_VALUE_FILE, .metavar = "F", .help = "trust the CA certificates in F" },
	{ .id = G_CERT, .name = "cert-file", .value = CLI_VALUE_FILE, .metavar = "F",
	  .help = "client certificate for mutual TLS (with --key-file)" },
	{ .id = G_KEY, .name = "key-file", .value = CLI_VALUE_FILE, .metavar = "F",
	  .help = "the client certificate's private key (with --cert-file)" },
	{ .id = G_CONFIG, .name = "registry-config", .value = CLI_VALUE_FILE, .metavar = "F",
	  .help = "Docker config.json with credentials" },
	{ .id = G_OUTPUT, .name = "output", .short_name = 'o', .value = CLI_VALUE_ENUM, .values = "text json",
	  .help = "output format" },
	{ .id = G_QUIET, .name = "quiet", .short_name = 'q', .help = "print nothing on success" },
	{ .id = G_VERBOSE, .name = "verbose", .short_name = 'v', .help = "log requests on stderr (never credentials)" },
	{ .id = G_NOPROG, .name = "no-progress", .help = "no progress bar" },
	{ .id = G_TIMEOUT, .name = "timeout", .value = CLI_VALUE_TEXT, .metavar = "D",
	  .help = "give up after D (like 30s, 10m; 0 = never; default: never,\nand 10m per sync for sync)" },
	{ .id = G_MINSPEED, .name = "min-speed", .value = CLI_VALUE_TEXT, .metavar = "SIZE/D",
	  .help = "fail (and retry) a transfer moving less than SIZE in any\nwindow of D (default 64K/60s)" },
	{ .id = CLI_GLOBAL_VERSION, .name = "version", .help = "print the version" },
	{ 0 },
};

/* --min-speed SIZE/DURATION: at least SIZE bytes in every DURATION. */
static int parse_min_speed(cli *c, const char *v)
{
	const char *slash = strchr(v, '/'), *why = "needs the form SIZE/DURATION, like 64K/60s";
	char size[64];
	if (slash && (size_t)(slash - v) < sizeof size) {
		memcpy(size, v, (size_t)(slash - v));
		size[slash - v] = '\0';
		if (cli_parse_size(&c->client.min_speed_bytes, size, &why) == 0 &&
		    cli_parse_duration_ms(&c->client.min_speed_window_ms, slash + 1, &why) == 0) {
			if (c->client.min_speed_window_ms >= 1000)
				return 0;
			why = "needs a window of at least 1s";
		}
	}
	return cli_global_usage_error(c, "--min-speed takes SIZE/DURATION (like 64K/60s): '%s' %s", v, why);
}

int cli_global_apply(cli *c, int id, const char *written, const char *v)
{
	const char *why;
	switch (id) {
	case G_PLAIN: c->client.plain_http = 1; break;
	case G_INSECURE: c->client.insecure = 1; break;
	case G_CA: c->client.ca_file = v; break;
	case G_CERT: c->client.cert_file = v; break;
	case G_KEY: c->client.key_file = v; break;
	case G_CONFIG: c->client.registry_config = v; break;
	case G_OUTPUT:
		if (strcmp(v, "json") && strcmp(v, "text"))
			return cli_global_usage_error(c, "%s takes text or json, not '%s'", written, v);
		c->json = !strcmp(v, "json");
		break;
	case G_QUIET: c->quiet = 1; break;
	case G_VERBOSE: c->verbose = 1; break;
	case G_NOPROG: c->no_progress = 1; break;
	case G_TIMEOUT:
		if (cli_parse_duration_ms(&c->client.timeout_ms, v, &why) < 0)
			return cli_global_usage_error(c, "--timeout takes a duration like 30s or 10m (0: never): '%s' %s", v, why);
		c->timeout_set = 1;
		break;
	case G_MINSPEED: return parse_min_speed(c, v);
	default: return cli_global_usage_error(c, "option %s is not handled", written);
	}
	return 0;
}

int cli_wants_json(int argc, char **argv)
{
	int json = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		if (!strcmp(a, "--"))
			break;
		if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(a, "--output=", 9))
			v = a + 9;
		else if (!strncmp(a, "-o", 2) && a[2])
			v = a + 2;
		if (v)
			json = !strcmp(v, "json");
	}
	return json;
}

/* Options naming files are checked before any network traffic: a missing
 * CA file is a usage error, not a TLS failure after a connection. */
static int check_file(cli *c, const char *option, const char *path)
{
	const char *why = path ? cli_file_problem(path) : NULL;
	return why ? cli_global_usage_error(c, "%s %s: %s", option, path, why) : 0;
}

int cli_globals_check(cli *c)
{
	int rc;
	if ((c->client.cert_file != NULL) != (c->client.key_file != NULL))
		return cli_global_usage_error(c, "--cert-file and --key-file go together (mutual TLS)");
	if ((rc = check_file(c, "--ca-file", c->client.ca_file)) || (rc = check_file(c, "--cert-file", c->client.cert_file)) ||
	    (rc = check_file(c, "--key-file", c->client.key_file)))
		return rc;
	/* login may create the --registry-config it stores into */
	if ((!c->command || strcmp(c->command, "login")) &&
	    (rc = check_file(c, "--registry-config", c->client.registry_config)))
		return rc;
	c->client.verbose = c->verbose;
	c->progress = !c->no_progress && !c->quiet && isatty(STDERR_FILENO);
	if (c->progress)
		c->client.callbacks.progress = cli_progress;
	return 0;
}
