/* Private: the one way liboci starts a program and waits for it (credential
 * helpers, the sync hook).
 *
 * Every program runs in a process group of its own whose leader is a small
 * supervisor forked from us (it never execs): it starts the program as its
 * child in the same group with a clean signal mask and default signal
 * dispositions, relays its exit status, and, when we die (even by SIGKILL,
 * through PR_SET_PDEATHSIG), terminates the whole group. So nothing we
 * started outlives us, and kill(-pid) reaches everything the program
 * started that did not leave the group on purpose (setsid).
 *
 * The wait has a deadline: at the timeout the group gets SIGTERM, then
 * SIGKILL after the grace; reading output stops at the deadline (or a
 * short drain after the program exits) even when a process that escaped
 * the group still holds the pipes. */
#ifndef OCI_SPAWN_H
#define OCI_SPAWN_H
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The documented default deadline of a credential helper, and the
 * environment variable that changes it (seconds). */
#define OCI_HELPER_TIMEOUT_MS 30000
#define OCI_HELPER_TIMEOUT_ENV "OCISYNC_CREDENTIAL_HELPER_TIMEOUT"

typedef struct oci_spawn_spec {
	const char *name;        /* for messages: "hook", "credential helper docker-credential-x" */
	const char *prog;        /* a path, or a name looked up on PATH */
	char *const *argv;
	char *const *envp;       /* NULL: our environment */
	const char *dir;         /* working directory (NULL: ours); failing chdir is exit 126 */
	const char *input;       /* written to stdin, then closed; NULL: /dev/null */
	size_t input_len;
	int64_t timeout_ms;      /* <= 0: no deadline */
	int64_t grace_ms;        /* SIGTERM → SIGKILL */
	int kill_leftovers;      /* when the program exits, end what it left in its group */
	int interruptible;       /* a pending SIGTERM/SIGINT ends it (the signal stays pending for the caller) */
	/* The caller's stop flag, set by its signal handler: once set, the
	 * group gets SIGTERM, then SIGKILL after grace_ms (res->interrupted).
	 * Checked every 100 ms; a delivered signal ends the wait at once. */
	volatile sig_atomic_t *cancel;
	/* Output as it comes (stream 1 or 2); a negative return stops
	 * everything: the group is killed and oci_spawn_run returns it. */
	int (*on_output)(void *ctx, int stream, const char *buf, size_t len);
	/* What the runner did (timeouts, kills), one line each; may be NULL. */
	void (*on_note)(void *ctx, const char *line);
	/* Called once the group exists (pgid = the supervisor's pid). */
	void (*on_start)(void *ctx, pid_t pgid);
	void *ctx;
} oci_spawn_spec;

typedef struct oci_spawn_result {
	int status;              /* exit code, or 128 + signal */
	int timed_out;           /* killed at the deadline */
	int interrupted;         /* killed because we are stopping */
} oci_spawn_result;

/* Runs the program to its end (or the deadline). 0 when it ran (whatever
 * its status); OCI_ENOTFOUND when prog is not found on PATH; negative when
 * it could not be started or on_output refused. */
int oci_spawn_run(oci_spawn_result *res, const oci_spawn_spec *spec);

/* The timeout from OCI_HELPER_TIMEOUT_ENV (whole seconds > 0), else the
 * default; OCI_EINVALID naming the variable when it is set but not valid. */
int oci_spawn_helper_timeout(int64_t *ms);

/* The start time of a process (field 22 of /proc/PID/stat, clock ticks
 * since boot) and its process group; -1 when it does not exist. */
int oci_proc_identity(pid_t pid, unsigned long long *start, pid_t *pgrp);

#endif
