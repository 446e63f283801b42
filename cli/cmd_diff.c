/* ocisync diff REF PATH: exit 0 same, 1 differ, 2 error. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct diff_out {
	cli *c;
	json_t *changes;
};

static void on_change(void *ctx, char change, const char *path)
{
	struct diff_out *d = ctx;
	if (d->c->json) {
		char s[2] = { change, 0 };
		json_array_append_new(d->changes, json_pack("{s:s, s:s}", "change", s, "path", path));
	} else if (!d->c->quiet) {
		printf("%c %s\n", change, path);
	}
}

static int cmd_diff(cli *c, int argc, char **argv)
{
	oci_strlist ignore = OCI_STRLIST_INIT;
	int opt, rc;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_diff, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		switch (opt) {
		case 'i': oci_strlist_push(&ignore, a.value); break;
		}
	}
	if (opt < 0) {
		oci_strlist_dispose(&ignore);
		return a.rc;
	}
	if (a.nargs != 2) {
		oci_strlist_dispose(&ignore);
		return cli_usage_error(c, "diff takes REF and PATH");
	}
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	if ((rc = cli_open_target(c, a.args[0], &ref, &t)) != 0) {
		oci_strlist_dispose(&ignore);
		return EXIT_USAGE; /* diff: every error is 2 */
	}
	oci_pack_opts popts; oci_pack_opts_init(&popts);
	popts.ignore = &ignore;
	struct diff_out d = { c, json_array() };
	int differs = 0;
	if (oci_diff(&differs, t, a.args[1], &popts, on_change, &d) < 0) {
		cli_fail(c, a.args[0]);
		json_decref(d.changes);
		rc = EXIT_USAGE;
	} else {
		if (c->json)
			cli_print_json(json_pack("{s:b, s:o}", "differ", differs, "changes", d.changes));
		else
			json_decref(d.changes);
		rc = differs ? 1 : 0;
	}
	oci_strlist_dispose(&ignore);
	oci_target_free(t);
	oci_ref_free(ref);
	return rc;
}

static const cli_option options[] = {
	{ 'i', "ignore", 0, CLI_VALUE_TEXT, "PATTERN", NULL, "as for push (repeatable)" },
	{ 0 },
};

const cli_command cli_cmd_diff = {
	.name = "diff",
	.run = cmd_diff,
	.summary = "compare a directory with an artifact, file by file",
	.usage = "diff REF PATH",
	.description =
		"Compares what PATH would pack to with the artifact REF names, file by file:\n"
		"'+ path' only in PATH, '- path' only in the artifact, 'M path' content, mode,\n"
		"type or link target differ.\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "REF", NULL, 0 }, { CLI_VALUE_DIR, "PATH", NULL, 0 }, { 0 } },
	.footer = "Exit status: 0 same, 1 differ, 2 error.\n",
};
