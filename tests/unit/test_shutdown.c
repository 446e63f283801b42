/* oci_shutdown: the process-wide token cache is shared by targets until
 * oci_shutdown empties it. A loopback registry in a thread answers every
 * unauthenticated request with a Bearer challenge and counts how often its
 * token endpoint is asked. */
#include "test.h"
#include "loopback_util.h"
#include "oci/oci.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

static int listen_fd;
static int port;
static atomic_int token_requests;
static atomic_int stop;

static void *serve(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		int fd = accept(listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		char req[8192];
		loopback_read_request(fd, req, sizeof req);
		if (!strncmp(req, "GET /token", 10)) {
			atomic_fetch_add(&token_requests, 1);
			loopback_reply(fd, "200 OK", "", "{\"token\":\"tok-1\",\"expires_in\":300}");
		} else if (strstr(req, "Authorization: Bearer tok-1")) {
			loopback_reply(fd, "200 OK", "", "{\"name\":\"team/app\",\"tags\":[\"v1\"]}");
		} else {
			char challenge[256];
			snprintf(challenge, sizeof challenge,
				 "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\",service=\"reg\"\r\n", port);
			loopback_reply(fd, "401 Unauthorized", challenge, "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}");
		}
		close(fd);
	}
	return NULL;
}

/* Lists the tags through a new target (so only the process-wide cache can
 * save a token request). */
static void list_tags(const char *config)
{
	char name[128];
	snprintf(name, sizeof name, "127.0.0.1:%d/team/app", port);
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	oci_strlist tags = OCI_STRLIST_INIT;
	oci_client_opts opts; oci_client_opts_init(&opts);
	opts.plain_http = 1;
	opts.registry_config = config;
	CHECK_EQ_INT(oci_ref_parse(&ref, name), 0);
	CHECK_EQ_INT(oci_target_open(&t, ref, &opts), 0);
	CHECK_EQ_INT(oci_target_tags(&tags, t), 0);
	if (tags.n != 1 || strcmp(tags.items[0], "v1"))
		fprintf(stderr, "listing tags: %s\n", oci_error_last()->message);
	CHECK_EQ_INT(tags.n, 1);
	oci_strlist_dispose(&tags);
	oci_target_free(t);
	oci_ref_free(ref);
}

static void test_shutdown_empties_token_cache(void)
{
	char dir[] = "/tmp/test_shutdown.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char config[256];
	snprintf(config, sizeof config, "%s/config.json", dir);
	FILE *f = fopen(config, "w");
	CHECK(f != NULL);
	fputs("{}\n", f);
	fclose(f);

	list_tags(config);
	CHECK_EQ_INT(atomic_load(&token_requests), 1);
	list_tags(config); /* a new target reuses the process's token */
	CHECK_EQ_INT(atomic_load(&token_requests), 1);
	oci_shutdown();
	list_tags(config); /* the cache is gone: a new token is asked for */
	CHECK_EQ_INT(atomic_load(&token_requests), 2);
	oci_shutdown(); /* twice, and on a cache already used again: harmless */
	oci_shutdown();

	unlink(config);
	rmdir(dir);
}

int main(void)
{
	oci_init();
	if ((listen_fd = loopback_listen(&port)) < 0)
		return 1;
	pthread_t th;
	pthread_create(&th, NULL, serve, NULL);

	RUN(test_shutdown_empties_token_cache);

	atomic_store(&stop, 1);
	shutdown(listen_fd, SHUT_RDWR);
	close(listen_fd);
	pthread_join(th, NULL);
	TEST_END();
}
