/* Runs docker-credential-NAME ACTION with input on stdin and collects its
 * stdout (bounded). The helper's answers carry secrets: they are wiped
 * before being freed and never copied into error messages except the
 * helper's own stderr/stdout text on failure, which by protocol is an
 * error message. */
#include "credhelper.h"
#include "error_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define HELPER_OUTPUT_MAX (1024 * 1024)

typedef struct helper_out {
	char *out;      /* stdout, NUL-terminated */
	size_t out_len;
	char err[512];  /* the start of stderr, for messages */
	int status;     /* exit code, or -1 when killed */
} helper_out;

static void helper_out_dispose(helper_out *h)
{
	if (h->out) {
		OPENSSL_cleanse(h->out, h->out_len);
		free(h->out);
	}
	memset(h, 0, sizeof *h);
}

static int valid_name(const char *name)
{
	if (!name || !*name || strlen(name) > 100)
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return 0;
	return 1;
}

/* Writes all of buf to fd, surviving a helper that exits without reading
 * (EPIPE: SIGPIPE is blocked in this thread and its pending instance
 * consumed, so the calling program is not killed). */
static void feed_stdin(int fd, const char *buf, size_t len)
{
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	size_t off = 0;
	int broke = 0;
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			broke = errno == EPIPE;
			break;
		}
		off += (size_t)w;
	}
	if (broke) {
		struct timespec zero = { 0, 0 };
		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static int run_helper(helper_out *res, const char *name, const char *action, const char *input)
{
	char prog[160];
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	int fa_init = 0, rc = 0;
	pid_t pid = -1;
	memset(res, 0, sizeof *res);
	if (!valid_name(name))
		return oci_error_set(OCI_EINVALID, "invalid credential helper name '%s'", name ? name : "");
	snprintf(prog, sizeof prog, "docker-credential-%s", name);
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		rc = oci_error_errno("running %s", prog);
		goto cleanup;
	}
	if (posix_spawn_file_actions_init(&fa) != 0) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	fa_init = 1;
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	char *argv[] = { prog, (char *)action, NULL };
	int e = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	if (e != 0) {
		pid = -1;
		if (e == ENOENT)
			rc = oci_error_set(OCI_ENOTFOUND, "credential helper %s is not installed (not found on PATH)", prog);
		else
			rc = oci_error_set(OCI_ERROR, "cannot run credential helper %s: %s", prog, strerror(e));
		goto cleanup;
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	in[0] = out[1] = err[1] = -1;
	feed_stdin(in[1], input, strlen(input));
	close(in[1]);
	in[1] = -1;

	size_t cap = 4096, err_len = 0;
	res->out = malloc(cap);
	if (!res->out) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	struct pollfd fds[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
	int open_fds = 2;
	while (open_fds > 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = oci_error_errno("reading from %s", prog);
			goto cleanup;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char buf[4096];
			ssize_t n = read(fds[i].fd, buf, sizeof buf);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(fds[i].fd);
				if (i == 0)
					out[0] = -1;
				else
					err[0] = -1;
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 1) {
				size_t room = sizeof res->err - 1 - err_len;
				size_t take = (size_t)n < room ? (size_t)n : room;
				memcpy(res->err + err_len, buf, take);
				err_len += take;
				continue;
			}
			if (res->out_len + (size_t)n + 1 > HELPER_OUTPUT_MAX) {
				rc = oci_error_set(OCI_ELIMIT, "credential helper %s wrote more than %d bytes", prog,
						   HELPER_OUTPUT_MAX);
				goto cleanup;
			}
			if (res->out_len + (size_t)n + 1 > cap) {
				size_t ncap = cap * 2 > res->out_len + (size_t)n + 1 ? cap * 2 : res->out_len + (size_t)n + 1;
				char *p = malloc(ncap); /* not realloc: the old copy is wiped */
				if (!p) {
					rc = OCI_ENOMEM_SET();
					goto cleanup;
				}
				memcpy(p, res->out, res->out_len);
				OPENSSL_cleanse(res->out, cap);
				free(res->out);
				res->out = p;
				cap = ncap;
			}
			memcpy(res->out + res->out_len, buf, (size_t)n);
			res->out_len += (size_t)n;
			OPENSSL_cleanse(buf, sizeof buf);
		}
	}
	res->out[res->out_len] = '\0';
	res->err[err_len] = '\0';
	/* Trim the message to its first line. */
	res->err[strcspn(res->err, "\r\n")] = '\0';
cleanup:
	if (pid > 0) {
		int st = 0;
		if (rc < 0)
			kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		res->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	}
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0) close(in[i]);
		if (out[i] >= 0) close(out[i]);
		if (err[i] >= 0) close(err[i]);
	}
	if (rc < 0)
		helper_out_dispose(res);
	return rc;
}

/* "credentials not found in native keychain" is how helpers say "none". */
static int says_not_found(const helper_out *h)
{
	return (h->out && strstr(h->out, "credentials not found")) || strstr(h->err, "credentials not found");
}

/* A failing helper's own words: a short first line of stdout, else stderr. */
static const char *failure_text(helper_out *h)
{
	if (h->out && h->out_len > 0 && h->out_len < 300 && !strchr(h->out, '{')) {
		h->out[strcspn(h->out, "\r\n")] = '\0';
		return h->out;
	}
	return h->err[0] ? h->err : "no message";
}

int oci_credhelper_get(char **user, char **secret, const char *name, const char *server_url)
{
	helper_out h;
	json_t *j = NULL;
	*user = *secret = NULL;
	int rc = run_helper(&h, name, "get", server_url);
	if (rc < 0)
		return rc;
	if (h.status != 0) {
		if (!says_not_found(&h))
			rc = oci_error_set(OCI_ERROR, "credential helper docker-credential-%s get failed (exit %d): %s",
					   name, h.status, failure_text(&h));
		goto cleanup;
	}
	j = json_loadb(h.out, h.out_len, 0, NULL);
	const char *u = json_string_value(json_object_get(j, "Username"));
	const char *s = json_string_value(json_object_get(j, "Secret"));
	if (!u || !s) {
		rc = oci_error_set(OCI_EINVALID, "credential helper docker-credential-%s get: expected JSON with Username and Secret",
				   name);
		goto cleanup;
	}
	*user = strdup(u);
	*secret = strdup(s);
	if (!*user || !*secret) {
		free(*user);
		free(*secret);
		*user = *secret = NULL;
		rc = OCI_ENOMEM_SET();
	}
cleanup:
	json_decref(j); /* jansson does not wipe; the parsed copy is short-lived */
	helper_out_dispose(&h);
	return rc;
}

int oci_credhelper_store(const char *name, const char *server_url, const char *user, const char *secret)
{
	helper_out h;
	json_t *j = json_pack("{s:s,s:s,s:s}", "ServerURL", server_url, "Username", user, "Secret", secret);
	char *input = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!input)
		return OCI_ENOMEM_SET();
	int rc = run_helper(&h, name, "store", input);
	OPENSSL_cleanse(input, strlen(input));
	free(input);
	if (rc < 0)
		return rc;
	if (h.status != 0)
		rc = oci_error_set(OCI_ERROR, "credential helper docker-credential-%s store failed (exit %d): %s", name,
				   h.status, failure_text(&h));
	helper_out_dispose(&h);
	return rc;
}

int oci_credhelper_erase(const char *name, const char *server_url)
{
	helper_out h;
	int rc = run_helper(&h, name, "erase", server_url);
	if (rc < 0)
		return rc;
	if (h.status != 0) {
		if (says_not_found(&h))
			rc = OCI_ENOTFOUND;
		else
			rc = oci_error_set(OCI_ERROR, "credential helper docker-credential-%s erase failed (exit %d): %s",
					   name, h.status, failure_text(&h));
	}
	helper_out_dispose(&h);
	return rc;
}
