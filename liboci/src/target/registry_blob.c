/* Reading a blob from a registry as a readable stream.
 *
 * libcurl pushes bytes into a callback and the request layer (http.c)
 * keeps its easy-handle API: redirects, retries, and a download dropped
 * mid-way resumed with Range. To hand that out as a pull-style stream,
 * the GET is the producer of a threaded stream (core/stream_thread.c):
 * it runs on a thread of its own that writes into a bounded buffer the
 * reader drains; a full buffer makes the request wait (TCP then
 * throttles the server), so memory stays at the buffer's size whatever
 * the blob's. The thread uses the target's oci_http alone while the
 * stream is open (an oci_http is used by one thread at a time: the
 * caller does not use the target meanwhile). Its error, thread-local,
 * is carried to the reader with the end of the stream. */
#include "registry_internal.h"
#include "error_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING_SIZE (1024 * 1024)

struct blob_get {
	oci_http *http;
	char *url, *scope;
	char what[200];
};

static int fetch(void *ctx, oci_write_fn sink, void *sink_ctx)
{
	struct blob_get *g = ctx;
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	oci_http_req req = {
		.method = "GET", .url = g->url, .scope = g->scope,
		.sink = sink, .sink_ctx = sink_ctx,
		.flags = OCI_HTTP_FOLLOW | OCI_HTTP_RESUME, .what = g->what,
	};
	int rc = oci_http_do(&resp, g->http, &req);
	oci_http_resp_dispose(&resp);
	return rc < 0 ? rc : 0;
}

static void blob_get_free(void *ctx)
{
	struct blob_get *g = ctx;
	free(g->url);
	free(g->scope);
	free(g);
}

int oci__reg_blob_open(oci_target *t, const char *digest, int64_t size, oci_istream **out)
{
	struct registry *r = R(t);
	(void)size; /* the verify stream above checks it */
	struct blob_get *g = calloc(1, sizeof *g);
	if (!g)
		return OCI_ENOMEM_SET();
	g->http = r->http;
	snprintf(g->what, sizeof g->what, "blob %s", digest);
	if (asprintf(&g->url, "%s/blobs/%s", r->repo_url, digest) < 0)
		g->url = NULL;
	if (!g->url || !(g->scope = strdup(r->scope_pull))) {
		blob_get_free(g);
		return OCI_ENOMEM_SET();
	}
	return oci_istream_thread(out, RING_SIZE, fetch, g, blob_get_free, g->what);
}
