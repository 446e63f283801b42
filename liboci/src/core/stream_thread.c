/* A readable stream whose bytes are produced on a thread of its own.
 *
 * The producer (a download pushing into a callback, or another readable
 * stream pumped through) writes into a bounded ring the reader drains: a
 * full ring makes the producer wait, so memory stays at the ring's size
 * whatever the stream's length, and the two sides overlap (a download
 * fills while its reader works; a layer is inflated while the previous
 * chunk is extracted). The producer's error is thread-local: it is saved
 * whole (code, message, hint) and handed to the reader after the bytes
 * produced before it, as the end of the stream. Closing the reader early
 * makes the producer's next write fail (OCI_EINTERRUPTED) and joins the
 * thread; a producer blocked inside its own source is waited for (its
 * source's timeouts bound that). Each side sleeps until a low-water mark
 * of bytes (the reader) or of free space (the producer) is there, and is
 * woken only then, at the end, or on a close: a source that delivers small
 * pieces (a slow network) or a reader taking small reads would otherwise
 * cost two thread switches per piece. */
#include "stream.h"
#include "error_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct thread_in {
	oci_istream s;
	oci_stream_produce_fn produce;
	void *ctx;
	void (*free_ctx)(void *ctx);
	char what[200];

	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t has_data;     /* the reader waits on it */
	pthread_cond_t has_space;    /* the producer waits on it */
	int reader_waits, producer_waits;
	unsigned char *ring;
	size_t size;
	size_t low;                  /* bytes that wake the reader: at most half the ring */
	size_t room;                 /* free space that wakes the producer: half the ring */
	size_t head, len;            /* unread bytes: ring[head .. head+len) (wrapping) */
	int done;                    /* the producer has finished */
	int closing;                 /* the reader is gone: stop */
	int rc;                      /* the producer's result */
	oci__error_saved err;        /* its error (message and hint), from the thread */
};

/* The reader's low-water mark: it wakes for this many bytes (at most half
 * the ring). The producer wakes for half the ring free. One of the two can
 * always go on: a reader waits only while fewer bytes than the mark are
 * there, which leaves more than half the ring free for the producer. */
#define LOW_WATER (64 * 1024)

/* The producer's sink: waits while less than half the ring is free (or
 * less than what is left to put, if that is smaller). */
static int ring_put(void *ctx, const void *buf, size_t len)
{
	struct thread_in *t = ctx;
	const unsigned char *p = buf;
	pthread_mutex_lock(&t->mu);
	while (len) {
		size_t need = len < t->room ? len : t->room;
		while (t->size - t->len < need && !t->closing) {
			t->producer_waits = 1;
			pthread_cond_wait(&t->has_space, &t->mu);
			t->producer_waits = 0;
		}
		if (t->closing) {
			pthread_mutex_unlock(&t->mu);
			return oci_error_set(OCI_EINTERRUPTED, "%s: the reader stopped", t->what);
		}
		size_t tail = (t->head + t->len) % t->size;
		size_t n = t->size - t->len;
		if (n > t->size - tail)
			n = t->size - tail;
		if (n > len)
			n = len;
		memcpy(t->ring + tail, p, n);
		t->len += n;
		p += n;
		len -= n;
		if (t->reader_waits && t->len >= t->low)
			pthread_cond_signal(&t->has_data);
	}
	pthread_mutex_unlock(&t->mu);
	return 0;
}

static void *run(void *arg)
{
	struct thread_in *t = arg;
	int rc = t->produce(t->ctx, ring_put, t);
	pthread_mutex_lock(&t->mu);
	t->rc = rc < 0 ? rc : 0;
	if (rc < 0)
		oci__error_save(&t->err);
	t->done = 1;
	pthread_cond_signal(&t->has_data);
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

static ssize_t thread_read(oci_istream *is, void *buf, size_t len)
{
	struct thread_in *t = (struct thread_in *)is;
	pthread_mutex_lock(&t->mu);
	while (t->len < t->low && !t->done) {
		t->reader_waits = 1;
		pthread_cond_wait(&t->has_data, &t->mu);
		t->reader_waits = 0;
	}
	ssize_t out;
	if (t->len) {
		size_t n = t->len;
		if (n > t->size - t->head)
			n = t->size - t->head;
		if (n > len)
			n = len;
		memcpy(buf, t->ring + t->head, n);
		t->head = (t->head + n) % t->size;
		t->len -= n;
		if (t->producer_waits && t->size - t->len >= t->room)
			pthread_cond_signal(&t->has_space);
		out = (ssize_t)n;
	} else if (t->rc < 0) {
		out = oci__error_restore(&t->err);
	} else {
		out = 0;
	}
	pthread_mutex_unlock(&t->mu);
	return out;
}

static void thread_close(oci_istream *is)
{
	struct thread_in *t = (struct thread_in *)is;
	if (t->started) {
		pthread_mutex_lock(&t->mu);
		t->closing = 1;
		pthread_cond_signal(&t->has_space);
		pthread_mutex_unlock(&t->mu);
		pthread_join(t->thread, NULL);
	}
	if (t->free_ctx)
		t->free_ctx(t->ctx);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->has_data);
	pthread_cond_destroy(&t->has_space);
	free(t->ring);
	free(t);
}

static const oci_istream_ops thread_ops = { thread_read, thread_close };

int oci_istream_thread(oci_istream **out, size_t size, oci_stream_produce_fn produce, void *ctx,
		       void (*free_ctx)(void *ctx), const char *what)
{
	struct thread_in *t = calloc(1, sizeof *t);
	if (!t) {
		if (free_ctx)
			free_ctx(ctx);
		return OCI_ENOMEM_SET();
	}
	t->s.ops = &thread_ops;
	t->produce = produce;
	t->ctx = ctx;
	t->free_ctx = free_ctx;
	t->size = size ? size : 1;
	t->low = t->size / 2 < LOW_WATER ? t->size / 2 : LOW_WATER;
	if (!t->low)
		t->low = 1;
	t->room = t->size - t->size / 2;
	snprintf(t->what, sizeof t->what, "%s", what);
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->has_data, NULL);
	pthread_cond_init(&t->has_space, NULL);
	if (!(t->ring = malloc(t->size))) {
		thread_close(&t->s);
		return OCI_ENOMEM_SET();
	}
	int e = pthread_create(&t->thread, NULL, run, t);
	if (e) {
		/* what may be ctx's, which the close frees: the message first */
		oci_error_set(OCI_ERROR, "%s: cannot start a thread: %s", t->what, strerror(e));
		thread_close(&t->s);
		return OCI_ERROR;
	}
	t->started = 1;
	*out = &t->s;
	return 0;
}

/* ---- read-ahead: another readable stream pumped on the thread ---- */

static int pump_inner(void *ctx, oci_write_fn sink, void *sink_ctx)
{
	return oci_istream_pump(ctx, sink, sink_ctx);
}

static void close_inner(void *ctx)
{
	oci_istream_close(ctx);
}

int oci_istream_readahead(oci_istream **out, oci_istream *inner, size_t size, const char *what)
{
	return oci_istream_thread(out, size, pump_inner, inner, close_inner, what);
}
