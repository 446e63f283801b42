/* Registry target: the OCI distribution API (v1.1) over the HTTP layer in
 * http.c. Manifests: HEAD to resolve, GET with the Accept list (bounded,
 * hashed locally), PUT with their media type. Blobs: HEAD, GET streamed
 * through a verifying sink (resumed with Range after a drop), uploads in
 * one request (POST ?digest= with the body) where the registry takes it,
 * else monolithic (POST + PUT) or chunked (POST + PATCH... + PUT), mounts.
 * Tags: paginated with Link headers on the same origin. */
#include "target_impl.h"
#include "auth.h"
#include "http.h"
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

/* Blobs up to this size go up in one PUT; larger ones in PATCH chunks. */
#define MONOLITHIC_MAX (16 * 1024 * 1024)
#define CHUNK_SIZE (16 * 1024 * 1024)
#define CHUNK_MAX (256 * 1024 * 1024)
#define TAGS_PAGE_SIZE 1000
#define TAGS_PAGES_MAX 1000
#define TAGS_PAGE_BYTES (4 * 1024 * 1024)

struct registry {
	oci_http *http;
	char *repo_url;    /* <base>/v2/<repository> */
	char *scope_pull;  /* repository:<repo>:pull */
	char *scope_push;  /* repository:<repo>:pull,push */
	char last_subject[OCI_DIGEST_SIZE]; /* OCI-Subject of the last manifest PUT ("" none) */
	/* Single-request uploads (POST ...?digest= with the body): 0 not
	 * tried yet, 1 the registry stored the blob from one, -1 it refused
	 * (opened a session or answered an error) -- remembered for the
	 * target's lifetime, so only the first upload of a run pays a try (a
	 * transfer pool has one target per worker: one try per worker). A
	 * large streamed body goes with libcurl's "Expect: 100-continue"
	 * (http.c keeps it), so a registry answering 202 at once need not be
	 * sent the bytes; push makes its first try with the small config. */
	int post_monolithic;
	/* The last manifest GET by tag: tag, content digest and ETag, for
	 * conditional writes of the referrers tag. */
	char *get_tag;
	char get_digest[OCI_DIGEST_SIZE];
	char *get_etag;
};

static struct registry *R(oci_target *t) { return t->impl; }

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

static int64_t content_length(const oci_http_resp *resp)
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
		*size = content_length(&resp);
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
			*size = content_length(&resp);
		rc = 1;
	}
	oci_http_resp_dispose(&resp);
	free(url);
	return rc;
}

static int reg_blob_get(oci_target *t, const char *digest, int64_t size, oci_write_fn sink, void *ctx)
{
	struct registry *r = R(t);
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	oci_verify_sink v;
	char *url = NULL, what[200];
	int rc;
	snprintf(what, sizeof what, "blob %s", digest);
	if ((rc = oci_verify_sink_init(&v, size, sink, ctx)) < 0)
		return rc;
	if (asprintf(&url, "%s/blobs/%s", r->repo_url, digest) < 0) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	oci_http_req req = {
		.method = "GET", .url = url, .scope = r->scope_pull,
		.sink = oci_verify_sink_write, .sink_ctx = &v,
		.flags = OCI_HTTP_FOLLOW | OCI_HTTP_RESUME, .what = what,
		.progress_what = digest, .progress_total = size,
	};
	if ((rc = oci_http_do(&resp, r->http, &req)) < 0) {
		if (rc == OCI_EDIGEST) /* the verifying sink stopped it */
			oci_error_wrap("blob %s", digest);
		goto cleanup;
	}
	rc = oci_verify_sink_finish(&v, digest, "blob");
cleanup:
	oci_verify_sink_dispose(&v);
	oci_http_resp_dispose(&resp);
	free(url);
	return rc;
}

/* ---- blobs: uploads ---- */

/* Where an upload session stands. */
struct upload {
	char *location;      /* absolute URL of the session */
	int64_t chunk_min;   /* OCI-Chunk-Min-Length, 0 when not given */
};

static void upload_dispose(struct upload *u)
{
	free(u->location);
	u->location = NULL;
}

/* Takes the session's next URL from a response's Location. */
static int upload_follow(struct upload *u, const oci_http_resp *resp, const char *what)
{
	const char *loc = oci_http_resp_header(resp, "Location");
	if (!loc)
		return oci_error_set(OCI_ENET, "%s: the registry gave no upload Location", what);
	char *next;
	int rc = oci_http_resolve_url(&next, resp->url, loc, 0);
	if (rc < 0)
		return rc;
	free(u->location);
	u->location = next;
	return 0;
}

/* POST /blobs/uploads/ (optionally with a query): 202 opens a session. */
static int upload_start(struct upload *u, long *status, oci_target *t, const char *query, const char *scope,
			const char *what)
{
	struct registry *r = R(t);
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	char *url = NULL;
	int rc;
	if (asprintf(&url, "%s/blobs/uploads/%s", r->repo_url, query ? query : "") < 0)
		return OCI_ENOMEM_SET();
	oci_http_req req = { .method = "POST", .url = url, .scope = scope, .what = what };
	if ((rc = oci_http_do(&resp, r->http, &req)) < 0)
		goto cleanup;
	*status = resp.status;
	if (resp.status == 201)
		goto cleanup; /* mounted */
	if (resp.status != 202) {
		rc = oci_error_set(OCI_ENET, "registry %s: %s: unexpected status %ld starting an upload",
				   t->ref->registry, what, resp.status);
		goto cleanup;
	}
	const char *min = oci_http_resp_header(&resp, "OCI-Chunk-Min-Length");
	u->chunk_min = min ? strtoll(min, NULL, 10) : 0;
	if (u->chunk_min < 0)
		u->chunk_min = 0;
	rc = upload_follow(u, &resp, what);
cleanup:
	oci_http_resp_dispose(&resp);
	free(url);
	return rc;
}

/* The final PUT <location>?digest=... carrying body (or no body). */
static int upload_finish(struct upload *u, oci_target *t, const char *digest, const oci_http_body *body,
			 int flags, const char *what, int *retriable)
{
	struct registry *r = R(t);
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	char *url = NULL;
	int rc;
	if ((rc = oci_http_url_add_query(&url, u->location, "digest", digest)) < 0)
		return rc;
	oci_http_req req = {
		.method = "PUT", .url = url, .scope = R(t)->scope_push,
		.headers = { "Content-Type: application/octet-stream" },
		.body = body, .flags = flags, .what = what,
		/* progress comes from the chunk source (chunk_read) */
	};
	rc = oci_http_do(&resp, r->http, &req);
	*retriable = resp.retriable;
	if (rc == 0 && resp.status != 201 && resp.status != 204 && resp.status != 200)
		rc = oci_error_set(OCI_ENET, "registry %s: %s: unexpected status %ld completing the upload",
				   t->ref->registry, what, resp.status);
	if (rc == 0) {
		const char *dcd = oci_http_resp_header(&resp, "Docker-Content-Digest");
		if (dcd && strcmp(dcd, digest) != 0)
			rc = oci_error_set(OCI_EDIGEST, "%s: the registry stored digest %s", what, dcd);
	}
	oci_http_resp_dispose(&resp);
	free(url);
	return rc;
}

/* One PATCH of [start, start+len) from body; follows the new Location. */
static int upload_patch(struct upload *u, oci_http_resp *resp, oci_target *t, int64_t start,
			const oci_http_body *body, int flags, const char *what, const char *digest, int64_t total)
{
	char range[80];
	snprintf(range, sizeof range, "Content-Range: %" PRId64 "-%" PRId64, start, start + body->size - 1);
	oci_http_req req = {
		.method = "PATCH", .url = u->location, .scope = R(t)->scope_push,
		.headers = { "Content-Type: application/octet-stream", range },
		.body = body, .flags = flags, .what = what,
		.progress_what = NULL, .progress_total = total,
	};
	(void)digest;
	int rc = oci_http_do(resp, R(t)->http, &req);
	if (rc < 0)
		return rc;
	return upload_follow(u, resp, what);
}

static int64_t chunk_size_for(const struct upload *u)
{
	int64_t c = CHUNK_SIZE;
	if (u->chunk_min > c)
		c = u->chunk_min <= CHUNK_MAX ? u->chunk_min : CHUNK_MAX;
	return c;
}

/* A source limited to one chunk, counting for progress. */
struct chunk_src {
	oci_http *http;
	oci_read_fn read;
	void *ctx;
	const char *digest;
	int64_t done, total;
	/* file mode */
	int fd;
	const char *path;
	int64_t file_off, chunk_start;
};

static ssize_t chunk_read(void *ctx, void *buf, size_t len)
{
	struct chunk_src *c = ctx;
	ssize_t n;
	if (c->fd >= 0) {
		do
			n = pread(c->fd, buf, len, c->file_off);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return oci_error_errno("reading %s", c->path);
		c->file_off += n;
	} else {
		n = c->read(c->ctx, buf, len);
		if (n < 0)
			return n;
	}
	c->done += n;
	oci_http_progress(c->http, c->digest, c->done, c->total);
	return n;
}

static int chunk_rewind(void *ctx)
{
	struct chunk_src *c = ctx;
	if (c->fd < 0)
		return -1;
	c->done -= c->file_off - c->chunk_start;
	c->file_off = c->chunk_start;
	return 0;
}

/* Asks the registry how much of the session it holds (GET <location>:
 * 204 with "Range: 0-N"); returns the next offset, or negative. */
static int64_t upload_status(struct upload *u, oci_target *t, const char *what, int64_t confirmed)
{
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	oci_http_req req = { .method = "GET", .url = u->location, .scope = R(t)->scope_push, .what = what };
	int64_t next = -1;
	int rc = oci_http_do(&resp, R(t)->http, &req);
	if (rc == 0) {
		const char *range = oci_http_resp_header(&resp, "Range");
		long long a, b;
		/* "0-0" is what distribution says for an empty session too. */
		if (range && sscanf(range, "%lld-%lld", &a, &b) == 2 && a == 0 && b >= -1)
			next = (b == 0 && confirmed == 0) ? 0 : b + 1;
		else if (!range)
			next = 0;
		if (next >= 0 && upload_follow(u, &resp, what) < 0)
			next = -1;
	}
	oci_http_resp_dispose(&resp);
	return next;
}

/* Uploads size bytes from src into an open session (chunked or not). With
 * a file (src->fd >= 0), a failed chunk is resumed where the registry says
 * it stands. */
static int upload_body(struct upload *u, oci_target *t, const char *digest, int64_t size, struct chunk_src *src,
		       const char *what, int *retriable)
{
	oci_http *http = R(t)->http;
	int rc;
	if (size <= MONOLITHIC_MAX) {
		/* A half-sent PUT is not replayed into the same session: from a
		 * file, the caller starts a new one; from a stream, only a
		 * request that read nothing yet is retried. */
		src->chunk_start = 0;
		oci_http_body body = { .read = chunk_read, .read_ctx = src, .size = size,
				       .rewind = src->fd >= 0 ? chunk_rewind : NULL };
		return upload_finish(u, t, digest, &body, src->fd >= 0 ? OCI_HTTP_NO_RETRY : 0, what, retriable);
	}
	int64_t chunk = chunk_size_for(u);
	int64_t off = 0;
	int failures = 0;
	oci_http_log(http, "%s: uploading %" PRId64 " bytes in chunks of %" PRId64, what, size, chunk);
	while (off < size) {
		int64_t len = size - off < chunk ? size - off : chunk;
		src->chunk_start = off;
		src->file_off = off;
		oci_http_body body = { .read = chunk_read, .read_ctx = src, .size = len };
		oci_http_resp resp = OCI_HTTP_RESP_INIT;
		/* Files resume through the session status instead of replaying. */
		rc = upload_patch(u, &resp, t, off, &body, src->fd >= 0 ? OCI_HTTP_NO_RETRY : 0, what, digest, size);
		*retriable = resp.retriable;
		oci_http_resp_dispose(&resp);
		if (rc == 0) {
			off += len;
			continue;
		}
		if (src->fd < 0 || !*retriable || ++failures >= oci_http_max_attempts(http))
			return rc;
		oci_http_backoff(http, failures, NULL, oci_error_last()->message);
		int64_t next = upload_status(u, t, what, off);
		if (next < off || next > size)
			return oci_error_wrap("%s: cannot resume the upload after", what);
		oci_http_log(http, "%s: the registry holds %" PRId64 " bytes; resuming", what, next);
		src->done -= (src->file_off - next);
		off = next;
	}
	return upload_finish(u, t, digest, NULL, 0, what, retriable);
}

/* Statuses by which a registry says it does not take the blob in the POST
 * itself (bad request, method or media type, too large, not implemented);
 * the ordinary two-step upload follows. */
static int refuses_post_upload(long st)
{
	return st == 400 || st == 405 || st == 413 || st == 415 || st == 501;
}

/* Tries the single-request upload of the OCI distribution spec: POST
 * /blobs/uploads/?digest=<d> carrying the blob. Returns 1 when the registry
 * stored it (201), 0 when it did not take it -- then, if it opened a session
 * instead (202, as distribution 2.x does, dropping the body), u->location is
 * that session, else NULL -- or negative on another failure. A refusal is
 * remembered in R(t)->post_monolithic. */
static int upload_post(struct upload *u, oci_target *t, const char *digest, const oci_http_body *body,
		       int flags, const char *what, int *retriable)
{
	struct registry *r = R(t);
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	char *base = NULL, *url = NULL;
	int rc;
	*retriable = 0;
	if (asprintf(&base, "%s/blobs/uploads/", r->repo_url) < 0)
		return OCI_ENOMEM_SET();
	if ((rc = oci_http_url_add_query(&url, base, "digest", digest)) < 0)
		goto cleanup;
	oci_http_req req = {
		.method = "POST", .url = url, .scope = r->scope_push,
		.headers = { "Content-Type: application/octet-stream" },
		.body = body, .flags = flags, .what = what,
	};
	rc = oci_http_do(&resp, r->http, &req);
	*retriable = resp.retriable;
	if (rc < 0 && refuses_post_upload(resp.status)) {
		oci_http_log(r->http, "%s: the registry refused a single-request upload (%ld); using POST + PUT",
			     what, resp.status);
		r->post_monolithic = -1;
		rc = 0;
		goto cleanup;
	}
	if (rc < 0)
		goto cleanup;
	if (resp.status == 202) {
		/* Not taken: the body was ignored, the session is usable. */
		oci_http_log(r->http, "%s: the registry opened a session instead of storing the blob; using POST + PUT",
			     what);
		r->post_monolithic = -1;
		const char *min = oci_http_resp_header(&resp, "OCI-Chunk-Min-Length");
		u->chunk_min = min ? strtoll(min, NULL, 10) : 0;
		if (u->chunk_min < 0)
			u->chunk_min = 0;
		rc = upload_follow(u, &resp, what);
		goto cleanup;
	}
	if (resp.status != 201) {
		rc = oci_error_set(OCI_ENET, "registry %s: %s: unexpected status %ld uploading in one request",
				   t->ref->registry, what, resp.status);
		goto cleanup;
	}
	const char *dcd = oci_http_resp_header(&resp, "Docker-Content-Digest");
	if (dcd && strcmp(dcd, digest) != 0) {
		rc = oci_error_set(OCI_EDIGEST, "%s: the registry stored digest %s", what, dcd);
		goto cleanup;
	}
	r->post_monolithic = 1;
	rc = 1;
cleanup:
	oci_http_resp_dispose(&resp);
	free(url);
	free(base);
	return rc;
}

/* Small streamed blobs (configs, signatures) are read into memory first, so
 * a refused single-request upload can send them again. */
#define POST_BUFFER_MAX (64 * 1024)

static int reg_blob_put(oci_target *t, const char *digest, int64_t size, oci_read_fn read, void *ctx)
{
	struct upload u = { 0 };
	char what[200];
	long st = 0;
	snprintf(what, sizeof what, "uploading blob %s", digest);
	if (size < 0)
		return oci_error_set(OCI_EINVALID, "%s: the size must be known", what);
	int rc;
	if (size <= POST_BUFFER_MAX && R(t)->post_monolithic >= 0) {
		unsigned char *buf = malloc(size ? (size_t)size : 1);
		if (!buf)
			return OCI_ENOMEM_SET();
		size_t got = 0;
		while (got < (size_t)size) {
			ssize_t n = read(ctx, buf + got, (size_t)size - got);
			if (n < 0) {
				free(buf);
				return (int)n;
			}
			if (n == 0) {
				free(buf);
				return oci_error_set(OCI_EINVALID, "%s: the source ended after %zu of %" PRId64 " bytes",
						     what, got, size);
			}
			got += (size_t)n;
		}
		oci_http_body body = { .data = buf, .len = got };
		int retriable = 0;
		rc = upload_post(&u, t, digest, &body, 0, what, &retriable);
		if (rc == 0 && !u.location)
			rc = upload_start(&u, &st, t, NULL, R(t)->scope_push, what);
		if (rc == 0)
			rc = upload_finish(&u, t, digest, &body, 0, what, &retriable);
		free(buf);
		upload_dispose(&u);
		return rc < 0 ? rc : 0;
	}
	rc = upload_start(&u, &st, t, NULL, R(t)->scope_push, what);
	if (rc == 0) {
		struct chunk_src src = { .http = R(t)->http, .read = read, .ctx = ctx, .digest = digest,
					 .total = size, .fd = -1 };
		int retriable = 0;
		rc = upload_body(&u, t, digest, size, &src, what, &retriable);
	}
	upload_dispose(&u);
	return rc;
}

static int reg_blob_put_file(oci_target *t, const char *digest, int64_t size, const char *path)
{
	oci_http *http = R(t)->http;
	char what[200];
	snprintf(what, sizeof what, "uploading blob %s", digest);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oci_error_errno("opening %s", path);
	int rc = 0;
	if (size < 0) {
		off_t end = lseek(fd, 0, SEEK_END);
		if (end < 0) {
			rc = oci_error_errno("reading %s", path);
			goto cleanup;
		}
		size = end;
	}
	/* A whole upload that failed for a transient reason starts over with a
	 * new session (bounded): a half-sent monolithic PUT cannot be resumed. */
	for (int attempt = 1;; attempt++) {
		struct upload u = { 0 };
		long st = 0;
		struct chunk_src src = { .http = http, .digest = digest, .total = size, .fd = fd, .path = path };
		int retriable = 0;
		rc = 0;
		if (size <= MONOLITHIC_MAX && R(t)->post_monolithic >= 0) {
			/* One request where the registry takes it; a refusal
			 * (remembered) falls through to POST + PUT. */
			oci_http_body body = { .read = chunk_read, .read_ctx = &src, .size = size, .rewind = chunk_rewind };
			rc = upload_post(&u, t, digest, &body, OCI_HTTP_NO_RETRY, what, &retriable);
			if (rc == 1) {
				rc = 0;
				upload_dispose(&u);
				break;
			}
			src.done = src.file_off = src.chunk_start = 0;
		}
		if (rc == 0 && !u.location)
			rc = upload_start(&u, &st, t, NULL, R(t)->scope_push, what);
		if (rc == 0)
			rc = upload_body(&u, t, digest, size, &src, what, &retriable);
		upload_dispose(&u);
		/* upload_start retried on its own already (retriable stays 0). */
		if (rc == 0 || !retriable || attempt >= oci_http_max_attempts(http))
			break;
		oci_http_backoff(http, attempt, NULL, oci_error_last()->message);
	}
cleanup:
	close(fd);
	return rc;
}

static int reg_blob_mount(oci_target *t, const char *digest, const oci_target *from)
{
	struct registry *r = R(t);
	struct upload u = { 0 };
	char *query = NULL, *scope = NULL, what[300];
	long st = 0;
	int rc;
	snprintf(what, sizeof what, "mounting blob %s from %s", digest, from->ref->repository);
	if (asprintf(&query, "?mount=%s&from=%s", digest, from->ref->repository) < 0 ||
	    asprintf(&scope, "%s repository:%s:pull", r->scope_push, from->ref->repository) < 0) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	rc = upload_start(&u, &st, t, query, scope, what);
	if (rc == OCI_EAUTH) {
		/* No pull right on the source: upload instead. */
		oci_http_log(r->http, "%s: refused (%s); uploading instead", what, oci_error_last()->message);
		oci_error_clear();
		rc = 0;
		goto cleanup;
	}
	if (rc < 0)
		goto cleanup;
	if (st == 201) {
		rc = 1;
		goto cleanup;
	}
	/* 202: the registry opened an ordinary upload instead; drop it. */
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	oci_http_req del = { .method = "DELETE", .url = u.location, .scope = r->scope_push,
			     .flags = OCI_HTTP_NO_RETRY, .what = what };
	if (oci_http_do(&resp, r->http, &del) < 0)
		oci_error_clear();
	oci_http_resp_dispose(&resp);
	rc = 0;
cleanup:
	upload_dispose(&u);
	free(query);
	free(scope);
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
	.blob_get = reg_blob_get,
	.blob_put = reg_blob_put,
	.blob_put_file = reg_blob_put_file,
	.blob_mount = reg_blob_mount,
	.tags = reg_tags,
	.free = reg_free,
	.referrers = reg_referrers,
	.subject_acked = reg_subject_acked,
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
