/* Credentials: Docker config lookup and host matching, identity tokens,
 * atomic 0600 writes that keep other keys, erase, credential helpers,
 * podman's REGISTRY_AUTH_FILE. */
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci/credentials.h"
#include "oci/error.h"
#include "test.h"

static char dir[1024];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static json_t *read_json(const char *path)
{
	return json_load_file(path, 0, NULL);
}

static void path_of(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
}

static void test_normalize(void)
{
	char b[256];
	oci_credentials_normalize_host(b, sizeof b, "https://index.docker.io/v1/");
	CHECK_STR(b, "docker.io");
	oci_credentials_normalize_host(b, sizeof b, "registry-1.docker.io");
	CHECK_STR(b, "docker.io");
	oci_credentials_normalize_host(b, sizeof b, "http://Reg.Example.com:5000/v2/");
	CHECK_STR(b, "reg.example.com:5000");
	oci_credentials_normalize_host(b, sizeof b, "127.0.0.1:5000");
	CHECK_STR(b, "127.0.0.1:5000");
}

static void test_get_from_auths(void)
{
	char cfg[PATH_MAX];
	path_of(cfg, "get.json");
	/* "alice:s3cr:et" and "bob:pw"; one key with scheme and /v1/, Docker Hub's v1 URL. */
	write_file(cfg, "{\"auths\":{\"https://reg.example.com:5000/v1/\":{\"auth\":\"YWxpY2U6czNjcjpldA==\"},"
			"\"https://index.docker.io/v1/\":{\"auth\":\"Ym9iOnB3\"},"
			"\"tok.example.com\":{\"auth\":\"PHRva2VuPjo=\",\"identitytoken\":\"refresh-123\"}}}");
	char *u = NULL, *s = NULL;
	int idt = -1;
	CHECK_EQ_INT(oci_credentials_get(&u, &s, &idt, "reg.example.com:5000", cfg), 0);
	CHECK_STR(u, "alice");
	CHECK_STR(s, "s3cr:et");
	CHECK_EQ_INT(idt, 0);
	free(u);
	free(s);
	CHECK_EQ_INT(oci_credentials_get(&u, &s, &idt, "docker.io", cfg), 0);
	CHECK_STR(u, "bob");
	CHECK_STR(s, "pw");
	free(u);
	free(s);
	CHECK_EQ_INT(oci_credentials_get(&u, &s, &idt, "tok.example.com", cfg), 0);
	CHECK_STR(u, "<token>");
	CHECK_STR(s, "refresh-123");
	CHECK_EQ_INT(idt, 1);
	free(u);
	free(s);
	/* Nothing stored is not an error. */
	CHECK_EQ_INT(oci_credentials_get(&u, &s, &idt, "other.example.com", cfg), 0);
	CHECK(u == NULL && s == NULL);
	char missing[PATH_MAX];
	path_of(missing, "does-not-exist.json");
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "reg.example.com:5000", missing), 0);
	CHECK(u == NULL && s == NULL);
}

static void test_get_errors(void)
{
	char cfg[PATH_MAX];
	char *u = NULL, *s = NULL;
	path_of(cfg, "bad.json");
	write_file(cfg, "{\"auths\": {");
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "reg.example.com", cfg), OCI_EINVALID);
	CHECK_ERR_CONTAINS("bad.json: invalid JSON");
	write_file(cfg, "{\"auths\":{\"reg.example.com\":{\"auth\":\"!!notbase64\"}}}");
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "reg.example.com", cfg), OCI_EINVALID);
	CHECK_ERR_CONTAINS("is not valid base64");
	/* Padding only (the adversarial pass's heap write: the decoded length
	 * went negative), too much padding, and '=' inside the data. */
	static const char *bad_padding[] = {"====", "YWI6====", "YW===", "YQ=bYWI6", "=YWI"};
	for (size_t i = 0; i < sizeof bad_padding / sizeof *bad_padding; i++) {
		char text[256];
		snprintf(text, sizeof text, "{\"auths\":{\"reg.example.com\":{\"auth\":\"%s\"}}}", bad_padding[i]);
		write_file(cfg, text);
		CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "reg.example.com", cfg), OCI_EINVALID);
		CHECK_ERR_CONTAINS("is not valid base64");
	}
	{
		/* 400 '=' corrupted the heap silently before the fix. */
		char text[600];
		int off = snprintf(text, sizeof text, "{\"auths\":{\"reg.example.com\":{\"auth\":\"");
		memset(text + off, '=', 400);
		snprintf(text + off + 400, sizeof text - (size_t)off - 400, "\"}}}");
		write_file(cfg, text);
		CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "reg.example.com", cfg), OCI_EINVALID);
		CHECK_ERR_CONTAINS("is not valid base64");
	}
	write_file(cfg, "{\"auths\":{\"reg.example.com\":{\"auth\":\"bm9jb2xvbg==\"}}}"); /* "nocolon" */
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "reg.example.com", cfg), OCI_EINVALID);
	/* Messages name the file and the key, never the decoded secret. */
	CHECK(strstr(oci_error_last()->message, "nocolon") == NULL);
	CHECK_ERR_CONTAINS("does not hold \"user:password\"");
	write_file(cfg, "{\"credsStore\":\"no-such-helper-xyz\"}");
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "reg.example.com", cfg), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("docker-credential-no-such-helper-xyz is not installed");
}

static void test_store_and_erase_file(void)
{
	char cfg[PATH_MAX], sub[PATH_MAX];
	path_of(sub, "newdir");
	path_of(cfg, "newdir/deeper/config.json");
	char *where = NULL;
	CHECK_EQ_INT(oci_credentials_store(&where, "https://reg.example.com/", "carol", "pa:ss", cfg), 0);
	CHECK_STR(where, cfg);
	free(where);
	struct stat st;
	CHECK_EQ_INT(stat(cfg, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	CHECK_EQ_INT(stat(sub, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0700);
	json_t *j = read_json(cfg);
	CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(j, "auths"), "reg.example.com"), "auth")),
		  "Y2Fyb2w6cGE6c3M=");
	json_decref(j);

	/* Other keys survive; an old spelling of the host is replaced, not duplicated. */
	char cfg2[PATH_MAX];
	path_of(cfg2, "keep.json");
	write_file(cfg2, "{\"auths\":{\"https://reg.example.com/v1/\":{\"auth\":\"eDp5\"},\"other.io\":{\"auth\":\"eDp5\"}},"
			 "\"psFormat\":\"table\",\"proxies\":{\"default\":{\"httpProxy\":\"http://p:3128\"}}}");
	chmod(cfg2, 0644);
	CHECK_EQ_INT(oci_credentials_store(NULL, "reg.example.com", "dave", "pw", cfg2), 0);
	j = read_json(cfg2);
	CHECK_STR(json_string_value(json_object_get(j, "psFormat")), "table");
	CHECK(json_object_get(json_object_get(j, "proxies"), "default") != NULL);
	json_t *auths = json_object_get(j, "auths");
	CHECK_EQ_INT(json_object_size(auths), 2);
	CHECK(json_object_get(auths, "other.io") != NULL);
	CHECK(json_object_get(auths, "https://reg.example.com/v1/") == NULL);
	json_decref(j);
	CHECK_EQ_INT(stat(cfg2, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	/* No temporary file left beside it. */
	char tmpl[PATH_MAX];
	snprintf(tmpl, sizeof tmpl, "ls %s | grep -c tmp > /dev/null", dir);
	CHECK(system(tmpl) != 0);

	char *u = NULL, *s = NULL;
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "reg.example.com", cfg2), 0);
	CHECK_STR(u, "dave");
	CHECK_STR(s, "pw");
	free(u);
	free(s);
	/* Docker Hub is stored under its historic key. */
	CHECK_EQ_INT(oci_credentials_store(NULL, "docker.io", "erin", "pw", cfg2), 0);
	j = read_json(cfg2);
	CHECK(json_object_get(json_object_get(j, "auths"), "https://index.docker.io/v1/") != NULL);
	json_decref(j);

	CHECK_EQ_INT(oci_credentials_erase(&where, "reg.example.com", cfg2), 0);
	CHECK_STR(where, cfg2);
	free(where);
	CHECK_EQ_INT(oci_credentials_erase(NULL, "reg.example.com", cfg2), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("not logged in to reg.example.com");
	j = read_json(cfg2);
	CHECK_STR(json_string_value(json_object_get(j, "psFormat")), "table");
	CHECK(json_object_get(json_object_get(j, "auths"), "other.io") != NULL);
	json_decref(j);
	char none[PATH_MAX];
	path_of(none, "none.json");
	CHECK_EQ_INT(oci_credentials_erase(NULL, "reg.example.com", none), OCI_ENOTFOUND);
	CHECK(access(none, F_OK) != 0);

	/* A symlinked config stays a symlink; its target is replaced. */
	char target[PATH_MAX], link[PATH_MAX];
	path_of(target, "real-config.json");
	path_of(link, "linked-config.json");
	write_file(target, "{\"psFormat\":\"x\"}");
	CHECK_EQ_INT(symlink(target, link), 0);
	CHECK_EQ_INT(oci_credentials_store(NULL, "reg.example.com", "dave", "pw", link), 0);
	CHECK_EQ_INT(lstat(link, &st), 0);
	CHECK(S_ISLNK(st.st_mode));
	j = read_json(target);
	CHECK_STR(json_string_value(json_object_get(j, "psFormat")), "x");
	CHECK(json_object_get(json_object_get(j, "auths"), "reg.example.com") != NULL);
	json_decref(j);

	CHECK_EQ_INT(oci_credentials_store(NULL, "reg.example.com", "a:b", "pw", cfg2), OCI_EINVALID);
	CHECK_ERR_CONTAINS("contains ':'");
}

static void test_helpers(void)
{
	char cfg[PATH_MAX], store[PATH_MAX], log[PATH_MAX];
	path_of(cfg, "helper.json");
	path_of(store, "helper-store.json");
	path_of(log, "helper.log");
	setenv("OCISYNC_TEST_CRED_STORE", store, 1);
	setenv("OCISYNC_TEST_CRED_LOG", log, 1);
	write_file(cfg, "{\"credHelpers\":{\"reg.example.com\":\"test\"},\"auths\":{\"reg.example.com\":{\"auth\":\"eDp5\"}}}");
	char *u = NULL, *s = NULL, *where = NULL;
	/* credHelpers is authoritative: the helper has nothing, so nothing (not the file's entry). */
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "reg.example.com", cfg), 0);
	CHECK(u == NULL);
	/* Logout removes the file's stale entry even though the helper has none. */
	CHECK_EQ_INT(oci_credentials_erase(&where, "reg.example.com", cfg), 0);
	CHECK_STR(where, cfg);
	free(where);
	json_t *j0 = read_json(cfg);
	CHECK(json_object_get(json_object_get(j0, "auths"), "reg.example.com") == NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(j0, "credHelpers"), "reg.example.com")), "test");
	json_decref(j0);
	write_file(cfg, "{\"credHelpers\":{\"reg.example.com\":\"test\"},\"auths\":{\"reg.example.com\":{\"auth\":\"eDp5\"}}}");
	CHECK_EQ_INT(oci_credentials_store(&where, "reg.example.com", "frank", "hunter2", cfg), 0);
	CHECK_STR(where, "credential helper docker-credential-test");
	free(where);
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "reg.example.com", cfg), 0);
	CHECK_STR(u, "frank");
	CHECK_STR(s, "hunter2");
	free(u);
	free(s);
	/* The config file itself was not touched by a helper store. */
	json_t *j = read_json(cfg);
	CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(j, "auths"), "reg.example.com"), "auth")),
		  "eDp5");
	json_decref(j);
	CHECK_EQ_INT(oci_credentials_erase(&where, "reg.example.com", cfg), 0);
	free(where);
	CHECK_EQ_INT(oci_credentials_erase(NULL, "reg.example.com", cfg), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("not logged in to reg.example.com");
	/* credsStore for every other host; falls back to auths on a miss. */
	write_file(cfg, "{\"credsStore\":\"test\",\"auths\":{\"old.example.com\":{\"auth\":\"eDp5\"}}}");
	CHECK_EQ_INT(oci_credentials_store(NULL, "docker.io", "gina", "pw2", cfg), 0);
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "index.docker.io", cfg), 0);
	CHECK_STR(u, "gina");
	free(u);
	free(s);
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "old.example.com", cfg), 0);
	CHECK_STR(u, "x");
	free(u);
	free(s);
	FILE *f = fopen(log, "r");
	char text[4096] = "";
	if (f) {
		size_t n = fread(text, 1, sizeof text - 1, f);
		text[n] = '\0';
		fclose(f);
	}
	CHECK(strstr(text, "store reg.example.com\n") != NULL);
	CHECK(strstr(text, "erase reg.example.com\n") != NULL);
	CHECK(strstr(text, "store https://index.docker.io/v1/\n") != NULL);
	CHECK(strstr(text, "get https://index.docker.io/v1/\n") != NULL);
}

static void test_podman_files(void)
{
	char cfg[PATH_MAX], raf[PATH_MAX], home[PATH_MAX];
	path_of(home, "home");
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	unsetenv("DOCKER_CONFIG");
	path_of(raf, "auth.json");
	write_file(raf, "{\"auths\":{\"quay.example.com\":{\"auth\":\"aGFuazpwdw==\"}}}");
	setenv("REGISTRY_AUTH_FILE", raf, 1);
	char *u = NULL, *s = NULL;
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "quay.example.com", NULL), 0);
	CHECK_STR(u, "hank");
	free(u);
	free(s);
	/* An explicit config is the only place looked at. */
	path_of(cfg, "explicit.json");
	write_file(cfg, "{}");
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "quay.example.com", cfg), 0);
	CHECK(u == NULL);
	/* Default path: $DOCKER_CONFIG/config.json. */
	char *p = NULL;
	setenv("DOCKER_CONFIG", "/some/where", 1);
	CHECK_EQ_INT(oci_credentials_config_path(&p, NULL), 0);
	CHECK_STR(p, "/some/where/config.json");
	free(p);
	unsetenv("DOCKER_CONFIG");
	CHECK_EQ_INT(oci_credentials_config_path(&p, NULL), 0);
	char want[PATH_MAX];
	snprintf(want, sizeof want, "%.1000s/.docker/config.json", home);
	CHECK_STR(p, want);
	free(p);
	/* podman's per-session file under XDG_RUNTIME_DIR. */
	unsetenv("REGISTRY_AUTH_FILE");
	char xdg[PATH_MAX], pod[PATH_MAX];
	path_of(xdg, "run");
	snprintf(pod, sizeof pod, "%.1000s/containers", xdg);
	mkdir(xdg, 0700);
	mkdir(pod, 0700);
	snprintf(pod, sizeof pod, "%.1000s/containers/auth.json", xdg);
	write_file(pod, "{\"auths\":{\"pod.example.com\":{\"auth\":\"aXZ5OnB3\"}}}");
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "pod.example.com", NULL), 0);
	CHECK_STR(u, "ivy");
	free(u);
	free(s);
	unsetenv("XDG_RUNTIME_DIR");
}

/* Concurrent logins and logouts to different hosts: each is a
 * read-modify-write of the same config file; none may lose another's
 * change. Four writers start together (released by closing a pipe) for up
 * to 200 rounds or 30 s; every round checks all four changes survived. */
static void test_concurrent_writers(void)
{
	char cfg[PATH_MAX];
	path_of(cfg, "race.json");
	int lost = 0, rounds = 0;
	time_t until = time(NULL) + 30;
	for (; rounds < 200 && time(NULL) < until; rounds++) {
		write_file(cfg, "{\"auths\":{\"old1.example\":{\"auth\":\"YTpi\"},\"old2.example\":{\"auth\":\"YTpi\"}},"
				"\"psFormat\":\"table\"}");
		int gate[2];
		if (pipe(gate) != 0)
			exit(1);
		pid_t kids[4];
		for (int k = 0; k < 4; k++) {
			kids[k] = fork();
			if (kids[k] == 0) {
				char c;
				close(gate[1]);
				if (read(gate[0], &c, 1) < 0)
					_exit(3);
				int rc;
				if (k == 0)
					rc = oci_credentials_store(NULL, "new1.example", "u1", "p1", cfg);
				else if (k == 1)
					rc = oci_credentials_store(NULL, "new2.example", "u2", "p2", cfg);
				else
					rc = oci_credentials_erase(NULL, k == 2 ? "old1.example" : "old2.example", cfg);
				_exit(rc == 0 ? 0 : 2);
			}
		}
		close(gate[0]);
		close(gate[1]);
		int failed = 0;
		for (int k = 0; k < 4; k++) {
			int st = 0;
			waitpid(kids[k], &st, 0);
			failed += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
		}
		CHECK_EQ_INT(failed, 0);
		json_t *j = read_json(cfg);
		json_t *a = json_object_get(j, "auths");
		int ok = j && json_object_get(a, "new1.example") && json_object_get(a, "new2.example") &&
			 !json_object_get(a, "old1.example") && !json_object_get(a, "old2.example") &&
			 json_object_get(j, "psFormat");
		lost += !ok;
		json_decref(j);
	}
	fprintf(stderr, "   %d rounds, %d lost a write\n", rounds, lost);
	CHECK(rounds > 0);
	CHECK_EQ_INT(lost, 0);
	/* The lock file stays beside the config (it is what writers lock). */
	char lockp[PATH_MAX + 8];
	snprintf(lockp, sizeof lockp, "%s.lock", cfg);
	CHECK(access(lockp, F_OK) == 0);
}

/* Writes an executable helper script NAME into dir/bin. */
static void write_helper(const char *name, const char *body)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/bin/docker-credential-%s", dir, name);
	write_file(p, body);
	chmod(p, 0755);
}

static int read_pid_file(const char *name)
{
	char p[PATH_MAX];
	path_of(p, name);
	for (int i = 0; i < 500; i++) { /* up to 5 s for it to appear */
		FILE *f = fopen(p, "r");
		int pid = 0;
		if (f) {
			int got = fscanf(f, "%d", &pid);
			fclose(f);
			if (got == 1 && pid > 0)
				return pid;
		}
		usleep(10000);
	}
	return 0;
}

/* 1 when pid is gone (or a zombie) within 5 s. */
static int gone(int pid)
{
	for (int i = 0; i < 500; i++) {
		char path[64], buf[512];
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
		FILE *f = fopen(path, "r");
		if (!f)
			return 1;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		char *p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'Z')
			return 1;
		usleep(10000);
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Helpers run under a deadline, in a process group of their own with a
 * clean signal mask; a hung helper, one that leaves a child holding its
 * stdout, our SIGTERM and our death all end it. */
static void test_helper_deadline(void)
{
	char cfg[PATH_MAX], bin[PATH_MAX], path[PATH_MAX * 2];
	path_of(cfg, "deadline.json");
	path_of(bin, "bin");
	mkdir(bin, 0755);
	snprintf(path, sizeof path, "%s:%s", bin, getenv("PATH"));
	setenv("PATH", path, 1);
	write_file(cfg, "{\"credHelpers\":{\"hang.example\":\"hang\",\"left.example\":\"left\",\"esc.example\":\"esc\","
			"\"mask.example\":\"mask\"}}");
	char body[PATH_MAX * 3];
	snprintf(body, sizeof body, "#!/bin/sh\nsleep 1000 &\necho $! > %s/hang.pid\nwait\n", dir);
	write_helper("hang", body);
	snprintf(body, sizeof body, "#!/bin/sh\nsleep 1000 &\necho $! > %s/left.pid\n"
				   "echo '{\"Username\":\"lu\",\"Secret\":\"ls\"}'\n", dir);
	write_helper("left", body);
	snprintf(body, sizeof body, "#!/bin/sh\nsetsid sleep 1000 &\necho $! > %s/esc.pid\n"
				   "echo '{\"Username\":\"eu\",\"Secret\":\"es\"}'\n", dir);
	write_helper("esc", body);
	snprintf(body, sizeof body, "#!/bin/sh\ngrep -E '^Sig(Blk|Ign)' /proc/self/status > %s/mask.txt\n"
				   "echo '{\"Username\":\"mu\",\"Secret\":\"ms\"}'\n", dir);
	write_helper("mask", body);
	char *u = NULL, *s = NULL;

	/* a helper that never answers: killed at the deadline, with its group */
	setenv("OCISYNC_CREDENTIAL_HELPER_TIMEOUT", "1", 1);
	double t0 = now_s();
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "hang.example", cfg), OCI_ERROR);
	CHECK_ERR_CONTAINS("credential helper docker-credential-hang did not finish within 1 s and was killed "
			   "(OCISYNC_CREDENTIAL_HELPER_TIMEOUT sets the limit)");
	CHECK(now_s() - t0 < 10);
	int pid = read_pid_file("hang.pid");
	CHECK(pid > 0 && gone(pid));
	setenv("OCISYNC_CREDENTIAL_HELPER_TIMEOUT", "soon", 1);
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "hang.example", cfg), OCI_EINVALID);
	CHECK_ERR_CONTAINS("OCISYNC_CREDENTIAL_HELPER_TIMEOUT must be a whole number of seconds between 1 and 86400, not 'soon'");
	unsetenv("OCISYNC_CREDENTIAL_HELPER_TIMEOUT");

	/* exits at once but leaves a child holding stdout: answered, child gone */
	t0 = now_s();
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "left.example", cfg), 0);
	CHECK_STR(u, "lu");
	free(u);
	free(s);
	CHECK(now_s() - t0 < 10);
	pid = read_pid_file("left.pid");
	CHECK(pid > 0 && gone(pid));
	/* a child that left the group (setsid) holds the pipe: not waited for */
	t0 = now_s();
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "esc.example", cfg), 0);
	CHECK_STR(u, "eu");
	free(u);
	free(s);
	CHECK(now_s() - t0 < 10);
	pid = read_pid_file("esc.pid");
	if (pid > 0)
		kill(pid, SIGKILL);

	/* our blocked and ignored signals are not the helper's (sync blocks
	 * SIGTERM/SIGINT/SIGHUP; a helper must stay killable) */
	sigset_t blk, old;
	sigemptyset(&blk);
	sigaddset(&blk, SIGTERM);
	sigaddset(&blk, SIGINT);
	sigaddset(&blk, SIGHUP);
	sigprocmask(SIG_BLOCK, &blk, &old);
	signal(SIGUSR1, SIG_IGN);
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "mask.example", cfg), 0);
	CHECK_STR(u, "mu");
	free(u);
	free(s);
	signal(SIGUSR1, SIG_DFL);
	char mp[PATH_MAX];
	path_of(mp, "mask.txt");
	FILE *f = fopen(mp, "r");
	char text[256] = "";
	if (f) {
		size_t n = fread(text, 1, sizeof text - 1, f);
		text[n] = '\0';
		fclose(f);
	}
	char want[128], ign[64];
	test_sig_ign_line(ign, sizeof ign);
	snprintf(want, sizeof want, "SigBlk:\t0000000000000000\n%s\n", ign);
	CHECK_STR(text, want);

	/* SIGTERM while waiting (blocked, as in sync): the helper's group is
	 * killed at once and the signal stays pending for the caller */
	pid_t killer = fork();
	if (killer == 0) {
		usleep(300000);
		kill(getppid(), SIGTERM);
		_exit(0);
	}
	unlink(strcat(strcpy(mp, dir), "/hang.pid"));
	t0 = now_s();
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "hang.example", cfg), OCI_EINTERRUPTED);
	CHECK_ERR_CONTAINS("credential helper docker-credential-hang was stopped: ocisync received a signal to stop");
	CHECK(now_s() - t0 < 10);
	waitpid(killer, NULL, 0);
	pid = read_pid_file("hang.pid");
	CHECK(pid > 0 && gone(pid));
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	struct timespec zero = { 0, 0 };
	CHECK_EQ_INT(sigtimedwait(&term, NULL, &zero), SIGTERM);
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* a helper that cannot be executed: the reason, not an exit code */
	write_helper("junk", "\x7f\x45\x4c\x46 not really an executable\n");
	write_file(cfg, "{\"credHelpers\":{\"hang.example\":\"hang\",\"junk.example\":\"junk\"}}");
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "junk.example", cfg), OCI_ERROR);
	CHECK_ERR_CONTAINS("cannot run credential helper docker-credential-junk (");
	CHECK_ERR_CONTAINS("Exec format error");

	/* we are SIGKILLed while a helper runs: its group goes too */
	unlink(mp);
	pid_t victim = fork();
	if (victim == 0) {
		char *vu = NULL, *vs = NULL;
		oci_credentials_get(&vu, &vs, NULL, "hang.example", cfg);
		_exit(0);
	}
	pid = read_pid_file("hang.pid");
	CHECK(pid > 0);
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	CHECK(pid > 0 && gone(pid));
}

int main(void)
{
	snprintf(dir, sizeof dir, "%s/oci-cred-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	/* The test credential helper lives beside the integration tests. */
	const char *td = getenv("TESTDATA");
	char path[8192];
	snprintf(path, sizeof path, "%s/../tests/integration:%s", td ? td : "testdata", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	RUN(test_normalize);
	RUN(test_get_from_auths);
	RUN(test_get_errors);
	RUN(test_store_and_erase_file);
	RUN(test_helpers);
	RUN(test_podman_files);
	RUN(test_concurrent_writers);
	RUN(test_helper_deadline);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	TEST_END();
}
