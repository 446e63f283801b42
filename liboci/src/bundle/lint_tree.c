/* One YAML document as a tree, from libyaml's event parser.
 *
 * Bounded: every node and scalar is counted against OCI_LINT_MAX_DOCUMENT
 * and nesting against OCI_LINT_MAX_DEPTH, so a hostile file costs at most
 * that much memory. Aliases are kept as "*name" scalars and never expanded
 * (no "billion laughs"). */
#include "lint_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK (64 * 1024)

typedef struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
} arena_block;

struct lint_arena {
	arena_block *head;
	size_t total;
};

void lint_arena_free(lint_arena *a)
{
	if (!a)
		return;
	for (arena_block *b = a->head, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

/* Counts n bytes against the document limit: -1 (and *over set) past it.
 * A check without a tree counts what the tree would have taken, so both
 * refuse the same documents. */
static int arena_count(lint_arena *a, size_t *n, int *over)
{
	*n = (*n + 15) & ~(size_t)15;
	a->total += *n;
	if (a->total > OCI_LINT_MAX_DOCUMENT) {
		*over = 1;
		return -1;
	}
	return 0;
}

/* NULL when out of memory or past the document limit (*over set). */
static void *arena_alloc(lint_arena *a, size_t n, int *over)
{
	if (arena_count(a, &n, over) < 0)
		return NULL;
	if (!a->head || a->head->cap - a->head->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		arena_block *b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	void *p = a->head->data + a->head->used;
	a->head->used += n;
	return p;
}

/* A node under construction: children gathered in a growing array that
 * moves into the arena when the node closes. */
typedef struct open_node {
	lint_node *node;
	lint_node **kids;
	size_t n, cap;
} open_node;

static int push_kid(open_node *o, lint_node *kid)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 8;
		lint_node **k = realloc(o->kids, cap * sizeof *k);
		if (!k)
			return -1;
		o->kids = k;
		o->cap = cap;
	}
	o->kids[o->n++] = kid;
	return 0;
}

lint_doc_status lint_read_document(lint_node **root, lint_arena **arena_out, yaml_parser_t *p,
				   lint_input_guard *guard, int build, const char **why, int *line)
{
	*root = NULL;
	*why = NULL;
	*line = 0;
	lint_arena *a = calloc(1, sizeof *a);
	*arena_out = a;
	if (!a)
		return LINT_DOC_NOMEM;
	open_node stack[OCI_LINT_MAX_DEPTH + 1];
	int depth = 0, over = 0, started = 0;
	lint_doc_status st = LINT_DOC_OK;
	yaml_event_t ev;
	for (;;) {
		if (!yaml_parser_parse(p, &ev)) {
			*why = p->problem ? p->problem : "not valid YAML";
			*line = (int)(p->problem_mark.line + 1);
			if (p->error == YAML_READER_ERROR)
				*line = guard && guard->line_at ? guard->line_at(guard->line_ctx, p->problem_offset) : 1;
			if (p->context && guard) {
				/* "did not find expected ',' or ']'" means little
				 * without "while parsing a flow sequence" at line N */
				snprintf(guard->why, sizeof guard->why, "%s (%s started at line %d)", *why, p->context,
					 (int)p->context_mark.line + 1);
				*why = guard->why;
			}
			st = p->error == YAML_MEMORY_ERROR ? LINT_DOC_NOMEM : LINT_DOC_SYNTAX;
			if (guard && guard->over) {
				*why = "holds a single value larger than 8 MiB";
				st = LINT_DOC_LIMIT;
			}
			goto unwind;
		}
		if (guard)
			guard->since_event = 0;
		int ln = (int)ev.start_mark.line + 1;
		lint_node *node = NULL;
		int counted = 0; /* !build: a node the tree would have had */
		size_t size;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
			break;
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			return started ? LINT_DOC_OK : LINT_DOC_END;
		case YAML_DOCUMENT_START_EVENT:
			started = 1;
			break;
		case YAML_DOCUMENT_END_EVENT:
			yaml_event_delete(&ev);
			return LINT_DOC_OK;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT: {
			int alias = ev.type == YAML_ALIAS_EVENT;
			const char *src = alias ? (const char *)ev.data.alias.anchor : (const char *)ev.data.scalar.value;
			size_t len = alias ? strlen(src) + 1 : ev.data.scalar.length;
			if (!build) {
				size = sizeof *node + len + 1;
				if (arena_count(a, &size, &over) < 0)
					goto fail_alloc;
				counted = 1;
				break;
			}
			node = arena_alloc(a, sizeof *node + len + 1, &over);
			if (!node)
				goto fail_alloc;
			memset(node, 0, sizeof *node);
			char *text = (char *)(node + 1);
			if (alias) {
				text[0] = '*';
				memcpy(text + 1, src, len - 1);
			} else {
				memcpy(text, src, len);
			}
			text[len] = '\0';
			node->kind = LINT_SCALAR;
			node->text = text;
			node->plain = !alias && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			node->line = ln;
			break;
		}
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth >= OCI_LINT_MAX_DEPTH) {
				*why = "nested deeper than 100 levels";
				*line = ln;
				st = LINT_DOC_LIMIT;
				yaml_event_delete(&ev);
				goto unwind;
			}
			if (!build) {
				size = sizeof *node;
				if (arena_count(a, &size, &over) < 0)
					goto fail_alloc;
				stack[depth++] = (open_node){ NULL, NULL, 0, 0 };
				break;
			}
			node = arena_alloc(a, sizeof *node, &over);
			if (!node)
				goto fail_alloc;
			memset(node, 0, sizeof *node);
			node->kind = ev.type == YAML_MAPPING_START_EVENT ? LINT_MAP : LINT_SEQ;
			node->line = ln;
			stack[depth++] = (open_node){ node, NULL, 0, 0 };
			node = NULL; /* attached when it closes */
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT: {
			open_node *o = &stack[--depth];
			if (!build) {
				size = o->n * sizeof(lint_node *);
				if (o->n && arena_count(a, &size, &over) < 0)
					goto fail_alloc;
				counted = 1;
				break;
			}
			node = o->node;
			if (o->n) {
				node->kids = arena_alloc(a, o->n * sizeof *node->kids, &over);
				if (!node->kids) {
					depth++; /* still ours to free */
					goto fail_alloc;
				}
				memcpy(node->kids, o->kids, o->n * sizeof *node->kids);
			}
			node->n = o->n;
			free(o->kids);
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (counted && depth > 0)
			stack[depth - 1].n++;
		if (node) {
			if (depth == 0)
				*root = node;
			else if (push_kid(&stack[depth - 1], node) < 0) {
				st = LINT_DOC_NOMEM;
				goto unwind;
			}
		}
		continue;
	fail_alloc:
		yaml_event_delete(&ev);
		if (over) {
			*why = "larger than 8 MiB (Kubernetes accepts objects up to about 1.5 MiB)";
			*line = ln;
			st = LINT_DOC_LIMIT;
		} else {
			st = LINT_DOC_NOMEM;
		}
		goto unwind;
	}
unwind:
	while (depth > 0)
		free(stack[--depth].kids);
	*root = NULL;
	return st;
}

const lint_node *lint_get(const lint_node *m, const char *key)
{
	if (!m || m->kind != LINT_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < m->n; i += 2)
		if (m->kids[i]->kind == LINT_SCALAR && !strcmp(m->kids[i]->text, key))
			return m->kids[i + 1];
	return NULL;
}

const lint_node *lint_path(const lint_node *m, const char *dotted)
{
	char key[64];
	while (m && *dotted) {
		size_t l = strcspn(dotted, ".");
		if (l >= sizeof key)
			return NULL;
		memcpy(key, dotted, l);
		key[l] = '\0';
		m = lint_get(m, key);
		dotted += l + (dotted[l] == '.');
	}
	return m;
}

const char *lint_scalar(const lint_node *n)
{
	return n && n->kind == LINT_SCALAR ? n->text : NULL;
}
