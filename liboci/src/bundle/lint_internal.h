/* Private to the linter (lint*.c): a small read-only tree of one YAML
 * document, built from libyaml's events under fixed limits, and the rule
 * checks that run over it. */
#ifndef OCI_LINT_INTERNAL_H
#define OCI_LINT_INTERNAL_H
#include <stddef.h>
#include <yaml.h>
#include "oci/lint.h"

typedef enum { LINT_SCALAR, LINT_MAP, LINT_SEQ } lint_kind;

typedef struct lint_node {
	lint_kind kind;
	int line;                 /* 1-based */
	int plain;                /* scalar written without quotes */
	const char *text;         /* scalar text (NUL-terminated); "*name" for an alias */
	struct lint_node **kids;  /* map: key, value, key, value...; seq: items */
	size_t n;                 /* map: 2 * pairs; seq: items */
} lint_node;

/* The nodes of one document live in an arena, freed at once. */
typedef struct lint_arena lint_arena;

typedef enum {
	LINT_DOC_OK = 0,      /* *root is the document (NULL for an empty one) */
	LINT_DOC_END = 1,     /* the stream has no more documents */
	LINT_DOC_SYNTAX = 2,  /* libyaml refused the input: *why, *line */
	LINT_DOC_LIMIT = 3,   /* too large or too deep: *why, *line */
	LINT_DOC_NOMEM = 4,
} lint_doc_status;

/* Kept by the parser's input handler: bytes handed to libyaml since the
 * last event. libyaml holds a whole token in memory before it reports it,
 * so the handler refuses input (setting over) once one token would pass
 * OCI_LINT_MAX_DOCUMENT; lint_read_document resets the count at each event. */
typedef struct lint_input_guard {
	size_t since_event;
	int over;
	char why[256];            /* room for a syntax message with its context */
	/* libyaml reports an encoding error (invalid UTF-8, a control
	 * character) by byte offset, not line: the input's owner maps it,
	 * or NULL (line 1). */
	int (*line_at)(void *ctx, size_t offset);
	void *line_ctx;
} lint_input_guard;

/* How much of a document lint_read_document builds. */
typedef enum {
	LINT_TREE_RULES,  /* only the nodes the rules look at (lint_tree.c's role_keys) */
	LINT_TREE_FULL,   /* every node */
} lint_tree_mode;

/* Reads the next document of the stream parser p into a fresh tree in
 * *arena (freed by the caller with lint_arena_free, also on failure).
 * guard may be NULL (input from memory). Both modes give the same status,
 * syntax errors and limits, and the rules find the same in either tree. */
lint_doc_status lint_read_document(lint_node **root, lint_arena **arena, yaml_parser_t *p,
				   lint_input_guard *guard, lint_tree_mode mode, const char **why, int *line);
void lint_arena_free(lint_arena *a);

/* Looks up key in a mapping; NULL when absent or when m is not a map. */
const lint_node *lint_get(const lint_node *m, const char *key);
/* Follows a dotted path of keys ("spec.template.spec"). */
const lint_node *lint_path(const lint_node *m, const char *dotted);
/* The scalar text of a node, or NULL when it is not a scalar. */
const char *lint_scalar(const lint_node *n);

/* Policy internals the rules read. */
typedef enum {
	LINT_RULE_IMAGE_UNPINNED,
	LINT_RULE_PLAINTEXT_SECRET,
	LINT_RULE_NAMESPACE_MISSING,
	LINT_RULE_PRIVILEGED,
	LINT_RULE_HOST_PATH,
	LINT_RULE_INVALID_YAML,
	LINT_RULE_LIMIT,
	LINT_RULE_COUNT
} lint_rule;

oci_lint_severity lint_policy_severity(const oci_lint_policy *p, lint_rule r);
int lint_policy_require_digest(const oci_lint_policy *p);
/* 1 when image starts with an allowed prefix. */
int lint_policy_image_allowed(const oci_lint_policy *p, const char *image);
/* 1 when the file is exempt from every rule. */
int lint_policy_path_allowed(const oci_lint_policy *p, const char *rel);

/* Where findings go while one document is checked. */
typedef struct lint_sink {
	const oci_lint_policy *policy;
	const char *file;
	int document;
	/* returns 0 or OCI_ENOMEM */
	int (*add)(struct lint_sink *s, lint_rule r, int line, const char *message);
	void *ctx;
} lint_sink;

/* Runs every rule over one document; 0, or OCI_ENOMEM. */
int lint_check_document(lint_sink *s, const lint_node *root);

#endif
