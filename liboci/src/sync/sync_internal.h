/* Private: the parts of sync (state, lock, hook, publish, reports), each in
 * its own file so each can be tested alone. */
#ifndef OCI_SYNC_INTERNAL_H
#define OCI_SYNC_INTERNAL_H
#include <stdint.h>
#include "oci/sync.h"

#define SYNC_REVISIONS ".revisions"
#define SYNC_STATE_FILE ".state.json"
#define SYNC_LOCK_FILE ".lock"
#define SYNC_HOOK_RECORD ".hook"
#define SYNC_LINK_TMP_PREFIX ".tmp-link-"
#define SYNC_HEX_LEN 64

/* Seconds since the epoch, with fractions. */
double sync_now(void);
/* RFC 3339 UTC with milliseconds: "2026-11-26T02:45:00.123Z". */
void sync_format_time(char out[40], double t);
/* Parses an RFC 3339 timestamp ("...Z" or "...+01:00", optional fraction);
 * 0 and *out set, or -1. */
int sync_parse_time(double *out, const char *s);
/* A wait spread by up to ±percent (0..50) of itself, so a fleet started
 * together does not hit the registry in the same second: wait + an offset
 * uniform in [-span, +span], span = wait * percent / 100, drawn from
 * rand_fn (NULL: the kernel's getrandom). Never less than 1 ms. */
int64_t sync_jitter(int64_t wait_ms, int percent, uint64_t (*rand_fn)(void *ctx), void *ctx);
/* 1 when s is exactly 64 lowercase hex digits. */
int sync_is_hex(const char *s, size_t len);

/* Replaces path atomically (tmp + rename, mode 0644). durable: fsync the
 * file before and its directory after the rename, so a power cut leaves the
 * old or the new content; without it, only a killed process is covered
 * (the cheap case for a no-change step, whose data is counters). */
int sync_write_atomic(const char *path, const void *data, size_t len, int durable);
/* Removes the temporary files a killed run left beside path
 * (sync_is_atomic_tmp names); returns how many. */
int sync_clean_file_leftovers(const char *path);
/* name is a temporary the atomic writer made for base (a killed run's). */
int sync_is_atomic_tmp(const char *name, const char *base);

/* ---- sync_state.c: ROOT/.state.json ---- */
typedef struct sync_counters {
	int64_t synced, unchanged, error, interrupted, hook_failures;
} sync_counters;

typedef struct sync_state {
	char digest[OCI_DIGEST_SIZE];      /* last published digest, "" none */
	char hook_digest[OCI_DIGEST_SIZE]; /* the digest hook_result is about */
	char hook_result[16];              /* "ok", "failed", "none" (no hook configured), "" */
	char *ref;                         /* the reference as given */
	char *tag;                         /* the tag it resolved through */
	char *created, *source, *revision; /* annotations of the published artifact */
	char *policy, *policy_findings;    /* io.ocisync.policy and .findings of it */
	char *path;                        /* the --path the revisions hold (NULL: all) */
	char *trust;                       /* the key set digest was verified with (oci_sync_opts.trust) */
	/* The registry host (as requests name it) that asked for Basic
	 * credentials last time, so the next run sends them up front: only
	 * the host and the scheme, never a credential (and never a bearer
	 * token: those are short-lived and stay in memory). NULL: none. */
	char *basic_auth_host;
	double published;                  /* when the link was swapped to digest */
	double last_sync, last_success, last_duration;
	sync_counters counters;
	oci_strlist history;               /* revision hexes, most recently published first */
} sync_state;

/* A missing file is an empty state; an unreadable or corrupt one is
 * OCI_EINVALID naming the file (the caller decides to start afresh). */
int sync_state_load(sync_state *s, const char *path);
/* Atomic (tmp + rename); durable adds the fsyncs (see sync_write_atomic). */
int sync_state_save(const sync_state *s, const char *path, int durable);
void sync_state_dispose(sync_state *s);
/* Sets a string field (NULL clears). */
int sync_state_set(char **field, const char *value);
/* Moves hex to the front of the history. */
int sync_state_touch_history(sync_state *s, const char *hex);

/* ---- sync_lock.c ---- */
/* Opens (creating) ROOT/.lock and takes an exclusive flock without
 * waiting. OCI_ELOCKED "another ocisync sync holds ROOT/.lock" when busy. */
int sync_lock_acquire(int *fd_out, const char *root);
void sync_lock_release(int fd);

/* ---- sync_hook.c ---- */
typedef struct sync_hook_spec {
	const char *cmd;               /* for /bin/sh -c */
	const char *dir;               /* working directory */
	const char *const *env;        /* extra NAME=VALUE entries, NULL-terminated */
	int64_t timeout_ms;
	int64_t grace_ms;              /* SIGTERM → SIGKILL */
	const oci_callbacks *cb;       /* the hook's lines as events, notes as OCI_LOG_INFO; may be NULL */
	const char *record;            /* ROOT/.hook while it runs (pgid, start time); NULL: none */
	volatile sig_atomic_t *cancel; /* once set: SIGTERM to the group, SIGKILL after grace_ms */
} sync_hook_spec;
/* Runs the hook in its own process group, passing its output line by line
 * to cb (OCI_EVENT_HOOK_STDOUT / _STDERR). *exit_status: the exit code, or 128+signal. *timed_out: 1 when
 * it was killed at the timeout; *interrupted: 1 when it was ended because
 * *cancel was set (ocisync is stopping). Whatever the hook left running in its group
 * when its shell exits is killed too (a hook must not leave processes
 * behind in a sync that runs for years; use setsid to detach on purpose).
 * Returns 0 when the hook ran (whatever its status), negative when it could
 * not be started. */
int sync_hook_run(int *exit_status, int *timed_out, int *interrupted, const sync_hook_spec *h);
/* A sync that died (SIGKILL) may leave its hook running: record names the
 * hook's process group and the start time of its leader; when that very
 * process still leads that group, the group is killed. The record is
 * removed. Returns 1 when a group was killed, else 0. */
int sync_hook_end_predecessor(const char *record, const oci_callbacks *cb);

/* ---- sync_root.c ---- */
/* Opens ROOT (O_DIRECTORY|O_NOFOLLOW) and, when revsfd is not NULL,
 * ROOT/.revisions (created first when create_revs) the same way; a symlink
 * or other non-directory is refused (OCI_EUNSAFE) naming it; a missing
 * .revisions (not created) is OCI_ENOTFOUND. On failure nothing is open. */
int sync_open_root(int *rootfd, int *revsfd, const char *root, int create_revs);
void sync_close_root(int rootfd, int revsfd);

/* ---- sync_publish.c: revisions and the link ---- */
/* Each opens ROOT and .revisions once (sync_open_root) and works under them
 * with *at() calls. */
/* Removes leftovers of killed runs: ROOT/.tmp-link-*, ROOT/.state.json.tmp.*,
 * and under .revisions every entry that is not a "<hex>" directory or the
 * "<hex>.index" of one. Returns the number removed, or negative. */
int sync_clean_leftovers(const char *root, const oci_callbacks *cb);
/* The hex the link names: 0 with hex set; 0 with hex "" when there is no
 * link; OCI_EINVALID when ROOT/<link> exists but is not a link of ours. */
int sync_link_read(char hex[SYNC_HEX_LEN + 1], const char *root, const char *link);
/* Points ROOT/<link> at .revisions/<hex>: a new relative symlink under a
 * temporary name, renamed over the link, then the directory fsync'ed. */
int sync_link_swap(const char *root, const char *link, const char *hex);
/* Removes ROOT/<link> (a revoked revision withdrawn); a missing link is fine. */
int sync_link_remove(const char *root, const char *link);
/* 1 when ROOT/.revisions/<hex> is a directory, else 0. */
int sync_revision_exists(const char *root, const char *hex);
/* Deletes revisions (and their indexes) beyond the newest keep: the current
 * one first, then the history's order, then unknown ones by mtime. */
int sync_prune(const char *root, int keep, const char *current_hex, const oci_strlist *history,
	       const oci_callbacks *cb);
/* The revision a publish would prune (the last in sync_prune's order, never
 * current_hex), when .revisions holds keep or more and that revision has
 * its index: 1 with hex set; 0 when none; negative on an error. */
int sync_recycle_candidate(char hex[SYNC_HEX_LEN + 1], const char *root, int keep, const char *current_hex,
			   const oci_strlist *history);
/* Takes revision hex out of the published side to be updated in place:
 * its index, then the directory, renamed to .revisions/.recycle-<hex>.index
 * and .recycle-<hex> (leftover names sync_clean_leftovers removes, so a
 * killed run leaves nothing a reader or the next run takes for a revision).
 * 0; negative with nothing moved. dir/index get the new names (dir relative
 * to .revisions, index a path). */
#define SYNC_RECYCLE_PREFIX ".recycle-"
int sync_recycle_take(char dir[SYNC_HEX_LEN + 16], char index[4200], const char *root, const char *hex);

/* ---- sync_report.c: status and metrics files ---- */
typedef struct sync_report {
	const char *ref;
	/* the series' labels: the reference as given (stable across tags),
	 * ROOT and --path, so two syncs on one node are distinct series */
	const char *label_ref, *label_root, *label_path;
	const sync_state *state;
	const oci_sync_result *result;
	double time;                    /* when the step started */
} sync_report;
/* Both written atomically (tmp + rename), mode 0644, without fsync: they
 * are rewritten after every step. */
int sync_write_status(const char *file, const sync_report *r);
int sync_write_metrics(const char *file, const sync_report *r);
/* The texts themselves (for tests); caller frees. */
int sync_status_json(char **out, const sync_report *r);
int sync_metrics_text(char **out, const sync_report *r);

/* 0 when the directory a report file goes in exists; otherwise OCI_EINVALID
 * naming the file as what ("status file") and the file, with the hint. */
int sync_check_report_dir(const char *file, const char *what, oci_hint hint);

/* ---- sync_http.c: --http-bind ---- */
typedef struct sync_http sync_http;
/* Starts serving on addr (oci_sync_parse_bind) in a thread of its own. */
int sync_http_start(sync_http **out, const char *addr, int64_t interval_ms);
/* After each step: the metrics text (copied) and whether the step succeeded. */
void sync_http_update(sync_http *h, const char *metrics, int ok);
void sync_http_stop(sync_http *h);

#endif
