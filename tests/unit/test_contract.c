/* The public API's contract (liboci(3), "Conventions"): versioned options
 * with _init(), a progress callback that cancels, hint codes instead of
 * flag names in messages, oci_init() once whoever calls it. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/oci.h"
#include "error_internal.h"
#include "test.h"
#include "loopback_util.h"

static char root[64];

static const char *path_in(const char *rel)
{
	static char p[4][256];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", root, rel);
	return p[i];
}

static void write_file(const char *rel, const char *text)
{
	int fd = open(path_in(rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK_EQ_INT(write(fd, text, strlen(text)), (long long)strlen(text));
	close(fd);
}

static oci_target *open_layout(const char *name, const oci_client_opts *opts)
{
	char s[256];
	snprintf(s, sizeof s, "oci-layout:%s/%s:v1", root, name);
	oci_ref *r = NULL;
	oci_target *t = NULL;
	CHECK_EQ_INT(oci_ref_parse(&r, s), 0);
	CHECK_EQ_INT(oci_target_open(&t, r, opts), 0);
	oci_ref_free(r);
	return t;
}

/* No library message names a flag of a program: what to do is the hint. */
#define CHECK_NO_FLAG() CHECK(strstr(oci_error_last()->message, "--") == NULL)

static void test_opts_init(void)
{
	oci_pack_opts pack;
	oci_extract_opts ex;
	oci_client_opts client;
	oci_push_opts push;
	oci_pull_opts pull;
	oci_sync_opts sync;
	oci_sync_loop_opts loop;
	memset(&pull, 0xff, sizeof pull); /* init sets every field, not just version */
	CHECK_EQ_INT(oci_pack_opts_init(&pack), 0);
	CHECK_EQ_INT(pack.version, OCI_PACK_OPTS_VERSION);
	CHECK_EQ_INT(oci_extract_opts_init(&ex), 0);
	CHECK_EQ_INT(ex.version, OCI_EXTRACT_OPTS_VERSION);
	CHECK_EQ_INT(oci_client_opts_init(&client), 0);
	CHECK_EQ_INT(client.version, OCI_CLIENT_OPTS_VERSION);
	CHECK(client.callbacks.log == NULL && client.callbacks.progress == NULL && client.callbacks.payload == NULL);
	CHECK_EQ_INT(oci_push_opts_init(&push), 0);
	CHECK_EQ_INT(push.version, OCI_PUSH_OPTS_VERSION);
	CHECK_EQ_INT(push.profile, OCI_PROFILE_PORTABLE);
	CHECK_EQ_INT(oci_pull_opts_init(&pull), 0);
	CHECK_EQ_INT(pull.version, OCI_PULL_OPTS_VERSION);
	CHECK_EQ_INT(pull.extract.version, OCI_EXTRACT_OPTS_VERSION);
	CHECK(pull.verify == NULL && pull.force == 0 && pull.extract.subpath == NULL);
	CHECK_EQ_INT(oci_sync_opts_init(&sync), 0);
	CHECK_EQ_INT(sync.version, OCI_SYNC_OPTS_VERSION);
	CHECK_EQ_INT(oci_sync_loop_opts_init(&loop), 0);
	CHECK_EQ_INT(loop.version, OCI_SYNC_LOOP_OPTS_VERSION);

	CHECK_EQ_INT(oci_pack_opts_init(NULL), OCI_EINVALID);
	CHECK_ERR_CONTAINS("oci_pack_opts_init: the options pointer is NULL");
	CHECK_EQ_INT(oci_extract_opts_init(NULL), OCI_EINVALID);
	CHECK_EQ_INT(oci_client_opts_init(NULL), OCI_EINVALID);
	CHECK_EQ_INT(oci_push_opts_init(NULL), OCI_EINVALID);
	CHECK_EQ_INT(oci_pull_opts_init(NULL), OCI_EINVALID);
	CHECK_EQ_INT(oci_sync_opts_init(NULL), OCI_EINVALID);
	CHECK_EQ_INT(oci_sync_loop_opts_init(NULL), OCI_EINVALID);
	CHECK_ERR_CONTAINS("oci_sync_loop_opts_init");
}

/* A struct of another version (or never initialised) is refused on entry,
 * before anything is read from it or done. */
static void test_unknown_version_refused(void)
{
	oci_client_opts client;
	oci_client_opts_init(&client);
	client.version = 99;
	oci_ref *r = NULL;
	oci_target *t = NULL;
	CHECK_EQ_INT(oci_ref_parse(&r, "oci-layout:/nonexistent/store:v1"), 0);
	CHECK_EQ_INT(oci_target_open(&t, r, &client), OCI_EINVALID);
	CHECK_ERR_CONTAINS("oci_client_opts has version 99, and this liboci knows version 1 only: "
			   "initialise it with oci_client_opts_init");
	CHECK(t == NULL);
	oci_ref_free(r);

	mkdir(path_in("tree"), 0755);
	write_file("tree/a.yaml", "a: 1\n");
	oci_pack_opts pack;
	memset(&pack, 0, sizeof pack); /* zeroed is not initialised */
	oci_file_list l = { 0 };
	CHECK_EQ_INT(oci_bundle_list(&l, path_in("tree"), &pack), OCI_EINVALID);
	CHECK_ERR_CONTAINS("oci_pack_opts has version 0");

	oci_extract_opts ex;
	oci_extract_opts_init(&ex);
	ex.version = 2;
	oci_extract_stats st;
	mkdir(path_in("out"), 0755);
	CHECK_EQ_INT(oci_extract_file(&st, path_in("tree/a.yaml"), path_in("out"), &ex), OCI_EINVALID);
	CHECK_ERR_CONTAINS("oci_extract_opts has version 2");
	CHECK_EQ_INT(oci_extract_single_file(&st, path_in("tree/a.yaml"), "a", path_in("out"), &ex), OCI_EINVALID);
	CHECK_ERR_CONTAINS("oci_extract_opts has version 2");

	oci_target *store = open_layout("store", NULL);
	oci_push_opts push;
	oci_push_opts_init(&push);
	push.version = 0;
	oci_push_result pr;
	CHECK_EQ_INT(oci_push(&pr, store, path_in("tree"), &push), OCI_EINVALID);
	CHECK_ERR_CONTAINS("oci_push_opts has version 0");
	oci_push_result_dispose(&pr);
	CHECK_EQ_INT(access(path_in("store"), F_OK), -1); /* nothing written */

	oci_pull_opts pull;
	oci_pull_opts_init(&pull);
	pull.extract.version = 7; /* the nested struct is checked too */
	oci_pull_result res;
	CHECK_EQ_INT(oci_pull(&res, store, path_in("pulled"), &pull), OCI_EINVALID);
	CHECK_ERR_CONTAINS("oci_extract_opts has version 7");
	oci_pull_result_dispose(&res);

	oci_sync_opts sync;
	oci_sync_opts_init(&sync);
	sync.root = path_in("root");
	sync.version = 3;
	oci_sync_result sr;
	CHECK_EQ_INT(oci_sync_once(&sr, store, &sync), OCI_EINVALID);
	CHECK_ERR_CONTAINS("oci_sync_opts has version 3");
	CHECK_EQ_INT(access(path_in("root"), F_OK), -1);
	oci_sync_loop_opts loop;
	oci_sync_loop_opts_init(&loop);
	loop.version = 0;
	sync.version = OCI_SYNC_OPTS_VERSION;
	CHECK_EQ_INT(oci_sync_loop(store, &sync, &loop), OCI_EINVALID);
	CHECK_ERR_CONTAINS("oci_sync_loop_opts has version 0");
	oci_target_free(store);
}

typedef struct progress_stop {
	int calls;
	int stop_at;     /* the call that returns non-zero */
	void *payload_seen;
} progress_stop;

static int stop_progress(void *payload, const char *what, int64_t done, int64_t total)
{
	progress_stop *p = payload;
	(void)what;
	(void)done;
	(void)total;
	p->payload_seen = payload;
	return ++p->calls >= p->stop_at;
}

static int discard(void *ctx, const void *buf, size_t len)
{
	(void)buf;
	*(size_t *)ctx += len;
	return 0;
}

/* A non-zero return from the progress callback aborts the transfer with
 * OCI_EINTERRUPTED, uploading (nothing stored) and downloading alike. */
static void test_progress_cancels(void)
{
	enum { SIZE = 300 * 1024 }; /* several of the layout's 64 KiB reads */
	char *data = malloc(SIZE);
	CHECK(data != NULL);
	for (size_t i = 0; i < SIZE; i++)
		data[i] = (char)(i * 7);
	char digest[OCI_DIGEST_SIZE];
	CHECK_EQ_INT(oci_digest_buf(digest, data, SIZE), 0);

	progress_stop ps = { 0, 2, NULL };
	oci_client_opts opts;
	oci_client_opts_init(&opts);
	opts.callbacks.progress = stop_progress;
	opts.callbacks.payload = &ps;
	oci_target *t = open_layout("cancel", &opts);
	oci_mem_source src = { data, SIZE, 0 };
	CHECK_EQ_INT(oci_target_blob_put(t, digest, SIZE, oci_mem_source_read, &src), OCI_EINTERRUPTED);
	CHECK_ERR_CONTAINS("cancelled by the progress callback");
	CHECK_EQ_INT(ps.calls, 2);
	CHECK(ps.payload_seen == &ps); /* the one payload comes back */
	CHECK_EQ_INT(oci_target_blob_exists(t, digest, NULL), 0);

	/* stored once without stopping, then a download stopped */
	ps.stop_at = 1000;
	src.off = 0;
	CHECK_EQ_INT(oci_target_blob_put(t, digest, SIZE, oci_mem_source_read, &src), 0);
	CHECK_EQ_INT(oci_target_blob_exists(t, digest, NULL), 1);
	ps.calls = 0;
	ps.stop_at = 1;
	size_t got = 0;
	CHECK_EQ_INT(oci_target_blob_get(t, digest, SIZE, discard, &got), OCI_EINTERRUPTED);
	CHECK_EQ_INT(ps.calls, 1);
	CHECK(got < SIZE);
	oci_target_free(t);
	free(data);
}

/* A loopback registry for one blob of BLOB_SIZE bytes: /v2/ answers 200,
 * any other GET gets the blob, sent in pieces; it counts the blob GETs. */
enum { BLOB_SIZE = 2 * 1024 * 1024 };
static int blob_listen_fd;
static atomic_int blob_gets;

static void *blob_server(void *arg)
{
	(void)arg;
	static char chunk[64 * 1024];
	memset(chunk, 'x', sizeof chunk);
	for (;;) {
		int fd = accept(blob_listen_fd, NULL, NULL);
		if (fd < 0)
			return NULL; /* the listening socket was shut down */
		char req[4096];
		ssize_t n = read(fd, req, sizeof req - 1);
		req[n > 0 ? n : 0] = '\0';
		char head[256];
		int is_ping = strncmp(req, "GET /v2/ ", 9) == 0;
		int hn = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
				  is_ping ? 2 : BLOB_SIZE, is_ping ? "{}" : "");
		ssize_t w = write(fd, head, (size_t)hn);
		if (!is_ping) {
			atomic_fetch_add(&blob_gets, 1);
			/* the client hangs up when it cancels: stop at the first failed write */
			for (int sent = 0; w > 0 && sent < BLOB_SIZE; sent += (int)sizeof chunk)
				w = write(fd, chunk, sizeof chunk);
		}
		close(fd);
	}
}

/* The same cancel through a registry: the download aborts at the first
 * progress report, and is not retried. */
static void test_progress_cancels_registry(void)
{
	int port = 0;
	blob_listen_fd = loopback_listen(&port);
	CHECK(blob_listen_fd >= 0);
	pthread_t th;
	CHECK_EQ_INT(pthread_create(&th, NULL, blob_server, NULL), 0);

	char name[128];
	snprintf(name, sizeof name, "127.0.0.1:%d/team/app:v1", port);
	progress_stop ps = { 0, 1, NULL };
	oci_client_opts opts;
	oci_client_opts_init(&opts);
	opts.plain_http = 1;
	opts.callbacks.progress = stop_progress;
	opts.callbacks.payload = &ps;
	oci_ref *r = NULL;
	oci_target *t = NULL;
	CHECK_EQ_INT(oci_ref_parse(&r, name), 0);
	CHECK_EQ_INT(oci_target_open(&t, r, &opts), 0);
	size_t got = 0;
	CHECK_EQ_INT(oci_target_blob_get(t, OCI_EMPTY_DIGEST, BLOB_SIZE, discard, &got), OCI_EINTERRUPTED);
	CHECK_ERR_CONTAINS("cancelled by the progress callback");
	CHECK_EQ_INT(ps.calls, 1);
	CHECK(got < BLOB_SIZE);
	CHECK_EQ_INT(atomic_load(&blob_gets), 1);
	oci_target_free(t);
	oci_ref_free(r);
	shutdown(blob_listen_fd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(blob_listen_fd);
}

/* Failures whose remedy is the caller's choice carry a hint code; the
 * message states the problem and names no flag. */
static void test_hints(void)
{
	oci_error_set(OCI_EIO, "x");
	oci_error_hint_set(OCI_HINT_FORCE, NULL);
	const char *subject = "unset";
	CHECK_EQ_INT(oci_error_hint(&subject), OCI_HINT_FORCE);
	CHECK(subject == NULL);
	oci_error_wrap("context");             /* a wrapped error keeps its hint */
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_FORCE);
	oci_error_set_str(OCI_EIO, "another"); /* a new error has none */
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_NONE);
	oci_error_set(OCI_EAUTH, "registry r.example requires authentication");
	oci_error_hint_set(OCI_HINT_LOGIN, "r.example");
	CHECK_EQ_INT(oci_error_hint(&subject), OCI_HINT_LOGIN);
	CHECK_STR(subject, "r.example");
	oci_error_clear();
	CHECK_EQ_INT(oci_error_hint(&subject), OCI_HINT_NONE);
	CHECK(subject == NULL);

	/* push: an empty tree */
	mkdir(path_in("empty"), 0755);
	oci_target *store = open_layout("hints", NULL);
	oci_push_result pr;
	CHECK_EQ_INT(oci_push(&pr, store, path_in("empty"), NULL), OCI_EINVALID);
	CHECK_ERR_CONTAINS("holds no files (empty, or every file ignored): nothing to push");
	CHECK_NO_FLAG();
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_ALLOW_EMPTY);
	oci_push_result_dispose(&pr);

	/* pull: a destination that is not empty */
	mkdir(path_in("src"), 0755);
	write_file("src/a.yaml", "a: 1\n");
	CHECK_EQ_INT(oci_push(&pr, store, path_in("src"), NULL), 0);
	oci_push_result_dispose(&pr);
	mkdir(path_in("dest"), 0755);
	write_file("dest/old", "x");
	oci_pull_result res;
	CHECK_EQ_INT(oci_pull(&res, store, path_in("dest"), NULL), OCI_EEXISTS);
	CHECK_ERR_CONTAINS("dest is not empty");
	CHECK_NO_FLAG();
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_FORCE);
	oci_pull_result_dispose(&res);

	/* copy with signatures of an unsigned artifact */
	oci_target *dst = open_layout("hints-copy", NULL);
	char d[OCI_DIGEST_SIZE];
	CHECK_EQ_INT(oci_copy(d, store, dst, OCI_COPY_SIGNATURES), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("has no signatures to copy (no cosign .sig tag, no referrers): nothing copied");
	CHECK_NO_FLAG();
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_ALLOW_UNSIGNED);
	oci_target_free(dst);
	oci_target_free(store);

	/* pack: a FIFO, and more entries than the limit */
	mkdir(path_in("fifo"), 0755);
	write_file("fifo/a.yaml", "a: 1\n");
	write_file("fifo/b.yaml", "b: 1\n");
	CHECK_EQ_INT(mkfifo(path_in("fifo/pipe"), 0644), 0);
	oci_file_list l = { 0 };
	CHECK_EQ_INT(oci_bundle_list(&l, path_in("fifo"), NULL), OCI_EUNSUPPORTED);
	CHECK_ERR_CONTAINS("is a FIFO; only files, directories and symlinks can be packed");
	CHECK_NO_FLAG();
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_IGNORE);
	unlink(path_in("fifo/pipe"));
	oci_pack_opts pack;
	oci_pack_opts_init(&pack);
	pack.max_entries = 1;
	oci_pack_result packed;
	CHECK_EQ_INT(oci_bundle_pack_file(&packed, path_in("fifo"), &pack, path_in("fifo.tgz")), OCI_ELIMIT);
	CHECK_ERR_CONTAINS("the artifact has more than 1 entries (files, directories, links)");
	CHECK_NO_FLAG();
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_MAX_ENTRIES);
	oci_file_list_dispose(&l);

	/* lint: an unknown rule */
	oci_lint_policy *policy = NULL;
	CHECK_EQ_INT(oci_lint_policy_new(&policy), 0);
	CHECK_EQ_INT(oci_lint_policy_set(policy, "no-such-rule", OCI_LINT_ERROR), OCI_EINVALID);
	CHECK_ERR_CONTAINS("unknown lint rule 'no-such-rule'");
	CHECK_NO_FLAG();
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_LINT_RULES);
	oci_lint_policy_free(policy);

	/* keys: a pair over an existing file */
	oci_key *key = NULL;
	CHECK_EQ_INT(oci_key_generate(&key), 0);
	write_file("taken.key", "x");
	CHECK_EQ_INT(oci_key_write_pair(key, path_in("taken.key"), path_in("taken.pub"), ""), OCI_EEXISTS);
	CHECK_ERR_CONTAINS("taken.key already exists; refusing to overwrite it");
	CHECK_NO_FLAG();
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_KEY_EXISTS);
	oci_key_free(key);

	/* credentials: no config to be found */
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	char *dc = getenv("DOCKER_CONFIG") ? strdup(getenv("DOCKER_CONFIG")) : NULL;
	unsetenv("HOME");
	unsetenv("DOCKER_CONFIG");
	char *cfg = NULL;
	CHECK_EQ_INT(oci_credentials_config_path(&cfg, NULL), OCI_EINVALID);
	CHECK_ERR_CONTAINS("neither DOCKER_CONFIG nor HOME is set");
	CHECK_NO_FLAG();
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_REGISTRY_CONFIG);
	free(cfg);
	if (home)
		setenv("HOME", home, 1);
	if (dc)
		setenv("DOCKER_CONFIG", dc, 1);
	free(home);
	free(dc);
}

/* Every hint has a stable machine name (sync's status file carries it):
 * distinct, the enum's name in lower case; none for OCI_HINT_NONE. The
 * old values keep their numbers (programs may have stored them). */
static void test_hint_names(void)
{
	CHECK(oci_hint_name(OCI_HINT_NONE) == NULL);
	CHECK(oci_hint_name((oci_hint)(OCI_HINT_HTTP_BIND + 1)) == NULL);
	CHECK_EQ_INT(OCI_HINT_KEY_EXISTS, 16);
	CHECK_EQ_INT(OCI_HINT_RAISE_TIMEOUT, 17);
	for (int h = OCI_HINT_NONE + 1; h <= OCI_HINT_HTTP_BIND; h++) {
		const char *name = oci_hint_name((oci_hint)h);
		CHECK(name != NULL && *name);
		for (const char *p = name; name && *p; p++)
			CHECK((*p >= 'a' && *p <= 'z') || *p == '_');
		for (int k = OCI_HINT_NONE + 1; name && k < h; k++)
			CHECK(strcmp(name, oci_hint_name((oci_hint)k)) != 0);
	}
	CHECK_STR(oci_hint_name(OCI_HINT_LOGIN), "login");
	CHECK_STR(oci_hint_name(OCI_HINT_MAX_SIZE), "max_size");
	CHECK_STR(oci_hint_name(OCI_HINT_RAISE_TIMEOUT), "raise_timeout");
	CHECK_STR(oci_hint_name(OCI_HINT_REVOKED_WITHDRAWN), "revoked_withdrawn");
	CHECK_STR(oci_hint_name(OCI_HINT_HTTP_BIND), "http_bind");
}

/* Every _free and _dispose accepts NULL (liboci(3), "Ownership"). */
static void test_release_null(void)
{
	oci_target_free(NULL);
	oci_ref_free(NULL);
	oci_sha256_free(NULL);
	oci_manifest_free(NULL);
	oci_ignore_free(NULL);
	oci_semver_range_free(NULL);
	oci_verifier_free(NULL);
	oci_lint_policy_free(NULL);
	oci_lint_free(NULL);
	oci_key_free(NULL);
	oci_push_result_dispose(NULL);
	oci_pull_result_dispose(NULL);
	oci_referrers_dispose(NULL);
	oci_file_list_dispose(NULL);
	oci_lint_report_dispose(NULL);
	oci_semver_dispose(NULL);
	oci_descriptor_dispose(NULL);
	oci_buf_dispose(NULL);
	oci_strlist_dispose(NULL);
	oci_kvlist_dispose(NULL);
	CHECK(1); /* reached: none of them dereferenced NULL */
}

static void *init_thread(void *arg)
{
	*(int *)arg = oci_init();
	return NULL;
}

/* oci_init: idempotent, and concurrent first calls all see it done. */
static void test_init_once(void)
{
	pthread_t th[4];
	int rc[4] = { -1, -1, -1, -1 };
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(pthread_create(&th[i], NULL, init_thread, &rc[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ_INT(rc[i], 0);
	}
	CHECK_EQ_INT(oci_init(), 0);
}

int main(void)
{
	snprintf(root, sizeof root, "/tmp/test_contract.XXXXXX");
	if (!mkdtemp(root))
		return 1;
	RUN(test_init_once);
	RUN(test_opts_init);
	RUN(test_unknown_version_refused);
	RUN(test_progress_cancels);
	RUN(test_progress_cancels_registry);
	RUN(test_hints);
	RUN(test_hint_names);
	RUN(test_release_null);
	oci_rmtree(root);
	oci_shutdown();
	TEST_END();
}
