/* WWW-Authenticate parsing after RFC 7235:
 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 * Challenges and their parameters are both separated by commas, so a comma
 * starts a new challenge only when what follows is not "name =". */
#include "challenge.h"
#include "error_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_token68_char(int c)
{
	return isalnum(c) || (c && strchr("-._~+/", c) != NULL);
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static char *dup_lower(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++)
		r[i] = (char)tolower((unsigned char)s[i]);
	r[n] = '\0';
	return r;
}

/* True when p starts "name BWS =": a parameter, not the next challenge. */
static int looks_like_param(const char *p)
{
	const char *q = p;
	while (is_tchar((unsigned char)*q))
		q++;
	if (q == p)
		return 0;
	q = skip_ows(q);
	return *q == '=';
}

/* Reads a token or a quoted-string at *pp into a new string. */
static int read_value(char **out, const char **pp)
{
	const char *p = *pp;
	*out = NULL;
	if (*p == '"') {
		size_t len = strlen(p);
		char *v = malloc(len + 1);
		size_t n = 0;
		if (!v)
			return OCI_ENOMEM_SET();
		p++;
		for (;;) {
			if (*p == '\0') {
				free(v);
				return oci_error_set(OCI_EINVALID, "WWW-Authenticate: unterminated quoted string");
			}
			if (*p == '"') {
				p++;
				break;
			}
			if (*p == '\\' && p[1] != '\0')
				p++; /* quoted-pair: the next character stands for itself */
			v[n++] = *p++;
		}
		v[n] = '\0';
		*out = v;
	} else {
		const char *start = p;
		/* RFC 7235 wants a token here; servers also send unquoted URLs
		 * and base64, so take everything up to a separator. */
		while (*p && *p != ',' && *p != ' ' && *p != '\t' && *p != '"')
			p++;
		if (p == start)
			return oci_error_set(OCI_EINVALID, "WWW-Authenticate: parameter without a value");
		*out = strndup(start, (size_t)(p - start));
		if (!*out)
			return OCI_ENOMEM_SET();
	}
	*pp = p;
	return 0;
}

static int add_param(oci_challenge *c, char *name, char *value)
{
	oci_challenge_param *np = realloc(c->params, (c->nparams + 1) * sizeof *np);
	if (!np) {
		free(name);
		free(value);
		return OCI_ENOMEM_SET();
	}
	c->params = np;
	c->params[c->nparams].name = name;
	c->params[c->nparams].value = value;
	c->nparams++;
	return 0;
}

static int parse_param(oci_challenge *c, const char **pp)
{
	const char *p = *pp, *start = p;
	char *name = NULL, *value = NULL;
	while (is_tchar((unsigned char)*p))
		p++;
	if (p == start)
		return oci_error_set(OCI_EINVALID, "WWW-Authenticate: expected a parameter name at '%.40s'", start);
	name = dup_lower(start, (size_t)(p - start));
	if (!name)
		return OCI_ENOMEM_SET();
	p = skip_ows(p);
	if (*p != '=') {
		free(name);
		return oci_error_set(OCI_EINVALID, "WWW-Authenticate: expected '=' after parameter '%.40s'", start);
	}
	p = skip_ows(p + 1);
	int rc = read_value(&value, &p);
	if (rc < 0) {
		free(name);
		return rc;
	}
	*pp = p;
	return add_param(c, name, value);
}

/* After the scheme and its spaces: "abc==" alone (up to ',' or the end) is a token68. */
static int try_token68(oci_challenge *c, const char **pp)
{
	const char *p = *pp, *start = p;
	while (is_token68_char((unsigned char)*p))
		p++;
	if (p == start)
		return 0;
	while (*p == '=')
		p++;
	const char *end = p;
	p = skip_ows(p);
	if (*p != '\0' && *p != ',')
		return 0;
	c->token68 = strndup(start, (size_t)(end - start));
	if (!c->token68)
		return OCI_ENOMEM_SET();
	*pp = p;
	return 1;
}

int oci_challenge_parse(oci_challenge_list *list, const char *header)
{
	const char *p = header ? header : "";
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return 0;
		const char *start = p;
		while (is_tchar((unsigned char)*p))
			p++;
		if (p == start)
			return oci_error_set(OCI_EINVALID, "WWW-Authenticate: expected an authentication scheme at '%.40s'", start);
		oci_challenge *items = realloc(list->items, (list->n + 1) * sizeof *items);
		if (!items)
			return OCI_ENOMEM_SET();
		list->items = items;
		oci_challenge *c = &list->items[list->n];
		memset(c, 0, sizeof *c);
		c->scheme = dup_lower(start, (size_t)(p - start));
		if (!c->scheme)
			return OCI_ENOMEM_SET();
		list->n++;

		if (*p != ' ' && *p != '\t' && *p != ',' && *p != '\0')
			return oci_error_set(OCI_EINVALID, "WWW-Authenticate: unexpected '%c' after scheme %s", *p, c->scheme);
		p = skip_ows(p);
		int rc = try_token68(c, &p);
		if (rc < 0)
			return rc;
		if (rc == 1)
			continue;
		/* Parameters until a comma is followed by something that is not "name=". */
		for (;;) {
			p = skip_ows(p);
			if (*p == '\0')
				return 0;
			if (*p == ',') {
				while (*p == ' ' || *p == '\t' || *p == ',')
					p++;
				if (*p == '\0')
					return 0;
				if (!looks_like_param(p))
					break; /* the next challenge */
			}
			rc = parse_param(c, &p);
			if (rc < 0)
				return rc;
			p = skip_ows(p);
			if (*p != '\0' && *p != ',')
				return oci_error_set(OCI_EINVALID, "WWW-Authenticate: expected ',' at '%.40s'", p);
		}
	}
}

const char *oci_challenge_param_get(const oci_challenge *c, const char *name)
{
	for (size_t i = 0; c && i < c->nparams; i++)
		if (strcasecmp(c->params[i].name, name) == 0)
			return c->params[i].value;
	return NULL;
}

const oci_challenge *oci_challenge_pick(const oci_challenge_list *list)
{
	const oci_challenge *basic = NULL;
	for (size_t i = 0; i < list->n; i++) {
		if (strcmp(list->items[i].scheme, "bearer") == 0)
			return &list->items[i];
		if (strcmp(list->items[i].scheme, "basic") == 0 && !basic)
			basic = &list->items[i];
	}
	return basic;
}

void oci_challenge_schemes(char *buf, size_t n, const oci_challenge_list *list)
{
	size_t used = 0;
	if (n == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < list->n && used < n; i++) {
		int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", list->items[i].scheme);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (list->n == 0)
		snprintf(buf, n, "none");
}

void oci_challenge_list_dispose(oci_challenge_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		oci_challenge *c = &list->items[i];
		for (size_t j = 0; j < c->nparams; j++) {
			free(c->params[j].name);
			free(c->params[j].value);
		}
		free(c->params);
		free(c->scheme);
		free(c->token68);
	}
	free(list->items);
	list->items = NULL;
	list->n = 0;
}
