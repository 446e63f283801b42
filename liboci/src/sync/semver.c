/* Semantic versions and npm-style ranges. A range is parsed once into
 * alternatives of plain comparators (op + full version); the sugar (~, ^,
 * x-ranges, partial versions, hyphens) is rewritten into those, the way
 * npm's node-semver defines it, so matching is a loop of compares.
 * ~600 lines on purpose: versions, the range grammar and matching are one
 * spec (node-semver's) and are checked against it side by side. */
#include "oci/semver.h"
#include "error_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIGITS 18 /* keeps every number (and number + 1) far from overflow */

void oci_semver_dispose(oci_semver *v)
{
	if (!v)
		return;
	free(v->pre);
	v->pre = NULL;
}

/* Reads a number without leading zeros; returns chars consumed or 0. */
static size_t read_num(const char *s, unsigned long long *out)
{
	size_t n = 0;
	while (isdigit((unsigned char)s[n]))
		n++;
	if (n == 0 || n > MAX_DIGITS || (n > 1 && s[0] == '0'))
		return 0;
	unsigned long long v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long long)(s[i] - '0');
	*out = v;
	return n;
}

static int ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '-';
}

/* Dot-separated identifiers of [0-9A-Za-z-]; numeric ones without leading
 * zeros when numeric_rule. Returns chars consumed or 0 when malformed. */
static size_t read_idents(const char *s, int numeric_rule)
{
	size_t i = 0;
	for (;;) {
		size_t start = i;
		int all_digits = 1;
		while (ident_char(s[i])) {
			if (!isdigit((unsigned char)s[i]))
				all_digits = 0;
			i++;
		}
		if (i == start)
			return 0;
		if (numeric_rule && all_digits && i - start > 1 && s[start] == '0')
			return 0;
		if (s[i] != '.')
			return i;
		i++;
	}
}

/* Pre-release and build suffix at s; sets *pre (malloc'd or NULL) and
 * returns chars consumed, or (size_t)-1 when malformed. */
static size_t read_suffix(const char *s, char **pre)
{
	size_t i = 0;
	*pre = NULL;
	if (s[i] == '-') {
		size_t n = read_idents(s + 1, 1);
		if (!n)
			return (size_t)-1;
		if (!(*pre = strndup(s + 1, n)))
			return (size_t)-1;
		i += 1 + n;
	}
	if (s[i] == '+') {
		size_t n = read_idents(s + i + 1, 0);
		if (!n) {
			free(*pre);
			*pre = NULL;
			return (size_t)-1;
		}
		i += 1 + n;
	}
	return i;
}

int oci_semver_parse(oci_semver *out, const char *s)
{
	memset(out, 0, sizeof *out);
	const char *p = s;
	if (*p == 'v' || *p == 'V')
		p++;
	unsigned long long part[3];
	for (int i = 0; i < 3; i++) {
		size_t n = read_num(p, &part[i]);
		if (!n)
			goto bad;
		p += n;
		if (i < 2) {
			if (*p != '.')
				goto bad;
			p++;
		}
	}
	char *pre = NULL;
	size_t n = read_suffix(p, &pre);
	if (n == (size_t)-1 || p[n] != '\0') {
		free(pre);
		goto bad;
	}
	out->major = part[0];
	out->minor = part[1];
	out->patch = part[2];
	out->pre = pre;
	return 0;
bad:
	return oci_error_set(OCI_EINVALID, "'%s' is not a semantic version (MAJOR.MINOR.PATCH[-PRE][+BUILD])", s);
}

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return n > 0;
}

/* Compares dot-separated pre-release identifiers (semver 2.0.0 §11). */
static int compare_pre(const char *a, const char *b)
{
	if (!a && !b)
		return 0;
	if (!a)
		return 1;  /* a release ranks above its pre-releases */
	if (!b)
		return -1;
	for (;;) {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		int na = all_digits(a, la), nb = all_digits(b, lb);
		int c;
		if (na && nb)
			c = la != lb ? (la < lb ? -1 : 1) : strncmp(a, b, la); /* no leading zeros: length orders */
		else if (na)
			c = -1;
		else if (nb)
			c = 1;
		else {
			size_t l = la < lb ? la : lb;
			c = strncmp(a, b, l);
			if (c == 0 && la != lb)
				c = la < lb ? -1 : 1;
		}
		if (c)
			return c < 0 ? -1 : 1;
		a += la;
		b += lb;
		if (!*a && !*b)
			return 0;
		if (!*a)
			return -1; /* fewer identifiers rank lower */
		if (!*b)
			return 1;
		a++;
		b++;
	}
}

int oci_semver_compare(const oci_semver *a, const oci_semver *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	return compare_pre(a->pre, b->pre);
}

/* ---- ranges ---- */

typedef enum { OP_EQ, OP_LT, OP_LE, OP_GT, OP_GE } cmp_op;

typedef struct comparator {
	cmp_op op;
	oci_semver v;
	int synthetic; /* an upper bound written as X.Y.Z-0 by the rewrite; it
			  must not admit pre-releases */
} comparator;

typedef struct alternative {
	comparator *c;
	size_t n;
} alternative;

struct oci_semver_range {
	alternative *alt;
	size_t n;
};

void oci_semver_range_free(oci_semver_range *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		for (size_t j = 0; j < r->alt[i].n; j++)
			oci_semver_dispose(&r->alt[i].c[j].v);
		free(r->alt[i].c);
	}
	free(r->alt);
	free(r);
}

/* A partial version: up to three numbers (n of them given; wildcards and
 * missing parts end it) and a pre-release when all three are given. */
typedef struct partial {
	int n;
	unsigned long long part[3];
	char *pre;
} partial;

static int parse_partial_inner(partial *out, const char *s);

/* Parses a partial version; on failure nothing stays allocated. */
static int parse_partial(partial *out, const char *s)
{
	int rc = parse_partial_inner(out, s);
	if (rc) {
		free(out->pre);
		out->pre = NULL;
	}
	return rc;
}

static int parse_partial_inner(partial *out, const char *s)
{
	memset(out, 0, sizeof *out);
	const char *p = s;
	if (*p == 'v' || *p == 'V')
		p++;
	if (*p == '\0')
		return -1;
	int wild = 0;
	for (int i = 0; i < 3; i++) {
		if (*p == 'x' || *p == 'X' || *p == '*') {
			wild = 1;
			p++;
		} else if (wild) {
			return -1; /* "1.x.3": a number after a wildcard means nothing */
		} else {
			size_t n = read_num(p, &out->part[i]);
			if (!n)
				return -1;
			p += n;
			out->n++;
		}
		if (*p != '.')
			break;
		p++;
		if (i == 2)
			return -1;
	}
	if (out->n == 3) {
		size_t n = read_suffix(p, &out->pre);
		if (n == (size_t)-1)
			return -1;
		p += n;
	} else if (*p == '+') {
		char *ignored = NULL;
		size_t n = read_suffix(p, &ignored);
		free(ignored);
		if (n == (size_t)-1)
			return -1;
		p += n;
	}
	return *p == '\0' ? 0 : -1;
}

static int add_cmp(alternative *a, cmp_op op, unsigned long long ma, unsigned long long mi,
		   unsigned long long pa, const char *pre, int synthetic)
{
	comparator *c = realloc(a->c, (a->n + 1) * sizeof *c);
	if (!c)
		return OCI_ENOMEM_SET();
	a->c = c;
	comparator *x = &a->c[a->n];
	memset(x, 0, sizeof *x);
	x->op = op;
	x->v.major = ma;
	x->v.minor = mi;
	x->v.patch = pa;
	x->synthetic = synthetic;
	if (pre && !(x->v.pre = strdup(pre)))
		return OCI_ENOMEM_SET();
	a->n++;
	return 0;
}

/* "Below the next X": < X.0.0-0 excludes every pre-release of X too. */
#define BELOW(a, ma, mi, pa) add_cmp((a), OP_LT, (ma), (mi), (pa), "0", 1)

/* Rewrites one operator + partial into plain comparators. */
static int desugar(alternative *a, const char *op, const partial *v)
{
	unsigned long long M = v->part[0], m = v->part[1], p = v->part[2];
	int n = v->n;
	int rc = 0;
	if (!strcmp(op, "") || !strcmp(op, "=")) {
		if (n == 0)
			rc = add_cmp(a, OP_GE, 0, 0, 0, NULL, 0);
		else if (n == 1)
			{ if (!(rc = add_cmp(a, OP_GE, M, 0, 0, NULL, 0))) rc = BELOW(a, M + 1, 0, 0); }
		else if (n == 2)
			{ if (!(rc = add_cmp(a, OP_GE, M, m, 0, NULL, 0))) rc = BELOW(a, M, m + 1, 0); }
		else
			rc = add_cmp(a, OP_EQ, M, m, p, v->pre, 0);
	} else if (!strcmp(op, ">")) {
		if (n == 0)
			rc = add_cmp(a, OP_LT, 0, 0, 0, "0", 1); /* nothing is above everything */
		else if (n == 1)
			rc = add_cmp(a, OP_GE, M + 1, 0, 0, NULL, 0);
		else if (n == 2)
			rc = add_cmp(a, OP_GE, M, m + 1, 0, NULL, 0);
		else
			rc = add_cmp(a, OP_GT, M, m, p, v->pre, 0);
	} else if (!strcmp(op, ">=")) {
		if (n == 3)
			rc = add_cmp(a, OP_GE, M, m, p, v->pre, 0);
		else
			rc = add_cmp(a, OP_GE, M, n >= 2 ? m : 0, 0, NULL, 0);
	} else if (!strcmp(op, "<")) {
		if (n == 0)
			rc = add_cmp(a, OP_LT, 0, 0, 0, "0", 1);
		else if (n == 3)
			rc = add_cmp(a, OP_LT, M, m, p, v->pre, 0);
		else
			rc = BELOW(a, M, n >= 2 ? m : 0, 0);
	} else if (!strcmp(op, "<=")) {
		if (n == 0)
			rc = add_cmp(a, OP_GE, 0, 0, 0, NULL, 0);
		else if (n == 1)
			rc = BELOW(a, M + 1, 0, 0);
		else if (n == 2)
			rc = BELOW(a, M, m + 1, 0);
		else
			rc = add_cmp(a, OP_LE, M, m, p, v->pre, 0);
	} else if (!strcmp(op, "~")) {
		if (n == 0)
			rc = add_cmp(a, OP_GE, 0, 0, 0, NULL, 0);
		else if (n == 1)
			{ if (!(rc = add_cmp(a, OP_GE, M, 0, 0, NULL, 0))) rc = BELOW(a, M + 1, 0, 0); }
		else
			{ if (!(rc = add_cmp(a, OP_GE, M, m, n == 3 ? p : 0, v->pre, 0))) rc = BELOW(a, M, m + 1, 0); }
	} else if (!strcmp(op, "^")) {
		if (n == 0)
			return add_cmp(a, OP_GE, 0, 0, 0, NULL, 0);
		if ((rc = add_cmp(a, OP_GE, M, n >= 2 ? m : 0, n == 3 ? p : 0, v->pre, 0)))
			return rc;
		/* The upper bound stops at the left-most non-zero part given. */
		if (n == 1 || M > 0)
			rc = BELOW(a, M + 1, 0, 0);
		else if (n == 2 || m > 0)
			rc = BELOW(a, 0, m + 1, 0);
		else
			rc = BELOW(a, 0, 0, p + 1);
	}
	return rc;
}

static const char *const OPS[] = { ">=", "<=", ">", "<", "=", "~", "^" };

/* Splits a token into its operator and version text. */
static const char *split_op(const char *tok, char op[3])
{
	for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
		size_t l = strlen(OPS[i]);
		if (!strncmp(tok, OPS[i], l)) {
			memcpy(op, OPS[i], l);
			op[l] = '\0';
			return tok + l;
		}
	}
	op[0] = '\0';
	return tok;
}

/* One alternative: whitespace-separated comparators, or "A - B". The text
 * is modified (tokens are cut in place). */
static int parse_alternative(alternative *a, char *text, const char *range)
{
	char *tok[64];
	size_t nt = 0;
	for (char *s = strtok(text, " \t"); s; s = strtok(NULL, " \t")) {
		if (nt == sizeof tok / sizeof tok[0])
			return oci_error_set(OCI_EINVALID, "semver range '%s' has too many comparators", range);
		tok[nt++] = s;
	}
	if (nt == 0) /* "" and "a || " mean any version, as in npm */
		return add_cmp(a, OP_GE, 0, 0, 0, NULL, 0);
	partial pv;
	if (nt == 3 && !strcmp(tok[1], "-")) {
		partial lo, hi;
		memset(&hi, 0, sizeof hi);
		if (parse_partial(&lo, tok[0]) || parse_partial(&hi, tok[2])) {
			free(lo.pre);
			return oci_error_set(OCI_EINVALID, "semver range '%s': bad hyphen range '%s - %s'",
					     range, tok[0], tok[2]);
		}
		int rc = lo.n ? add_cmp(a, OP_GE, lo.part[0], lo.part[1], lo.part[2], lo.pre, 0)
			      : add_cmp(a, OP_GE, 0, 0, 0, NULL, 0);
		if (!rc && hi.n)
			rc = desugar(a, "<=", &hi);
		free(lo.pre);
		free(hi.pre);
		return rc;
	}
	for (size_t i = 0; i < nt; i++) {
		char op[3];
		const char *ver = split_op(tok[i], op);
		char joined[256];
		if (*ver == '\0' && op[0] && i + 1 < nt) {
			/* ">= 1.2.0": the operator stands apart from its version */
			ver = tok[++i];
		}
		snprintf(joined, sizeof joined, "%s%s", op, ver);
		if (*ver == '\0' || split_op(ver, (char[3]){ 0 }) != ver || parse_partial(&pv, ver))
			return oci_error_set(OCI_EINVALID, "semver range '%s': '%s' is not a version or comparator",
					     range, joined);
		int rc = desugar(a, op, &pv);
		free(pv.pre);
		if (rc)
			return rc;
	}
	return 0;
}

int oci_semver_range_parse(oci_semver_range **out, const char *range)
{
	*out = NULL;
	int rc = 0;
	char *copy = NULL;
	oci_semver_range *r = calloc(1, sizeof *r);
	if (!r || !(copy = strdup(range))) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	char *rest = copy;
	for (;;) {
		char *bar = strstr(rest, "||");
		if (bar)
			*bar = '\0';
		alternative *alt = realloc(r->alt, (r->n + 1) * sizeof *alt);
		if (!alt) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
		r->alt = alt;
		memset(&r->alt[r->n], 0, sizeof r->alt[r->n]);
		r->n++;
		if ((rc = parse_alternative(&r->alt[r->n - 1], rest, range)))
			goto cleanup;
		if (!bar)
			break;
		rest = bar + 2;
	}
	*out = r;
	r = NULL;
cleanup:
	free(copy);
	oci_semver_range_free(r);
	return rc;
}

static int cmp_ok(const comparator *c, const oci_semver *v)
{
	int d = oci_semver_compare(v, &c->v);
	switch (c->op) {
	case OP_EQ: return d == 0;
	case OP_LT: return d < 0;
	case OP_LE: return d <= 0;
	case OP_GT: return d > 0;
	case OP_GE: return d >= 0;
	}
	return 0;
}

static int alternative_ok(const alternative *a, const oci_semver *v)
{
	for (size_t i = 0; i < a->n; i++)
		if (!cmp_ok(&a->c[i], v))
			return 0;
	if (!v->pre)
		return 1;
	/* A pre-release passes only when the range asked for pre-releases of
	 * this very MAJOR.MINOR.PATCH. */
	for (size_t i = 0; i < a->n; i++) {
		const oci_semver *c = &a->c[i].v;
		if (c->pre && !a->c[i].synthetic && c->major == v->major && c->minor == v->minor &&
		    c->patch == v->patch)
			return 1;
	}
	return 0;
}

int oci_semver_range_match(const oci_semver_range *r, const oci_semver *v)
{
	for (size_t i = 0; i < r->n; i++)
		if (alternative_ok(&r->alt[i], v))
			return 1;
	return 0;
}

typedef struct tagged {
	const char *tag;
	oci_semver v;
} tagged;

static int tagged_cmp(const void *a, const void *b)
{
	const tagged *x = a, *y = b;
	int c = oci_semver_compare(&x->v, &y->v);
	return c ? c : strcmp(x->tag, y->tag);
}

/* The matching tags, sorted ascending, in a temporary array. */
static int matching(tagged **out, size_t *n_out, const oci_strlist *tags, const char *range)
{
	*out = NULL;
	*n_out = 0;
	oci_semver_range *r = NULL;
	int rc = oci_semver_range_parse(&r, range);
	if (rc)
		return rc;
	tagged *m = calloc(tags->n ? tags->n : 1, sizeof *m);
	size_t n = 0;
	if (!m) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	for (size_t i = 0; i < tags->n; i++) {
		oci_semver v;
		if (oci_semver_parse(&v, tags->items[i]))
			continue; /* not a version: not a candidate */
		if (!oci_semver_range_match(r, &v)) {
			oci_semver_dispose(&v);
			continue;
		}
		m[n].tag = tags->items[i];
		m[n].v = v;
		n++;
	}
	oci_error_clear();
	if (n > 1)
		qsort(m, n, sizeof *m, tagged_cmp);
	*out = m;
	*n_out = n;
	m = NULL;
cleanup:
	free(m);
	oci_semver_range_free(r);
	return rc;
}

static void tagged_free(tagged *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		oci_semver_dispose(&m[i].v);
	free(m);
}

int oci_semver_filter(oci_strlist *out, const oci_strlist *tags, const char *range)
{
	tagged *m;
	size_t n;
	int rc = matching(&m, &n, tags, range);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++)
		rc = oci_strlist_push(out, m[i].tag);
	tagged_free(m, n);
	return rc;
}

int oci_semver_select(char **best_tag, const oci_strlist *tags, const char *range)
{
	*best_tag = NULL;
	tagged *m;
	size_t n;
	int rc = matching(&m, &n, tags, range);
	if (rc)
		return rc;
	if (n == 0)
		rc = oci_error_set(OCI_ENOTFOUND, "no tag matches the semver range '%s' (%zu tags listed)",
				   range, tags->n);
	else if (!(*best_tag = strdup(m[n - 1].tag)))
		rc = OCI_ENOMEM_SET();
	tagged_free(m, n);
	return rc;
}
