/* Policy checks over the manifests an artifact would carry: mutable image
 * tags, plaintext Secrets, and a few other GitOps anti-patterns, found with
 * file, line and document before anything is packed or pushed.
 *
 * Every *.yaml, *.yml and *.json file is parsed with libyaml (multi-document
 * streams, `kind: List`, JSON); a file that is not valid YAML is itself a
 * finding. Memory stays bounded whatever the input: a document larger than
 * OCI_LINT_MAX_DOCUMENT bytes or nested deeper than OCI_LINT_MAX_DEPTH is a
 * `lint-limit` finding and the rest of that file is skipped.
 *
 * Thread-safety: an oci_lint object is used from one thread (it runs its
 * own worker thread inside); policies are read-only once loaded and may be
 * shared. */
#ifndef OCI_LINT_H
#define OCI_LINT_H
#include "oci/common.h"
#include <stddef.h>
#include "oci/bundle.h"
#include "oci/digest.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kubernetes refuses objects over ~1.5 MiB (etcd's request limit), so a
 * document past 8 MiB cannot be a manifest anyone applies. */
#define OCI_LINT_MAX_DOCUMENT (8 * 1024 * 1024)
#define OCI_LINT_MAX_DEPTH 100

typedef enum oci_lint_severity {
	OCI_LINT_OFF = 0,
	OCI_LINT_WARNING = 1,
	OCI_LINT_ERROR = 2,
} oci_lint_severity;

/* The rules, in the order `ocisync lint --rules` lists them. */
typedef struct oci_lint_rule_info {
	const char *id;                 /* "image-unpinned" */
	oci_lint_severity default_severity;
	const char *reason;             /* one line: why it matters */
} oci_lint_rule_info;
/* The table of rules, terminated by an entry whose id is NULL. Static;
 * thread-safe. */
OCI_EXTERN const oci_lint_rule_info *oci_lint_rules(void);
OCI_EXTERN const char *oci_lint_severity_name(oci_lint_severity s); /* "off", "warning", "error" */

/* --- policy --- */
typedef struct oci_lint_policy oci_lint_policy;

/* The default policy: every rule at its default severity, no allow-lists.
 * *out: caller frees with oci_lint_policy_free (as for every policy). */
OCI_EXTERN int oci_lint_policy_new(oci_lint_policy **out);
/* Reads a policy file (YAML or JSON):
 *   rules:            { RULE-ID: error | warning | off, ... }
 *   require-digest:   true | false   (image-unpinned also wants @sha256:)
 *   allow:
 *     images: [PREFIX, ...]          (images starting with one are exempt)
 *     paths:  [PATTERN, ...]         (gitignore-style; files exempt from every rule)
 * Unknown keys and rule ids are OCI_EINVALID (a typo must not switch a
 * check off silently); OCI_ENOTFOUND, OCI_EIO reading it. */
OCI_EXTERN int oci_lint_policy_load(oci_lint_policy **out, const char *path);
/* Overrides one rule's severity; OCI_EINVALID for an unknown id. */
OCI_EXTERN int oci_lint_policy_set(oci_lint_policy *p, const char *rule_id, oci_lint_severity s);
OCI_EXTERN void oci_lint_policy_set_require_digest(oci_lint_policy *p, int on);
/* sha256 of the policy in a canonical form (the defaults included), so a
 * manifest can record which policy it was checked against. */
OCI_EXTERN void oci_lint_policy_digest(char out[OCI_DIGEST_SIZE], const oci_lint_policy *p);
/* NULL-safe. */
OCI_EXTERN void oci_lint_policy_free(oci_lint_policy *p);

/* --- findings --- */
typedef struct oci_lint_finding {
	const char *rule;               /* a rule id (static) */
	oci_lint_severity severity;
	char *file;                     /* relative to the linted path */
	int line;                       /* 1-based */
	int document;                   /* 1-based within the file */
	char *message;
} oci_lint_finding;

typedef struct oci_lint_report {
	oci_lint_finding *items;        /* in file order, then line */
	size_t n;
	size_t errors, warnings;
	size_t files, documents;        /* what was parsed */
} oci_lint_report;
/* Frees what r holds; NULL-safe. */
OCI_EXTERN void oci_lint_report_dispose(oci_lint_report *r);

/* --- the streaming linter ---
 * Fed file by file (the packer does this while it reads each file for the
 * tar, so the tree is read once); parsing runs on a worker thread beside
 * the caller. Files not named *.yaml, *.yml or *.json are ignored. */
typedef struct oci_lint oci_lint;
/* *out: caller frees with oci_lint_free; policy is borrowed until then.
 * 0, OCI_ENOMEM, OCI_ERROR (the worker thread could not start). */
OCI_EXTERN int oci_lint_new(oci_lint **out, const oci_lint_policy *policy);
/* An oci_pack_file_fn: pass it with the oci_lint as its context in
 * oci_pack_opts.file_fn / file_ctx. */
OCI_EXTERN int oci_lint_feed(void *lint, const char *rel, oci_pack_file_event ev, const void *data, size_t len);
/* Waits for the worker and hands over the findings (caller disposes of
 * them). */
OCI_EXTERN int oci_lint_finish(oci_lint_report *out, oci_lint *l);
/* NULL-safe; stops the worker if oci_lint_finish was not called. */
OCI_EXTERN void oci_lint_free(oci_lint *l);

/* Lints what path would pack to (same ignore rules as oci_bundle_pack).
 * out: caller disposes with oci_lint_report_dispose. Findings are not an
 * error: 0, or the walk's errors as oci_bundle_pack. */
OCI_EXTERN int oci_lint_path(oci_lint_report *out, const char *path, const oci_pack_opts *pack_opts,
		  const oci_lint_policy *policy);

#ifdef __cplusplus
}
#endif
#endif
