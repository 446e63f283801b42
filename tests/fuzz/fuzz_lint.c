/* The linter over hostile manifests: the input is one file's bytes,
 * linted as app.yaml. Invariants: linting never fails (a bad file is a
 * finding, not an error); every finding names a known rule, the file, a
 * line >= 1 and a document >= 1, with a non-empty message; the counts add
 * up; and the findings do not depend on how the bytes are cut into chunks
 * (fed whole, then cut where the first byte says, as the packer's reads
 * would cut a large file). Checked under two policies: every rule on, and
 * the defaults. The linter builds only the part of each document that the
 * rules look up (lint_tree.c's role_keys): its findings must be exactly
 * (messages too) those of the reference, which builds every document's
 * whole tree. */
#include "fuzz.h"

#include "lint_queue.h"

static oci_lint_policy *policies[2];

static void lint_bytes(oci_lint_report *r, const oci_lint_policy *policy, const uint8_t *data, size_t size,
		       size_t chunk, int full_tree)
{
	oci_lint *l = NULL;
	FUZZ_CHECK(oci_lint_new(&l, policy) == 0);
	l->full_tree = full_tree;
	FUZZ_CHECK(oci_lint_feed(l, "app.yaml", OCI_PACK_FILE_BEGIN, NULL, 0) == 0);
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		FUZZ_CHECK(oci_lint_feed(l, "app.yaml", OCI_PACK_FILE_DATA, data + off, n) == 0);
	}
	FUZZ_CHECK(oci_lint_feed(l, "app.yaml", OCI_PACK_FILE_END, NULL, 0) == 0);
	FUZZ_CHECK(oci_lint_finish(r, l) == 0);
	oci_lint_free(l);
}

static int known_rule(const char *id)
{
	for (const oci_lint_rule_info *r = oci_lint_rules(); r->id; r++)
		if (!strcmp(r->id, id))
			return 1;
	return 0;
}

static void check(const oci_lint_policy *policy, const uint8_t *data, size_t size)
{
	oci_lint_report whole, cut, ref;
	lint_bytes(&whole, policy, data, size, size ? size : 1, 0);
	size_t errors = 0, warnings = 0;
	for (size_t i = 0; i < whole.n; i++) {
		const oci_lint_finding *f = &whole.items[i];
		FUZZ_CHECK(known_rule(f->rule));
		FUZZ_CHECK(!strcmp(f->file, "app.yaml"));
		FUZZ_CHECK(f->line >= 1 && f->document >= 1);
		FUZZ_CHECK(f->message && f->message[0]);
		FUZZ_CHECK(f->severity == OCI_LINT_ERROR || f->severity == OCI_LINT_WARNING);
		if (f->severity == OCI_LINT_ERROR)
			errors++;
		else
			warnings++;
	}
	FUZZ_CHECK(errors == whole.errors && warnings == whole.warnings);
	FUZZ_CHECK(whole.files == 1);

	size_t chunk = size ? (size_t)data[0] % 97 + 1 : 1;
	lint_bytes(&cut, policy, data, size, chunk, 0);
	FUZZ_CHECK(cut.n == whole.n && cut.documents == whole.documents);
	for (size_t i = 0; i < whole.n && i < cut.n; i++) {
		FUZZ_CHECK(!strcmp(cut.items[i].rule, whole.items[i].rule));
		FUZZ_CHECK(cut.items[i].line == whole.items[i].line);
		FUZZ_CHECK(cut.items[i].document == whole.items[i].document);
	}

	lint_bytes(&ref, policy, data, size, size ? size : 1, 1);
	FUZZ_CHECK(ref.n == whole.n && ref.documents == whole.documents);
	for (size_t i = 0; i < whole.n && i < ref.n; i++) {
		FUZZ_CHECK(!strcmp(ref.items[i].rule, whole.items[i].rule));
		FUZZ_CHECK(ref.items[i].severity == whole.items[i].severity);
		FUZZ_CHECK(ref.items[i].line == whole.items[i].line);
		FUZZ_CHECK(ref.items[i].document == whole.items[i].document);
		FUZZ_CHECK(!strcmp(ref.items[i].message, whole.items[i].message));
	}
	oci_lint_report_dispose(&whole);
	oci_lint_report_dispose(&cut);
	oci_lint_report_dispose(&ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!policies[0]) {
		FUZZ_CHECK(oci_lint_policy_new(&policies[0]) == 0);
		/* every rule on, so every rule's code runs */
		FUZZ_CHECK(oci_lint_policy_set(policies[0], "namespace-missing", OCI_LINT_WARNING) == 0);
		FUZZ_CHECK(oci_lint_policy_new(&policies[1]) == 0);
	}
	check(policies[0], data, size);
	check(policies[1], data, size);
	return 0;
}
