/* ocisync keygen [--prefix NAME]: a cosign-compatible key pair. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "password.h"

static const char help[] =
	"Writes a cosign-compatible ECDSA P-256 key pair: NAME.key, the private key encrypted\n"
	"as cosign encrypts it (scrypt + NaCl secretbox, mode 0600), and NAME.pub, the public\n"
	"key (PEM, mode 0644). Existing files are never overwritten.\n\n"
	"Options:\n"
	"  --prefix NAME   file name prefix, may include a directory (default cosign)\n"
	"  -h, --help      this help\n\n"
	"The password comes from COSIGN_PASSWORD when it is set (even empty), else it is\n"
	"asked twice on the terminal without echo.\n"
	"Prints the paths of the two files.\n";

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

int cmd_keygen(cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "prefix", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prefix = "cosign";
	char *priv = NULL, *pub = NULL, *password = NULL;
	oci_key *key = NULL;
	int rc = EXIT_FAIL, opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p': prefix = optarg; break;
		case 'h': return cli_help(c, help);
		case ':': return cli_usage_error(c, "option %s needs a value", argv[optind - 1]);
		default: return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind != argc)
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
		cli_print_json(json_pack("{s:s, s:s}", "privateKey", priv, "publicKey", pub));
	else if (!c->quiet)
		printf("Private key written to %s\nPublic key written to %s\n", priv, pub);
cleanup:
	cli_password_free(password);
	oci_key_free(key);
	free(priv);
	free(pub);
	return rc;
}
