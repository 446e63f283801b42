/* gitignore-style patterns for packing (--ignore, .sourceignore).
 *
 * Semantics follow gitignore(5): blank lines and '#' comments skipped,
 * trailing spaces dropped unless escaped, '!' negates, a trailing '/' only
 * matches directories, a '/' at the start or in the middle anchors the
 * pattern at the root (otherwise it matches the name at any depth), '*' and
 * '?' and '[...]' never match '/', '**' matches across directories
 * ("**" + "/x", "a/" + "**", "a/" + "**" + "/b"), '\' escapes the next
 * character, and the last matching pattern wins. As in git, nothing inside
 * an ignored directory can be re-included. */
#include "oci/bundle.h"
#include "bundle_internal.h"
#include "error_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ignore_rule {
	char *pat;      /* without '!', leading '/' and trailing '/' */
	int negate;
	int dir_only;
	int anchored;   /* matched against the whole path, else the basename */
} ignore_rule;

struct oci_ignore {
	ignore_rule *rules;
	size_t n, cap;
};

int oci_ignore_new(oci_ignore **out)
{
	oci_ignore *ig = calloc(1, sizeof *ig);
	if (!ig)
		return OCI_ENOMEM_SET();
	*out = ig;
	return 0;
}

void oci_ignore_free(oci_ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++)
		free(ig->rules[i].pat);
	free(ig->rules);
	free(ig);
}

int oci_ignore_add(oci_ignore *ig, const char *pattern)
{
	size_t len = strlen(pattern);
	/* Strip a CR (files written on Windows) and trailing unescaped spaces. */
	while (len && (pattern[len - 1] == '\r' || pattern[len - 1] == '\n'))
		len--;
	while (len && (pattern[len - 1] == ' ' || pattern[len - 1] == '\t')) {
		size_t bs = 0;
		while (bs + 1 < len && pattern[len - 2 - bs] == '\\')
			bs++;
		if (bs % 2 == 1)
			break; /* "\ " keeps its space */
		len--;
	}
	if (len == 0 || pattern[0] == '#')
		return 0;
	ignore_rule r = { 0 };
	const char *p = pattern;
	if (*p == '!') {
		r.negate = 1;
		p++;
		len--;
	}
	if (len && p[len - 1] == '/' && !(len >= 2 && p[len - 2] == '\\')) {
		r.dir_only = 1;
		len--;
	}
	/* A slash anywhere but at the end anchors the pattern. */
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		if (p[i] == '/')
			r.anchored = 1;
	}
	if (len && *p == '/') {
		p++;
		len--;
	}
	if (len == 0)
		return 0; /* "/" or "!" alone match nothing */
	if (!(r.pat = strndup(p, len)))
		return OCI_ENOMEM_SET();
	if (ig->n == ig->cap) {
		size_t cap = ig->cap ? ig->cap * 2 : 16;
		ignore_rule *rules = realloc(ig->rules, cap * sizeof *rules);
		if (!rules) {
			free(r.pat);
			return OCI_ENOMEM_SET();
		}
		ig->rules = rules;
		ig->cap = cap;
	}
	ig->rules[ig->n++] = r;
	return 0;
}

int oci_ignore_add_file(oci_ignore *ig, const char *file)
{
	FILE *f = fopen(file, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return oci_error_errno("reading ignore file %s", file);
	}
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	while (getline(&line, &cap, f) >= 0)
		if ((rc = oci_ignore_add(ig, line)) < 0)
			break;
	if (rc == 0 && ferror(f))
		rc = oci_error_errno("reading ignore file %s", file);
	free(line);
	fclose(f);
	return rc;
}

/* Matches a bracket expression at *pp against c; advances *pp past it.
 * Returns 1 match, 0 no match, -1 malformed (then '[' is a literal). */
static int match_class(const char **pp, unsigned char c)
{
	const char *p = *pp + 1;
	int negate = 0, matched = 0;
	if (*p == '!' || *p == '^') {
		negate = 1;
		p++;
	}
	int first = 1;
	while (*p && (*p != ']' || first)) {
		unsigned char lo = (unsigned char)*p;
		if (lo == '\\' && p[1])
			lo = (unsigned char)*++p;
		p++;
		unsigned char hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			hi = (unsigned char)*p;
			if (hi == '\\' && p[1])
				hi = (unsigned char)*++p;
			p++;
		}
		if (c >= lo && c <= hi)
			matched = 1;
		first = 0;
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	return matched != negate;
}

/* Glob match of the whole text; '/' is only matched by '/' or '**'. */
static int wildmatch(const char *start, const char *p, const char *t)
{
	while (*p) {
		if (p[0] == '*' && p[1] == '*' && (p == start || p[-1] == '/') &&
		    (p[2] == '/' || p[2] == '\0')) {
			/* "**" as a whole path segment (at the start or after '/'). */
			if (p[2] == '\0')
				return 1;
			const char *rest = p + 3;
			if (wildmatch(start, rest, t))
				return 1;
			for (const char *s = t; *s; s++)
				if (*s == '/' && wildmatch(start, rest, s + 1))
					return 1;
			return 0;
		}
		switch (*p) {
		case '*':
			while (*p == '*')
				p++;
			for (const char *s = t;; s++) {
				if (wildmatch(start, p, s))
					return 1;
				if (!*s || *s == '/')
					return 0;
			}
		case '?':
			if (!*t || *t == '/')
				return 0;
			p++;
			t++;
			break;
		case '[': {
			if (!*t || *t == '/')
				return 0;
			const char *q = p;
			int m = match_class(&q, (unsigned char)*t);
			if (m < 0) {
				if (*t != '[')
					return 0;
				p++;
				t++;
				break;
			}
			if (!m)
				return 0;
			p = q;
			t++;
			break;
		}
		case '\\':
			if (p[1])
				p++;
			/* fall through */
		default:
			if (*p != *t)
				return 0;
			p++;
			t++;
		}
	}
	return *t == '\0';
}

int oci__ignore_match_one(const oci_ignore *ig, const char *rel_path, int is_dir)
{
	if (!ig)
		return 0;
	const char *base = strrchr(rel_path, '/');
	base = base ? base + 1 : rel_path;
	int ignored = 0;
	for (size_t i = 0; i < ig->n; i++) {
		const ignore_rule *r = &ig->rules[i];
		if (r->dir_only && !is_dir)
			continue;
		if (ignored == !r->negate)
			continue; /* cannot change the outcome */
		if (wildmatch(r->pat, r->pat, r->anchored ? rel_path : base))
			ignored = !r->negate;
	}
	return ignored;
}

int oci_ignore_match(const oci_ignore *ig, const char *rel_path, int is_dir)
{
	/* A path under an ignored directory is ignored whatever later
	 * patterns say, so check each parent first. */
	char *copy = strdup(rel_path);
	if (!copy)
		return OCI_ENOMEM_SET();
	int ignored = 0;
	for (char *s = copy; !ignored && (s = strchr(s, '/')); s++) {
		*s = '\0';
		ignored = oci__ignore_match_one(ig, copy, 1);
		*s = '/';
	}
	if (!ignored)
		ignored = oci__ignore_match_one(ig, copy, is_dir);
	free(copy);
	return ignored;
}
