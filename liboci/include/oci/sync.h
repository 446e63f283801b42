/* sync: the cluster-side puller. Publishes the artifact a reference (or the
 * highest tag in a semver range) resolves to as a read-only directory tree
 * under ROOT, swapped in atomically through a relative symlink:
 *
 *   ROOT/.lock                 flock'ed by the one sync working on ROOT
 *   ROOT/.state.json           last digest, hook result, counters (atomic)
 *   ROOT/.revisions/<hex>/     one complete revision per digest
 *   ROOT/.revisions/<hex>.index  its files' sha256 and modes (extract.h format)
 *   ROOT/<link> -> .revisions/<hex>
 *
 * Anything else under .revisions/ (temporary directories, files of a run
 * that was killed) and ROOT/.tmp-link-* are leftovers, removed by the next
 * run. A revision directory appears under its final name only once
 * complete, and the link only ever names such a directory, so a consumer
 * reading through the link never sees half a revision.
 *
 * The library prints nothing: notes reach the caller through
 * opts->callbacks.log (OCI_LOG_INFO), hook output through
 * opts->callbacks.event (OCI_EVENT_HOOK_STDOUT / _STDERR); each step's
 * outcome through oci_sync_result (and, in the loop, an
 * OCI_EVENT_SYNC_STEP event).
 *
 * Ownership: out and the options are the caller's; the strings in opts are
 * borrowed for the call (the loop: for its life).
 * Thread-safety: one sync per ROOT (the lock refuses a second, in this or
 * another process); the target is used by one thread at a time. */
#ifndef OCI_SYNC_H
#define OCI_SYNC_H
#include "oci/common.h"
#include "oci/callbacks.h"
#include "oci/error.h"
#include <signal.h>
#include <stdint.h>
#include "oci/digest.h"
#include "oci/extract.h"
#include "oci/pull.h"
#include "oci/target.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	OCI_SYNC_UNCHANGED = 0, /* the link already served this digest and its hook had passed */
	OCI_SYNC_SYNCED = 1,    /* published (or the hook of the current revision re-run and passed) */
	OCI_SYNC_ERROR = 2,
	OCI_SYNC_INTERRUPTED = 3, /* stopped by opts->cancel (SIGTERM): nothing half published, the hook (if it ran) failed */
} oci_sync_status;

struct oci_sync_result;

/* Initialise with oci_sync_opts_init. */
#define OCI_SYNC_OPTS_VERSION 1
typedef struct oci_sync_opts {
	int version;                  /* OCI_SYNC_OPTS_VERSION */
	const char *root;             /* ROOT, created when missing (required) */
	const char *link;             /* link name under ROOT; NULL = "current" */
	int keep;                     /* revisions kept, the current one included; 0 = 2 */
	const char *semver;           /* pick the highest tag in this range; NULL = the reference's tag */
	const char *path;             /* publish only this folder of the artifact; NULL = all */
	const char *exec;             /* hook: /bin/sh -c EXEC in the new revision; NULL = none */
	int64_t exec_timeout_ms;      /* 0 = 5 minutes */
	int64_t exec_kill_grace_ms;   /* SIGTERM to SIGKILL (timeout or stop); 0 = 10 seconds */
	const char *status_file;      /* JSON status written atomically after every step (on error with
				       * the hint's name, oci_hint_name, as "hint"); NULL = none */
	const char *metrics_file;     /* Prometheus text written atomically; NULL = none */
	oci_verify_fn verify;         /* called with the digest before anything is fetched; NULL = none */
	void *verify_ctx;
	/* The trusted key set verify checks against, as text that changes when
	 * the set does (oci_verifier_fingerprint); NULL or "" = none. The state
	 * remembers the set the published revision was verified with; when it
	 * differs, that revision is verified again before anything else (a
	 * revoked key must not keep serving what it signed). */
	const char *trust;
	/* When the published revision no longer verifies: 0 = withdraw it (the
	 * link is removed, consumers see no revision), 1 = keep serving it. The
	 * step is an error either way and its hook does not run. */
	int keep_revoked;
	int64_t max_size;             /* extraction limits; 0 = extract.h defaults */
	int64_t max_entries;
	int64_t timeout_ms;           /* a deadline for each step's requests (OCI_ETIMEOUT); 0 = the target's own */
	int publisher_limits;         /* apply the limits the artifact's annotations record (oci_pull_opts) */
	/* The caller's stop flag (its SIGTERM handler sets it): the step in
	 * hand stops at once: a transfer aborts (set the same flag in the
	 * target's oci_client_opts.cancel), a running hook's group gets
	 * SIGTERM, then SIGKILL after exec_kill_grace_ms. The link is only
	 * ever swapped to a complete revision; a revision already published
	 * stays, its hook counted as failed (re-run by the next step). The
	 * step ends OCI_SYNC_INTERRUPTED, returning OCI_EINTERRUPTED. */
	volatile sig_atomic_t *cancel;
	/* log: notes (OCI_LOG_INFO); event: the hook's output lines and, in
	 * the loop, every step's outcome (OCI_EVENT_SYNC_STEP). The target's
	 * own callbacks (oci_client_opts) report its requests and progress. */
	oci_callbacks callbacks;
} oci_sync_opts;

/* Sets *opts to the defaults (all zero, see each field) and opts->version
 * to OCI_SYNC_OPTS_VERSION; the caller then sets root. Returns 0, or
 * OCI_EINVALID when opts is NULL. Thread-safe. */
OCI_EXTERN int oci_sync_opts_init(oci_sync_opts *opts);

typedef struct oci_sync_result {
	oci_sync_status status;
	char digest[OCI_DIGEST_SIZE];          /* resolved digest; "" when resolving failed */
	char previous_digest[OCI_DIGEST_SIZE]; /* what the link named before; "" on the first run */
	char tag[256];                         /* the tag resolved ("" when REF is pinned by digest) */
	char revision_dir[4096];               /* ROOT/.revisions/<hex> when published */
	int hook_ran;                          /* 1 when the hook ran in this step */
	int hook_exit;                         /* its exit status; 128+N when killed by signal N */
	int hook_timed_out;
	oci_extract_stats stats;               /* what extraction wrote / hard-linked */
	int reused_revision;                   /* the revision directory was already complete */
	double duration;                       /* seconds */
	int error_code;                        /* OCI_SYNC_ERROR: the oci_error_code */
	char error[2048];                      /* OCI_SYNC_ERROR: the message */
	oci_hint error_hint;                   /* OCI_SYNC_ERROR: its hint (oci_error_hint) */
	char error_hint_subject[256];          /* and what the hint is about ("" when nothing) */
} oci_sync_result;

/* One sync step under ROOT (see the top of this file and cli.md): lock,
 * clean leftovers, resolve with one request, stop when unchanged, else
 * fetch by digest, verify, extract (hard-linking unchanged files from the
 * current revision), rename into .revisions/, swap the link, run the hook,
 * prune to keep, write state, status and metrics.
 * Returns 0 (SYNCED / UNCHANGED) or a negative code with out->error and
 * oci_error_last() set; OCI_ELOCKED when another sync holds ROOT/.lock
 * (then nothing at all is written). A failed hook is an error and is
 * retried by the next step even when the digest is unchanged. */
OCI_EXTERN int oci_sync_once(oci_sync_result *out, oci_target *t, const oci_sync_opts *opts);

/* The loop around it. The caller's signal handlers set *stop (the step in
 * hand finishes, then the loop returns 0), opts->cancel (the step in hand
 * is interrupted too: the loop returns OCI_EINTERRUPTED when it was) and
 * *wake (SIGHUP: sync now). To wait without missing a signal, the caller
 * blocks those signals and passes in wait_mask the mask to wait with
 * (normally the one from before blocking): the wait is a ppoll with that
 * mask, and each step runs with that mask too, so a handler can set
 * opts->cancel while a step is in hand.
 * After a failure the next step comes sooner, then later: after n failures
 * in a row the wait is min(interval, 2^n seconds) (2 s, 4 s, 8 s, …), so a
 * blip is retried quickly and a lasting outage costs one try per interval.
 * Every wait (interval or back-off) is spread by ±jitter_percent of itself
 * (default 10%), so a fleet of loops started together does not hit the
 * registry in the same second; the first step runs at once.
 * With max_failures > 0, returns OCI_ERROR after that many failures in a
 * row (the message says so). OCI_ELOCKED from the first step ends the loop
 * at once. */
#define OCI_SYNC_LOOP_OPTS_VERSION 1
typedef struct oci_sync_loop_opts {
	int version;                        /* OCI_SYNC_LOOP_OPTS_VERSION */
	int64_t interval_ms;                /* 0 = 60 s */
	int max_failures;                   /* 0 = never give up */
	volatile sig_atomic_t *stop;        /* may be NULL */
	volatile sig_atomic_t *wake;        /* may be NULL */
	const sigset_t *wait_mask;          /* NULL = wait with the current mask */
	/* Serve /metrics, /healthz and /readyz over HTTP on this address while
	 * the loop runs (oci_sync_parse_bind); NULL = no server. */
	const char *http_bind;
	/* The spread of each wait, in percent of it (1..50); 0 = 10,
	 * OCI_SYNC_NO_JITTER = none (the exact interval). */
	int jitter_percent;
} oci_sync_loop_opts;
#define OCI_SYNC_NO_JITTER (-1)
#define OCI_SYNC_DEFAULT_JITTER 10

/* Sets *opts to the defaults (all zero) and opts->version to
 * OCI_SYNC_LOOP_OPTS_VERSION. Returns 0, or OCI_EINVALID when opts is
 * NULL. Thread-safe. */
OCI_EXTERN int oci_sync_loop_opts_init(oci_sync_loop_opts *opts);

OCI_EXTERN int oci_sync_loop(oci_target *t, const oci_sync_opts *opts, const oci_sync_loop_opts *loop);

/* How many intervals old the last successful step may be for /readyz. */
#define OCI_SYNC_READY_INTERVALS 3

/* Checks an HTTP bind address: "PORT" (127.0.0.1), "IPV4:PORT",
 * "[IPV6]:PORT", ":PORT" (every IPv4 interface, only when asked for).
 * 0 or OCI_EINVALID saying what is wrong, with OCI_HINT_HTTP_BIND. */
OCI_EXTERN int oci_sync_parse_bind(const char *addr);

/* "synced", "unchanged", "error", "interrupted" (static). Thread-safe. */
OCI_EXTERN const char *oci_sync_status_name(oci_sync_status s);

#ifdef __cplusplus
}
#endif
#endif
