/* Runs docker-credential-NAME ACTION with input on stdin and collects its
 * stdout (bounded). The helper's answers carry secrets: they are wiped
 * before being freed and never copied into error messages except the
 * helper's own stderr/stdout text on failure, which by protocol is an
 * error message. */
#include "credhelper.h"
#include "error_internal.h"
#include "spawn.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELPER_OUTPUT_MAX (1024 * 1024)

typedef struct helper_out {
	char *out;      /* stdout, NUL-terminated */
	size_t out_len;
	char err[512];  /* the start of stderr, for messages */
	int status;     /* exit code, or 128 + signal */
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

typedef struct collect_ctx {
	helper_out *res;
	const char *prog;
	size_t cap, err_len;
} collect_ctx;

/* stdout into res->out (bounded, copies wiped), the start of stderr into res->err. */
static int collect(void *ctx, int stream, const char *buf, size_t n)
{
	collect_ctx *c = ctx;
	helper_out *res = c->res;
	if (stream == 2) {
		size_t room = sizeof res->err - 1 - c->err_len;
		size_t take = n < room ? n : room;
		memcpy(res->err + c->err_len, buf, take);
		c->err_len += take;
		return 0;
	}
	if (res->out_len + n + 1 > HELPER_OUTPUT_MAX)
		return oci_error_set(OCI_ELIMIT, "credential helper %s wrote more than %d bytes", c->prog, HELPER_OUTPUT_MAX);
	if (res->out_len + n + 1 > c->cap) {
		size_t ncap = c->cap * 2 > res->out_len + n + 1 ? c->cap * 2 : res->out_len + n + 1;
		char *p = malloc(ncap); /* not realloc: the old copy is wiped */
		if (!p)
			return OCI_ENOMEM_SET();
		if (res->out) {
			memcpy(p, res->out, res->out_len);
			OPENSSL_cleanse(res->out, c->cap);
			free(res->out);
		}
		res->out = p;
		c->cap = ncap;
	}
	memcpy(res->out + res->out_len, buf, n);
	res->out_len += n;
	return 0;
}

/* Runs the helper through the shared runner (spawn.h): its own process
 * group, a clean signal mask, the helper deadline, and a pending
 * SIGTERM/SIGINT ends it. */
static int run_helper(helper_out *res, const char *name, const char *action, const char *input)
{
	char prog[160];
	int64_t timeout_ms;
	int rc;
	memset(res, 0, sizeof *res);
	if (!valid_name(name))
		return oci_error_set(OCI_EINVALID, "invalid credential helper name '%s'", name ? name : "");
	if ((rc = oci_spawn_helper_timeout(&timeout_ms)) < 0)
		return rc;
	snprintf(prog, sizeof prog, "docker-credential-%s", name);
	char what[200];
	snprintf(what, sizeof what, "credential helper %s", prog);
	char *argv[] = { prog, (char *)action, NULL };
	collect_ctx c = { res, prog, 0, 0 };
	oci_spawn_spec spec = {
		.name = what,
		.prog = prog,
		.argv = argv,
		.input = input,
		.input_len = strlen(input),
		.timeout_ms = timeout_ms,
		.grace_ms = 1000,
		.kill_leftovers = 1,
		.interruptible = 1,
		.on_output = collect,
		.ctx = &c,
	};
	oci_spawn_result sr;
	rc = oci_spawn_run(&sr, &spec);
	if (rc == OCI_ENOTFOUND)
		rc = oci_error_set(OCI_ENOTFOUND, "credential helper %s is not installed (not found on PATH)", prog);
	else if (rc == 0 && sr.timed_out)
		rc = oci_error_set(OCI_ERROR, "credential helper %s did not finish within %lld s and was killed (%s sets the limit)",
				   prog, (long long)(timeout_ms / 1000), OCI_HELPER_TIMEOUT_ENV);
	else if (rc == 0 && sr.interrupted)
		rc = oci_error_set(OCI_EINTERRUPTED, "credential helper %s was stopped: ocisync received a signal to stop", prog);
	if (rc == 0 && !res->out && !(res->out = calloc(1, 1)))
		rc = OCI_ENOMEM_SET();
	if (rc < 0) {
		helper_out_dispose(res);
		return rc;
	}
	res->status = sr.status;
	res->out[res->out_len] = '\0';
	res->err[c.err_len] = '\0';
	/* Trim the message to its first line. */
	res->err[strcspn(res->err, "\r\n")] = '\0';
	return 0;
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
