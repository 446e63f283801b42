/* ocisync keygen [--prefix NAME]: a cosign-compatible key pair. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "password.h"

/* Checked before asking for a password, so nobody types one for nothing. */
static int refuse_existing(cli *c, const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0) {
		return cli_failf(c, OCI_EEXISTS, "%s already exists; refusing to overwrite it "
				 "(remove it or choose another --prefix)", path);
	}
	return 0;
}

static int cmd_keygen(cli *c, int argc, char **argv)
{
	const char *prefix = "cosign";
	char *priv = NULL, *pub = NULL, *password = NULL;
	oci_key *key = NULL;
	int rc = EXIT_FAIL, opt;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_keygen, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		switch (opt) {
		case 'p': prefix = a.value; break;
		}
	}
	if (opt < 0)
		return a.rc;
	if (a.nargs)
		return cli_usage_error(c, "keygen takes no arguments (use --prefix NAME)");
	if (!*prefix)
		return cli_usage_error(c, "--prefix must not be empty");
	if (asprintf(&priv, "%s.key", prefix) < 0 || asprintf(&pub, "%s.pub", prefix) < 0) {
		return cli_failf(c, OCI_ENOMEM, "out of memory");
	}
	if ((rc = refuse_existing(c, priv)) != 0 || (rc = refuse_existing(c, pub)) != 0)
		goto cleanup;
	if ((rc = cli_password_read(&password, c, NULL, 1)) != 0)
		goto cleanup;
	if (oci_key_generate(&key) < 0 || oci_key_write_pair(key, priv, pub, password) < 0) {
		rc = cli_fail(c, NULL);
		goto cleanup;
	}
	rc = EXIT_OK;
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s}", "private_key", priv, "public_key", pub));
	else if (!c->quiet)
		printf("Private key written to %s\nPublic key written to %s\n", priv, pub);
cleanup:
	cli_password_free(password);
	oci_key_free(key);
	free(priv);
	free(pub);
	return rc;
}

static const cli_option options[] = {
	{ 'p', "prefix", 0, CLI_VALUE_FILE, "NAME", NULL, "file name prefix, may include a directory (default cosign)" },
	{ 0 },
};

const cli_command cli_cmd_keygen = {
	.name = "keygen",
	.run = cmd_keygen,
	.summary = "write a cosign-compatible key pair (NAME.key, NAME.pub)",
	.usage = "keygen [--prefix NAME]",
	.description =
		"Writes a cosign-compatible ECDSA P-256 key pair: NAME.key, the private key encrypted\n"
		"as cosign encrypts it (scrypt + NaCl secretbox, mode 0600), and NAME.pub, the public\n"
		"key (PEM, mode 0644). Existing files are never overwritten.\n",
	.options = options,
		.footer =
		"The password comes from COSIGN_PASSWORD when it is set (even empty), else it is\n"
		"asked twice on the terminal without echo.\n"
		"Prints the paths of the two files.\n",
};
