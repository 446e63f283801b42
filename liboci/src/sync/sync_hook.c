/* The post-publish hook: /bin/sh -c CMD through the shared runner (spawn.h):
 * its own process group, led by a supervisor that ends the group if sync
 * dies, so a timeout (or the shell's end) can take down everything it
 * started, not just the shell. Its stdout and stderr come back line by
 * line. While it runs, ROOT/.hook records its group (pgid and start time),
 * so that a sync started after this one died (SIGKILL, OOM) can end a hook
 * that is still running before it runs the hook again. */
#include "sync_internal.h"
#include "error_internal.h"
#include "contract.h"
#include "spawn.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define LINE_MAX_BYTES 4096

typedef struct line_buf {
	oci_event_type kind;
	char data[LINE_MAX_BYTES + 1];
	size_t len;
} line_buf;

typedef struct hook_run {
	const sync_hook_spec *h;
	line_buf bufs[2];
} hook_run;

static void emit(const sync_hook_spec *h, line_buf *b)
{
	b->data[b->len] = '\0';
	oci__event_line(h->cb, b->kind, b->data);
	b->len = 0;
}

static int on_output(void *ctx, int stream, const char *chunk, size_t n)
{
	hook_run *r = ctx;
	line_buf *b = &r->bufs[stream == 2];
	for (size_t i = 0; i < n; i++) {
		if (chunk[i] == '\n') {
			emit(r->h, b);
			continue;
		}
		b->data[b->len++] = chunk[i];
		if (b->len == LINE_MAX_BYTES)
			emit(r->h, b); /* a very long line comes out in pieces */
	}
	return 0;
}

static void on_note(void *ctx, const char *line)
{
	hook_run *r = ctx;
	oci__log(r->h->cb, OCI_LOG_INFO, "%s", line);
}

/* Records the hook's group in h->record: "<pgid> <start time>\n". */
static void on_start(void *ctx, pid_t pgid)
{
	hook_run *r = ctx;
	unsigned long long start = 0;
	if (!r->h->record || oci_proc_identity(pgid, &start, NULL) < 0)
		return;
	char text[64];
	int n = snprintf(text, sizeof text, "%d %llu\n", (int)pgid, start);
	if (sync_write_atomic(r->h->record, text, (size_t)n, 0) < 0)
		oci__log(r->h->cb, OCI_LOG_INFO, "%s", oci_error_last()->message);
}

/* environ plus the hook's variables (those replace same-named ones). */
static char **build_env(const char *const *extra)
{
	size_t n = 0, x = 0;
	while (environ && environ[n])
		n++;
	while (extra && extra[x])
		x++;
	char **env = calloc(n + x + 1, sizeof *env);
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int replaced = 0;
		for (size_t j = 0; j < x; j++) {
			size_t nl = strcspn(extra[j], "=");
			if (!strncmp(environ[i], extra[j], nl) && environ[i][nl] == '=')
				replaced = 1;
		}
		if (!replaced)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < x; j++)
		env[k++] = (char *)extra[j];
	env[k] = NULL;
	return env;
}

int sync_hook_run(int *exit_status, int *timed_out, int *interrupted, const sync_hook_spec *h)
{
	*exit_status = -1;
	*timed_out = 0;
	*interrupted = 0;
	char **env = build_env(h->env);
	if (!env)
		return OCI_ENOMEM_SET();
	hook_run r;
	memset(&r, 0, sizeof r);
	r.h = h;
	r.bufs[0].kind = OCI_EVENT_HOOK_STDOUT;
	r.bufs[1].kind = OCI_EVENT_HOOK_STDERR;
	char *argv[] = { "sh", "-c", (char *)h->cmd, NULL };
	oci_spawn_spec spec = {
		.name = "hook",
		.prog = "/bin/sh",
		.argv = argv,
		.envp = env,
		.dir = h->dir,
		.timeout_ms = h->timeout_ms,
		.grace_ms = h->grace_ms,
		/* a hook must not leave processes behind in a sync that runs for
		 * years (setsid detaches on purpose) */
		.kill_leftovers = 1,
		/* stopping sync (SIGTERM) stops the hook too: SIGTERM to its
		 * group, SIGKILL after the grace, so a pod's termination grace
		 * period is never overrun by a long hook */
		.cancel = h->cancel,
		.on_output = on_output,
		.on_note = on_note,
		.on_start = on_start,
		.ctx = &r,
	};
	oci_spawn_result res;
	int rc = oci_spawn_run(&res, &spec);
	for (int i = 0; i < 2; i++)
		if (r.bufs[i].len)
			emit(h, &r.bufs[i]);
	if (h->record)
		unlink(h->record);
	free(env);
	if (rc < 0)
		return oci_error_wrap("starting the hook");
	*exit_status = res.status;
	*timed_out = res.timed_out;
	*interrupted = res.interrupted;
	return 0;
}

/* 1 when a process of group pgid that started at or after start exists. */
static int group_has_members(pid_t pgid, unsigned long long start)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	while (d && !found && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		unsigned long long st;
		pid_t pg;
		if (*end || pid <= 0)
			continue;
		if (oci_proc_identity((pid_t)pid, &st, &pg) == 0 && pg == pgid && st >= start)
			found = 1;
	}
	if (d)
		closedir(d);
	return found;
}

int sync_hook_end_predecessor(const char *record, const oci_callbacks *cb)
{
	FILE *f = fopen(record, "re");
	if (!f)
		return 0;
	int pgid = 0;
	unsigned long long start = 0, now_start = 0;
	int got = fscanf(f, "%d %llu", &pgid, &start);
	fclose(f);
	pid_t pg = 0;
	int ended = 0;
	/* Only the group we recorded. Its leader (our supervisor) still alive
	 * with the same start time and still leading that group; or, the
	 * leader gone, members of that group that started after it (while any
	 * member lives, the id cannot be given to a new process or group).
	 * The supervisor ends its group itself when sync dies; this covers a
	 * supervisor killed along with sync. */
	if (got == 2 && pgid > 1) {
		if (oci_proc_identity(pgid, &now_start, &pg) == 0)
			ended = now_start == start && pg == pgid;
		else
			ended = group_has_members(pgid, start);
	}
	if (ended) {
		char msg[160];
		snprintf(msg, sizeof msg, "a hook started by a sync that died is still running (process group %d): killing it",
			 pgid);
		oci__log(cb, OCI_LOG_INFO, "%s", msg);
		kill(-pgid, SIGKILL);
	}
	unlink(record);
	return ended;
}
