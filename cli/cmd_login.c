/* ocisync login HOST [-u USER] [--password-stdin]: checks the credentials with
 * the registry, then stores them where Docker would (its credential helper
 * for HOST, else the config file). The password is read from standard input
 * or asked on the terminal, never taken from the command line, where every
 * user of the machine can read it. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "password.h"

#define PASSWORD_MAX (64 * 1024)

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

static int cmd_login(cli *c, int argc, char **argv)
{
	const char *user = NULL;
	int from_stdin = 0, opt;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_login, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		switch (opt) {
		case 'u': user = a.value; break;
		case 'S': from_stdin = 1; break;
		case 'p':
			return cli_usage_error(c, "-p/--password is not offered: a password on the command line is visible "
						  "to other users; pipe it in with --password-stdin");
		}
	}
	if (opt < 0)
		return a.rc;
	if (a.nargs != 1)
		return cli_usage_error(c, "login takes one HOST");
	const char *host_arg = a.args[0];
	/* On a terminal, without --password-stdin, ask as docker login does:
	 * the user name (unless -u), then the password without echo. */
	int ask = !from_stdin && isatty(STDIN_FILENO);
	char *typed_user = NULL, *password = NULL, *where = NULL;
	int rc;
	if (!user && ask && (rc = cli_prompt(&typed_user, c, "Username: ", 1)) != 0)
		return rc;
	if (typed_user)
		user = typed_user;
	if (!user || !*user) {
		cli_password_free(typed_user);
		return cli_usage_error(c, "a user name is required (-u USER)");
	}
	if (!from_stdin && !ask) {
		cli_password_free(typed_user);
		return cli_usage_error(c, "the password is read from standard input only: add --password-stdin "
					  "(a password on the command line is visible to other users; on a terminal it is asked)");
	}
	char host[256];
	oci_credentials_normalize_host(host, sizeof host, host_arg);
	if (!*host) {
		cli_password_free(typed_user);
		return cli_usage_error(c, "'%s' is not a registry host", host_arg);
	}

	if (ask) {
		rc = cli_prompt(&password, c, "Password: ", 0);
		if (rc != 0) {
			cli_password_free(typed_user);
			return rc;
		}
	} else {
		rc = read_password(&password);
		if (rc == -2)
			return cli_usage_error(c, "the password on standard input is longer than %d bytes", PASSWORD_MAX);
		if (rc < 0)
			return cli_failf(c, OCI_EIO, "cannot read the password from standard input");
	}
	if (!*password) {
		rc = ask ? cli_usage_error(c, "no password was entered") : cli_usage_error(c, "standard input held no password");
		goto cleanup;
	}
	oci_client_opts opts;
	if ((rc = cli_client_opts_for(c, &opts, &c->client, host)) != 0)
		goto cleanup;
	if (oci_credentials_verify(host, user, password, &opts) < 0) {
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
	cli_password_free(password);
	cli_password_free(typed_user);
	free(where);
	return rc;
}

static const cli_option options[] = {
	{ 'u', "username", 'u', CLI_VALUE_TEXT, "USER", NULL, "the user name" },
	{ 'S', "password-stdin", 0, CLI_VALUE_NONE, NULL, NULL, "read the password (or token) from standard input; without\nit, on a terminal, the user name and password are asked" },
	{ 'p', "password", 'p', CLI_VALUE_TEXT, "PASSWORD", NULL, "refused: a password on the command line is visible\nto every user of the machine" },
	{ 0 },
};

const cli_command cli_cmd_login = {
	.name = "login",
	.run = cmd_login,
	.summary = "check and store credentials for a registry",
	.usage = "login HOST [-u USER] [--password-stdin]",
	.description =
		"Checks USER's password with the registry at HOST (GET /v2/ and the token\n"
		"service or Basic challenge it answers with, using the global TLS options),\n"
		"then stores the credentials: through the Docker config's credential helper\n"
		"for HOST (credHelpers, credsStore) when one is configured, else base64 in the\n"
		"config file (mode 0600). Nothing is stored when the registry refuses them.\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_TEXT, "HOST", NULL, 0 }, { 0 } },
	.footer = "Example: echo \"$TOKEN\" | ocisync login ghcr.io -u me --password-stdin\n",
};
