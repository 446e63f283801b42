/* sync: the loop around the step -- one lock for its life, /metrics and
 * /readyz, back-off after failures, jittered waits a signal can end. */
#include "oci/sync.h"
#include "sync_step.h"
#include "error_internal.h"
#include "contract.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#define DEFAULT_INTERVAL_MS 60000

int oci_sync_loop_opts_init(oci_sync_loop_opts *opts)
{
	return oci__opts_init(opts, sizeof *opts, "oci_sync_loop_opts", OCI_SYNC_LOOP_OPTS_VERSION);
}

/* Sleeps until deadline (monotonic ms) or until a flag is set. */
static void wait_until(int64_t deadline_ms, const oci_sync_loop_opts *l)
{
	for (;;) {
		if ((l->stop && *l->stop) || (l->wake && *l->wake))
			return;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
		if (now_ms >= deadline_ms)
			return;
		int64_t left = deadline_ms - now_ms;
		struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };
		/* with the signals blocked outside, ppoll's mask opens them only
		 * here, atomically: a signal is never lost between check and wait */
		ppoll(NULL, 0, &ts, l->wait_mask);
	}
}

int oci_sync_loop(oci_target *t, const oci_sync_opts *opts, const oci_sync_loop_opts *loop)
{
	oci_sync_loop_opts defaults;
	if (oci__opts_check(loop, "oci_sync_loop_opts", OCI_SYNC_LOOP_OPTS_VERSION) < 0)
		return oci_error_last()->code;
	if (!loop && oci_sync_loop_opts_init(&defaults) == 0)
		loop = &defaults;
	int64_t interval = loop->interval_ms > 0 ? loop->interval_ms : DEFAULT_INTERVAL_MS;
	int lock_fd = -1;
	int rc = sync_prepare_root(opts);
	if (rc)
		return rc;
	/* held for the life of the loop: one sync per root */
	if ((rc = sync_lock_acquire(&lock_fd, opts->root)))
		return rc;
	sync_http *http = NULL;
	if (loop->http_bind && (rc = sync_http_start(&http, loop->http_bind, interval))) {
		sync_lock_release(lock_fd);
		return rc;
	}
	int failures = 0;
	oci_sync_result *res = malloc(sizeof *res);
	if (!res) {
		sync_http_stop(http);
		sync_lock_release(lock_fd);
		return OCI_ENOMEM_SET();
	}
	rc = 0;
	while (!(loop->stop && *loop->stop)) {
		if (loop->wake)
			*loop->wake = 0;
		/* the step runs with the caller's handlers open (wait_mask), so
		 * a stop sets opts->cancel while transfers or the hook run */
		sigset_t blocked;
		if (loop->wait_mask)
			pthread_sigmask(SIG_SETMASK, loop->wait_mask, &blocked);
		int step_rc = sync_step(res, t, opts, lock_fd, http);
		if (loop->wait_mask)
			pthread_sigmask(SIG_SETMASK, &blocked, NULL);
		if (opts->callbacks.event) {
			oci_event ev = { OCI_EVENT_SYNC_STEP, NULL, res };
			opts->callbacks.event(opts->callbacks.payload, &ev);
		}
		if (step_rc == OCI_EINTERRUPTED) {
			rc = oci_error_set(OCI_EINTERRUPTED, "%s", res->error);
			break;
		}
		if (step_rc) {
			failures++;
			if (loop->max_failures > 0 && failures >= loop->max_failures) {
				oci_error_set(OCI_ERROR, "%d sync%s failed in a row, as many as allowed; last: %s", failures,
					      failures == 1 ? "" : "s", res->error);
				rc = oci_error_hint_set(OCI_HINT_MAX_FAILURES, NULL);
				break;
			}
		} else {
			failures = 0;
		}
		int64_t wait = interval;
		if (failures) {
			int64_t backoff = (int64_t)1000 << (failures < 20 ? failures : 20);
			if (backoff < wait)
				wait = backoff;
		}
		wait = sync_jitter(wait, loop->jitter_percent ? loop->jitter_percent : OCI_SYNC_DEFAULT_JITTER, NULL, NULL);
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		wait_until((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + wait, loop);
	}
	free(res);
	sync_http_stop(http);
	sync_lock_release(lock_fd);
	return rc;
}
