/* Reading a blob from a registry as a readable stream.
 *
 * libcurl pushes bytes into a callback and the request layer (http.c)
 * keeps its easy-handle API: redirects, retries, and a download dropped
 * mid-way resumed with Range. To hand that out as a pull-style stream,
 * the GET runs on a thread of its own that writes into a bounded buffer
 * the reader drains; a full buffer makes the request wait (TCP then
 * throttles the server), so memory stays at the buffer's size whatever
 * the blob's. The thread uses the target's oci_http alone while the
 * stream is open (an oci_http is used by one thread at a time: the
 * caller does not use the target meanwhile). Its error, thread-local,
 * is carried to the reader with the end of the stream. */
#include "registry_internal.h"
#include "error_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING_SIZE (1024 * 1024)

struct blob_in {
	oci_istream s;
	oci_http *http;
	char *url, *scope;
	char what[200];

	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *ring;
	size_t head, len;            /* unread bytes: ring[head .. head+len) (wrapping) */
	int done;                    /* the request has finished */
	int closing;                 /* the reader is gone: stop */
	int rc;                      /* the request's result */
	oci__error_saved err;        /* its error (message and hint), from the thread */
};

/* The request's sink: waits while the buffer is full. */
static int ring_put(void *ctx, const void *buf, size_t len)
{
	struct blob_in *b = ctx;
	const unsigned char *p = buf;
	pthread_mutex_lock(&b->mu);
	while (len) {
		while (b->len == RING_SIZE && !b->closing)
			pthread_cond_wait(&b->cv, &b->mu);
		if (b->closing) {
			pthread_mutex_unlock(&b->mu);
			return oci_error_set(OCI_EINTERRUPTED, "%s: the reader stopped", b->what);
		}
		size_t tail = (b->head + b->len) % RING_SIZE;
		size_t n = RING_SIZE - b->len;
		if (n > RING_SIZE - tail)
			n = RING_SIZE - tail;
		if (n > len)
			n = len;
		memcpy(b->ring + tail, p, n);
		b->len += n;
		p += n;
		len -= n;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	return 0;
}

static void *fetch(void *arg)
{
	struct blob_in *b = arg;
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	oci_http_req req = {
		.method = "GET", .url = b->url, .scope = b->scope,
		.sink = ring_put, .sink_ctx = b,
		.flags = OCI_HTTP_FOLLOW | OCI_HTTP_RESUME, .what = b->what,
	};
	int rc = oci_http_do(&resp, b->http, &req);
	oci_http_resp_dispose(&resp);
	pthread_mutex_lock(&b->mu);
	b->rc = rc < 0 ? rc : 0;
	if (rc < 0)
		oci__error_save(&b->err);
	b->done = 1;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

static ssize_t blob_read(oci_istream *is, void *buf, size_t len)
{
	struct blob_in *b = (struct blob_in *)is;
	pthread_mutex_lock(&b->mu);
	while (!b->len && !b->done)
		pthread_cond_wait(&b->cv, &b->mu);
	ssize_t out;
	if (b->len) {
		size_t n = b->len;
		if (n > RING_SIZE - b->head)
			n = RING_SIZE - b->head;
		if (n > len)
			n = len;
		memcpy(buf, b->ring + b->head, n);
		b->head = (b->head + n) % RING_SIZE;
		b->len -= n;
		pthread_cond_broadcast(&b->cv);
		out = (ssize_t)n;
	} else if (b->rc < 0) {
		out = oci__error_restore(&b->err);
	} else {
		out = 0;
	}
	pthread_mutex_unlock(&b->mu);
	return out;
}

static void blob_close(oci_istream *is)
{
	struct blob_in *b = (struct blob_in *)is;
	if (b->started) {
		pthread_mutex_lock(&b->mu);
		b->closing = 1;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
		pthread_join(b->thread, NULL);
	}
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b->ring);
	free(b->url);
	free(b->scope);
	free(b);
}

static const oci_istream_ops blob_ops = { blob_read, blob_close };

int oci__reg_blob_open(oci_target *t, const char *digest, int64_t size, oci_istream **out)
{
	struct registry *r = R(t);
	(void)size; /* the verify stream above checks it */
	struct blob_in *b = calloc(1, sizeof *b);
	if (!b)
		return OCI_ENOMEM_SET();
	b->s.ops = &blob_ops;
	b->http = r->http;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	snprintf(b->what, sizeof b->what, "blob %s", digest);
	if (asprintf(&b->url, "%s/blobs/%s", r->repo_url, digest) < 0)
		b->url = NULL;
	if (!b->url || !(b->ring = malloc(RING_SIZE)) || !(b->scope = strdup(r->scope_pull))) {
		blob_close(&b->s);
		return OCI_ENOMEM_SET();
	}
	int e = pthread_create(&b->thread, NULL, fetch, b);
	if (e) {
		blob_close(&b->s);
		return oci_error_set(OCI_ERROR, "%s: cannot start the download thread: %s", digest, strerror(e));
	}
	b->started = 1;
	*out = &b->s;
	return 0;
}
