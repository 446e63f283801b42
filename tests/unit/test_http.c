/* The HTTP layer's URL handling (Location / Link resolution, same-origin
 * checks, query building) and the parallel transfer pool (over layouts,
 * so no network is needed). */
#include "test.h"
#include "http.h"
#include "transfer.h"
#include "tls.h"
#include "oci/oci.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void test_resolve_url(void)
{
	char *u = NULL;
	const char *base = "http://127.0.0.1:5000/v2/team/app/blobs/uploads/";
	CHECK_EQ_INT(oci_http_resolve_url(&u, base, "/v2/team/app/blobs/uploads/abc?_state=x", 1), 0);
	CHECK_STR(u, "http://127.0.0.1:5000/v2/team/app/blobs/uploads/abc?_state=x");
	free(u);
	CHECK_EQ_INT(oci_http_resolve_url(&u, base, "abc", 1), 0);
	CHECK_STR(u, "http://127.0.0.1:5000/v2/team/app/blobs/uploads/abc");
	free(u);
	CHECK_EQ_INT(oci_http_resolve_url(&u, base, "http://127.0.0.1:5000/v2/x", 1), 0);
	free(u);
	/* Another port, host or scheme is another origin. */
	CHECK_EQ_INT(oci_http_resolve_url(&u, base, "http://127.0.0.1:5001/v2/x", 1), OCI_ENET);
	CHECK_ERR_CONTAINS("another origin");
	CHECK(u == NULL);
	CHECK_EQ_INT(oci_http_resolve_url(&u, base, "https://127.0.0.1:5000/v2/x", 1), OCI_ENET);
	CHECK_EQ_INT(oci_http_resolve_url(&u, base, "//evil.example/v2/x", 1), OCI_ENET);
	/* Without the same-origin rule (redirects to storage) it resolves. */
	CHECK_EQ_INT(oci_http_resolve_url(&u, base, "https://storage.example/blob?sig=1", 0), 0);
	CHECK_STR(u, "https://storage.example/blob?sig=1");
	free(u);
}

static void test_same_origin(void)
{
	CHECK(oci_http_same_origin("https://r.example/v2/", "https://R.EXAMPLE:443/x"));
	CHECK(!oci_http_same_origin("https://r.example/v2/", "http://r.example/v2/"));
	CHECK(!oci_http_same_origin("https://r.example/v2/", "https://r.example:8443/v2/"));
	CHECK(!oci_http_same_origin("https://r.example/v2/", "https://r.example.evil/v2/"));
}

static void test_add_query(void)
{
	char *u = NULL;
	const char *d = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
	CHECK_EQ_INT(oci_http_url_add_query(&u, "http://h:1/v2/a/blobs/uploads/u1?_state=s", "digest", d), 0);
	CHECK_STR(u, "http://h:1/v2/a/blobs/uploads/u1?_state=s&digest=sha256%3a44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
	free(u);
	CHECK_EQ_INT(oci_http_url_add_query(&u, "http://h:1/v2/a/blobs/uploads/u1", "digest", d), 0);
	CHECK_STR(u, "http://h:1/v2/a/blobs/uploads/u1?digest=sha256%3a44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
	free(u);
}

/* WWW-Authenticate sent once per scheme: every line, in order, as one list. */
static void test_header_join(void)
{
	oci_http_header hs[] = {
		{ "Content-Type", "application/json" },
		{ "WWW-Authenticate", "Basic realm=\"r\"" },
		{ "www-authenticate", "" },
		{ "Www-Authenticate", "Bearer realm=\"https://t/token\",service=\"s\"" },
	};
	oci_http_resp r = OCI_HTTP_RESP_INIT;
	r.headers = hs;
	r.nheaders = 4;
	char *v = NULL;
	CHECK_EQ_INT(oci_http_resp_header_join(&v, &r, "WWW-Authenticate"), 1);
	CHECK_STR(v, "Basic realm=\"r\", Bearer realm=\"https://t/token\",service=\"s\"");
	free(v);
	CHECK_EQ_INT(oci_http_resp_header_join(&v, &r, "content-type"), 1);
	CHECK_STR(v, "application/json");
	free(v);
	CHECK_EQ_INT(oci_http_resp_header_join(&v, &r, "Location"), 0);
	CHECK(v == NULL);
}

static int write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	fputs(data, f);
	return fclose(f);
}

static void test_transfer_layout(void)
{
	char dir[] = "/tmp/test_http.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char ref_s[256], paths[3][300], outs[3][300];
	snprintf(ref_s, sizeof ref_s, "oci-layout:%s/lay:v1", dir);
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	CHECK_EQ_INT(oci_ref_parse(&ref, ref_s), 0);
	CHECK_EQ_INT(oci_target_open(&t, ref, NULL), 0);
	oci_blob_job up[3], down[3];
	char digests[3][OCI_DIGEST_SIZE];
	memset(up, 0, sizeof up);
	memset(down, 0, sizeof down);
	for (int i = 0; i < 3; i++) {
		char content[64];
		snprintf(content, sizeof content, "blob number %d\n", i);
		snprintf(paths[i], sizeof paths[i], "%s/in%d", dir, i);
		snprintf(outs[i], sizeof outs[i], "%s/out%d", dir, i);
		CHECK_EQ_INT(write_file(paths[i], content), 0);
		int64_t size;
		CHECK_EQ_INT(oci_digest_file(digests[i], &size, paths[i]), 0);
		up[i] = (oci_blob_job){ .digest = digests[i], .size = size, .path = paths[i], .skip_existing = 1 };
		down[i] = (oci_blob_job){ .digest = digests[i], .size = size, .path = outs[i] };
	}
	CHECK_EQ_INT(oci_transfer_put(t, up, 3, 2), 0);
	CHECK_EQ_INT(oci_transfer_put(t, up, 3, 2), 0);
	CHECK(up[0].skipped && up[1].skipped && up[2].skipped);
	CHECK_EQ_INT(oci_transfer_get(t, down, 3, 3), 0);
	for (int i = 0; i < 3; i++) {
		char d[OCI_DIGEST_SIZE];
		int64_t size;
		CHECK_EQ_INT(oci_digest_file(d, &size, outs[i]), 0);
		CHECK_STR(d, digests[i]);
	}
	/* A wrong size fails that job, removes its file, and names the blob. */
	down[1].size = 3;
	CHECK_EQ_INT(oci_transfer_get(t, down, 3, 2), OCI_EDIGEST);
	CHECK_ERR_CONTAINS(digests[1]);
	CHECK(down[0].result == 0 && down[1].result == OCI_EDIGEST && down[2].result == 0);
	CHECK(access(outs[1], F_OK) != 0);
	oci_target_free(t);
	oci_ref_free(ref);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

struct progress_seen {
	int calls;
	char last[OCI_DIGEST_SIZE];
};

static int on_progress(void *ctx, const char *what, int64_t done, int64_t total)
{
	struct progress_seen *p = ctx;
	(void)done;
	(void)total;
	p->calls++;
	snprintf(p->last, sizeof p->last, "%s", what);
	return 0;
}

/* Layout to layout through temporary files: every blob arrives, the files
 * are gone, progress is reported; a bad job fails the copy by name. */
static void test_transfer_copy(void)
{
	char dir[] = "/tmp/test_http.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char src_s[256], dst_s[256], paths[3][300], tmps[3][300];
	snprintf(src_s, sizeof src_s, "oci-layout:%s/src:v1", dir);
	snprintf(dst_s, sizeof dst_s, "oci-layout:%s/dst:v1", dir);
	struct progress_seen seen = { 0 };
	oci_client_opts opts; oci_client_opts_init(&opts);
	opts.callbacks.progress = on_progress;
	opts.callbacks.payload = &seen;
	oci_ref *sref = NULL, *dref = NULL;
	oci_target *src = NULL, *dst = NULL;
	CHECK_EQ_INT(oci_ref_parse(&sref, src_s), 0);
	CHECK_EQ_INT(oci_ref_parse(&dref, dst_s), 0);
	CHECK_EQ_INT(oci_target_open(&src, sref, &opts), 0);
	CHECK_EQ_INT(oci_target_open(&dst, dref, &opts), 0);
	oci_blob_job up[3], jobs[3];
	char digests[3][OCI_DIGEST_SIZE];
	int64_t sizes[3];
	memset(up, 0, sizeof up);
	memset(jobs, 0, sizeof jobs);
	for (int i = 0; i < 3; i++) {
		char content[64];
		snprintf(content, sizeof content, "copied blob %d\n", i);
		snprintf(paths[i], sizeof paths[i], "%s/in%d", dir, i);
		snprintf(tmps[i], sizeof tmps[i], "%s/tmp%d", dir, i);
		CHECK_EQ_INT(write_file(paths[i], content), 0);
		CHECK_EQ_INT(oci_digest_file(digests[i], &sizes[i], paths[i]), 0);
		up[i] = (oci_blob_job){ .digest = digests[i], .size = sizes[i], .path = paths[i] };
		jobs[i] = (oci_blob_job){ .digest = digests[i], .size = sizes[i], .path = tmps[i] };
	}
	CHECK_EQ_INT(oci_transfer_put(src, up, 3, 2), 0);
	seen.calls = 0;
	CHECK_EQ_INT(oci_transfer_copy(src, dst, jobs, 3, 3), 0);
	CHECK(seen.calls > 0);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(oci_target_blob_exists(dst, digests[i], NULL), 1);
		CHECK(access(tmps[i], F_OK) != 0);
		CHECK_EQ_INT(jobs[i].result, 0);
	}
	/* A blob src does not have: that job fails, by name, file removed. */
	char missing[OCI_DIGEST_SIZE];
	snprintf(missing, sizeof missing, "sha256:%064d", 0);
	jobs[1].digest = missing;
	CHECK_EQ_INT(oci_transfer_copy(src, dst, jobs, 3, 1), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS(missing);
	CHECK(jobs[1].result == OCI_ENOTFOUND);
	CHECK(access(tmps[1], F_OK) != 0);
	oci_target_free(src);
	oci_target_free(dst);
	oci_ref_free(sref);
	oci_ref_free(dref);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

/* Which failures are the proxy's: libcurl names whom it could not reach;
 * the registry itself (no_proxy), whatever its spelling, is not the proxy. */
static void test_proxy_failure(void)
{
	char buf[1024];
	unsetenv("https_proxy");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	unsetenv("http_proxy");
	setenv("HTTPS_PROXY", "http://u:secret@127.0.0.1:9", 1);
	CHECK_EQ_INT(oci_proxy_failure(buf, sizeof buf, CURLE_COULDNT_CONNECT,
				       "Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server",
				       "https://127.0.0.1:5000/v2/", "127.0.0.1:5000"), 1);
	CHECK(strstr(buf, "the proxy 127.0.0.1:9 (from HTTPS_PROXY) is unreachable") != NULL);
	CHECK(strstr(buf, "the registry 127.0.0.1:5000 was not contacted") != NULL);
	CHECK(strstr(buf, "secret") == NULL);
	/* the registry itself: with its port, the default port, or IPv6 */
	CHECK_EQ_INT(oci_proxy_failure(buf, sizeof buf, CURLE_COULDNT_CONNECT,
				       "Failed to connect to 127.0.0.1 port 5000 after 0 ms: x", "https://127.0.0.1:5000/v2/",
				       "127.0.0.1:5000"), 0);
	CHECK_EQ_INT(oci_proxy_failure(buf, sizeof buf, CURLE_COULDNT_CONNECT,
				       "Failed to connect to registry.example port 443 after 0 ms: x",
				       "https://registry.example/v2/", "registry.example"), 0);
	CHECK_EQ_INT(oci_proxy_failure(buf, sizeof buf, CURLE_COULDNT_CONNECT, "Failed to connect to ::1 port 5000 after 0 ms: x",
				       "https://[::1]:5000/v2/", "[::1]:5000"), 0);
	/* HTTPS_PROXY is not for http URLs; other failures are not the proxy's */
	CHECK_EQ_INT(oci_proxy_failure(buf, sizeof buf, CURLE_COULDNT_CONNECT, "Failed to connect to 127.0.0.1 port 9 after 0 ms: x",
				       "http://127.0.0.1:5000/v2/", "127.0.0.1:5000"), 0);
	CHECK_EQ_INT(oci_proxy_failure(buf, sizeof buf, CURLE_OPERATION_TIMEDOUT, "timed out", "https://127.0.0.1:5000/v2/",
				       "127.0.0.1:5000"), 0);
	unsetenv("HTTPS_PROXY");
	CHECK_EQ_INT(oci_proxy_failure(buf, sizeof buf, CURLE_COULDNT_CONNECT, "Failed to connect to 127.0.0.1 port 9 after 0 ms: x",
				       "https://127.0.0.1:5000/v2/", "127.0.0.1:5000"), 0);
}

/* The TLS hints name the cause libcurl's words give, and the hint code
 * what to change; the text names no flag (the CLI renders the code). */
static void test_tls_hints(void)
{
	oci_client_opts opts; oci_client_opts_init(&opts);
	opts.ca_file = "ca.pem";
	oci_hint code;
	const char *why = oci_tls_hint(&code, CURLE_SSL_CONNECT_ERROR, 1,
				       "OpenSSL/3.0: error:0A00010B:SSL routines::wrong version number", &opts);
	CHECK(strstr(why, "plain HTTP") != NULL && !strstr(why, "--"));
	CHECK_EQ_INT(code, OCI_HINT_PLAIN_HTTP);
	why = oci_tls_hint(&code, CURLE_PEER_FAILED_VERIFICATION, 1,
			   "SSL: no alternative certificate subject name matches target host name 'x'", &opts);
	CHECK(strstr(why, "host name") != NULL);
	CHECK_EQ_INT(code, OCI_HINT_NONE);
	why = oci_tls_hint(&code, CURLE_PEER_FAILED_VERIFICATION, 1,
			   "SSL certificate problem: unable to get local issuer certificate", &opts);
	CHECK(strstr(why, "not signed by the CA") != NULL && !strstr(why, "--"));
	CHECK_EQ_INT(code, OCI_HINT_CA_FILE_MISMATCH);
	opts.ca_file = NULL;
	why = oci_tls_hint(&code, CURLE_PEER_FAILED_VERIFICATION, 1,
			   "SSL certificate problem: unable to get local issuer certificate", &opts);
	CHECK(strstr(why, "not trusted") != NULL && !strstr(why, "--"));
	CHECK_EQ_INT(code, OCI_HINT_CA_FILE);
	why = oci_tls_hint(&code, CURLE_SSL_CERTPROBLEM, 1, "could not load PEM client certificate", &opts);
	CHECK(!strstr(why, "--"));
	CHECK_EQ_INT(code, OCI_HINT_CHECK_CLIENT_CERT);
	why = oci_tls_hint(&code, CURLE_RECV_ERROR, 1, "the server closed the connection", &opts);
	CHECK(strstr(why, "client certificate") != NULL && !strstr(why, "--"));
	CHECK_EQ_INT(code, OCI_HINT_CLIENT_CERT);
}

int main(void)
{
	oci_init();
	RUN(test_resolve_url);
	RUN(test_same_origin);
	RUN(test_add_query);
	RUN(test_header_join);
	RUN(test_transfer_layout);
	RUN(test_transfer_copy);
	RUN(test_proxy_failure);
	RUN(test_tls_hints);
	TEST_END();
}
