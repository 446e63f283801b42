/* Shared by lint and push: loading the lint policy from the options and
 * printing findings. */
#ifndef OCISYNC_POLICY_H
#define OCISYNC_POLICY_H
#include "cli.h"

/* The default policy, or the one in file (NULL: none given); require_digest
 * turns that check on. Prints the error and returns an exit code on failure. */
int cli_policy_open(cli *c, oci_lint_policy **out, const char *file, int require_digest);
/* One line per finding on f: "FILE:LINE: SEVERITY RULE: MESSAGE (document N)". */
void cli_lint_print(FILE *f, const oci_lint_report *r);
/* "N files, N documents: N errors, N warnings" */
void cli_lint_summary(FILE *f, const oci_lint_report *r);
/* The report as a JSON object (findings, counts). */
json_t *cli_lint_json(const oci_lint_report *r);

#endif
