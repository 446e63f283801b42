/* Lint policy options and findings output, for `lint` and `push`. */
#include "policy.h"

int cli_policy_open(cli *c, oci_lint_policy **out, const char *file, int require_digest)
{
	int rc = file ? oci_lint_policy_load(out, file) : oci_lint_policy_new(out);
	if (rc < 0) {
		/* a policy that can't be read is a usage error: nothing was done yet */
		cli_fail(c, file ? file : "policy");
		return EXIT_USAGE;
	}
	if (require_digest)
		oci_lint_policy_set_require_digest(*out, 1);
	return 0;
}

void cli_lint_print(FILE *f, const oci_lint_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const oci_lint_finding *x = &r->items[i];
		fprintf(f, "%s:%d: %s %s: %s (document %d)\n", x->file, x->line, oci_lint_severity_name(x->severity),
			x->rule, x->message, x->document);
	}
}

void cli_lint_summary(FILE *f, const oci_lint_report *r)
{
	fprintf(f, "%zu file%s, %zu document%s: %zu error%s, %zu warning%s\n", r->files, r->files == 1 ? "" : "s",
		r->documents, r->documents == 1 ? "" : "s", r->errors, r->errors == 1 ? "" : "s", r->warnings,
		r->warnings == 1 ? "" : "s");
}

json_t *cli_lint_json(const oci_lint_report *r)
{
	json_t *items = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const oci_lint_finding *x = &r->items[i];
		json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}", "file", x->file, "rule", x->rule,
						       "severity", oci_lint_severity_name(x->severity), "line", x->line,
						       "document", x->document, "message", x->message));
	}
	return json_pack("{s:o, s:I, s:I, s:I, s:I}", "findings", items, "errors", (json_int_t)r->errors, "warnings",
			 (json_int_t)r->warnings, "files", (json_int_t)r->files, "documents", (json_int_t)r->documents);
}
