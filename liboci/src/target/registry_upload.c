/* Registry uploads: one request (POST ?digest= with the body) where the
 * registry takes it, else monolithic (POST + PUT) or chunked (POST +
 * PATCH... + PUT, resumed from the registry's confirmed offset), and
 * cross-repository mounts. */
#include "registry_internal.h"
#include "error_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Blobs up to this size go up in one PUT; larger ones in PATCH chunks. */
#define MONOLITHIC_MAX (16 * 1024 * 1024)
#define CHUNK_SIZE (16 * 1024 * 1024)
#define CHUNK_MAX (256 * 1024 * 1024)

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

/* A file's bytes into an open session: one attempt (a failure starts a new
 * session or resumes from the registry's offset), sent without waiting for
 * "100 Continue" -- the session was opened a moment ago with the same
 * credentials, so a refusal is rare and costs a resend of a file, while the
 * wait costs a round trip on every upload (Go clients -- docker, skopeo,
 * crane -- never send the header). */
#define FILE_BODY (OCI_HTTP_NO_RETRY | OCI_HTTP_NO_EXPECT)

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
		return upload_finish(u, t, digest, &body, src->fd >= 0 ? FILE_BODY : 0, what, retriable);
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
		rc = upload_patch(u, &resp, t, off, &body, src->fd >= 0 ? FILE_BODY : 0, what, digest, size);
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
 * that session, else NULL (a refusing status, or a streamed body left
 * without an answer) -- or negative on another failure. A refusal is
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
	if (rc == OCI_ENET && resp.status == 0 && body->read) {
		/* No answer to a streamed body: over HTTP/2, distribution answers
		 * 202 without reading it and resets the stream, which libcurl
		 * (7.88) reports as a framing error without the answer. The
		 * session it opened is unknown to us: the two-step upload follows
		 * (it retries on its own if the connection is really gone). */
		oci_http_log(r->http, "%s: no answer to a single-request upload (%s); using POST + PUT", what,
			     oci_error_last()->message);
		oci_error_clear();
		r->post_monolithic = -1;
		rc = 0;
		goto cleanup;
	}
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

/* Small blobs (configs, signatures) are read into memory first, so a
 * refused single-request upload can send them again, and so they go
 * without "Expect: 100-continue" (http.c keeps it for streamed bodies):
 * distribution 2.x answers neither 100 nor 202 to a POST ?digest= that
 * expects it until libcurl's one-second wait for the 100 runs out. */
#define POST_BUFFER_MAX (64 * 1024)

int oci__reg_blob_put(oci_target *t, const char *digest, int64_t size, oci_read_fn read, void *ctx)
{
	struct upload u = { 0 };
	char what[200];
	long st = 0;
	snprintf(what, sizeof what, "uploading blob %s", digest);
	if (size < 0)
		return oci_error_set(OCI_EINVALID, "%s: the size must be known", what);
	int rc;
	if (size <= POST_BUFFER_MAX) {
		unsigned char *buf = malloc(size ? (size_t)size : 1);
		if (!buf)
			return OCI_ENOMEM_SET();
		oci_istream *in;
		if ((rc = oci_istream_fn(&in, read, ctx)) == 0) {
			rc = oci_istream_read_full(in, buf, (size_t)size, "the blob's source");
			oci_istream_close(in);
		}
		if (rc < 0) {
			free(buf);
			return oci_error_wrap("%s", what);
		}
		oci_http_body body = { .data = buf, .len = (size_t)size };
		int retriable = 0;
		rc = R(t)->post_monolithic >= 0 ? upload_post(&u, t, digest, &body, 0, what, &retriable) : 0;
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

int oci__reg_blob_put_file(oci_target *t, const char *digest, int64_t size, const char *path)
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
	if (size <= POST_BUFFER_MAX) {
		struct chunk_src src = { .http = http, .digest = digest, .total = size, .fd = fd, .path = path };
		rc = oci__reg_blob_put(t, digest, size, chunk_read, &src);
		goto cleanup;
	}
	/* A whole upload that failed for a transient reason starts over with a
	 * new session (bounded): a half-sent monolithic PUT cannot be resumed. */
	for (int attempt = 1;; attempt++) {
		struct upload u = { 0 };
		long st = 0;
		struct chunk_src src = { .http = http, .digest = digest, .total = size, .fd = fd, .path = path };
		int retriable = 0;
		rc = 0;
		/* One request where the registry takes it; a refusal
		 * (remembered) falls through to POST + PUT. Not tried with a
		 * file over HTTP/2 until a small blob was taken in one: a
		 * registry that answers before reading resets the stream, and
		 * that costs a request (see upload_post). */
		int h2 = oci_http_is_http2(http) && R(t)->post_monolithic == 0;
		if (size <= MONOLITHIC_MAX && R(t)->post_monolithic >= 0 && !h2) {
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

int oci__reg_blob_mount(oci_target *t, const char *digest, const oci_target *from)
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
