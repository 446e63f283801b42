/* ocisync copy SRC DST: any target to any target, each side with its own
 * connection options (skopeo's --src-* and --dest-* names). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* One side's options as given; unset ones fall back to the global option,
 * then to the config's setting for that registry. */
struct side {
	const char *name;      /* "src" or "dest" */
	int plain_http, insecure;
	const char *ca_file, *cert_file, *key_file;
	int given;             /* any --<name>-* option */
};

/* refstr names a registry whose host is (loopback 1) or is not (0) a loopback one. */
static int is_registry_host(const char *refstr, int loopback)
{
	oci_ref *ref = NULL;
	int r = oci_ref_parse(&ref, refstr) == 0 && ref->kind == OCI_REF_REGISTRY &&
		!oci_registry_is_loopback(ref->registry) == !loopback;
	oci_ref_free(ref);
	return r;
}

/* Checks one side's options (before any request) and makes its client
 * options: 0, or the usage error's exit code. other: the other side. */
static int side_opts(cli *c, oci_client_opts *out, const struct side *s, const char *refstr, const char *other)
{
	char opt[64];
	*out = c->client;
	if (!s->given) {
		/* The global --ca-file (alone) names the CA of a registry with a
		 * certificate: when the other side is a remote registry, that is
		 * the one, and this loopback side stays on plain HTTP rather than
		 * being turned to HTTPS by a CA that is not its own. */
		if (c->client.ca_file && !c->client.cert_file && !c->client.insecure && !c->client.plain_http &&
		    is_registry_host(refstr, 1) && is_registry_host(other, 0))
			out->ca_file = NULL;
		return 0;
	}
	if (!strncmp(refstr, "oci-layout:", 11))
		return cli_usage_error(c, "--%s-* options set a registry connection, and %s is an oci-layout: directory",
				       s->name, refstr);
	if (!s->cert_file != !s->key_file)
		return cli_usage_error(c, "--%s-cert-file and --%s-key-file go together (mutual TLS)", s->name, s->name);
	const char *files[][2] = { { "ca-file", s->ca_file }, { "cert-file", s->cert_file }, { "key-file", s->key_file } };
	for (size_t i = 0; i < 3; i++) {
		snprintf(opt, sizeof opt, "--%s-%s", s->name, files[i][0]);
		int rc = cli_check_file(c, opt, files[i][1]);
		if (rc)
			return rc;
	}
	if (s->plain_http && (s->insecure || s->ca_file || s->cert_file))
		return cli_usage_error(c, "--%s-plain-http contradicts --%s-insecure, --%s-ca-file and --%s-cert-file", s->name,
				       s->name, s->name, s->name);
	/* A side's own choice replaces the global one, whichever way it goes. */
	if (s->plain_http) {
		out->plain_http = 1;
		out->insecure = 0;
		out->ca_file = out->cert_file = out->key_file = NULL;
	}
	if (s->insecure || s->ca_file || s->cert_file)
		out->plain_http = 0;
	out->insecure |= s->insecure;
	if (s->ca_file)
		out->ca_file = s->ca_file;
	if (s->cert_file) {
		out->cert_file = s->cert_file;
		out->key_file = s->key_file;
	}
	return 0;
}

/* --src-plain-http ... --dest-key-file: id = O_SIDE + side * F_COUNT + field
 * (ids above the letters, below the global options'). */
enum { F_PLAIN, F_INSECURE, F_CA, F_CERT, F_KEY, F_COUNT };
enum { O_SIDE = 256 };

static void set_side(struct side *s, int field, const char *arg)
{
	s->given = 1;
	switch (field) {
	case F_PLAIN: s->plain_http = 1; break;
	case F_INSECURE: s->insecure = 1; break;
	case F_CA: s->ca_file = arg; break;
	case F_CERT: s->cert_file = arg; break;
	default: s->key_file = arg; break;
	}
}

/* A failure names the side it happened on (the message names the registry),
 * and a transport hint, written for the global options, says which of
 * copy's own to use. */
static int copy_fail(cli *c, const oci_ref *sref, const oci_ref *dref, const char *srcstr, const char *dststr)
{
	const oci_error *e = oci_error_last();
	char needle[300];
	const char *what = dststr;
	if (sref->kind == OCI_REF_REGISTRY && !(dref->kind == OCI_REF_REGISTRY && !strcmp(sref->registry, dref->registry))) {
		snprintf(needle, sizeof needle, "%s", sref->registry);
		if (strstr(e->message, needle))
			what = srcstr;
	}
	/* Only a connection hint gets the per-side advice. */
	switch (oci_error_hint(NULL)) {
	case OCI_HINT_PLAIN_HTTP: case OCI_HINT_CA_FILE: case OCI_HINT_CA_FILE_MISMATCH:
	case OCI_HINT_CLIENT_CERT: case OCI_HINT_CHECK_CLIENT_CERT: break;
	default: return cli_fail(c, what);
	}
	char msg[sizeof e->message + 512];
	snprintf(msg, sizeof msg, "%s", cli_last_error());
	return cli_failf(c, e->code, "%s: %s (copy sets each side apart: --src-* and --dest-* options, like --%s-plain-http or --%s-ca-file)",
			 what, msg, what == srcstr ? "src" : "dest", what == srcstr ? "src" : "dest");
}

static int cmd_copy(cli *c, int argc, char **argv)
{
	struct side sides[2] = { { .name = "src" }, { .name = "dest" } };
	int with_sigs = 0, allow_unsigned = 0, opt;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_copy, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		if (opt >= O_SIDE && opt < O_SIDE + 2 * F_COUNT) {
			set_side(&sides[(opt - O_SIDE) / F_COUNT], (opt - O_SIDE) % F_COUNT, a.value);
			continue;
		}
		switch (opt) {
		case 's': with_sigs = 1; break;
		case 'u': allow_unsigned = 1; break;
		}
	}
	if (opt < 0)
		return a.rc;
	if (a.nargs != 2)
		return cli_usage_error(c, "copy takes SRC and DST");
	if (allow_unsigned && !with_sigs)
		return cli_usage_error(c, "--allow-unsigned goes with --with-signatures");
	const char *srcstr = a.args[0], *dststr = a.args[1];
	oci_client_opts sopts, dopts;
	int rc = side_opts(c, &sopts, &sides[0], srcstr, dststr);
	if (rc == 0)
		rc = side_opts(c, &dopts, &sides[1], dststr, srcstr);
	if (rc)
		return rc;
	oci_ref *sref = NULL, *dref = NULL;
	oci_target *src = NULL, *dst = NULL;
	char digest[OCI_DIGEST_SIZE], *pinned = NULL;
	/* SIGTERM, Ctrl-C: transfers and local blob copies stop, temporaries go */
	cli_cancel_on_signals(c);
	sopts.cancel = dopts.cancel = c->client.cancel;
	rc = cli_open_target_opts(c, srcstr, &sopts, &sref, &src);
	if (rc == 0)
		rc = cli_open_target_opts(c, dststr, &dopts, &dref, &dst);
	if (rc == 0) {
		int flags = (with_sigs ? OCI_COPY_SIGNATURES : 0) | (allow_unsigned ? OCI_COPY_ALLOW_UNSIGNED : 0);
		int copy_rc = oci_copy(digest, src, dst, flags);
		if (copy_rc < 0) {
			rc = copy_fail(c, sref, dref, srcstr, dststr);
			if (copy_rc == OCI_EINTERRUPTED)
				rc = cli_exit_interrupted();
		} else {
			cli_progress_done(c);
			oci_ref_format_pinned(&pinned, dref, digest);
			if (c->json)
				cli_print_json(json_pack("{s:s, s:s}", "reference", pinned, "digest", digest));
			else if (!c->quiet)
				printf("%s\n", pinned);
		}
	}
	free(pinned);
	oci_target_free(src);
	oci_target_free(dst);
	oci_ref_free(sref);
	oci_ref_free(dref);
	return rc;
}

#define SIDE_OPTIONS(side, sidename, what)                                                                       \
	{ O_SIDE + (side) * F_COUNT + F_PLAIN, sidename "-plain-http", 0, CLI_VALUE_NONE, NULL, NULL,              \
	  "plain HTTP to " what "'s registry (replaces the global --plain-http\nand the TLS options for " what ")" }, \
	{ O_SIDE + (side) * F_COUNT + F_INSECURE, sidename "-insecure", 0, CLI_VALUE_NONE, NULL, NULL,             \
	  "HTTPS to " what "'s registry without checking its certificate" },                                       \
	{ O_SIDE + (side) * F_COUNT + F_CA, sidename "-ca-file", 0, CLI_VALUE_FILE, "F", NULL,                     \
	  "the CA bundle " what "'s registry certificate is checked against" },                                      \
	{ O_SIDE + (side) * F_COUNT + F_CERT, sidename "-cert-file", 0, CLI_VALUE_FILE, "F", NULL,                 \
	  "client certificate for " what "'s registry (mutual TLS; with\n--" sidename "-key-file)" },                \
	{ O_SIDE + (side) * F_COUNT + F_KEY, sidename "-key-file", 0, CLI_VALUE_FILE, "F", NULL,                   \
	  "the private key of --" sidename "-cert-file" }

static const cli_option options[] = {
	{ 's', "with-signatures", 0, CLI_VALUE_NONE, NULL, NULL, "also copy the cosign signatures (sha256-<hex>.sig) and the\nOCI 1.1 referrers; a SRC without any is refused" },
	{ 'u', "allow-unsigned", 0, CLI_VALUE_NONE, NULL, NULL, "with --with-signatures: copy a SRC without signatures anyway" },
	SIDE_OPTIONS(0, "src", "SRC"),
	SIDE_OPTIONS(1, "dest", "DST"),
	{ 0 },
};

const cli_command cli_cmd_copy = {
	.name = "copy",
	.run = cmd_copy,
	.summary = "copy an artifact between any two references",
	.usage = "copy SRC DST [--with-signatures] [--src-*/--dest-* TLS options]",
	.description =
		"Copies the artifact SRC names (manifest, blobs, an index's manifests) to DST:\n"
		"registry to registry, registry to oci-layout: and back. Blobs DST already has are\n"
		"skipped; within one registry they are mounted, not uploaded. DST's tags are used,\n"
		"or SRC's when DST names none.\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "SRC", NULL, 0 }, { CLI_VALUE_REF, "DST", NULL, 0 }, { 0 } },
	.footer =
		"Each --src-* and --dest-* option replaces the global --plain-http, --insecure,\n"
		"--ca-file, --cert-file or --key-file for that side only; unset ones fall back to\n"
		"them, then to the config's settings for that registry. The global --ca-file alone\n"
		"leaves a loopback side on plain HTTP when the other side is a remote registry.\n\n"
		"Prints the pinned destination reference.\n",
};
