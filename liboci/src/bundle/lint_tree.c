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
 * Every mode counts what the whole tree would take, so all of them refuse
 * the same documents at the same event. */
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

/* n bytes (already counted and rounded by arena_count); NULL when out of
 * memory. */
static void *arena_take(lint_arena *a, size_t n)
{
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

/* LINT_TREE_RULES keeps only the nodes lint_rules.c can look at: what a
 * node may be (its role) follows from its parent's role and its key. A
 * kept map holds every pair whose key is one its role looks up, in
 * document order (so lint_get still finds the first of duplicate keys);
 * the other pairs and their subtrees are only counted (for the limits).
 * Every lookup in lint_rules.c must be listed here: fuzz_lint compares
 * the findings with those over the whole tree. */
enum {
	R_SKIP,     /* not built */
	R_SHAPE,    /* built without its children: kind, line, text, and n */
	R_ALL,      /* LINT_TREE_FULL: everything */
	R_OBJ,      /* an object: the root, or an item of a List */
	R_ITEMS,    /* a List's items */
	R_META,     /* metadata */
	R_SPEC,     /* spec: a Pod's spec, or the parent of template / jobTemplate */
	R_TEMPLATE, /* template: its spec is a pod spec */
	R_JOBT,     /* jobTemplate */
	R_JOBSPEC,  /* jobTemplate.spec */
	R_POD,      /* a pod spec */
	R_CLIST,    /* containers, initContainers, ephemeralContainers */
	R_CONTAINER,
	R_SECCTX,   /* securityContext */
	R_VLIST,    /* volumes */
	R_VOLUME,
	R_HOSTPATH,
};

typedef struct {
	const char *key;
	unsigned char child;
} role_key;

/* Per role, the keys whose values a map of that role keeps (none for the
 * roles not listed), mirroring lint_rules.c's lookups. */
#define POD_KEYS \
	{ "containers", R_CLIST }, { "initContainers", R_CLIST }, { "ephemeralContainers", R_CLIST }, { "volumes", R_VLIST }
static const role_key obj_keys[] = {
	{ "kind", R_SHAPE }, { "items", R_ITEMS }, { "sops", R_SHAPE }, { "metadata", R_META }, { "data", R_SHAPE },
	{ "stringData", R_SHAPE }, { "spec", R_SPEC }, { "template", R_TEMPLATE }, { NULL, 0 },
};
static const role_key meta_keys[] = { { "name", R_SHAPE }, { "namespace", R_SHAPE }, { NULL, 0 } };
static const role_key spec_keys[] = { POD_KEYS, { "template", R_TEMPLATE }, { "jobTemplate", R_JOBT }, { NULL, 0 } };
static const role_key template_keys[] = { { "spec", R_POD }, { NULL, 0 } };
static const role_key jobt_keys[] = { { "spec", R_JOBSPEC }, { NULL, 0 } };
static const role_key jobspec_keys[] = { { "template", R_TEMPLATE }, { NULL, 0 } };
static const role_key pod_keys[] = { POD_KEYS, { NULL, 0 } };
static const role_key container_keys[] = {
	{ "name", R_SHAPE }, { "image", R_SHAPE }, { "securityContext", R_SECCTX }, { NULL, 0 },
};
static const role_key secctx_keys[] = { { "privileged", R_SHAPE }, { NULL, 0 } };
static const role_key volume_keys[] = { { "name", R_SHAPE }, { "hostPath", R_HOSTPATH }, { NULL, 0 } };
static const role_key hostpath_keys[] = { { "path", R_SHAPE }, { NULL, 0 } };
static const role_key *const role_keys[] = {
	[R_OBJ] = obj_keys,
	[R_META] = meta_keys,
	[R_SPEC] = spec_keys,
	[R_TEMPLATE] = template_keys,
	[R_JOBT] = jobt_keys,
	[R_JOBSPEC] = jobspec_keys,
	[R_POD] = pod_keys,
	[R_CONTAINER] = container_keys,
	[R_SECCTX] = secctx_keys,
	[R_VOLUME] = volume_keys,
	[R_HOSTPATH] = hostpath_keys,
};

/* The role of the value under a scalar key of a map with this role. Keys
 * compare as C strings, as lint_get compares them. */
static unsigned char value_role(unsigned char parent, const char *key)
{
	if (parent == R_ALL)
		return R_ALL;
	const role_key *k = parent < sizeof role_keys / sizeof *role_keys ? role_keys[parent] : NULL;
	for (; k && k->key; k++)
		if (k->key[0] == key[0] && !strcmp(k->key, key))
			return k->child;
	return R_SKIP;
}

static unsigned char item_role(unsigned char parent)
{
	switch (parent) {
	case R_ALL:
		return R_ALL;
	case R_ITEMS:
		return R_OBJ;
	case R_CLIST:
		return R_CONTAINER;
	case R_VLIST:
		return R_VOLUME;
	default:
		return R_SKIP;
	}
}

/* A node under construction: the kept children gathered in a growing
 * array that moves into the arena when the node closes. */
typedef struct open_node {
	lint_node *node;        /* NULL when not built */
	lint_node **kids;
	size_t n, cap;          /* kept children */
	size_t total;           /* children in the whole tree */
	unsigned char role;
	unsigned char next;     /* a map's: the role of the value after the key just read */
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

/* role_of for a child of a node that is built. */
static unsigned char kept_role(open_node *parent, const char *key_text)
{
	if (parent->node->kind == LINT_SEQ)
		return item_role(parent->role);
	if (parent->total % 2)
		return parent->next;
	/* a key: kept when its value may be looked up */
	parent->next = key_text ? value_role(parent->role, key_text) : parent->role == R_ALL ? R_ALL : R_SKIP;
	return parent->next == R_SKIP ? R_SKIP : parent->role == R_ALL ? R_ALL : R_SHAPE;
}

/* The role of the node an event starts under parent (NULL: the root).
 * key_text: a scalar's text, for a map's key. Inline for its first test:
 * most events are inside a subtree that is not built. */
static inline unsigned char role_of(open_node *parent, lint_tree_mode mode, const char *key_text)
{
	if (!parent)
		return mode == LINT_TREE_FULL ? R_ALL : R_OBJ;
	if (!parent->node || parent->role == R_SHAPE)
		return R_SKIP;
	return kept_role(parent, key_text);
}

lint_doc_status lint_read_document(lint_node **root, lint_arena **arena_out, yaml_parser_t *p,
				   lint_input_guard *guard, lint_tree_mode mode, const char **why, int *line)
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
		open_node *parent = depth ? &stack[depth - 1] : NULL;
		lint_node *node = NULL;
		int done = 0; /* a node of the whole tree ended */
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
			/* an alias is kept as the scalar "*name", never expanded */
			int alias = ev.type == YAML_ALIAS_EVENT;
			const char *src = alias ? (const char *)ev.data.alias.anchor : (const char *)ev.data.scalar.value;
			size_t len = alias ? strlen(src) + 1 : ev.data.scalar.length;
			size = sizeof *node + len + 1;
			if (arena_count(a, &size, &over) < 0)
				goto fail_alloc;
			done = 1;
			if (role_of(parent, mode, alias ? "*" : src) == R_SKIP)
				break;
			if (!(node = arena_take(a, size)))
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
		case YAML_MAPPING_START_EVENT: {
			if (depth >= OCI_LINT_MAX_DEPTH) {
				*why = "nested deeper than 100 levels";
				*line = ln;
				st = LINT_DOC_LIMIT;
				yaml_event_delete(&ev);
				goto unwind;
			}
			size = sizeof *node;
			if (arena_count(a, &size, &over) < 0)
				goto fail_alloc;
			unsigned char role = role_of(parent, mode, NULL);
			lint_node *open = NULL;
			if (role != R_SKIP) {
				if (!(open = arena_take(a, size)))
					goto fail_alloc;
				memset(open, 0, sizeof *open);
				open->kind = ev.type == YAML_MAPPING_START_EVENT ? LINT_MAP : LINT_SEQ;
				open->line = ln;
			}
			stack[depth++] = (open_node){ open, NULL, 0, 0, 0, role, R_SKIP };
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT: {
			open_node *o = &stack[depth - 1];
			size = o->total * sizeof(lint_node *);
			if (o->total && arena_count(a, &size, &over) < 0)
				goto fail_alloc;
			if ((node = o->node)) {
				if (o->role == R_SHAPE) {
					node->n = o->total; /* only its size is looked at */
				} else if (o->n) {
					size = o->n * sizeof *node->kids;
					if (!(node->kids = arena_take(a, (size + 15) & ~(size_t)15)))
						goto fail_alloc;
					memcpy(node->kids, o->kids, size);
					node->n = o->n;
				}
			}
			free(o->kids);
			depth--;
			parent = depth ? &stack[depth - 1] : NULL;
			done = 1;
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (!done)
			continue;
		if (!parent) {
			*root = node;
			continue;
		}
		parent->total++;
		if (node && push_kid(parent, node) < 0) {
			st = LINT_DOC_NOMEM;
			goto unwind;
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
	if (!m || m->kind != LINT_MAP || !m->kids) /* no kids: a shape (LINT_TREE_RULES) or empty */
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
