/* sync: the hook runner (process group, environment, output, timeout). */
#include "test.h"
#include "oci/oci.h"
#include "sync_internal.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char dir[256];

typedef struct capture {
	char out[8192];
	char err[8192];
	int info;
	int lines;
	size_t longest;
} capture;

static void collect_note(void *ctx, oci_log_level level, const char *line)
{
	capture *c = ctx;
	(void)level;
	(void)line;
	c->info++;
}

static void collect(void *ctx, const oci_event *ev)
{
	capture *c = ctx;
	const char *line = ev->line;
	char *dst = ev->type == OCI_EVENT_HOOK_STDOUT ? c->out : ev->type == OCI_EVENT_HOOK_STDERR ? c->err : NULL;
	if (!dst)
		return;
	c->lines++;
	if (strlen(line) > c->longest)
		c->longest = strlen(line);
	size_t l = strlen(dst);
	snprintf(dst + l, 8192 - l, "%s|", line);
}

static int run(capture *c, const char *cmd, int64_t timeout_ms, int *status, int *timed_out)
{
	memset(c, 0, sizeof *c);
	const char *env[] = { "OCISYNC_DIGEST=sha256:abc", "OCISYNC_REF=reg/app:1", "HOME=/hook-home", NULL };
	oci_callbacks cb_h = { collect_note, NULL, collect, c };
	sync_hook_spec h = { cmd, dir, env, timeout_ms, 300, &cb_h, NULL, NULL };
	int interrupted;
	return sync_hook_run(status, timed_out, &interrupted, &h);
}

/* Waits (up to 3 s) for a process to be gone (or a zombie nobody reaps yet). */
static int gone(pid_t pid)
{
	for (int i = 0; i < 300; i++) {
		char path[64], buf[256];
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "r");
		if (!f)
			return 1;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		char *p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'Z')
			return 1;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

static pid_t read_pid(const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	int pid = 0;
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

static void test_output_env_cwd(void)
{
	capture c;
	int st, to;
	CHECK_EQ_INT(run(&c, "echo one; echo two >&2; printf 'no newline'; echo \"$OCISYNC_DIGEST $OCISYNC_REF $HOME\"; pwd",
			 10000, &st, &to), 0);
	CHECK_EQ_INT(st, 0);
	CHECK_EQ_INT(to, 0);
	char want[PATH_MAX + 100];
	char real[PATH_MAX];
	if (!realpath(dir, real))
		real[0] = '\0';
	snprintf(want, sizeof want, "one|no newlinesha256:abc reg/app:1 /hook-home|%s|", real);
	CHECK_STR(c.out, want);
	CHECK_STR(c.err, "two|");
}

static void test_exit_status(void)
{
	capture c;
	int st, to;
	CHECK_EQ_INT(run(&c, "echo failing >&2; exit 3", 10000, &st, &to), 0);
	CHECK_EQ_INT(st, 3);
	CHECK_EQ_INT(to, 0);
	CHECK_STR(c.err, "failing|");
	CHECK_EQ_INT(run(&c, "kill -9 $$", 10000, &st, &to), 0);
	CHECK_EQ_INT(st, 128 + 9);
	CHECK_EQ_INT(run(&c, "exec /nonexistent/binary", 10000, &st, &to), 0);
	CHECK_EQ_INT(st, 127);
}

static void test_long_lines(void)
{
	capture c;
	int st, to;
	CHECK_EQ_INT(run(&c, "head -c 10000 /dev/zero | tr '\\0' x; echo", 10000, &st, &to), 0);
	CHECK_EQ_INT(st, 0);
	CHECK_EQ_INT(c.longest, 4096);
	CHECK_EQ_INT(c.lines, 3); /* 4096 + 4096 + 1808 */
}

static void test_timeout_kills_group(void)
{
	capture c;
	int st, to;
	/* the shell waits for one sleep while another runs in the background:
	 * both are in the hook's group and both must die */
	CHECK_EQ_INT(run(&c, "sleep 1000 & echo $! > bg.pid; sleep 1000", 500, &st, &to), 0);
	CHECK_EQ_INT(to, 1);
	CHECK_EQ_INT(st, 128 + SIGTERM);
	pid_t bg = read_pid("bg.pid");
	CHECK(bg > 0);
	if (bg > 0)
		CHECK(gone(bg));
	CHECK(c.info >= 1);

	/* a hook that ignores SIGTERM gets SIGKILL after the grace */
	CHECK_EQ_INT(run(&c, "trap '' TERM; sleep 1000 & echo $! > bg2.pid; wait", 300, &st, &to), 0);
	CHECK_EQ_INT(to, 1);
	CHECK_EQ_INT(st, 128 + SIGKILL);
	bg = read_pid("bg2.pid");
	CHECK(bg > 0);
	if (bg > 0)
		CHECK(gone(bg));
}

static void test_leftovers_killed(void)
{
	capture c;
	int st, to;
	/* the shell exits at once but leaves a process holding its stdout */
	CHECK_EQ_INT(run(&c, "sleep 1000 & echo $! > bg3.pid; echo done", 60000, &st, &to), 0);
	CHECK_EQ_INT(st, 0);
	CHECK_EQ_INT(to, 0);
	CHECK_STR(c.out, "done|");
	pid_t bg = read_pid("bg3.pid");
	CHECK(bg > 0);
	if (bg > 0)
		CHECK(gone(bg));
}

static void test_escaped_process(void)
{
	capture c;
	int st, to;
	/* a process that left the group keeps the pipe open: the runner must
	 * not wait for it forever */
	CHECK_EQ_INT(run(&c, "setsid sleep 1000 & echo $! > esc.pid; echo done", 60000, &st, &to), 0);
	CHECK_EQ_INT(st, 0);
	CHECK_EQ_INT(to, 0);
	CHECK_STR(c.out, "done|");
	pid_t p = read_pid("esc.pid");
	if (p > 0)
		kill(p, SIGKILL);
}

static void test_bad_dir(void)
{
	capture c;
	memset(&c, 0, sizeof c);
	int st, to, in;
	oci_callbacks cb_h = { collect_note, NULL, collect, &c };
	sync_hook_spec h = { "true", "/nonexistent/dir", NULL, 1000, 100, &cb_h, NULL, NULL };
	CHECK_EQ_INT(sync_hook_run(&st, &to, &in, &h), 0);
	CHECK_EQ_INT(st, 126);
}

/* The hook starts with no signal blocked and default dispositions, even
 * though sync blocks SIGTERM/SIGINT/SIGHUP (and a caller may ignore some). */
static void test_clean_signals(void)
{
	capture c;
	int st, to;
	sigset_t blk, old;
	sigemptyset(&blk);
	sigaddset(&blk, SIGTERM);
	sigaddset(&blk, SIGINT);
	sigaddset(&blk, SIGHUP);
	sigprocmask(SIG_BLOCK, &blk, &old);
	signal(SIGUSR1, SIG_IGN);
	CHECK_EQ_INT(run(&c, "grep -E '^Sig(Blk|Ign)' /proc/self/status", 10000, &st, &to), 0);
	signal(SIGUSR1, SIG_DFL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	CHECK_EQ_INT(st, 0);
	char want[128], ign[64];
	test_sig_ign_line(ign, sizeof ign);
	snprintf(want, sizeof want, "SigBlk:\t0000000000000000|%s|", ign);
	CHECK_STR(c.out, want);
}

static volatile sig_atomic_t cancel_flag;
static void on_alarm(int sig)
{
	(void)sig;
	cancel_flag = 1;
}

/* Stopping sync stops its hook: the cancel flag, set by a signal handler
 * while the hook runs, sends SIGTERM to its group and SIGKILL after the
 * grace to a hook that ignores SIGTERM. */
static void test_cancel_stops_hook(void)
{
	capture c;
	memset(&c, 0, sizeof c);
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, &old);
	cancel_flag = 0;
	int st = 0, to = 0, in = 0;
	oci_callbacks cb_h = { collect_note, NULL, collect, &c };
	sync_hook_spec h = { "trap '' TERM; sleep 60; sleep 60", dir, NULL, 120000, 300, &cb_h, NULL, &cancel_flag };
	int64_t t0 = oci_clock_ms();
	alarm(1);
	CHECK_EQ_INT(sync_hook_run(&st, &to, &in, &h), 0);
	int64_t took = oci_clock_ms() - t0;
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	CHECK_EQ_INT(in, 1);
	CHECK_EQ_INT(to, 0);
	CHECK_EQ_INT(st, 128 + SIGKILL);
	/* 1 s to the alarm, 0.3 s of grace: far below the hook's 60 s */
	CHECK(took < 20000);
	CHECK(c.info >= 2); /* "stopping: terminating", "still alive ... killed" */

	/* a flag already set ends a hook at once; a well-behaved hook exits on SIGTERM */
	cancel_flag = 1;
	oci_callbacks cb_h2 = { collect_note, NULL, collect, &c };
	sync_hook_spec h2 = { "sleep 60", dir, NULL, 120000, 5000, &cb_h2, NULL, &cancel_flag };
	CHECK_EQ_INT(sync_hook_run(&st, &to, &in, &h2), 0);
	CHECK_EQ_INT(in, 1);
	CHECK_EQ_INT(st, 128 + SIGTERM);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_sync_hook.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(test_output_env_cwd);
	RUN(test_exit_status);
	RUN(test_long_lines);
	RUN(test_timeout_kills_group);
	RUN(test_leftovers_killed);
	RUN(test_escaped_process);
	RUN(test_bad_dir);
	RUN(test_clean_signals);
	RUN(test_cancel_stops_hook);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	TEST_END();
}
