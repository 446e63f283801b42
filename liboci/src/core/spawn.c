/* Starting a program and waiting for it under a deadline (see spawn.h).
 * Between fork and exec only async-signal-safe calls are made: the
 * calling program may have other threads. */
#include "spawn.h"
#include "error_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define POLL_SLICE_MS 100   /* how often exit, deadline and signals are checked */
#define DRAIN_MS 1000       /* after the end: how long pipes held by an escaped process are read */
#define PARENT_DEATH_SIG (SIGRTMAX) /* what the supervisor is told when we die */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int oci_spawn_helper_timeout(int64_t *ms)
{
	const char *v = getenv(OCI_HELPER_TIMEOUT_ENV);
	*ms = OCI_HELPER_TIMEOUT_MS;
	if (!v || !*v)
		return 0;
	char *end = NULL;
	errno = 0;
	long long s = strtoll(v, &end, 10);
	if (errno || end == v || *end || s <= 0 || s > 86400)
		return oci_error_set(OCI_EINVALID, "%s must be a whole number of seconds between 1 and 86400, not '%s'",
				     OCI_HELPER_TIMEOUT_ENV, v);
	*ms = (int64_t)s * 1000;
	return 0;
}

int oci_proc_identity(pid_t pid, unsigned long long *start, pid_t *pgrp)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid pgrp ..." -- comm may hold spaces and ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	char state;
	int ppid, pg;
	unsigned long long st = 0;
	/* after ')': state(3) ppid(4) pgrp(5) session tty_nr tpgid flags minflt
	 * cminflt majflt cmajflt utime stime cutime cstime priority nice
	 * num_threads itrealvalue starttime(22) */
	if (sscanf(p + 1, " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &state,
		   &ppid, &pg, &st) != 4)
		return -1;
	if (state == 'Z' || state == 'X')
		return -1;
	if (start)
		*start = st;
	if (pgrp)
		*pgrp = (pid_t)pg;
	return 0;
}

/* prog itself when it holds a '/', else the first executable regular file
 * of that name on PATH; caller frees. NULL with errno ENOENT when none. */
static char *find_program(const char *prog)
{
	if (strchr(prog, '/'))
		return strdup(prog);
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		char *full = NULL;
		if (asprintf(&full, "%.*s/%s", (int)len, len ? path : ".", prog) < 0)
			return NULL;
		struct stat st;
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
			return full;
		free(full);
		path += len;
		if (*path == ':')
			path++;
	}
	errno = ENOENT;
	return NULL;
}

/* Puts fd at target (the others were moved above 16 first); -1 is /dev/null. */
static void place_fd(int fd, int target)
{
	if (fd < 0)
		fd = open("/dev/null", O_RDWR);
	if (fd >= 0 && fd != target)
		dup2(fd, target);
}

/* The supervisor: leader of the new group. Never returns. */
static void supervise(pid_t parent, const int fds[4], const char *path, char *const *argv, char *const *envp,
		      const char *dir, int64_t grace_ms)
{
	setpgid(0, 0);
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* SIGCHLD ignored (inherited) would reap the program behind our back */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &dfl, NULL);
	prctl(PR_SET_PDEATHSIG, PARENT_DEATH_SIG);
	if (getppid() != parent) {
		/* we died before the line above could take effect */
		kill(0, SIGKILL);
		_exit(137);
	}
	/* stdin, stdout, stderr and the exec-error pipe at 0..3, nothing else */
	int high[4];
	for (int i = 0; i < 4; i++)
		high[i] = fds[i] >= 0 ? fcntl(fds[i], F_DUPFD, 16) : -1;
	for (int i = 0; i < 4; i++)
		place_fd(high[i], i);
	fcntl(3, F_SETFD, FD_CLOEXEC);
	closefrom(4);

	pid_t child = fork();
	if (child == 0) {
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				sigaction(s, &dfl, NULL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dir && chdir(dir) < 0)
			_exit(126);
		execve(path, argv, envp);
		int e = errno;
		if (write(3, &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	if (child < 0) {
		int e = errno;
		if (write(3, &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	/* hold none of the program's pipes: EOF must mean the program's side is closed */
	close(0);
	close(1);
	close(2);
	close(3);
	sigset_t wanted;
	sigemptyset(&wanted);
	sigaddset(&wanted, SIGCHLD);
	sigaddset(&wanted, PARENT_DEATH_SIG);
	for (;;) {
		int s = sigwaitinfo(&wanted, NULL);
		if (s == SIGCHLD) {
			int st = 0;
			if (waitpid(child, &st, WNOHANG) == child)
				_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		} else if (s == PARENT_DEATH_SIG) {
			/* whoever waited for the group is gone: end it */
			kill(0, SIGTERM);
			sleep_ms(grace_ms > 0 ? grace_ms : 1000);
			kill(0, SIGKILL);
			_exit(137);
		}
	}
}

static void note(const oci_spawn_spec *s, const char *fmt, const char *name, long long v)
{
	char msg[512];
	snprintf(msg, sizeof msg, fmt, name, v);
	if (s->on_note)
		s->on_note(s->ctx, msg);
}

/* 1 when SIGTERM or SIGINT is pending (blocked in this thread meanwhile). */
static int stop_pending(void)
{
	sigset_t p;
	if (sigpending(&p) < 0)
		return 0;
	return sigismember(&p, SIGTERM) == 1 || sigismember(&p, SIGINT) == 1;
}

int oci_spawn_run(oci_spawn_result *res, const oci_spawn_spec *s)
{
	memset(res, 0, sizeof *res);
	res->status = -1;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, ep[2] = { -1, -1 };
	int rc = 0, reaped = 0, status = 0;
	pid_t pid = -1;
	const char *name = s->name ? s->name : s->prog;
	char *path = find_program(s->prog);
	if (!path)
		return errno == ENOENT ? oci_error_set(OCI_ENOTFOUND, "%s: %s not found on PATH", name, s->prog)
				       : OCI_ENOMEM_SET();

	/* SIGPIPE (a program that exits without reading its input) and, while
	 * we wait, SIGTERM/SIGINT are blocked in this thread: the first is
	 * consumed, the others are seen with sigpending and stay pending for
	 * the caller (delivered when the mask is restored). */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	if (s->interruptible) {
		sigaddset(&block, SIGTERM);
		sigaddset(&block, SIGINT);
	}
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int pipe_was_pending = 0;
	{
		sigset_t p;
		if (sigpending(&p) == 0)
			pipe_was_pending = sigismember(&p, SIGPIPE) == 1;
	}

	if ((s->input && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    pipe2(ep, O_CLOEXEC) < 0) {
		rc = oci_error_errno("starting %s", name);
		goto cleanup;
	}
	char *const *envp = s->envp ? s->envp : environ;
	pid_t parent = getpid();
	pid = fork();
	if (pid < 0) {
		rc = oci_error_errno("starting %s", name);
		goto cleanup;
	}
	if (pid == 0) {
		int fds[4] = { in[0], out[1], err[1], ep[1] };
		supervise(parent, fds, path, s->argv, envp, s->dir, s->grace_ms);
	}
	setpgid(pid, pid); /* also here: the group exists before any kill(-pid) */
	if (s->on_start)
		s->on_start(s->ctx, pid);
	close(out[1]);
	close(err[1]);
	close(ep[1]);
	out[1] = err[1] = ep[1] = -1;
	if (in[0] >= 0) {
		close(in[0]);
		in[0] = -1;
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	}
	{
		/* EOF once the program is running (its copy closes on exec); not
		 * waited for beyond the deadline, which the loop below enforces */
		int e = 0;
		ssize_t n = 0;
		struct pollfd pe = { ep[0], POLLIN, 0 };
		int wait_ms = s->timeout_ms > 0 && s->timeout_ms < INT_MAX ? (int)s->timeout_ms : -1;
		if (poll(&pe, 1, wait_ms) > 0)
			while ((n = read(ep[0], &e, sizeof e)) < 0 && errno == EINTR)
				;
		if (n == (ssize_t)sizeof e) {
			rc = oci_error_set(e == ENOENT ? OCI_ENOTFOUND : OCI_ERROR, "cannot run %s (%s): %s", name, path,
					   strerror(e));
			goto cleanup;
		}
	}

	size_t in_off = 0;
	int64_t start = mono_ms();
	int64_t deadline = s->timeout_ms > 0 ? start + s->timeout_ms : -1;
	int64_t kill_at = -1, give_up_at = -1;
	for (;;) {
		if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
			reaped = 1;
			if (s->kill_leftovers && kill(-pid, SIGTERM) == 0) {
				if (kill_at < 0)
					kill_at = mono_ms() + s->grace_ms;
			} else if (give_up_at < 0) {
				/* a process that left the group (setsid) may still hold
				 * the pipes: read a moment longer, no more */
				give_up_at = mono_ms() + DRAIN_MS;
			}
		}
		if (reaped && out[0] < 0 && err[0] < 0)
			break;
		int64_t now = mono_ms();
		if (!res->timed_out && !res->interrupted && !reaped && deadline >= 0 && now >= deadline) {
			res->timed_out = 1;
			note(s, "%s still running after %lld ms: terminating its process group", name, (long long)s->timeout_ms);
			kill(-pid, SIGTERM);
			kill_at = now + s->grace_ms;
		}
		if (!res->interrupted && !res->timed_out &&
		    ((s->interruptible && stop_pending()) || (s->cancel && *s->cancel))) {
			res->interrupted = 1;
			note(s, "%s: ocisync is stopping: terminating its process group (%lld ms)", name, (long long)(now - start));
			kill(-pid, SIGTERM);
			kill_at = now + s->grace_ms;
		}
		if (kill_at >= 0 && now >= kill_at) {
			if (kill(-pid, SIGKILL) == 0)
				note(s, "%s: process group still alive %lld ms after SIGTERM: killed", name, (long long)s->grace_ms);
			kill_at = -1;
			if (give_up_at < 0 || give_up_at > now + DRAIN_MS)
				give_up_at = now + DRAIN_MS;
		}
		if (give_up_at >= 0 && now >= give_up_at && reaped)
			break;
		struct pollfd pfd[3];
		int map[3];
		nfds_t np = 0;
		if (out[0] >= 0) {
			pfd[np] = (struct pollfd){ out[0], POLLIN, 0 };
			map[np++] = 1;
		}
		if (err[0] >= 0) {
			pfd[np] = (struct pollfd){ err[0], POLLIN, 0 };
			map[np++] = 2;
		}
		if (in[1] >= 0) {
			pfd[np] = (struct pollfd){ in[1], POLLOUT, 0 };
			map[np++] = 0;
		}
		int pr = poll(pfd, np, np ? POLL_SLICE_MS : 20);
		if (pr < 0 && errno != EINTR) {
			rc = oci_error_errno("waiting for %s", name);
			break;
		}
		for (nfds_t i = 0; pr > 0 && i < np; i++) {
			if (!pfd[i].revents)
				continue;
			if (map[i] == 0) {
				ssize_t w = write(in[1], s->input + in_off, s->input_len - in_off);
				if (w > 0)
					in_off += (size_t)w;
				if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == s->input_len) {
					close(in[1]); /* done, or the program will not read more */
					in[1] = -1;
				}
				continue;
			}
			int *fdp = map[i] == 1 ? &out[0] : &err[0];
			char buf[4096];
			ssize_t n = read(*fdp, buf, sizeof buf);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				close(*fdp);
				*fdp = -1;
				continue;
			}
			int cb = s->on_output ? s->on_output(s->ctx, map[i], buf, (size_t)n) : 0;
			explicit_bzero(buf, sizeof buf); /* helper answers hold secrets */
			if (cb < 0) {
				rc = cb;
				break;
			}
		}
		if (rc < 0)
			break;
	}
cleanup:
	if (pid > 0) {
		if (rc < 0 && !reaped)
			kill(-pid, SIGKILL);
		if (!reaped)
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
		if (rc == 0)
			res->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	int fds[] = { in[0], in[1], out[0], out[1], err[0], err[1], ep[0], ep[1] };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (!pipe_was_pending) {
		sigset_t p, pipe_set;
		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		struct timespec zero = { 0, 0 };
		if (sigpending(&p) == 0 && sigismember(&p, SIGPIPE) == 1)
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(path);
	return rc;
}
