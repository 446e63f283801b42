/* The streaming linter: files arrive in chunks from the packer's read loop
 * (or from oci_lint_path's own walk) and are parsed on a worker thread, so
 * linting overlaps with tar and gzip instead of adding a second pass.
 *
 * The caller's thread only copies chunks into a bounded queue; the worker
 * pulls them through libyaml's input handler, one parser per file, builds
 * the part of each document's tree that the rules look at (lint_tree.c)
 * and runs the rules (lint_rules.c).
 * The worker never touches the thread-local error state: it keeps its own
 * failure code, which oci_lint_finish reports in the caller's thread.
 *
 * This file is the caller's side and the queue's feeding end; the worker is
 * lint_worker.c, their shared state lint_queue.h, and oci_lint_path's walk
 * lint_path.c. */
#include "lint_queue.h"
#include "error_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_MAX_BYTES (4 * 1024 * 1024)
#define WAKE_BYTES (64 * 1024) /* a sleeping worker is woken for this much */

int lint_is_lintable(const char *rel)
{
	size_t l = strlen(rel);
	return (l > 5 && !strcmp(rel + l - 5, ".yaml")) || (l > 4 && !strcmp(rel + l - 4, ".yml")) ||
	       (l > 5 && !strcmp(rel + l - 5, ".json"));
}

/* The worker sleeps until WAKE_BYTES are queued (or QUIT), so a file does
 * not cost a wake-up: it takes the whole queue at once. */
static void enqueue(oci_lint *l, msg *m)
{
	pthread_mutex_lock(&l->mu);
	while (l->queued > QUEUE_MAX_BYTES) {
		if (l->worker_idle)
			pthread_cond_signal(&l->more);
		l->feeder_waiting = 1;
		pthread_cond_wait(&l->room, &l->mu);
		l->feeder_waiting = 0;
	}
	append(&l->head, &l->tail, m);
	l->queued += m->size;
	l->pending += m->size;
	if (l->worker_idle && (l->pending >= WAKE_BYTES || (m->flags & MSG_QUIT)))
		pthread_cond_signal(&l->more);
	pthread_mutex_unlock(&l->mu);
}

/* path (BEGIN only) then len bytes. */
static msg *new_msg(unsigned flags, const char *path, const void *data, size_t len)
{
	size_t plen = path ? strlen(path) + 1 : 0;
	msg *m = malloc(sizeof *m + plen + len);
	if (!m)
		return NULL;
	m->flags = flags;
	m->size = sizeof *m + plen + len;
	if (plen)
		memcpy(m->data, path, plen);
	m->bytes = m->data + plen;
	m->len = len;
	m->off = 0;
	if (len)
		memcpy(m->data + plen, data, len);
	return m;
}

/* --- the caller's side --- */

int oci_lint_new(oci_lint **out, const oci_lint_policy *policy)
{
	*out = NULL;
	oci_lint *l = calloc(1, sizeof *l);
	if (!l)
		return OCI_ENOMEM_SET();
	l->policy = policy;
	if (!(l->quit = new_msg(MSG_QUIT, NULL, NULL, 0))) {
		free(l);
		return OCI_ENOMEM_SET();
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->more, NULL);
	pthread_cond_init(&l->room, NULL);
	if (pthread_create(&l->worker, NULL, lint_worker_main, l) != 0) {
		oci_lint_free(l);
		return oci_error_set(OCI_ERROR, "starting the lint thread failed");
	}
	l->started = 1;
	*out = l;
	return 0;
}

/* A file's bytes go out one message behind, so that its END rides on the
 * last one: a file read in one chunk is one message. */
int oci_lint_feed(void *ctx, const char *rel, oci_pack_file_event ev, const void *data, size_t len)
{
	oci_lint *l = ctx;
	msg *m;
	switch (ev) {
	case OCI_PACK_FILE_BEGIN: {
		if (!(l->feeding = lint_is_lintable(rel)))
			return 0;
		size_t n = strlen(rel) + 1;
		if (n > l->path_cap) {
			char *p = realloc(l->path, n);
			if (!p) {
				l->feeding = 0;
				return OCI_ENOMEM_SET();
			}
			l->path = p;
			l->path_cap = n;
		}
		memcpy(l->path, rel, n);
		l->begun = 0;
		return 0;
	}
	case OCI_PACK_FILE_DATA:
		if (!l->feeding || !len)
			return 0;
		if (!(m = new_msg(l->begun ? 0 : MSG_BEGIN, l->begun ? NULL : l->path, data, len)))
			break;
		l->begun = 1;
		if (l->held)
			enqueue(l, l->held);
		l->held = m;
		return 0;
	default:
		if (!l->feeding)
			return 0;
		l->feeding = 0;
		if ((m = l->held)) {
			l->held = NULL;
			m->flags |= MSG_END;
		} else {
			m = new_msg(MSG_END | (l->begun ? 0 : MSG_BEGIN), l->begun ? NULL : l->path, NULL, 0);
		}
		if (!m)
			break;
		enqueue(l, m);
		return 0;
	}
	return OCI_ENOMEM_SET(); /* the pack stops; QUIT (allocated up front) ends the worker */
}

static void stop_worker(oci_lint *l)
{
	if (!l->started)
		return;
	l->started = 0;
	enqueue(l, l->quit);
	l->quit = NULL;
	pthread_join(l->worker, NULL);
}

int oci_lint_finish(oci_lint_report *out, oci_lint *l)
{
	memset(out, 0, sizeof *out);
	stop_worker(l);
	if (l->failed)
		return OCI_ENOMEM_SET();
	*out = l->rep;
	memset(&l->rep, 0, sizeof l->rep);
	l->cap = 0;
	return 0;
}

void oci_lint_free(oci_lint *l)
{
	if (!l)
		return;
	stop_worker(l);
	for (msg *m = l->head, *next; m; m = next) {
		next = m->next;
		free(m);
	}
	for (msg *m = l->taken, *next; m; m = next) {
		next = m->next;
		free(m);
	}
	free(l->held);
	free(l->quit);
	free(l->path);
	free(l->file);
	oci_lint_report_dispose(&l->rep);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->more);
	pthread_cond_destroy(&l->room);
	free(l);
}

void oci_lint_report_dispose(oci_lint_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].file);
		free(r->items[i].message);
	}
	free(r->items);
	memset(r, 0, sizeof *r);
}
