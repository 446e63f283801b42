/* The lint policy: each rule's severity, require-digest, and the
 * allow-lists; read from a short YAML or JSON file, and digested in a
 * canonical form so a manifest can say which policy it passed. */
#include "lint_internal.h"
#include "error_internal.h"
#include "fileutil.h"
#include "oci/bundle.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_MAX_BYTES (1024 * 1024)

static const oci_lint_rule_info rules[LINT_RULE_COUNT + 1] = {
	[LINT_RULE_IMAGE_UNPINNED] = { "image-unpinned", OCI_LINT_ERROR,
		"a container image without a tag, with :latest (or, with require-digest, without @sha256:) "
		"can change under the same manifest: you lose track of what runs" },
	[LINT_RULE_PLAINTEXT_SECRET] = { "plaintext-secret", OCI_LINT_ERROR,
		"a Secret with data or stringData ships its values to everyone who can pull the artifact; "
		"use SealedSecret, ExternalSecret or SOPS" },
	[LINT_RULE_NAMESPACE_MISSING] = { "namespace-missing", OCI_LINT_OFF,
		"a namespaced object without metadata.namespace lands wherever the applier's default points" },
	[LINT_RULE_PRIVILEGED] = { "privileged", OCI_LINT_WARNING,
		"a privileged container has full access to the node" },
	[LINT_RULE_HOST_PATH] = { "host-path", OCI_LINT_WARNING,
		"a hostPath volume exposes the node's filesystem to the pod" },
	[LINT_RULE_INVALID_YAML] = { "invalid-yaml", OCI_LINT_ERROR,
		"a file that does not parse as YAML or JSON would be refused by kubectl and every GitOps agent" },
	[LINT_RULE_LIMIT] = { "lint-limit", OCI_LINT_ERROR,
		"a document larger than 8 MiB or nested deeper than 100 levels is no Kubernetes manifest "
		"(objects are limited to about 1.5 MiB)" },
	[LINT_RULE_COUNT] = { NULL, OCI_LINT_OFF, NULL },
};

struct oci_lint_policy {
	oci_lint_severity sev[LINT_RULE_COUNT];
	int require_digest;
	oci_strlist images;
	oci_strlist paths;
	oci_ignore *path_match;
};

const oci_lint_rule_info *oci_lint_rules(void)
{
	return rules;
}

const char *oci_lint_severity_name(oci_lint_severity s)
{
	return s == OCI_LINT_ERROR ? "error" : s == OCI_LINT_WARNING ? "warning" : "off";
}

static int rule_index(const char *id)
{
	for (int i = 0; i < LINT_RULE_COUNT; i++)
		if (!strcmp(rules[i].id, id))
			return i;
	return -1;
}

int oci_lint_policy_new(oci_lint_policy **out)
{
	*out = NULL;
	oci_lint_policy *p = calloc(1, sizeof *p);
	if (!p)
		return OCI_ENOMEM_SET();
	for (int i = 0; i < LINT_RULE_COUNT; i++)
		p->sev[i] = rules[i].default_severity;
	*out = p;
	return 0;
}

void oci_lint_policy_free(oci_lint_policy *p)
{
	if (!p)
		return;
	oci_strlist_dispose(&p->images);
	oci_strlist_dispose(&p->paths);
	oci_ignore_free(p->path_match);
	free(p);
}

int oci_lint_policy_set(oci_lint_policy *p, const char *rule_id, oci_lint_severity s)
{
	int i = rule_index(rule_id);
	if (i < 0)
		return oci_error_set(OCI_EINVALID, "unknown lint rule '%s'", rule_id),
		       oci_error_hint_set(OCI_HINT_LINT_RULES, NULL);
	p->sev[i] = s;
	return 0;
}

void oci_lint_policy_set_require_digest(oci_lint_policy *p, int on)
{
	p->require_digest = on != 0;
}

oci_lint_severity lint_policy_severity(const oci_lint_policy *p, lint_rule r)
{
	return p->sev[r];
}

int lint_policy_require_digest(const oci_lint_policy *p)
{
	return p->require_digest;
}

int lint_policy_image_allowed(const oci_lint_policy *p, const char *image)
{
	for (size_t i = 0; i < p->images.n; i++)
		if (!strncmp(image, p->images.items[i], strlen(p->images.items[i])))
			return 1;
	return 0;
}

int lint_policy_path_allowed(const oci_lint_policy *p, const char *rel)
{
	return p->path_match && oci_ignore_match(p->path_match, rel, 0) == 1;
}

static int parse_severity(oci_lint_severity *out, const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "error"))
		*out = OCI_LINT_ERROR;
	else if (!strcmp(s, "warning"))
		*out = OCI_LINT_WARNING;
	else if (!strcmp(s, "off"))
		*out = OCI_LINT_OFF;
	else
		return -1;
	return 0;
}

/* A sequence of scalars into l. */
static int read_strings(oci_strlist *l, const lint_node *seq, const char *path, const char *what)
{
	if (!seq || seq->kind != LINT_SEQ)
		return oci_error_set(OCI_EINVALID, "%s: %s must be a list of strings", path, what);
	for (size_t i = 0; i < seq->n; i++) {
		const char *s = lint_scalar(seq->kids[i]);
		if (!s || !*s)
			return oci_error_set(OCI_EINVALID, "%s:%d: %s must be a list of non-empty strings", path,
					     seq->kids[i]->line, what);
		if (oci_strlist_push(l, s) < 0)
			return OCI_ENOMEM_SET();
	}
	return 0;
}

static int apply(oci_lint_policy *p, const lint_node *root, const char *path)
{
	if (!root)
		return 0; /* an empty file: the defaults */
	if (root->kind != LINT_MAP)
		return oci_error_set(OCI_EINVALID, "%s: a policy is a mapping with rules, require-digest and allow", path);
	int rc;
	for (size_t i = 0; i + 1 < root->n; i += 2) {
		const char *key = lint_scalar(root->kids[i]);
		const lint_node *val = root->kids[i + 1];
		int line = root->kids[i]->line;
		if (key && !strcmp(key, "rules")) {
			if (val->kind != LINT_MAP)
				return oci_error_set(OCI_EINVALID, "%s:%d: rules must map rule ids to error, warning or off",
						     path, line);
			for (size_t j = 0; j + 1 < val->n; j += 2) {
				const char *id = lint_scalar(val->kids[j]);
				int r = id ? rule_index(id) : -1;
				if (r < 0)
					return oci_error_set(OCI_EINVALID, "%s:%d: unknown rule '%s'", path,
							     val->kids[j]->line, id ? id : "?"),
					       oci_error_hint_set(OCI_HINT_LINT_RULES, NULL);
				if (parse_severity(&p->sev[r], lint_scalar(val->kids[j + 1])) < 0)
					return oci_error_set(OCI_EINVALID, "%s:%d: rule %s takes error, warning or off", path,
							     val->kids[j]->line, id);
			}
		} else if (key && !strcmp(key, "require-digest")) {
			const char *v = lint_scalar(val);
			if (!v || (strcmp(v, "true") && strcmp(v, "false")))
				return oci_error_set(OCI_EINVALID, "%s:%d: require-digest takes true or false", path, line);
			p->require_digest = !strcmp(v, "true");
		} else if (key && !strcmp(key, "allow")) {
			if (val->kind != LINT_MAP)
				return oci_error_set(OCI_EINVALID, "%s:%d: allow must be a mapping with images and paths",
						     path, line);
			for (size_t j = 0; j + 1 < val->n; j += 2) {
				const char *k = lint_scalar(val->kids[j]);
				if (k && !strcmp(k, "images"))
					rc = read_strings(&p->images, val->kids[j + 1], path, "allow.images");
				else if (k && !strcmp(k, "paths"))
					rc = read_strings(&p->paths, val->kids[j + 1], path, "allow.paths");
				else
					rc = oci_error_set(OCI_EINVALID, "%s:%d: unknown key allow.%s (images, paths)", path,
							   val->kids[j]->line, k ? k : "?");
				if (rc < 0)
					return rc;
			}
		} else {
			return oci_error_set(OCI_EINVALID, "%s:%d: unknown key '%s' (rules, require-digest, allow)", path,
					     line, key ? key : "?");
		}
	}
	if (p->paths.n) {
		if ((rc = oci_ignore_new(&p->path_match)) < 0)
			return rc;
		for (size_t i = 0; i < p->paths.n; i++)
			if ((rc = oci_ignore_add(p->path_match, p->paths.items[i])) < 0)
				return oci_error_wrap("%s: allow.paths", path);
	}
	return 0;
}

static int line_in_text(void *ctx, size_t offset)
{
	const oci_buf *t = ctx;
	int line = 1;
	for (size_t i = 0; i < offset && i < t->len; i++)
		line += t->data[i] == '\n';
	return line;
}

int oci_lint_policy_load(oci_lint_policy **out, const char *path)
{
	*out = NULL;
	oci_lint_policy *p = NULL;
	oci_buf text = OCI_BUF_INIT;
	lint_arena *arena = NULL;
	yaml_parser_t parser;
	int have_parser = 0;
	int rc = oci_read_file(&text, path, POLICY_MAX_BYTES);
	if (rc < 0)
		goto cleanup;
	if ((rc = oci_lint_policy_new(&p)) < 0)
		goto cleanup;
	if (!yaml_parser_initialize(&parser)) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	have_parser = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)(text.data ? text.data : ""), text.len);
	lint_node *root = NULL;
	const char *why = NULL;
	int line = 0;
	lint_input_guard guard;
	memset(&guard, 0, sizeof guard);
	guard.line_at = line_in_text;
	guard.line_ctx = &text;
	lint_doc_status st = lint_read_document(&root, &arena, &parser, &guard, LINT_TREE_FULL, &why, &line);
	if (st == LINT_DOC_NOMEM) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if (st == LINT_DOC_SYNTAX || st == LINT_DOC_LIMIT) {
		rc = oci_error_set(OCI_EINVALID, "%s:%d: not a valid policy: %s", path, line, why);
		goto cleanup;
	}
	if ((rc = apply(p, st == LINT_DOC_OK ? root : NULL, path)) < 0)
		goto cleanup;
	*out = p;
	p = NULL;
cleanup:
	if (have_parser)
		yaml_parser_delete(&parser);
	lint_arena_free(arena);
	oci_buf_dispose(&text);
	oci_lint_policy_free(p);
	return rc;
}

void oci_lint_policy_digest(char out[OCI_DIGEST_SIZE], const oci_lint_policy *p)
{
	json_t *o = json_object(), *r = json_object(), *allow = json_object();
	json_t *images = json_array(), *paths = json_array();
	for (int i = 0; i < LINT_RULE_COUNT; i++)
		json_object_set_new(r, rules[i].id, json_string(oci_lint_severity_name(p->sev[i])));
	for (size_t i = 0; i < p->images.n; i++)
		json_array_append_new(images, json_string(p->images.items[i]));
	for (size_t i = 0; i < p->paths.n; i++)
		json_array_append_new(paths, json_string(p->paths.items[i]));
	json_object_set_new(allow, "images", images);
	json_object_set_new(allow, "paths", paths);
	json_object_set_new(o, "rules", r);
	json_object_set_new(o, "require-digest", json_boolean(p->require_digest));
	json_object_set_new(o, "allow", allow);
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	if (!s || oci_digest_buf(out, s, strlen(s)) < 0)
		out[0] = '\0';
	free(s);
}
