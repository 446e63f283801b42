/* Several blob transfers at once: a small pool of threads, one target
 * (and so one connection and auth state) per thread. See transfer.h. */
#include "transfer.h"
#include "target_impl.h"
#include "error_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PARALLEL 4
#define MAX_PARALLEL 16

struct pool {
	oci_target *t;
	oci_blob_job *jobs;
	size_t n, next;
	int put;
	oci_client_opts opts;      /* the target's, with serialised callbacks */
	pthread_mutex_t mu;        /* next */
	pthread_mutex_t cb_mu;     /* the caller's callbacks */
};

static void progress_serialised(void *ctx, const char *what, int64_t done, int64_t total)
{
	struct pool *p = ctx;
	pthread_mutex_lock(&p->cb_mu);
	p->t->opts.progress_fn(p->t->opts.cb_ctx, what, done, total);
	pthread_mutex_unlock(&p->cb_mu);
}

static void log_serialised(void *ctx, const char *line)
{
	struct pool *p = ctx;
	pthread_mutex_lock(&p->cb_mu);
	p->t->opts.log_fn(p->t->opts.cb_ctx, line);
	pthread_mutex_unlock(&p->cb_mu);
}

static int fd_sink(void *ctx, const void *buf, size_t len)
{
	int fd = *(int *)ctx;
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return oci_error_errno("writing a downloaded blob");
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int run_get(oci_target *t, oci_blob_job *j)
{
	int fd = open(j->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return oci_error_errno("creating %s", j->path);
	int rc = oci_target_blob_get(t, j->digest, j->size, fd_sink, &fd);
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

static void *worker(void *arg)
{
	struct pool *p = arg;
	oci_target *t = NULL;
	int open_rc = oci_target_open(&t, p->t->ref, &p->opts);
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			break;
		oci_blob_job *j = &p->jobs[i];
		int rc = open_rc < 0 ? open_rc : p->put ? run_put(t, j) : run_get(t, j);
		j->result = rc < 0 ? rc : 0;
		if (rc < 0 && !strstr(oci_error_last()->message, j->digest))
			oci_error_wrap("blob %s", j->digest);
		if (rc < 0)
			snprintf(j->message, sizeof j->message, "%.500s", oci_error_last()->message);
	}
	oci_target_free(t);
	return NULL;
}

static int run_pool(oci_target *t, oci_blob_job *jobs, size_t n, int parallel, int put)
{
	struct pool p;
	memset(&p, 0, sizeof p);
	p.t = t;
	p.jobs = jobs;
	p.n = n;
	p.put = put;
	p.opts = t->opts;
	p.opts.cb_ctx = &p;
	p.opts.progress_fn = t->opts.progress_fn ? progress_serialised : NULL;
	p.opts.log_fn = t->opts.log_fn ? log_serialised : NULL;
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
	pthread_t th[MAX_PARALLEL];
	int started = 0;
	for (; started < parallel; started++)
		if (pthread_create(&th[started], NULL, worker, &p) != 0)
			break;
	if (started == 0 && n > 0)
		worker(&p); /* no threads to be had: do it here */
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.mu);
	pthread_mutex_destroy(&p.cb_mu);
	for (size_t i = 0; i < n; i++)
		if (jobs[i].result < 0)
			return oci_error_set(jobs[i].result, "%s", jobs[i].message);
	return 0;
}

int oci_transfer_get(oci_target *t, oci_blob_job *jobs, size_t n, int parallel)
{
	return run_pool(t, jobs, n, parallel, 0);
}

int oci_transfer_put(oci_target *t, oci_blob_job *jobs, size_t n, int parallel)
{
	return run_pool(t, jobs, n, parallel, 1);
}
