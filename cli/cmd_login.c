/* ocisync login HOST -u USER --password-stdin: checks the credentials with
 * the registry, then stores them where Docker would (its credential helper
 * for HOST, else the config file). The password is only ever read from
 * standard input: on a command line every user of the machine can read it. */
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define PASSWORD_MAX (64 * 1024)

static const char login_help[] =
	"Checks USER's password with the registry at HOST (GET /v2/ and the token\n"
	"service or Basic challenge it answers with, using the global TLS options),\n"
	"then stores the credentials: through the Docker config's credential helper\n"
	"for HOST (credHelpers, credsStore) when one is configured, else base64 in the\n"
	"config file (mode 0600). Nothing is stored when the registry refuses them.\n\n"
	"Options:\n"
	"  -u, --username USER   the user name\n"
	"  --password-stdin      read the password (or token) from standard input;\n"
	"                        there is no -p: a password on the command line is\n"
	"                        visible to every user of the machine\n\n"
	"Example: echo \"$TOKEN\" | ocisync login ghcr.io -u me --password-stdin\n";

/* The whole of stdin, without the final line break. */
static int read_password(char **out)
{
	char *buf = malloc(PASSWORD_MAX + 1);
	size_t len = 0;
	*out = NULL;
	if (!buf)
		return -1;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf + len, PASSWORD_MAX - len);
		if (n < 0) {
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == PASSWORD_MAX) {
			OPENSSL_cleanse(buf, len);
			free(buf);
			return -2;
		}
	}
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	*out = buf;
	return 0;
}

int cmd_login(cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "username", required_argument, NULL, 'u' },
		{ "password-stdin", no_argument, NULL, 'S' },
		{ "password", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL;
	int from_stdin = 0, opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":u:p:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'u': user = optarg; break;
		case 'S': from_stdin = 1; break;
		case 'h': return cli_help(c, login_help);
		case 'p':
			return cli_usage_error(c, "-p/--password is not offered: a password on the command line is visible "
						  "to other users; pipe it in with --password-stdin");
		case ':':
			if (optopt == 'p')
				return cli_usage_error(c, "-p/--password is not offered: a password on the command line is "
							  "visible to other users; pipe it in with --password-stdin");
			return cli_usage_error(c, "option %s needs a value", argv[optind - 1]);
		default:
			return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(c, "login takes one HOST");
	const char *host_arg = argv[optind];
	if (!user || !*user)
		return cli_usage_error(c, "a user name is required (-u USER)");
	if (!from_stdin)
		return cli_usage_error(c, "the password is read from standard input only: add --password-stdin "
					  "(a password on the command line is visible to other users)");
	char host[256];
	oci_credentials_normalize_host(host, sizeof host, host_arg);
	if (!*host)
		return cli_usage_error(c, "'%s' is not a registry host", host_arg);

	char *password = NULL, *where = NULL;
	int rc = read_password(&password);
	if (rc == -2)
		return cli_usage_error(c, "the password on standard input is longer than %d bytes", PASSWORD_MAX);
	if (rc < 0) {
		return cli_failf(c, OCI_EIO, "cannot read the password from standard input");
	}
	if (!*password) {
		free(password);
		return cli_usage_error(c, "standard input held no password");
	}
	if (oci_credentials_verify(host, user, password, &c->client) < 0) {
		rc = cli_failf(c, oci_error_last()->code, "login to %s failed: %s", host, cli_last_error());
		goto cleanup;
	}
	if (oci_credentials_store(&where, host, user, password, c->client.registry_config) < 0) {
		rc = cli_fail(c, NULL);
		goto cleanup;
	}
	rc = EXIT_OK;
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s, s:s, s:b}", "host", host, "username", user, "stored_in", where,
					 "succeeded", 1));
	else if (!c->quiet)
		printf("Login succeeded: %s\n", host);
cleanup:
	OPENSSL_cleanse(password, strlen(password));
	free(password);
	free(where);
	return rc;
}
