/* ocisync: the command table and the global options. */
#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const cli_command cli_commands[] = {
	{ "push", cmd_push, "pack a directory and push it as an OCI artifact", "push REF PATH [options]" },
	{ "pull", cmd_pull, "download, verify and extract an artifact atomically", "pull REF DIR [options]" },
	{ "resolve", cmd_resolve, "print the digest a reference resolves to", "resolve REF" },
	{ "manifest", cmd_manifest, "print the manifest bytes exactly as stored", "manifest REF" },
	{ "inspect", cmd_inspect, "summarise an artifact: digest, media types, annotations, layers, signatures", "inspect REF" },
	{ "tag", cmd_tag, "point more tags at a reference's digest", "tag REF NEWTAG..." },
	{ "copy", cmd_copy, "copy an artifact between any two references", "copy SRC DST [--with-signatures]" },
	{ "tags", cmd_tags, "list a repository's tags", "tags REPO [--semver RANGE] [--all]" },
	{ "diff", cmd_diff, "compare a directory with an artifact, file by file", "diff REF PATH" },
	{ "lint", cmd_lint, "check manifests for GitOps anti-patterns (push runs the same checks)", "lint PATH [--policy FILE]" },
	/* CLI-TABLE: further commands are added here */
	{ "sync", cmd_sync, "publish an artifact atomically under a directory, once or in a loop", "sync REF --root DIR [options]" },
	{ "keygen", cmd_keygen, "write a cosign-compatible key pair (NAME.key, NAME.pub)", "keygen [--prefix NAME]" },
	{ "sign", cmd_sign, "sign the digest a reference resolves to, as cosign does", "sign --key KEY REF [-a KEY=VAL]..." },
	{ "verify", cmd_verify, "check cosign signatures of a reference against trusted keys", "verify --key PUB [--key PUB]... REF [-a KEY=VAL]..." },
	{ "discover", cmd_discover, "list the OCI 1.1 referrers of a reference (Sigstore bundles, SBOMs)", "discover REF [--artifact-type TYPE]" },
	{ "login", cmd_login, "check and store credentials for a registry", "login HOST -u USER --password-stdin" },
	{ "logout", cmd_logout, "remove the credentials stored for a registry", "logout HOST" },
	{ "version", cmd_version, "print versions of ocisync, liboci and its libraries", "version" },
	{ NULL, NULL, NULL, NULL },
};

const cli_command *cli_find_command(const char *name)
{
	for (const cli_command *cmd = cli_commands; cmd->name; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	return NULL;
}

static void print_overview(FILE *f)
{
	fprintf(f, "Usage: ocisync [global options] COMMAND [options] [args]\n\n"
		   "Packs rendered Kubernetes manifests into reproducible, signed OCI artifacts,\n"
		   "pushes them to any OCI registry or an oci-layout: directory, and pulls,\n"
		   "verifies and syncs them on clusters.\n\nCommands:\n");
	for (const cli_command *cmd = cli_commands; cmd->name; cmd++)
		fprintf(f, "  %-10s %s\n", cmd->name, cmd->summary);
	fprintf(f, "\nGlobal options (before or after the command):\n"
		   "  --plain-http            HTTP instead of HTTPS (default for loopback hosts)\n"
		   "  --insecure              HTTPS without certificate checks\n"
		   "  --ca-file F             trust the CA certificates in F\n"
		   "  --cert-file F --key-file F   client certificate for mutual TLS\n"
		   "  --registry-config F     Docker config.json with credentials\n"
		   "  -o, --output text|json  output format\n"
		   "  -q, --quiet             print nothing on success\n"
		   "  -v, --verbose           log requests on stderr (never credentials)\n"
		   "  --no-progress           no progress bar\n"
		   "  --timeout D             give up after D (like 30s, 10m; 0 = never; default: never,\n"
		   "                          and 10m per sync for sync)\n"
		   "  --min-speed SIZE/D      fail (and retry) a transfer moving less than SIZE in any\n"
		   "                          window of D (default 64K/60s)\n"
		   "  -h, --help              help (ocisync COMMAND --help for a command)\n"
		   "  --version               print the version\n\n"
		   "References: [oci://]HOST[:PORT]/REPO[:TAG[,TAG...]][@sha256:HEX] or\n"
		   "            oci-layout:PATH[:TAG[,TAG...]][@sha256:HEX]\n"
		   "Exit codes: 0 success, 1 failure, 2 usage error. See ocisync(1).\n");
}

/* Global options may stand anywhere; they are taken out of argv so each
 * command's own parser sees only its options. Returns the new argc, or -1
 * (usage error printed) / -2 (exit 0 after --version/--help). */
enum { G_PLAIN = 1000, G_INSECURE, G_CA, G_CERT, G_KEY, G_CONFIG, G_NOPROG, G_VERSION };

static int take_value(cli *c, int *i, int argc, char **argv, const char *name, const char **dst, const char *inline_val)
{
	if (inline_val) {
		*dst = inline_val;
		return 0;
	}
	if (*i + 1 >= argc) {
		cli_global_usage_error(c, "option %s needs a value", name);
		return -1;
	}
	*dst = argv[++*i];
	return 0;
}

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
	cli_global_usage_error(c, "--min-speed takes SIZE/DURATION (like 64K/60s): '%s' %s", v, why);
	return -1;
}

/* -o json anywhere on the line (before the option parser sees it): a
 * usage error found first still answers with an error object. */
static int wants_json(int argc, char **argv)
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
 * CA file is a usage error, not a TLS failure after a connection.
 * login may create the --registry-config it stores into. */
static int check_file(cli *c, const char *option, const char *path)
{
	struct stat st;
	if (!path)
		return 0;
	if (stat(path, &st) < 0) {
		cli_global_usage_error(c, "%s %s: %s", option, path, errno == ENOENT ? "no such file" : strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		cli_global_usage_error(c, "%s %s: is a directory, not a file", option, path);
		return -1;
	}
	if (access(path, R_OK) < 0) {
		cli_global_usage_error(c, "%s %s: cannot be read: %s", option, path, strerror(errno));
		return -1;
	}
	return 0;
}

static int check_files(cli *c, const char *command)
{
	if (check_file(c, "--ca-file", c->client.ca_file) < 0 || check_file(c, "--cert-file", c->client.cert_file) < 0 ||
	    check_file(c, "--key-file", c->client.key_file) < 0)
		return -1;
	if (strcmp(command, "login") != 0 && check_file(c, "--registry-config", c->client.registry_config) < 0)
		return -1;
	return 0;
}

static int parse_globals(cli *c, int argc, char **argv, int *want_help, int *want_version)
{
	int out = 1;
	int no_progress = 0;
	int seen_dashdash = 0;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (seen_dashdash || a[0] != '-') {
			argv[out++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			seen_dashdash = 1;
			argv[out++] = a;
			continue;
		}
		char name[64];
		const char *val = NULL;
		const char *eq = strchr(a, '=');
		if (a[1] == '-' && eq && (size_t)(eq - a) < sizeof name) {
			memcpy(name, a, (size_t)(eq - a));
			name[eq - a] = '\0';
			val = eq + 1;
		} else {
			snprintf(name, sizeof name, "%s", a);
		}
		const char *out_fmt = NULL;
		if (!strcmp(name, "--plain-http")) c->client.plain_http = 1;
		else if (!strcmp(name, "--insecure")) c->client.insecure = 1;
		else if (!strcmp(name, "--ca-file")) { if (take_value(c, &i, argc, argv, name, &c->client.ca_file, val)) return -1; }
		else if (!strcmp(name, "--cert-file")) { if (take_value(c, &i, argc, argv, name, &c->client.cert_file, val)) return -1; }
		else if (!strcmp(name, "--key-file")) { if (take_value(c, &i, argc, argv, name, &c->client.key_file, val)) return -1; }
		else if (!strcmp(name, "--registry-config")) { if (take_value(c, &i, argc, argv, name, &c->client.registry_config, val)) return -1; }
		else if (!strcmp(name, "-o") || !strcmp(name, "--output")) {
			if (take_value(c, &i, argc, argv, name, &out_fmt, val)) return -1;
			if (!strcmp(out_fmt, "json")) c->json = 1;
			else if (!strcmp(out_fmt, "text")) c->json = 0;
			else { cli_global_usage_error(c, "--output takes text or json, not '%s'", out_fmt); return -1; }
		}
		else if (!strncmp(a, "-o", 2) && a[1] == 'o' && a[2]) {
			if (!strcmp(a + 2, "json")) c->json = 1;
			else if (!strcmp(a + 2, "text")) c->json = 0;
			else { cli_global_usage_error(c, "--output takes text or json, not '%s'", a + 2); return -1; }
		}
		else if (!strcmp(name, "-q") || !strcmp(name, "--quiet")) c->quiet = 1;
		else if (!strcmp(name, "-v") || !strcmp(name, "--verbose")) c->verbose = 1;
		else if (!strcmp(name, "--no-progress")) no_progress = 1;
		else if (!strcmp(name, "--timeout")) {
			const char *v, *why;
			if (take_value(c, &i, argc, argv, name, &v, val)) return -1;
			if (cli_parse_duration_ms(&c->client.timeout_ms, v, &why) < 0) {
				cli_global_usage_error(c, "--timeout takes a duration like 30s or 10m (0: never): '%s' %s", v, why);
				return -1;
			}
			c->timeout_set = 1;
		}
		else if (!strcmp(name, "--min-speed")) {
			const char *v;
			if (take_value(c, &i, argc, argv, name, &v, val)) return -1;
			if (parse_min_speed(c, v) < 0) return -1;
		}
		else if (!strcmp(name, "--version")) *want_version = 1;
		else if (!strcmp(name, "-h") || !strcmp(name, "--help")) { *want_help = 1; argv[out++] = a; }
		else argv[out++] = a;
	}
	argv[out] = NULL;
	if ((c->client.cert_file != NULL) != (c->client.key_file != NULL)) {
		cli_global_usage_error(c, "--cert-file and --key-file go together (mutual TLS)");
		return -1;
	}
	c->client.verbose = c->verbose;
	c->progress = !no_progress && !c->quiet && isatty(STDERR_FILENO);
	return out;
}

static void log_line(void *ctx, oci_log_level level, const char *line)
{
	(void)ctx;
	(void)level;
	fprintf(stderr, "ocisync: %s\n", line);
}

static int run(cli *c, int argc, char **argv)
{
	int want_help = 0, want_version = 0;
	argc = parse_globals(c, argc, argv, &want_help, &want_version);
	if (argc < 0)
		return EXIT_USAGE;
	c->client.callbacks.log = log_line;
	c->client.callbacks.payload = c;
	c->client.user_agent = "ocisync/" OCI_VERSION_STRING;
	if (c->progress)
		c->client.callbacks.progress = cli_progress;
	oci_init();

	if (argc < 2) {
		if (want_version)
			return cmd_version(c, 0, NULL);
		print_overview(want_help ? stdout : stderr);
		if (!want_help)
			cli_json_error(c, "usage", NULL, "no command given (see ocisync --help)");
		return want_help ? EXIT_OK : EXIT_USAGE;
	}
	const cli_command *cmd = cli_find_command(argv[1]);
	if (!cmd) {
		if (strcmp(argv[1], "help") == 0) {
			if (argc > 2 && (cmd = cli_find_command(argv[2]))) {
				char *hargv[] = { argv[2], "--help", NULL };
				c->command = cmd->name;
				return cmd->run(c, 2, hargv);
			}
			print_overview(stdout);
			return EXIT_OK;
		}
		if (want_help && argv[1][0] == '-') {
			print_overview(stdout);
			return EXIT_OK;
		}
		cli_global_usage_error(c, "unknown command '%s' (see ocisync --help)", argv[1]);
		return EXIT_USAGE;
	}
	if (want_version && !want_help)
		return cmd_version(c, 0, NULL);
	c->command = cmd->name;
	if (!want_help && check_files(c, cmd->name) < 0)
		return EXIT_USAGE;
	optind = 1;
	return cmd->run(c, argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	cli c;
	memset(&c, 0, sizeof c);
	oci_client_opts_init(&c.client);
	c.prog = "ocisync";
	c.json = wants_json(argc, argv);
	/* every way out passes here: the -o json error object, once */
	int rc = cli_json_finish(&c, run(&c, argc, argv));
	/* The process-wide caches (registry tokens, wiped) go before exit, so
	 * a leak checker sees none and no token outlives its use in memory. */
	oci_shutdown();
	return rc;
}
