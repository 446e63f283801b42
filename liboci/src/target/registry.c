/* Registry target: the OCI distribution API (v1.1) over the HTTP layer in
 * http.c. Manifests: HEAD to resolve, GET with the Accept list (bounded,
 * hashed locally), PUT with their media type. Blobs: HEAD here, reading in
 * registry_blob.c, uploads and mounts in registry_upload.c. Tags:
 * paginated with Link headers on the same origin. */
#include "registry_internal.h"
#include "auth.h"
#include "error_internal.h"
#include "oci/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAGS_PAGE_SIZE 1000
#define TAGS_PAGES_MAX 1000
#define TAGS_PAGE_BYTES (4 * 1024 * 1024)


static int is_digest(const char *s) { return strncmp(s, "sha256:", 7) == 0; }

/* "manifest team/app:v1" / "manifest team/app@sha256:..." for messages. */
static void what_manifest(char *out, size_t n, const oci_target *t, const char *ref)
{
	snprintf(out, n, "manifest %s%s%s", t->ref->repository, is_digest(ref) ? "@" : ":", ref);
}

/* A Content-Type without parameters, newly allocated (NULL when absent). */
static char *media_type_of(const oci_http_resp *resp)
{
	const char *ct = oci_http_resp_header(resp, "Content-Type");
	if (!ct || !*ct)
		return NULL;
	size_t n = strcspn(ct, "; \t");
	return strndup(ct, n);
}

int64_t oci__reg_content_length(const oci_http_resp *resp)
{
	const char *v = oci_http_resp_header(resp, "Content-Length");
	if (!v)
		return -1;
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || end == v || n < 0)
		return -1;
	return n;
}

/* ---- manifests ---- */

static int reg_manifest_get(oci_target *t, const char *ref, oci_buf *out, char **media_type,
			    char digest_out[OCI_DIGEST_SIZE])
{
	struct registry *r = R(t);
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	char *url = NULL, what[400];
	int rc;
	what_manifest(what, sizeof what, t, ref);
	if (asprintf(&url, "%s/manifests/%s", r->repo_url, ref) < 0)
		return OCI_ENOMEM_SET();
	oci_http_req req = {
		.method = "GET", .url = url, .scope = r->scope_pull,
		.headers = { "Accept: " OCI_MANIFEST_ACCEPT },
		.body_limit = OCI_MANIFEST_MAX, .flags = OCI_HTTP_FOLLOW, .what = what,
	};
	if ((rc = oci_http_do(&resp, r->http, &req)) < 0)
		goto cleanup;
	char got[OCI_DIGEST_SIZE];
	if ((rc = oci_digest_buf(got, resp.body.data ? resp.body.data : "", resp.body.len)) < 0)
		goto cleanup;
	if (is_digest(ref) && strcmp(got, ref) != 0) {
		rc = oci_error_set(OCI_EDIGEST, "%s: content does not match its digest (got %s)", what, got);
		goto cleanup;
	}
	char *mt = media_type_of(&resp);
	if (!mt) {
		/* No Content-Type: the document's own mediaType, else OCI. */
		json_t *j = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
		const char *m = json_string_value(json_object_get(j, "mediaType"));
		mt = strdup(m ? m : OCI_MT_MANIFEST);
		json_decref(j);
	}
	if (!mt) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	*media_type = mt;
	memcpy(digest_out, got, OCI_DIGEST_SIZE);
	if (!is_digest(ref)) {
		const char *etag = oci_http_resp_header(&resp, "ETag");
		free(r->get_tag);
		free(r->get_etag);
		r->get_tag = strdup(ref);
		r->get_etag = etag ? strdup(etag) : NULL;
		memcpy(r->get_digest, got, OCI_DIGEST_SIZE);
	}
	*out = resp.body;
	memset(&resp.body, 0, sizeof resp.body);
cleanup:
	oci_http_resp_dispose(&resp);
	free(url);
	return rc;
}

static int reg_resolve(oci_target *t, const char *ref, char digest[OCI_DIGEST_SIZE], char **media_type, int64_t *size)
{
	struct registry *r = R(t);
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	char *url = NULL, what[400];
	int rc;
	what_manifest(what, sizeof what, t, ref);
	if (asprintf(&url, "%s/manifests/%s", r->repo_url, ref) < 0)
		return OCI_ENOMEM_SET();
	oci_http_req req = {
		.method = "HEAD", .url = url, .scope = r->scope_pull,
		.headers = { "Accept: " OCI_MANIFEST_ACCEPT }, .flags = OCI_HTTP_FOLLOW, .what = what,
	};
	r->last_subject[0] = '\0';
	if ((rc = oci_http_do(&resp, r->http, &req)) < 0)
		goto cleanup;
	/* distribution-spec v1.1 "Pushing Manifests with Subject": a registry
	 * with the referrers API answers OCI-Subject; without it the client
	 * keeps the referrers tag (referrers.c). */
	const char *subj = oci_http_resp_header(&resp, "OCI-Subject");
	if (subj && oci_digest_validate(subj) == 0)
		snprintf(r->last_subject, sizeof r->last_subject, "%s", subj);
	oci_error_clear();
	const char *dcd = oci_http_resp_header(&resp, "Docker-Content-Digest");
	int have = dcd && oci_digest_validate(dcd) == 0;
	if (have && is_digest(ref) && strcmp(dcd, ref) != 0) {
		rc = oci_error_set(OCI_EDIGEST, "%s: the registry answered with digest %s", what, dcd);
		goto cleanup;
	}
	if (!have && dcd)
		oci_error_clear();
	if (have) {
		snprintf(digest, OCI_DIGEST_SIZE, "%s", dcd);
		*media_type = media_type_of(&resp);
		*size = oci__reg_content_length(&resp);
		rc = 0;
		goto cleanup;
	}
	/* No usable digest header: fetch and hash. */
	oci_buf body = OCI_BUF_INIT;
	if ((rc = reg_manifest_get(t, ref, &body, media_type, digest)) < 0)
		goto cleanup;
	*size = (int64_t)body.len;
	oci_buf_dispose(&body);
cleanup:
	oci_http_resp_dispose(&resp);
	free(url);
	return rc;
}

static int manifest_put(oci_target *t, const char *tag, const char *media_type, const void *data, size_t len,
			const char *condition);

static int reg_manifest_put(oci_target *t, const char *tag, const char *media_type, const void *data, size_t len)
{
	return manifest_put(t, tag, media_type, data, len, NULL);
}

/* Conditional requests (RFC 9110 13.1) as the distribution spec allows for
 * the referrers tag ("Clients MAY use a conditional HTTP push"). */
static int reg_manifest_put_if(oci_target *t, const char *tag, const char *media_type, const void *data, size_t len,
			       const char *read_digest)
{
	struct registry *r = R(t);
	char cond[600];
	if (!*read_digest)
		snprintf(cond, sizeof cond, "If-None-Match: *");
	else if (r->get_tag && r->get_etag && strcmp(r->get_tag, tag) == 0 && strcmp(r->get_digest, read_digest) == 0 &&
		 strlen(r->get_etag) < 500 && !strpbrk(r->get_etag, "\r\n"))
		snprintf(cond, sizeof cond, "If-Match: %s", r->get_etag);
	else
		return manifest_put(t, tag, media_type, data, len, NULL); /* no ETag to hold it to */
	return manifest_put(t, tag, media_type, data, len, cond);
}

static int manifest_put(oci_target *t, const char *tag, const char *media_type, const void *data, size_t len,
			const char *condition)
{
	struct registry *r = R(t);
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	char *url = NULL, *ct = NULL, what[400];
	char digest[OCI_DIGEST_SIZE];
	int rc;
	if ((rc = oci_digest_buf(digest, data, len)) < 0)
		return rc;
	const char *ref = tag ? tag : digest;
	what_manifest(what, sizeof what, t, ref);
	if (asprintf(&url, "%s/manifests/%s", r->repo_url, ref) < 0 ||
	    asprintf(&ct, "Content-Type: %s", media_type ? media_type : OCI_MT_MANIFEST) < 0) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	oci_http_body body = { .data = data, .len = len };
	oci_http_req req = {
		.method = "PUT", .url = url, .scope = r->scope_push, .headers = { ct, condition },
		.body = &body, .what = what,
	};
	r->last_subject[0] = '\0';
	if ((rc = oci_http_do(&resp, r->http, &req)) < 0) {
		if (condition && resp.status == 412)
			rc = oci_error_set(OCI_EEXISTS, "%s changed since it was read", what);
		goto cleanup;
	}
	/* distribution-spec v1.1 "Pushing Manifests with Subject": a registry
	 * with the referrers API answers OCI-Subject; without it the client
	 * keeps the referrers tag (referrers.c). */
	const char *subj = oci_http_resp_header(&resp, "OCI-Subject");
	if (subj && oci_digest_validate(subj) == 0)
		snprintf(r->last_subject, sizeof r->last_subject, "%s", subj);
	oci_error_clear();
	const char *dcd = oci_http_resp_header(&resp, "Docker-Content-Digest");
	if (dcd && strcmp(dcd, digest) != 0) {
		rc = oci_error_set(OCI_EDIGEST, "%s: the registry stored digest %s, expected %s", what, dcd, digest);
		goto cleanup;
	}
cleanup:
	oci_http_resp_dispose(&resp);
	free(url);
	free(ct);
	return rc;
}

/* DELETE /v2/<name>/manifests/<reference> (distribution-spec "Deleting
 * Manifests"). Registries answer 405 when deletes are disabled (distribution:
 * storage.delete.enabled false, the default) and, for a tag, 400/405 or a
 * DIGEST_INVALID error when they delete by digest only. */
static int reg_manifest_delete(oci_target *t, const char *ref)
{
	struct registry *r = R(t);
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	char *url = NULL, *scope = NULL, what[400];
	int rc;
	what_manifest(what, sizeof what, t, ref);
	/* distribution asks for the "delete" action (token auth) */
	if (asprintf(&url, "%s/manifests/%s", r->repo_url, ref) < 0 ||
	    asprintf(&scope, "repository:%s:delete", t->ref->repository) < 0) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	oci_http_req req = { .method = "DELETE", .url = url, .scope = scope, .what = what };
	rc = oci_http_do(&resp, r->http, &req);
	if (rc < 0 && resp.status == 405 && is_digest(ref))
		rc = oci_error_set(OCI_EUNSUPPORTED, "registry %s: the registry does not allow deletes (405 Method Not Allowed; "
				   "docker-registry: set REGISTRY_STORAGE_DELETE_ENABLED=true)", t->ref->registry);
	else if (rc < 0 && !is_digest(ref) && (resp.status == 400 || resp.status == 405))
		rc = oci_error_set(OCI_EUNSUPPORTED, "registry %s: the registry does not delete a tag alone (%ld): delete the "
				   "manifest by digest (every tag naming it goes too), or point the tag elsewhere",
				   t->ref->registry, resp.status);
cleanup:
	oci_http_resp_dispose(&resp);
	free(url);
	free(scope);
	return rc;
}

/* ---- blobs: reading ---- */

static int reg_blob_exists(oci_target *t, const char *digest, int64_t *size)
{
	struct registry *r = R(t);
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	char *url = NULL, what[200];
	snprintf(what, sizeof what, "blob %s", digest);
	if (asprintf(&url, "%s/blobs/%s", r->repo_url, digest) < 0)
		return OCI_ENOMEM_SET();
	oci_http_req req = { .method = "HEAD", .url = url, .scope = r->scope_pull, .flags = OCI_HTTP_FOLLOW, .what = what };
	int rc = oci_http_do(&resp, r->http, &req);
	if (rc == OCI_ENOTFOUND && resp.status == 404) {
		oci_error_clear();
		rc = 0;
	} else if (rc == 0) {
		if (size)
			*size = oci__reg_content_length(&resp);
		rc = 1;
	}
	oci_http_resp_dispose(&resp);
	free(url);
	return rc;
}

/* ---- tags ---- */

static int tags_page_size(void)
{
	/* OCISYNC_TAGS_PAGE_SIZE: for tests of pagination only. */
	const char *e = getenv("OCISYNC_TAGS_PAGE_SIZE");
	long n = e ? strtol(e, NULL, 10) : 0;
	return n > 0 && n <= 10000 ? (int)n : TAGS_PAGE_SIZE;
}

/* The rel="next" target of a Link header, or NULL. */
static char *link_next(const char *link)
{
	const char *p = link;
	while (p && *p) {
		const char *lt = strchr(p, '<');
		if (!lt)
			return NULL;
		const char *gt = strchr(lt, '>');
		if (!gt)
			return NULL;
		const char *end = strchr(gt, ',');
		size_t plen = end ? (size_t)(end - gt) : strlen(gt);
		char params[256];
		snprintf(params, sizeof params, "%.*s", (int)plen, gt);
		if (strstr(params, "rel=\"next\"") || strstr(params, "rel=next"))
			return strndup(lt + 1, (size_t)(gt - lt - 1));
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/* The next page a paginated answer names (its Link: <...>; rel="next"),
 * resolved against the answer's URL; *next NULL on the last page. Tags and
 * referrers page the same way. */
static int next_page(char **next, const oci_http_resp *resp)
{
	*next = NULL;
	const char *link = oci_http_resp_header(resp, "Link");
	char *target = link ? link_next(link) : NULL;
	if (!target)
		return 0;
	int rc = oci_http_resolve_url(next, resp->url, target, 1);
	free(target);
	return rc;
}

static int reg_tags(oci_target *t, oci_strlist *out)
{
	struct registry *r = R(t);
	char *url = NULL, what[300];
	int rc = 0;
	snprintf(what, sizeof what, "tags of %s", t->ref->repository);
	if (asprintf(&url, "%s/tags/list?n=%d", r->repo_url, tags_page_size()) < 0)
		return OCI_ENOMEM_SET();
	for (int page = 0; url; page++) {
		if (page >= TAGS_PAGES_MAX) {
			rc = oci_error_set(OCI_ELIMIT, "registry %s: %s: more than %d pages; stopped", t->ref->registry,
					   what, TAGS_PAGES_MAX);
			break;
		}
		oci_http_resp resp = OCI_HTTP_RESP_INIT;
		oci_http_req req = { .method = "GET", .url = url, .scope = r->scope_pull,
				     .headers = { "Accept: application/json" },
				     .body_limit = TAGS_PAGE_BYTES, .flags = OCI_HTTP_FOLLOW, .what = what };
		rc = oci_http_do(&resp, r->http, &req);
		if (rc < 0) {
			oci_http_resp_dispose(&resp);
			break;
		}
		json_error_t jerr;
		json_t *root = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, &jerr);
		json_t *tags = json_object_get(root, "tags");
		if (!json_is_object(root) || (tags && !json_is_array(tags) && !json_is_null(tags))) {
			rc = oci_error_set(OCI_ENET, "registry %s: %s: malformed tag list", t->ref->registry, what);
		} else {
			size_t i;
			json_t *v;
			json_array_foreach(tags, i, v) {
				if (json_is_string(v) && (rc = oci_strlist_push(out, json_string_value(v))) < 0)
					break;
			}
		}
		json_decref(root);
		char *next = NULL;
		if (rc == 0)
			rc = next_page(&next, &resp);
		oci_http_resp_dispose(&resp);
		free(url);
		url = next;
		if (rc < 0)
			break;
	}
	free(url);
	return rc;
}

/* ---- referrers (distribution-spec v1.1 "Listing Referrers") ---- */

#define REFERRERS_PAGES_MAX 100
#define REFERRERS_PAGE_BYTES (4 * 1024 * 1024)

static int reg_subject_acked(oci_target *t, const char *subject)
{
	return strcmp(R(t)->last_subject, subject) == 0;
}

static int reg_referrers(oci_target *t, const char *digest, const char *artifact_type, json_t *out, int *filtered)
{
	struct registry *r = R(t);
	char *url = NULL, what[300];
	int rc = 0;
	*filtered = artifact_type != NULL;
	snprintf(what, sizeof what, "referrers of %s@%s", t->ref->repository, digest);
	if (asprintf(&url, "%s/referrers/%s", r->repo_url, digest) < 0)
		return OCI_ENOMEM_SET();
	if (artifact_type) {
		char *q = NULL;
		rc = oci_http_url_add_query(&q, url, "artifactType", artifact_type);
		free(url);
		url = q;
		if (rc < 0)
			return rc;
	}
	for (int page = 0; url; page++) {
		if (page >= REFERRERS_PAGES_MAX) {
			rc = oci_error_set(OCI_ELIMIT, "registry %s: %s: more than %d pages; stopped", t->ref->registry,
					   what, REFERRERS_PAGES_MAX);
			break;
		}
		oci_http_resp resp = OCI_HTTP_RESP_INIT;
		oci_http_req req = { .method = "GET", .url = url, .scope = r->scope_pull,
				     .headers = { "Accept: " OCI_MT_INDEX },
				     .body_limit = REFERRERS_PAGE_BYTES, .flags = OCI_HTTP_FOLLOW, .what = what };
		rc = oci_http_do(&resp, r->http, &req);
		if (rc == OCI_ENOTFOUND && page == 0) {
			/* "If the registry supports the referrers API, the registry
			 * MUST NOT return a 404": no API, the caller reads the tag. */
			oci_http_resp_dispose(&resp);
			rc = oci_error_set(OCI_EUNSUPPORTED, "registry %s has no referrers API", t->ref->registry);
			break;
		}
		if (rc < 0) {
			oci_http_resp_dispose(&resp);
			break;
		}
		const char *applied = oci_http_resp_header(&resp, "OCI-Filters-Applied");
		if (!applied || !strstr(applied, "artifactType"))
			*filtered = 0;
		json_error_t jerr;
		json_t *root = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, &jerr);
		json_t *manifests = json_object_get(root, "manifests");
		if (!json_is_object(root) || (manifests && !json_is_array(manifests) && !json_is_null(manifests))) {
			rc = oci_error_set(OCI_ENET, "registry %s: %s: the answer is not an image index", t->ref->registry,
					   what);
		} else if (json_is_array(manifests) && json_array_extend(out, manifests) < 0) {
			rc = OCI_ENOMEM_SET();
		}
		json_decref(root);
		char *next = NULL;
		if (rc == 0)
			rc = next_page(&next, &resp);
		oci_http_resp_dispose(&resp);
		free(url);
		url = next;
		if (rc < 0)
			break;
	}
	free(url);
	return rc;
}

/* ---- lifecycle ---- */

static void reg_free(oci_target *t)
{
	struct registry *r = t->impl;
	if (!r)
		return;
	oci_http_free(r->http);
	free(r->repo_url);
	free(r->scope_pull);
	free(r->scope_push);
	free(r->get_tag);
	free(r->get_etag);
	free(r);
	t->impl = NULL;
}

static const oci_target_ops registry_ops = {
	.kind = "registry",
	.resolve = reg_resolve,
	.manifest_get = reg_manifest_get,
	.manifest_put = reg_manifest_put,
	.tag = NULL, /* GET by digest + PUT under the tag: no blob moves */
	.blob_exists = reg_blob_exists,
	.blob_open = oci__reg_blob_open,
	.blob_put = oci__reg_blob_put,
	.put_progress = 1,
	.blob_put_file = oci__reg_blob_put_file,
	.blob_mount = oci__reg_blob_mount,
	.tags = reg_tags,
	.free = reg_free,
	.referrers = reg_referrers,
	.subject_acked = reg_subject_acked,
	.manifest_delete = reg_manifest_delete,
	.manifest_put_if = reg_manifest_put_if,
};

int oci_registry_open(oci_target *t)
{
	struct registry *r = calloc(1, sizeof *r);
	int rc;
	if (!r)
		return OCI_ENOMEM_SET();
	t->impl = r;
	t->ops = &registry_ops;
	const char *api = oci_ref_api_host(t->ref);
	if ((rc = oci_repository_validate(t->ref->repository)) < 0)
		goto fail;
	if ((rc = oci_auth_http_new(&r->http, NULL, api, t->ref->registry, &t->opts)) < 0)
		goto fail;
	if (asprintf(&r->repo_url, "%s/v2/%s", oci_http_base(r->http), t->ref->repository) < 0 ||
	    asprintf(&r->scope_pull, "repository:%s:pull", t->ref->repository) < 0 ||
	    asprintf(&r->scope_push, "repository:%s:pull,push", t->ref->repository) < 0) {
		rc = OCI_ENOMEM_SET();
		goto fail;
	}
	return 0;
fail:
	reg_free(t);
	t->ops = NULL;
	return rc;
}
