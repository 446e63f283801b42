/* The post-publish hook: /bin/sh -c CMD in its own process group, so that a
 * timeout (or the shell's end) can take down everything it started, not
 * just the shell. Its stdout and stderr come back line by line. */
#include "sync_internal.h"
#include "error_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define LINE_MAX_BYTES 4096
#define POLL_SLICE_MS 100   /* how often the shell's exit is checked while output flows */
#define ESCAPE_WAIT_MS 1000 /* after SIGKILL: how long a pipe held by an escaped process is waited for */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct line_buf {
	int fd;
	oci_sync_log_kind kind;
	char data[LINE_MAX_BYTES + 1];
	size_t len;
} line_buf;

static void emit(const sync_hook_spec *h, line_buf *b)
{
	b->data[b->len] = '\0';
	if (h->log_fn)
		h->log_fn(h->ctx, b->kind, b->data);
	b->len = 0;
}

/* Reads what is there; returns 0 at EOF (fd closed), 1 otherwise. */
static int pump(const sync_hook_spec *h, line_buf *b)
{
	char chunk[4096];
	ssize_t n = read(b->fd, chunk, sizeof chunk);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0) {
		if (b->len)
			emit(h, b);
		close(b->fd);
		b->fd = -1;
		return 0;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (chunk[i] == '\n') {
			emit(h, b);
			continue;
		}
		b->data[b->len++] = chunk[i];
		if (b->len == LINE_MAX_BYTES)
			emit(h, b); /* a very long line comes out in pieces */
	}
	return 1;
}

static void note(const sync_hook_spec *h, const char *fmt, long long v)
{
	char msg[256];
	snprintf(msg, sizeof msg, fmt, v);
	if (h->log_fn)
		h->log_fn(h->ctx, OCI_SYNC_LOG_INFO, msg);
}

/* environ plus the hook's variables (those replace same-named ones). Built
 * before fork: the child only calls async-signal-safe functions. */
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

int sync_hook_run(int *exit_status, int *timed_out, const sync_hook_spec *h)
{
	*exit_status = -1;
	*timed_out = 0;
	int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
	char **env = build_env(h->env);
	int rc = 0;
	if (!env)
		return OCI_ENOMEM_SET();
	if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
		rc = oci_error_errno("creating pipes for the hook");
		goto cleanup;
	}
	pid_t pid = fork();
	if (pid < 0) {
		rc = oci_error_errno("starting the hook");
		goto cleanup;
	}
	if (pid == 0) {
		/* child: own group, default signals, nothing blocked; if sync
		 * itself is killed, the hook's shell is told to stop too */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(out_pipe[1], 1);
		dup2(err_pipe[1], 2);
		if (chdir(h->dir) < 0)
			_exit(126);
		char *argv[] = { "sh", "-c", (char *)h->cmd, NULL };
		execve("/bin/sh", argv, env);
		_exit(127);
	}
	setpgid(pid, pid); /* also here: whichever runs first, the group exists before any kill */
	close(out_pipe[1]);
	close(err_pipe[1]);
	out_pipe[1] = err_pipe[1] = -1;

	line_buf bufs[2] = { { out_pipe[0], OCI_SYNC_LOG_HOOK_STDOUT, { 0 }, 0 },
			     { err_pipe[0], OCI_SYNC_LOG_HOOK_STDERR, { 0 }, 0 } };
	out_pipe[0] = err_pipe[0] = -1; /* owned by bufs now */
	int64_t start = mono_ms();
	int64_t deadline = start + h->timeout_ms;
	int64_t kill_at = -1;     /* when SIGKILL follows SIGTERM */
	int64_t give_up_at = -1;  /* stop waiting for pipes held by escaped processes */
	int reaped = 0, status = 0;
	for (;;) {
		if (!reaped) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid) {
				reaped = 1;
				/* the shell is done: whatever it left behind in its group goes too */
				if (kill(-pid, SIGTERM) == 0) {
					if (kill_at < 0)
						kill_at = mono_ms() + h->grace_ms;
				} else if (give_up_at < 0) {
					/* nothing left in the group; a process that left it
					 * (setsid) may still hold the pipes: drain a moment */
					give_up_at = mono_ms() + ESCAPE_WAIT_MS;
				}
			}
		}
		if (reaped && bufs[0].fd < 0 && bufs[1].fd < 0)
			break;
		int64_t now = mono_ms();
		if (!*timed_out && !reaped && now >= deadline) {
			*timed_out = 1;
			note(h, "hook still running after %lld ms: terminating its process group", (long long)h->timeout_ms);
			kill(-pid, SIGTERM);
			kill_at = now + h->grace_ms;
		}
		if (kill_at >= 0 && now >= kill_at) {
			if (kill(-pid, SIGKILL) == 0)
				note(h, "hook's process group still alive %lld ms after SIGTERM: killed", (long long)h->grace_ms);
			kill_at = -1;
			give_up_at = now + ESCAPE_WAIT_MS;
		}
		if (give_up_at >= 0 && now >= give_up_at && reaped) {
			for (int i = 0; i < 2; i++)
				if (bufs[i].fd >= 0 && bufs[i].len)
					emit(h, &bufs[i]);
			break; /* the descriptors are closed below */
		}
		struct pollfd pfd[2];
		nfds_t np = 0;
		int map[2];
		for (int i = 0; i < 2; i++)
			if (bufs[i].fd >= 0) {
				pfd[np].fd = bufs[i].fd;
				pfd[np].events = POLLIN;
				map[np++] = i;
			}
		int wait_ms = POLL_SLICE_MS;
		if (np == 0 && !reaped) {
			/* pipes closed (the hook closed them) but the shell still runs */
			wait_ms = 20;
		}
		int pr = poll(pfd, np, wait_ms);
		if (pr < 0 && errno != EINTR) {
			rc = oci_error_errno("waiting for the hook");
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			reaped = 1;
			break;
		}
		for (nfds_t i = 0; pr > 0 && i < np; i++)
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				pump(h, &bufs[map[i]]);
	}
	for (int i = 0; i < 2; i++)
		if (bufs[i].fd >= 0)
			close(bufs[i].fd);
	if (!reaped)
		waitpid(pid, &status, 0);
	if (rc == 0) {
		if (WIFEXITED(status))
			*exit_status = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			*exit_status = 128 + WTERMSIG(status);
	}
cleanup:
	for (int i = 0; i < 2; i++) {
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
		if (err_pipe[i] >= 0)
			close(err_pipe[i]);
	}
	free(env);
	return rc;
}
