/* sync: one step (resolve, compare, fetch by digest, verify, extract,
 * rename, swap, hook, prune, state). The parts live in sync/sync_*.c;
 * making a revision is ops/sync_materialise.c and the loop around the
 * step ops/sync_loop.c; this file is the order they run in and why. */
#include "oci/sync.h"
#include "oci/resolve.h"
#include "oci/semver.h"
#include "sync_step.h"
#include "auth.h"
#include "error_internal.h"
#include "contract.h"
#include "fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Paths are built in fixed buffers; sync_prepare_root refuses roots long
 * enough to overflow them, so truncation cannot happen. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define DEFAULT_LINK "current"
#define DEFAULT_EXEC_TIMEOUT_MS (5 * 60 * 1000)
#define DEFAULT_KILL_GRACE_MS 10000

const char *oci_sync_status_name(oci_sync_status s)
{
	switch (s) {
	case OCI_SYNC_SYNCED: return "synced";
	case OCI_SYNC_UNCHANGED: return "unchanged";
	case OCI_SYNC_INTERRUPTED: return "interrupted";
	default: return "error";
	}
}

/* The step's error, from oci_error_last(), into out. */
static void record_error(oci_sync_result *out, int rc)
{
	const char *subject;
	out->error_code = rc;
	snprintf(out->error, sizeof out->error, "%s", oci_error_last()->message);
	out->error_hint = oci_error_hint(&subject);
	snprintf(out->error_hint_subject, sizeof out->error_hint_subject, "%s", subject ? subject : "");
}

static void info(const oci_sync_opts *o, const char *fmt, const char *a)
{
	if (!o->callbacks.log)
		return;
	char msg[2600];
	snprintf(msg, sizeof msg, fmt, a);
	o->callbacks.log(o->callbacks.payload, OCI_LOG_INFO, msg);
}

/* The digest to publish: one request (a manifest HEAD), or the tag list
 * plus one HEAD with --semver; none when the reference is pinned. */
static int resolve(step *s)
{
	const oci_ref *ref = oci_target_ref(s->t);
	oci_sync_result *out = s->out;
	char *best = NULL;
	int rc = 0;
	if (s->o->semver) {
		oci_strlist tags = OCI_STRLIST_INIT;
		if ((rc = oci_target_tags(&tags, s->t)) == 0)
			rc = oci_semver_select(&best, &tags, s->o->semver);
		oci_strlist_dispose(&tags);
		if (rc)
			return rc;
		snprintf(out->tag, sizeof out->tag, "%s", best);
	} else if (ref->digest) {
		snprintf(out->digest, sizeof out->digest, "%s", ref->digest);
		return 0;
	} else {
		snprintf(out->tag, sizeof out->tag, "%s", ref->tags.n ? ref->tags.items[0] : "latest");
	}
	rc = oci_target_resolve(out->digest, NULL, NULL, s->t, out->tag);
	free(best);
	if (rc == 0 && strncmp(out->digest, "sha256:", 7) != 0)
		rc = oci_error_set(OCI_EUNSUPPORTED, "%s resolves to %s; only sha256 digests are supported",
				   out->tag, out->digest);
	return rc;
}

/* The reference text for OCISYNC_REF and the status: REPO:TAG, or
 * REPO@DIGEST when pinned. */
static int format_ref(step *s)
{
	const oci_ref *ref = oci_target_ref(s->t);
	char *repo = NULL;
	int rc;
	free(s->ref_text);
	s->ref_text = NULL;
	if (!s->out->tag[0])
		return oci_ref_format_pinned(&s->ref_text, ref, s->out->digest);
	if ((rc = oci_ref_format_repo(&repo, ref)))
		return rc;
	if (asprintf(&s->ref_text, "%s:%s", repo, s->out->tag) < 0) {
		s->ref_text = NULL;
		rc = OCI_ENOMEM_SET();
	}
	free(repo);
	return rc;
}

/* Runs the hook in the revision the link names now. */
static int run_hook(step *s)
{
	oci_sync_result *out = s->out;
	const oci_sync_opts *o = s->o;
	char *abs_dir = realpath(out->revision_dir, NULL);
	char *env[5] = { NULL };
	int rc = 0;
	if (!abs_dir)
		return oci_error_errno("resolving %s", out->revision_dir);
	if (asprintf(&env[0], "OCISYNC_DIGEST=%s", out->digest) < 0 ||
	    asprintf(&env[1], "OCISYNC_REF=%s", s->ref_text ? s->ref_text : "") < 0 ||
	    asprintf(&env[2], "OCISYNC_REVISION_DIR=%s", abs_dir) < 0 ||
	    asprintf(&env[3], "OCISYNC_PREVIOUS_DIGEST=%s", out->previous_digest) < 0) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	int64_t hook_ms = o->exec_timeout_ms > 0 ? o->exec_timeout_ms : DEFAULT_EXEC_TIMEOUT_MS;
	if (s->deadline_ms) {
		/* the step's deadline bounds the hook too (at least a second) */
		int64_t left = s->deadline_ms - oci_clock_ms();
		if (left < hook_ms)
			hook_ms = left > 1000 ? left : 1000;
	}
	sync_hook_spec h = { o->exec, abs_dir, (const char *const *)env, hook_ms,
			     o->exec_kill_grace_ms > 0 ? o->exec_kill_grace_ms : DEFAULT_KILL_GRACE_MS,
			     &o->callbacks, s->hook_record, o->cancel };
	int interrupted = 0;
	if ((rc = sync_hook_run(&out->hook_exit, &out->hook_timed_out, &interrupted, &h)))
		goto cleanup;
	out->hook_ran = 1;
	snprintf(s->st.hook_digest, sizeof s->st.hook_digest, "%s", out->digest);
	if (out->hook_exit == 0 && !out->hook_timed_out) {
		snprintf(s->st.hook_result, sizeof s->st.hook_result, "ok");
		goto cleanup;
	}
	snprintf(s->st.hook_result, sizeof s->st.hook_result, "failed");
	s->st.counters.hook_failures++;
	/* the revision stays published (it is complete); the hook is run
	 * again by the next step, as after any failure */
	if (interrupted)
		rc = oci_error_set(OCI_EINTERRUPTED, "interrupted: the hook for %s was stopped (exit status %d)",
				   out->digest, out->hook_exit);
	else if (out->hook_timed_out)
		rc = oci_error_set(OCI_ERROR, "hook for %s timed out after %.0f s and was killed", out->digest,
				   (double)h.timeout_ms / 1000.0);
	else
		rc = oci_error_set(OCI_ERROR, "hook for %s failed with exit status %d", out->digest, out->hook_exit);
cleanup:
	for (int i = 0; i < 4; i++)
		free(env[i]);
	free(abs_dir);
	return rc;
}

/* Makes the revision durable before the link names it: a crash must not
 * leave the link pointing at files whose data never reached the disk.
 * A tree this step extracted was made durable before it got its name
 * (s->durable: one syncfs, or a recycle's fsyncs of exactly what it
 * changed, see oci__pull_recycle); a revision found whole is flushed here. */
static void flush_revision(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		(void)syncfs(fd);
		close(fd);
	}
}

/* The digest published before hex and different from it (the rollback
 * target), "" when none: the history is most recently published first. */
static void last_different(step *s, const char *hex)
{
	oci_sync_result *out = s->out;
	out->previous_digest[0] = '\0';
	for (size_t i = 0; i < s->st.history.n; i++)
		if (strcmp(s->st.history.items[i], hex)) {
			snprintf(out->previous_digest, sizeof out->previous_digest, "sha256:%s", s->st.history.items[i]);
			return;
		}
}

/* Revocation: when the trusted keys are not those the published revision
 * was verified with, that revision is verified again before anything else.
 * A revision no trusted key verifies is withdrawn (the link removed) or,
 * with keep_revoked, left in place; either way s->revoked names it and the
 * step ends in an error unless the tag has moved to a revision that
 * verifies. A failure to check (network, timeout) is an error of its own
 * and changes nothing: the check is repeated next step. */
static int recheck_trust(step *s)
{
	const oci_sync_opts *o = s->o;
	const char *now = o->trust ? o->trust : "";
	const char *then = s->st.trust ? s->st.trust : "";
	if (!strcmp(now, then))
		return 0;
	if (!s->cur_hex[0] || !o->verify) /* nothing served, or nothing to check with */
		return sync_state_set(&s->st.trust, *now ? now : NULL);
	char digest[OCI_DIGEST_SIZE];
	snprintf(digest, sizeof digest, "sha256:%s", s->cur_hex);
	info(o, "the trusted keys changed: verifying the published %s again", digest);
	int rc = o->verify(o->verify_ctx, s->t, digest);
	if (rc == 0)
		return sync_state_set(&s->st.trust, *now ? now : NULL);
	if (rc > 0 || oci_error_last()->code == 0)
		rc = oci_error_set(OCI_EVERIFY, "signature verification of %s failed", digest);
	if (rc != OCI_EVERIFY)
		return oci_error_wrap("verifying the published %s with the changed keys", digest);
	char why[900];
	snprintf(why, sizeof why, "%s", oci_error_last()->message);
	snprintf(s->revoked, sizeof s->revoked, "%s", digest);
	if (!o->keep_revoked) {
		if ((rc = sync_link_remove(o->root, s->link)))
			return rc;
		s->cur_hex[0] = '\0';
		s->st.digest[0] = '\0';
		s->st.hook_digest[0] = '\0';
		s->st.hook_result[0] = '\0';
		if ((rc = sync_remember_annotations(&s->st, NULL)) || (rc = sync_state_save(&s->st, s->state_path, 1)))
			return rc;
	}
	snprintf(s->revoked_msg, sizeof s->revoked_msg,
		 "the published revision %s is not verified by any trusted key (the keys changed): %s; %s", digest, why,
		 o->keep_revoked ? "it is still served" : "it was withdrawn: the link is removed");
	return 0;
}

/* Deletes revisions beyond --keep (the one the link names is never one). */
static int prune(step *s, const char *hex)
{
	const oci_sync_opts *o = s->o;
	return sync_prune(o->root, o->keep > 0 ? o->keep : SYNC_DEFAULT_KEEP, hex, &s->st.history, &o->callbacks);
}

/* The body of a step, with the lock held and the state loaded. */
static int do_step(step *s)
{
	oci_sync_result *out = s->out;
	const oci_sync_opts *o = s->o;
	int rc;
	if ((rc = sync_clean_leftovers(o->root, &o->callbacks)) < 0)
		return rc;
	/* and what a killed run left beside the report files */
	if (o->status_file)
		sync_clean_file_leftovers(o->status_file);
	if (o->metrics_file)
		sync_clean_file_leftovers(o->metrics_file);
	if ((rc = sync_link_read(s->cur_hex, o->root, s->link)))
		return rc;
	/* A revision is named by its digest alone, so the folder it holds must
	 * not change under that name. */
	if (s->st.digest[0] && strcmp(s->st.path ? s->st.path : "", o->path ? o->path : ""))
		return oci_error_set(OCI_EINVALID, "%s holds revisions of %s%s; a different folder needs its own root",
				     o->root, s->st.path ? "the folder " : "the whole artifact", s->st.path ? s->st.path : ""),
		       oci_error_hint_set(OCI_HINT_ROOT_PER_PATH, NULL);
	if ((rc = recheck_trust(s)))
		return rc;
	if (s->cur_hex[0])
		last_different(s, s->cur_hex);
	if ((rc = resolve(s))) {
		oci_error_wrap("resolving %s", s->ref_text ? s->ref_text : "the reference");
		if (s->revoked[0])
			oci_error_wrap("%s; and then", s->revoked_msg);
		return rc;
	}
	if ((rc = format_ref(s)))
		return rc;
	const char *hex = out->digest + 7;
	/* a revoked revision is served again only once a trusted key verifies it */
	if (s->revoked[0] && !strcmp(s->revoked, out->digest))
		return oci_error_set(OCI_EVERIFY, "%s", s->revoked_msg),
		       oci_error_hint_set(s->o->keep_revoked ? OCI_HINT_REVOKED_KEPT : OCI_HINT_REVOKED_WITHDRAWN, NULL);
	snprintf(out->revision_dir, sizeof out->revision_dir, "%s/%s", s->revs, hex);
	int same = s->cur_hex[0] && !strcmp(s->cur_hex, hex) && sync_revision_exists(o->root, hex);
	int hook_done = !o->exec ||
			(!strcmp(s->st.hook_digest, out->digest) && !strcmp(s->st.hook_result, "ok"));
	if (same && hook_done) {
		out->status = OCI_SYNC_UNCHANGED;
		/* --keep holds on every run: a lowered --keep, or a run killed
		 * between its swap and its prune, is settled here. Nothing is
		 * written when there is nothing beyond --keep. */
		return prune(s, hex);
	}
	if (!same) {
		if ((rc = sync_materialise(s, hex))) {
			if (s->revoked[0])
				oci_error_wrap("%s; and its successor", s->revoked_msg);
			return rc;
		}
		if (s->cur_hex[0])
			snprintf(out->previous_digest, sizeof out->previous_digest, "sha256:%s", s->cur_hex);
		if (!s->durable)
			flush_revision(out->revision_dir);
		/* a stop that came during the last bytes: the complete revision
		 * stays for the next run, the link is not moved now */
		if (o->cancel && *o->cancel)
			return oci_error_set(OCI_EINTERRUPTED, "interrupted before publishing %s", out->digest);
		if ((rc = sync_link_swap(o->root, s->link, hex)))
			return rc;
		/* published: record it before the hook, so a kill during the
		 * hook leaves a state that knows what the link serves */
		snprintf(s->st.digest, sizeof s->st.digest, "%s", out->digest);
		s->st.published = sync_now();
		s->st.hook_digest[0] = '\0';
		snprintf(s->st.hook_result, sizeof s->st.hook_result, "%s", o->exec ? "" : "none");
		if ((rc = sync_state_set(&s->st.tag, out->tag[0] ? out->tag : NULL)) ||
		    (rc = sync_state_set(&s->st.trust, o->trust && *o->trust ? o->trust : NULL)) ||
		    (rc = sync_state_set(&s->st.path, o->path)) ||
		    (rc = sync_state_touch_history(&s->st, hex)) ||
		    (rc = sync_state_save(&s->st, s->state_path, 1)))
			return rc;
	} else {
		/* the hook is told what came before this revision */
		last_different(s, hex);
		info(o, "re-running the hook of %s (it did not pass last time)", out->digest);
	}
	out->status = OCI_SYNC_SYNCED;
	int hook_rc = 0;
	if (o->exec && o->cancel && *o->cancel) {
		/* published, but stopping: the hook is left to the next run */
		snprintf(s->st.hook_result, sizeof s->st.hook_result, "failed");
		hook_rc = oci_error_set(OCI_EINTERRUPTED, "interrupted before the hook for %s ran", out->digest);
	} else if (o->exec) {
		hook_rc = run_hook(s);
	}
	/* prune even when the hook failed: the publish itself happened */
	if ((rc = prune(s, hex)))
		return rc;
	return hook_rc;
}

/* The registry host of the target ("" for an oci-layout). */
static const char *api_host(const step *s)
{
	const oci_ref *ref = oci_target_ref(s->t);
	return ref->kind == OCI_REF_REGISTRY ? oci_ref_api_host(ref) : "";
}

/* A registry that asked for Basic credentials last time gets them with
 * the first request this time: a no-op sync is then one request, not an
 * anonymous try, its 401 and a credentials check. */
static void recall_auth(const step *s)
{
	const char *host = api_host(s);
	if (*host && s->st.basic_auth_host && !strcmp(s->st.basic_auth_host, host) && oci_auth_remember_basic(host) < 0)
		oci_error_clear(); /* only a saving: the 401 tells again */
}

/* What the registry asked for in this step, for the next one. */
static void remember_auth(step *s)
{
	const char *host = api_host(s);
	const char *scheme = *host ? oci_auth_scheme_name(host) : NULL;
	int basic = scheme && !strcmp(scheme, "basic");
	if (sync_state_set(&s->st.basic_auth_host, basic ? host : NULL))
		oci_error_clear(); /* only a saving: the next run asks again */
}

/* Writes state, status and metrics after a step; the step's own error (if
 * any) stays the one reported. */
static int finish(step *s, int rc, double started, const struct timespec *t0)
{
	oci_sync_result *out = s->out;
	const oci_sync_opts *o = s->o;
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->duration = (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
	double now = sync_now();
	if (rc == OCI_EINTERRUPTED || (rc && o->cancel && *o->cancel)) {
		/* whatever failed because of the stop (an aborted transfer, a
		 * killed hook) was the stop */
		rc = OCI_EINTERRUPTED;
		out->status = OCI_SYNC_INTERRUPTED;
		record_error(out, rc);
		s->st.counters.interrupted++;
	} else if (rc) {
		out->status = OCI_SYNC_ERROR;
		record_error(out, rc);
		s->st.counters.error++;
	} else {
		if (out->status == OCI_SYNC_SYNCED)
			s->st.counters.synced++;
		else
			s->st.counters.unchanged++;
		s->st.last_success = now;
	}
	s->st.last_sync = now;
	s->st.last_duration = out->duration;
	if (!s->st.ref || strcmp(s->st.ref, s->ref_text ? s->ref_text : "")) {
		if (s->ref_text)
			sync_state_set(&s->st.ref, s->ref_text);
	}
	remember_auth(s);
	sync_report rep = { s->ref_text, s->given_ref, o->root, o->path ? o->path : "", &s->st, out, started };
	/* an unchanged step only moves counters: not worth two fsyncs */
	int wrc = sync_state_save(&s->st, s->state_path, out->status != OCI_SYNC_UNCHANGED);
	if (!wrc && o->status_file)
		wrc = sync_write_status(o->status_file, &rep);
	if (!wrc && o->metrics_file)
		wrc = sync_write_metrics(o->metrics_file, &rep);
	if (s->http) {
		/* /metrics serves the same text; a failure to format it leaves the
		 * previous one (the step's outcome is what matters) */
		char *text = NULL;
		if (sync_metrics_text(&text, &rep) == 0)
			sync_http_update(s->http, text, rc == 0 && wrc == 0);
		else
			sync_http_update(s->http, NULL, 0);
		free(text);
	}
	if (rc) { /* the step's error wins over a reporting one */
		oci_error_set(rc, "%s", out->error);
		return oci_error_hint_set(out->error_hint, out->error_hint_subject);
	}
	if (wrc) {
		record_error(out, wrc);
		out->status = OCI_SYNC_ERROR;
	}
	return wrc;
}

int sync_prepare_root(const oci_sync_opts *o)
{
	if (oci__opts_check(o, "oci_sync_opts", OCI_SYNC_OPTS_VERSION) < 0)
		return oci_error_last()->code;
	if (!o->root || !*o->root)
		return oci_error_set(OCI_EINVALID, "sync needs a root directory");
	if (strlen(o->root) > 3000)
		return oci_error_set(OCI_EINVALID, "root directory path is too long (%zu bytes)", strlen(o->root));
	const char *link = o->link ? o->link : DEFAULT_LINK;
	if (!*link || strchr(link, '/') || !strcmp(link, ".") || !strcmp(link, "..") || link[0] == '.')
		return oci_error_set(OCI_EINVALID, "link name '%s' must be a plain name not starting with '.'", link);
	struct stat st;
	if (stat(o->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int rc = oci_mkdirs(o->root, 0755);
		if (rc)
			return rc;
	}
	/* ROOT itself must not be a symlink: everything under it is worked on
	 * relative to its descriptor (sync_open_root), nothing followed */
	int rootfd;
	int rc = sync_open_root(&rootfd, NULL, o->root, 0);
	if (rc)
		return rc;
	close(rootfd);
	return 0;
}

/* One step; lock_fd >= 0 when the caller (the loop) holds the lock. */
int sync_step(oci_sync_result *out, oci_target *t, const oci_sync_opts *o, int lock_fd, sync_http *http)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double started = sync_now();
	memset(out, 0, sizeof *out);
	out->status = OCI_SYNC_ERROR;
	step s;
	memset(&s, 0, sizeof s);
	s.out = out;
	s.t = t;
	s.o = o;
	s.link = o->link ? o->link : DEFAULT_LINK;
	s.http = http;
	int own_lock = -1;
	/* every wait of the step bounded: the lock is never held past it */
	if (o->timeout_ms > 0) {
		oci_target_set_timeout(t, o->timeout_ms);
		s.deadline_ms = oci_clock_ms() + o->timeout_ms;
	}
	int rc = sync_prepare_root(o);
	if (!rc && o->status_file)
		rc = sync_check_report_dir(o->status_file, "status file", OCI_HINT_STATUS_FILE_DIR);
	if (!rc && o->metrics_file)
		rc = sync_check_report_dir(o->metrics_file, "metrics file", OCI_HINT_METRICS_FILE_DIR);
	if (rc)
		goto fail_early;
	if (lock_fd < 0 && (rc = sync_lock_acquire(&own_lock, o->root)))
		goto fail_early; /* someone else's root for now: write nothing */
	snprintf(s.revs, sizeof s.revs, "%s/%s", o->root, SYNC_REVISIONS);
	snprintf(s.state_path, sizeof s.state_path, "%s/%s", o->root, SYNC_STATE_FILE);
	{
		/* A symlinked .revisions would make sync clean "leftovers" out of,
		 * and publish into, whatever directory it points to: created and
		 * checked here, and every later use opens it with O_NOFOLLOW. */
		int rootfd, revsfd;
		if ((rc = sync_open_root(&rootfd, &revsfd, o->root, 1)))
			goto fail_locked;
		sync_close_root(rootfd, revsfd);
	}
	snprintf(s.hook_record, sizeof s.hook_record, "%s/%s", o->root, SYNC_HOOK_RECORD);
	sync_hook_end_predecessor(s.hook_record, &o->callbacks);
	if ((rc = sync_state_load(&s.st, s.state_path)) == OCI_EUNSAFE) {
		goto fail_locked; /* a symlinked state file: nothing written through it */
	} else if (rc) {
		info(o, "%s; starting with a fresh state", oci_error_last()->message);
		memset(&s.st, 0, sizeof s.st);
	}
	{
		const oci_ref *ref = oci_target_ref(t);
		const char *rd = ref->tags.n ? NULL : ref->digest;
		if (rd)
			oci_ref_format_pinned(&s.ref_text, ref, rd);
		else
			oci_ref_format(&s.ref_text, ref);
		if (s.ref_text && !(s.given_ref = strdup(s.ref_text))) {
			rc = OCI_ENOMEM_SET();
			goto fail_locked;
		}
	}
	recall_auth(&s);
	rc = do_step(&s);
	rc = finish(&s, rc, started, &t0);
	sync_state_dispose(&s.st);
	free(s.ref_text);
	free(s.given_ref);
	sync_lock_release(own_lock);
	if (o->timeout_ms > 0)
		oci_target_set_timeout(t, 0);
	return rc;
fail_locked:
	sync_lock_release(own_lock);
fail_early:
	if (o->timeout_ms > 0)
		oci_target_set_timeout(t, 0);
	out->status = OCI_SYNC_ERROR;
	record_error(out, rc);
	if (http) /* nothing reported, but /readyz must not stay green */
		sync_http_update(http, NULL, 0);
	free(s.ref_text);
	free(s.given_ref);
	sync_state_dispose(&s.st);
	return rc;
}

int oci_sync_opts_init(oci_sync_opts *opts)
{
	return oci__opts_init(opts, sizeof *opts, "oci_sync_opts", OCI_SYNC_OPTS_VERSION);
}

int oci_sync_once(oci_sync_result *out, oci_target *t, const oci_sync_opts *opts)
{
	return sync_step(out, t, opts, -1, NULL);
}
