/* ocisync diff REF PATH: exit 0 same, 1 differ, 2 error. */
#include <getopt.h>
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

int cmd_diff(cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ignore", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	oci_strlist ignore = OCI_STRLIST_INIT;
	int opt, rc;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i': oci_strlist_push(&ignore, optarg); break;
		case 'h':
			oci_strlist_dispose(&ignore);
			return cli_help(c, "Compares what PATH would pack to with the artifact REF names, file by file:\n"
					   "'+ path' only in PATH, '- path' only in the artifact, 'M path' content, mode,\n"
					   "type or link target differ.\n\n"
					   "Options:\n  --ignore PATTERN   as for push (repeatable)\n  -h, --help         this help\n\n"
					   "Exit status: 0 same, 1 differ, 2 error.\n");
		case ':': oci_strlist_dispose(&ignore); return cli_usage_error(c, "option %s needs a value", argv[optind - 1]);
		default: oci_strlist_dispose(&ignore); return cli_usage_error(c, "unknown option %s", argv[optind - 1]);
		}
	}
	if (argc - optind != 2) {
		oci_strlist_dispose(&ignore);
		return cli_usage_error(c, "diff takes REF and PATH");
	}
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	if ((rc = cli_open_target(c, argv[optind], &ref, &t)) != 0) {
		oci_strlist_dispose(&ignore);
		return EXIT_USAGE; /* diff: every error is 2 */
	}
	oci_pack_opts popts; oci_pack_opts_init(&popts);
	popts.ignore = &ignore;
	struct diff_out d = { c, json_array() };
	int differs = 0;
	if (oci_diff(&differs, t, argv[optind + 1], &popts, on_change, &d) < 0) {
		cli_fail(c, argv[optind]);
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
