/* Token scopes (see scope.h): merged when a registry's challenge names
 * more than the request asked for, compared when a cached token might
 * serve another request. */
#include "scope.h"

#include <stdlib.h>
#include <string.h>

/* One scope item: resource (up to the last ':') and actions. */
typedef struct item {
	const char *res;
	size_t res_len;
	const char *acts;
	size_t acts_len;
} item;

/* The next non-empty item of *p (advanced past it); 0 at the end. An item
 * without ':' is all resource, no actions. */
static int next_item(item *it, const char **p)
{
	const char *s = *p;
	while (*s == ' ')
		s++;
	if (!*s)
		return 0;
	size_t l = strcspn(s, " ");
	const char *colon = memrchr(s, ':', l);
	it->res = s;
	it->res_len = colon ? (size_t)(colon - s) : l;
	it->acts = colon ? colon + 1 : s + l;
	it->acts_len = colon ? (size_t)(s + l - colon - 1) : 0;
	*p = s + l;
	return 1;
}

/* 1 when the comma-separated list (len bytes) holds action (or "*" when
 * star counts). */
static int has_action(const char *list, size_t len, const char *action, size_t alen, int star)
{
	const char *p = list, *end = list + len;
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t l = c ? (size_t)(c - p) : (size_t)(end - p);
		if ((l == alen && !strncmp(p, action, alen)) || (star && l == 1 && *p == '*'))
			return 1;
		p += l + 1;
	}
	return 0;
}

/* A growing string (NULL after a failed allocation). */
typedef struct str {
	char *s;
	size_t len, cap;
} str;

static void put(str *b, const char *text, size_t n)
{
	if (!b->s && b->cap)
		return; /* failed before */
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			free(b->s);
			b->s = NULL;
			b->cap = 1;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, text, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Appends the actions of every item of both lists for resource, each once. */
static void put_actions(str *b, const char *res, size_t res_len, const char *const lists[2])
{
	size_t start = b->len;
	for (int k = 0; k < 2; k++) {
		const char *p = lists[k];
		item it;
		while (p && next_item(&it, &p)) {
			if (it.res_len != res_len || strncmp(it.res, res, res_len))
				continue;
			const char *a = it.acts, *end = it.acts + it.acts_len;
			while (a < end) {
				const char *c = memchr(a, ',', (size_t)(end - a));
				size_t l = c ? (size_t)(c - a) : (size_t)(end - a);
				if (l && !(b->s && has_action(b->s + start, b->len - start, a, l, 0))) {
					if (b->len > start)
						put(b, ",", 1);
					put(b, a, l);
				}
				a += l + 1;
			}
		}
	}
}

char *oci_scope_merge(const char *a, const char *b)
{
	str out = { NULL, 0, 0 };
	const char *const lists[2] = { a, b };
	put(&out, "", 0);
	for (int k = 0; k < 2; k++) {
		const char *p = lists[k];
		item it;
		while (p && next_item(&it, &p)) {
			/* a resource already written (earlier in either list) */
			int seen = 0;
			for (int j = 0; j <= k && !seen; j++) {
				const char *q = lists[j];
				item prev;
				while (q && next_item(&prev, &q) && !(j == k && prev.res == it.res))
					if (prev.res_len == it.res_len && !strncmp(prev.res, it.res, it.res_len)) {
						seen = 1;
						break;
					}
			}
			if (seen)
				continue;
			if (out.len)
				put(&out, " ", 1);
			put(&out, it.res, it.res_len);
			size_t before = out.len;
			put(&out, ":", 1);
			put_actions(&out, it.res, it.res_len, lists);
			if (out.s && out.len == before + 1) { /* no actions: the bare resource */
				out.len = before;
				out.s[out.len] = '\0';
			}
		}
	}
	return out.s;
}

/* True when the items of have grant action on resource. */
static int grants(const char *have, const char *res, size_t res_len, const char *action, size_t alen)
{
	const char *p = have;
	item it;
	while (p && next_item(&it, &p))
		if (it.res_len == res_len && !strncmp(it.res, res, res_len) &&
		    has_action(it.acts, it.acts_len, action, alen, 1))
			return 1;
	return 0;
}

int oci_scope_covers(const char *have, const char *want)
{
	const char *p = want ? want : "";
	item it;
	int any = 0;
	while (next_item(&it, &p)) {
		any = 1;
		if (!it.acts_len)
			return 0; /* an item without actions: only an exact match serves it */
		const char *a = it.acts, *end = it.acts + it.acts_len;
		while (a < end) {
			const char *c = memchr(a, ',', (size_t)(end - a));
			size_t l = c ? (size_t)(c - a) : (size_t)(end - a);
			if (l && !grants(have, it.res, it.res_len, a, l))
				return 0;
			a += l + 1;
		}
	}
	if (!any) /* the empty scope (GET /v2/): only its own token */
		return !have || !*have;
	return 1;
}

int oci_scope_first_repository(char *name, size_t name_n, char *actions, size_t actions_n, const char *scope)
{
	const char *p = scope ? scope : "";
	item it;
	static const char prefix[] = "repository:";
	if (!next_item(&it, &p) || it.res + it.res_len == it.acts /* no ':' */ ||
	    it.res_len < sizeof prefix - 1 || strncmp(it.res, prefix, sizeof prefix - 1))
		return 0;
	size_t nl = it.res_len - (sizeof prefix - 1);
	if (nl == 0 || nl >= name_n || it.acts_len >= actions_n)
		return 0;
	memcpy(name, it.res + sizeof prefix - 1, nl);
	name[nl] = '\0';
	memcpy(actions, it.acts, it.acts_len);
	actions[it.acts_len] = '\0';
	return 1;
}
