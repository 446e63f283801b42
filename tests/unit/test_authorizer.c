/* The HTTP engine and its authorizer (net/authorizer.h), with a fake
 * authorizer against a loopback server: the engine asks for a header per
 * request with a scope (never without one), hands over every
 * WWW-Authenticate line of a 401 joined, retries once when the authorizer
 * says so, stops with the authorizer's error, frees it with the engine,
 * and sends a fixed Authorization line only while a request stays on its
 * URL's origin. Two listening ports on 127.0.0.1 are two origins. */
#include "test.h"
#include "loopback_util.h"
#include "error_internal.h"
#include "http.h"
#include "oci/oci.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int fds[2];
static int ports[2];
static atomic_int stop;
static atomic_int auth_seen[2];   /* requests that carried "Authorization: Test" per port */
static atomic_int requests[2];

static void answer(int fd, int which)
{
	char req[8192];
	loopback_read_request(fd, req, sizeof req);
	atomic_fetch_add(&requests[which], 1);
	int authed = strstr(req, "Authorization: Test ok") != NULL;
	if (authed)
		atomic_fetch_add(&auth_seen[which], 1);
	if (!strncmp(req, "GET /open ", 10)) {
		loopback_reply(fd, "200 OK", "", "open");
	} else if (!strncmp(req, "GET /away ", 10)) {
		char loc[128];
		snprintf(loc, sizeof loc, "Location: http://127.0.0.1:%d/open\r\n", ports[1]);
		loopback_reply(fd, "307 Temporary Redirect", loc, "");
	} else if (!strncmp(req, "GET /here ", 10)) {
		loopback_reply(fd, "307 Temporary Redirect", "Location: /open\r\n", "");
	} else if (authed) {
		loopback_reply(fd, "200 OK", "", "secret");
	} else {
		loopback_reply(fd, "401 Unauthorized",
		      "WWW-Authenticate: Basic realm=\"one\"\r\nWWW-Authenticate: Bearer realm=\"two\"\r\n", "{}");
	}
}

static void *serve(void *arg)
{
	(void)arg;
	struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
	while (!atomic_load(&stop)) {
		if (poll(p, 2, 100) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			int fd = accept(fds[i], NULL, NULL);
			if (fd >= 0) {
				answer(fd, i);
				close(fd);
			}
		}
	}
	return NULL;
}

/* The fake authorizer: anonymous until challenged, then "Test ok". */
typedef struct fake {
	int headers, challenges;
	int refuse;               /* the challenge callback fails */
	int ready;
	char www[256], scope[64];
} fake;
static int freed;

static int fake_header(void *ctx, char **out, const char *scope)
{
	fake *f = ctx;
	f->headers++;
	snprintf(f->scope, sizeof f->scope, "%s", scope);
	*out = f->ready ? strdup("Authorization: Test ok") : NULL;
	return 0;
}

static int fake_challenge(void *ctx, const char *www, const char *scope)
{
	fake *f = ctx;
	f->challenges++;
	snprintf(f->www, sizeof f->www, "%s", www);
	(void)scope;
	if (f->refuse)
		return oci_error_set(OCI_EAUTH, "fake: refused");
	f->ready = 1;
	return 0;
}

static void fake_free(void *ctx)
{
	(void)ctx;
	freed++;
}

static oci_http *engine(fake *f, const oci_client_opts *opts)
{
	char host[64];
	snprintf(host, sizeof host, "127.0.0.1:%d", ports[0]);
	oci_http *h = NULL;
	CHECK_EQ_INT(oci_http_new(&h, host, opts), 0);
	if (h && f) {
		oci_authorizer az = { f, fake_header, fake_challenge, fake_free };
		oci_http_set_authorizer(h, &az);
	}
	return h;
}

static int get(oci_http *h, oci_http_resp *resp, const char *path, const char *scope, const char *authorization)
{
	char url[128];
	snprintf(url, sizeof url, "%s%s", oci_http_base(h), path);
	oci_http_req req = { .method = "GET", .url = url, .scope = scope, .authorization = authorization,
			     .body_limit = 1024, .flags = OCI_HTTP_FOLLOW | OCI_HTTP_NO_RETRY, .what = path };
	return oci_http_do(resp, h, &req);
}

static void test_challenge_and_retry(const oci_client_opts *opts)
{
	fake f = { 0 };
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	oci_http *h = engine(&f, opts);
	if (!h)
		return;
	CHECK_EQ_INT(get(h, &resp, "/v2/team/app/tags/list", "repository:team/app:pull", NULL), 0);
	CHECK_EQ_INT(resp.status, 200);
	CHECK_STR(resp.body.data, "secret");
	CHECK_EQ_INT(f.headers, 2);
	CHECK_EQ_INT(f.challenges, 1);
	CHECK_STR(f.scope, "repository:team/app:pull");
	CHECK_STR(f.www, "Basic realm=\"one\", Bearer realm=\"two\"");
	/* without a scope the authorizer is not asked */
	f.ready = 0;
	CHECK_EQ_INT(get(h, &resp, "/v2/", NULL, NULL), OCI_EAUTH);
	CHECK_ERR_CONTAINS("/v2/: {} (401)");
	CHECK_EQ_INT(f.headers, 2);
	CHECK_EQ_INT(f.challenges, 1);
	oci_http_resp_dispose(&resp);
	int before = freed;
	oci_http_free(h);
	CHECK_EQ_INT(freed, before + 1);
}

static void test_challenge_error(const oci_client_opts *opts)
{
	fake f = { 0 };
	f.refuse = 1;
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	oci_http *h = engine(&f, opts);
	if (!h)
		return;
	CHECK_EQ_INT(get(h, &resp, "/v2/x", "repository:x:pull", NULL), OCI_EAUTH);
	CHECK_ERR_CONTAINS("fake: refused");
	CHECK_EQ_INT(resp.status, 401);
	CHECK_EQ_INT(f.challenges, 1);
	oci_http_resp_dispose(&resp);
	oci_http_free(h);
}

static void test_fixed_authorization_stays_on_origin(const oci_client_opts *opts)
{
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	oci_http *h = engine(NULL, opts); /* no authorizer: anonymous engine */
	if (!h)
		return;
	atomic_store(&auth_seen[0], 0);
	atomic_store(&auth_seen[1], 0);
	atomic_store(&requests[1], 0);
	CHECK_EQ_INT(get(h, &resp, "/here", NULL, "Authorization: Test ok"), 0);
	CHECK_STR(resp.body.data, "open");
	CHECK_EQ_INT(atomic_load(&auth_seen[0]), 2); /* the request and its same-origin redirect */
	CHECK_EQ_INT(get(h, &resp, "/away", NULL, "Authorization: Test ok"), 0);
	CHECK_STR(resp.body.data, "open");
	CHECK_EQ_INT(atomic_load(&requests[1]), 1);
	CHECK_EQ_INT(atomic_load(&auth_seen[1]), 0); /* never to the other origin */
	CHECK_EQ_INT(atomic_load(&auth_seen[0]), 3);
	/* a scope on an engine without an authorizer: anonymous */
	CHECK_EQ_INT(get(h, &resp, "/v2/x", "repository:x:pull", NULL), OCI_EAUTH);
	oci_http_resp_dispose(&resp);
	oci_http_free(h);
}

int main(void)
{
	oci_init();
	for (int i = 0; i < 2; i++) {
		if ((fds[i] = loopback_listen(&ports[i])) < 0)
			return 1;
	}
	pthread_t th;
	pthread_create(&th, NULL, serve, NULL);
	oci_client_opts opts;
	oci_client_opts_init(&opts);
	opts.deadline_ms = oci_clock_ms() + 60000; /* a hung server fails the test, not the suite */

	fprintf(stderr, "-- test_challenge_and_retry\n");
	test_challenge_and_retry(&opts);
	fprintf(stderr, "-- test_challenge_error\n");
	test_challenge_error(&opts);
	fprintf(stderr, "-- test_fixed_authorization_stays_on_origin\n");
	test_fixed_authorization_stays_on_origin(&opts);

	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	close(fds[0]);
	close(fds[1]);
	oci_shutdown();
	TEST_END();
}
