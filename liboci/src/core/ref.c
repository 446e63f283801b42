/* Reference parsing and printing, with the distribution-spec grammars and
 * Docker Hub normalisation. */
#include "oci/ref.h"
#include "oci/digest.h"
#include "error_internal.h"
#include "dockerhub.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAYOUT_PREFIX "oci-layout:"

static int is_alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static int component_valid(const char *s, size_t n)
{
	size_t i = 0;
	if (n == 0 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
		return 0;
	while (i < n) {
		if (is_alnum_lower(s[i])) {
			i++;
			continue;
		}
		/* a separator run: ".", "_", "__", or one or more "-" */
		size_t j = i;
		if (s[i] == '.') {
			j++;
		} else if (s[i] == '_') {
			j++;
			if (j < n && s[j] == '_')
				j++;
		} else if (s[i] == '-') {
			while (j < n && s[j] == '-')
				j++;
		} else {
			return 0;
		}
		if (j >= n || !is_alnum_lower(s[j]))
			return 0;
		i = j;
	}
	return 1;
}

int oci_repository_validate(const char *repo)
{
	if (!repo || !*repo)
		return oci_error_set(OCI_EINVALID, "empty repository name");
	if (strlen(repo) > 255)
		return oci_error_set(OCI_EINVALID, "repository name is longer than 255 characters");
	const char *p = repo;
	while (1) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (!component_valid(p, n)) {
			for (size_t i = 0; i < n; i++)
				if (isupper((unsigned char)p[i]))
					return oci_error_set(OCI_EINVALID,
						"repository '%s' has uppercase letters (names are lowercase)", repo);
			return oci_error_set(OCI_EINVALID,
				"repository '%s': component '%.*s' is not valid (lowercase letters and digits, "
				"separated by '.', '_', '__' or '-')", repo, (int)n, p);
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
}

int oci_tag_validate(const char *tag)
{
	if (!tag || !*tag)
		return oci_error_set(OCI_EINVALID, "empty tag");
	size_t n = strlen(tag);
	if (n > 128)
		return oci_error_set(OCI_EINVALID, "tag '%.40s...' is longer than 128 characters", tag);
	if (!(isalnum((unsigned char)tag[0]) || tag[0] == '_'))
		return oci_error_set(OCI_EINVALID, "tag '%s' must start with a letter, digit or '_'", tag);
	for (size_t i = 1; i < n; i++) {
		char c = tag[i];
		if (!(isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-'))
			return oci_error_set(OCI_EINVALID, "tag '%s' has a character '%c' that tags may not contain", tag, c);
	}
	return 0;
}

static int host_valid(const char *h)
{
	if (!*h)
		return 0;
	const char *p = h;
	if (*p == '[') {
		const char *end = strchr(p, ']');
		if (!end || end == p + 1)
			return 0;
		for (const char *q = p + 1; q < end; q++)
			if (!(isxdigit((unsigned char)*q) || *q == ':' || *q == '.'))
				return 0;
		p = end + 1;
	} else {
		const char *start = p;
		while (*p && *p != ':') {
			if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-'))
				return 0;
			p++;
		}
		if (p == start || start[0] == '-' || start[0] == '.')
			return 0;
	}
	if (*p == ':') {
		p++;
		if (!*p)
			return 0;
		for (; *p; p++)
			if (!isdigit((unsigned char)*p))
				return 0;
	}
	return *p == '\0';
}

/* "v1,prod" → tags, each validated. */
static int parse_tags(oci_ref *r, const char *list, const char *whole)
{
	char *copy = strdup(list), *save = NULL;
	if (!copy)
		return OCI_ENOMEM_SET();
	int rc = 0;
	if (!*list)
		rc = oci_error_set(OCI_EINVALID, "reference '%s' has an empty tag after ':'", whole);
	else if (strstr(list, ",,") || list[0] == ',')
		rc = oci_error_set(OCI_EINVALID, "reference '%s' has an empty tag in its tag list", whole);
	for (char *t = strtok_r(copy, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
		if ((rc = oci_tag_validate(t)) < 0) {
			oci_error_wrap("reference '%s'", whole);
			break;
		}
		int dup = 0;
		for (size_t i = 0; i < r->tags.n; i++)
			dup |= strcmp(r->tags.items[i], t) == 0;
		if (!dup)
			rc = oci_strlist_push(&r->tags, t);
	}
	if (rc == 0 && list[strlen(list) - 1] == ',')
		rc = oci_error_set(OCI_EINVALID, "reference '%s' has an empty tag in its tag list", whole);
	free(copy);
	return rc;
}

/* Splits "@sha256:..." off the end; returns the length of what precedes. */
static int split_digest(oci_ref *r, const char *s, size_t *len, const char *whole)
{
	const char *at = strrchr(s, '@');
	*len = strlen(s);
	if (!at)
		return 0;
	int rc = oci_digest_validate(at + 1);
	if (rc < 0)
		return oci_error_wrap("reference '%s'", whole);
	if (!(r->digest = strdup(at + 1)))
		return OCI_ENOMEM_SET();
	*len = (size_t)(at - s);
	return 0;
}

/* What comes before an @digest (recorded in r), as a new string. */
static int split_body(char **body, oci_ref *r, const char *s, const char *whole)
{
	size_t len;
	int rc = split_digest(r, s, &len, whole);
	if (rc < 0)
		return rc;
	if (!(*body = strndup(s, len)))
		return OCI_ENOMEM_SET();
	return 0;
}

static int parse_layout(oci_ref *r, const char *s, const char *whole)
{
	char *body;
	int rc = split_body(&body, r, s, whole);
	if (rc < 0)
		return rc;
	/* A tag follows the last ':' when no '/' comes after it. */
	char *colon = strrchr(body, ':');
	if (colon && !strchr(colon, '/')) {
		*colon = '\0';
		if ((rc = parse_tags(r, colon + 1, whole)) < 0)
			goto cleanup;
	}
	if (!*body) {
		rc = oci_error_set(OCI_EINVALID, "reference '%s' names no directory after 'oci-layout:'", whole);
		goto cleanup;
	}
	r->path = body;
	body = NULL;
cleanup:
	free(body);
	return rc;
}

static int parse_registry(oci_ref *r, const char *s, const char *whole)
{
	char *body;
	int rc = split_body(&body, r, s, whole);
	if (rc < 0)
		return rc;
	char *name = body;
	char *slash = strchr(body, '/');
	char *lastslash = strrchr(body, '/');
	char *colon = strrchr(body, ':');
	if (colon && (!lastslash || colon > lastslash)) {
		*colon = '\0';
		if ((rc = parse_tags(r, colon + 1, whole)) < 0)
			goto cleanup;
	}
	/* The first component is a host when it has '.', ':' or is localhost
	 * (Docker's rule); otherwise the name is on Docker Hub. */
	if (slash) {
		*slash = '\0';
		if (strchr(body, '.') || strchr(body, ':') || strcmp(body, "localhost") == 0 || body[0] == '[') {
			if (!host_valid(body)) {
				rc = oci_error_set(OCI_EINVALID, "reference '%s': '%s' is not a valid registry host", whole, body);
				goto cleanup;
			}
			r->registry = strdup(oci_dockerhub_ref_alias(body) ? OCI_DOCKERHUB : body);
			name = slash + 1;
		} else {
			*slash = '/';
			r->registry = strdup(OCI_DOCKERHUB);
		}
	} else {
		r->registry = strdup(OCI_DOCKERHUB);
	}
	if (!r->registry) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if (!*name) {
		rc = oci_error_set(OCI_EINVALID, "reference '%s' names no repository", whole);
		goto cleanup;
	}
	if (oci_dockerhub_needs_library(r->registry, name)) {
		if (asprintf(&r->repository, "library/%s", name) < 0) {
			r->repository = NULL;
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
	} else if (!(r->repository = strdup(name))) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if ((rc = oci_repository_validate(r->repository)) < 0)
		oci_error_wrap("reference '%s'", whole);
cleanup:
	free(body);
	return rc;
}

int oci_ref_parse(oci_ref **out, const char *s)
{
	*out = NULL;
	if (!s || !*s)
		return oci_error_set(OCI_EINVALID, "empty reference");
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == ' ')
			return oci_error_set(OCI_EINVALID, "reference '%s' contains whitespace or a control character", s);
	oci_ref *r = calloc(1, sizeof *r);
	if (!r)
		return OCI_ENOMEM_SET();
	int rc;
	if (strncmp(s, LAYOUT_PREFIX, strlen(LAYOUT_PREFIX)) == 0) {
		r->kind = OCI_REF_LAYOUT;
		rc = parse_layout(r, s + strlen(LAYOUT_PREFIX), s);
	} else {
		const char *body = s;
		if (strncmp(s, "oci://", 6) == 0)
			body = s + 6;
		r->kind = OCI_REF_REGISTRY;
		rc = strstr(body, "://") ? oci_error_set(OCI_EINVALID, "reference '%s': only the oci:// scheme is accepted", s)
					 : parse_registry(r, body, s);
	}
	if (rc < 0) {
		oci_ref_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void oci_ref_free(oci_ref *r)
{
	if (!r)
		return;
	free(r->registry);
	free(r->repository);
	free(r->path);
	free(r->digest);
	oci_strlist_dispose(&r->tags);
	free(r);
}

static char *dup_or_null(const char *s, int *fail)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*fail = 1;
	return d;
}

int oci_ref_dup(oci_ref **out, const oci_ref *r)
{
	oci_ref *d = calloc(1, sizeof *d);
	int fail = 0;
	if (!d)
		return OCI_ENOMEM_SET();
	d->kind = r->kind;
	d->registry = dup_or_null(r->registry, &fail);
	d->repository = dup_or_null(r->repository, &fail);
	d->path = dup_or_null(r->path, &fail);
	d->digest = dup_or_null(r->digest, &fail);
	for (size_t i = 0; i < r->tags.n && !fail; i++)
		fail = oci_strlist_push(&d->tags, r->tags.items[i]) < 0;
	if (fail) {
		oci_ref_free(d);
		return OCI_ENOMEM_SET();
	}
	*out = d;
	return 0;
}

int oci_ref_format_repo(char **out, const oci_ref *r)
{
	/* A registry whose host is "oci-layout" (with a port) keeps its
	 * oci:// so the text does not read back as a layout (found by
	 * tests/fuzz/fuzz_ref.c). */
	int ambiguous = r->kind == OCI_REF_REGISTRY &&
			strncmp(r->registry, LAYOUT_PREFIX, strlen(LAYOUT_PREFIX)) == 0;
	int n = r->kind == OCI_REF_LAYOUT ? asprintf(out, LAYOUT_PREFIX "%s", r->path)
					  : asprintf(out, "%s%s/%s", ambiguous ? "oci://" : "", r->registry,
						     r->repository);
	if (n < 0) {
		*out = NULL;
		return OCI_ENOMEM_SET();
	}
	return 0;
}

int oci_ref_format_pinned(char **out, const oci_ref *r, const char *digest)
{
	char *repo = NULL;
	int rc = oci_ref_format_repo(&repo, r);
	if (rc < 0)
		return rc;
	if (asprintf(out, "%s@%s", repo, digest) < 0) {
		*out = NULL;
		rc = OCI_ENOMEM_SET();
	}
	free(repo);
	return rc;
}

int oci_ref_format(char **out, const oci_ref *r)
{
	oci_buf b = OCI_BUF_INIT;
	char *repo = NULL;
	int rc = oci_ref_format_repo(&repo, r);
	if (rc < 0)
		return rc;
	rc = oci_buf_append(&b, repo, strlen(repo));
	for (size_t i = 0; i < r->tags.n && rc == 0; i++) {
		rc = oci_buf_append(&b, i ? "," : ":", 1);
		if (rc == 0)
			rc = oci_buf_append(&b, r->tags.items[i], strlen(r->tags.items[i]));
	}
	if (rc == 0 && r->digest) {
		rc = oci_buf_append(&b, "@", 1);
		if (rc == 0)
			rc = oci_buf_append(&b, r->digest, strlen(r->digest));
	}
	free(repo);
	if (rc < 0) {
		oci_buf_dispose(&b);
		return rc;
	}
	*out = b.data;
	return 0;
}

const char *oci_ref_api_host(const oci_ref *r)
{
	return oci_dockerhub_api_host(r->registry);
}
