/* Several blob transfers at once: a small pool of threads, one target
 * (and so one connection and auth state) per thread, the calling thread
 * being one of them with the caller's target. See transfer.h. */
#include "transfer.h"
#include "target_impl.h"
#include "error_internal.h"
#include "contract.h"
#include "fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PARALLEL 4
#define MAX_PARALLEL 16

enum mode { GET, PUT, COPY };

struct pool;

/* A target's options with its callbacks routed through the pool's lock. */
struct route {
	struct pool *p;
	oci_callbacks orig;          /* the caller's target's */
	oci_client_opts opts;        /* what the workers' targets get */
};

struct pool {
	oci_target *t;             /* GET/COPY: the source; PUT: the destination */
	oci_target *dst;           /* COPY: the destination */
	oci_blob_job *jobs;
	size_t n, next;
	enum mode mode;
	int stop;                  /* COPY: a job failed, start no more */
	struct route t_route, dst_route;
	pthread_mutex_t mu;        /* next, stop */
	pthread_mutex_t cb_mu;     /* the caller's callbacks */
};

static int progress_serialised(void *payload, const char *what, int64_t done, int64_t total)
{
	struct route *r = payload;
	pthread_mutex_lock(&r->p->cb_mu);
	int stop = r->orig.progress(r->orig.payload, what, done, total);
	pthread_mutex_unlock(&r->p->cb_mu);
	return stop;
}

static void log_serialised(void *payload, oci_log_level level, const char *line)
{
	struct route *r = payload;
	pthread_mutex_lock(&r->p->cb_mu);
	r->orig.log(r->orig.payload, level, line);
	pthread_mutex_unlock(&r->p->cb_mu);
}

static void route_init(struct route *r, struct pool *p, const oci_target *t)
{
	r->p = p;
	r->orig = t->opts.callbacks;
	r->opts = t->opts;
	r->opts.callbacks.payload = r;
	r->opts.callbacks.progress = t->opts.callbacks.progress ? progress_serialised : NULL;
	r->opts.callbacks.log = t->opts.callbacks.log ? log_serialised : NULL;
	r->opts.callbacks.event = NULL; /* targets raise none */
}

static int run_get(oci_target *t, oci_blob_job *j)
{
	int fd = open(j->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return oci_error_errno("creating %s", j->path);
	struct oci_fd_sink sink = { fd, j->path };
	int rc = oci_target_blob_get(t, j->digest, j->size, oci_fd_sink_write, &sink);
	if (close(fd) < 0 && rc == 0)
		rc = oci_error_errno("writing %s", j->path);
	if (rc < 0)
		unlink(j->path);
	return rc;
}

static int run_put(oci_target *t, oci_blob_job *j)
{
	if (j->skip_existing) {
		int rc = oci_target_blob_exists(t, j->digest, NULL);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			j->skipped = 1;
			return 0;
		}
	}
	return oci_target_blob_put_file(t, j->digest, j->size, j->path);
}

/* Through the job's file: downloaded (verified), uploaded, removed. */
static int run_copy(oci_target *src, oci_target *dst, oci_blob_job *j)
{
	int rc = run_get(src, j);
	if (rc == 0) {
		rc = oci_target_blob_put_file(dst, j->digest, j->size, j->path);
		unlink(j->path);
	}
	return rc;
}

static void run_job(struct pool *p, oci_target *t, oci_target *dst, int open_rc, oci_blob_job *j)
{
	int rc = open_rc < 0 ? open_rc : p->mode == PUT ? run_put(t, j) : p->mode == GET ? run_get(t, j)
		: run_copy(t, dst, j);
	j->result = rc < 0 ? rc : 0;
	if (rc < 0 && !strstr(oci_error_last()->message, j->digest))
		oci_error_wrap("blob %s", j->digest);
	if (rc < 0) {
		const char *subject;
		snprintf(j->message, sizeof j->message, "%.500s", oci_error_last()->message);
		j->hint = oci_error_hint(&subject);
		snprintf(j->hint_subject, sizeof j->hint_subject, "%s", subject ? subject : "");
	}
	if (rc < 0 && p->mode == COPY) {
		/* One blob lost means the copy fails: the others need not move. */
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_mutex_unlock(&p->mu);
	}
}

/* Takes the next job until none is left (or a copy failed). */
static void work(struct pool *p, oci_target *t, oci_target *dst, int open_rc)
{
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t i = p->next < p->n && !p->stop ? p->next++ : p->n;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			break;
		run_job(p, t, dst, open_rc, &p->jobs[i]);
	}
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	oci_target *t = NULL, *dst = NULL;
	int open_rc = oci_target_open(&t, p->t->ref, &p->t_route.opts);
	if (open_rc == 0 && p->mode == COPY)
		open_rc = oci_target_open(&dst, p->dst->ref, &p->dst_route.opts);
	work(p, t, dst, open_rc);
	oci_target_free(dst);
	oci_target_free(t);
	return NULL;
}

static int run_pool(oci_target *t, oci_target *dst, oci_blob_job *jobs, size_t n, int parallel, enum mode mode)
{
	struct pool p;
	memset(&p, 0, sizeof p);
	p.t = t;
	p.dst = dst;
	p.jobs = jobs;
	p.n = n;
	p.mode = mode;
	route_init(&p.t_route, &p, t);
	if (dst)
		route_init(&p.dst_route, &p, dst);
	pthread_mutex_init(&p.mu, NULL);
	pthread_mutex_init(&p.cb_mu, NULL);
	for (size_t i = 0; i < n; i++) {
		jobs[i].result = 0;
		jobs[i].message[0] = '\0';
		jobs[i].skipped = 0;
	}
	if (parallel <= 0)
		parallel = DEFAULT_PARALLEL;
	if (parallel > MAX_PARALLEL)
		parallel = MAX_PARALLEL;
	if ((size_t)parallel > n)
		parallel = (int)n;
	/* The calling thread is one of the workers, with the caller's own
	 * target(s): their connection (which just asked whether the blobs were
	 * there) is open and authorised, and the first job -- the largest,
	 * where the caller sorts -- starts without waiting for a thread and a
	 * connection of its own. Meanwhile those targets report through the
	 * serialised callbacks too (restored in reverse order, so a target
	 * given as both src and dst gets its own back). */
	oci_callbacks t_cb = t->opts.callbacks, dst_cb = dst ? dst->opts.callbacks : t_cb;
	t->opts.callbacks = p.t_route.opts.callbacks;
	if (dst)
		dst->opts.callbacks = p.dst_route.opts.callbacks;
	p.next = n > 0 ? 1 : 0;
	pthread_t th[MAX_PARALLEL];
	int started = 0;
	for (; started < parallel - 1; started++)
		if (pthread_create(&th[started], NULL, worker, &p) != 0)
			break;
	if (n > 0)
		run_job(&p, t, dst, 0, &jobs[0]);
	work(&p, t, dst, 0);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (dst)
		dst->opts.callbacks = dst_cb;
	t->opts.callbacks = t_cb;
	pthread_mutex_destroy(&p.mu);
	pthread_mutex_destroy(&p.cb_mu);
	for (size_t i = 0; i < n; i++)
		if (jobs[i].result < 0) {
			oci_error_set(jobs[i].result, "%s", jobs[i].message);
			return oci_error_hint_set(jobs[i].hint, jobs[i].hint_subject);
		}
	return 0;
}

int oci_transfer_get(oci_target *t, oci_blob_job *jobs, size_t n, int parallel)
{
	return run_pool(t, NULL, jobs, n, parallel, GET);
}

int oci_transfer_put(oci_target *t, oci_blob_job *jobs, size_t n, int parallel)
{
	return run_pool(t, NULL, jobs, n, parallel, PUT);
}

int oci_transfer_copy(oci_target *src, oci_target *dst, oci_blob_job *jobs, size_t n, int parallel)
{
	return run_pool(src, dst, jobs, n, parallel, COPY);
}
