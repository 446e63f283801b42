/* sync: the state file, times, the status and metrics texts. */
#include "test.h"
#include "oci/oci.h"
#include "sync_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void test_time(void)
{
	double t;
	CHECK_EQ_INT(sync_parse_time(&t, "2024-01-02T03:04:05Z"), 0);
	CHECK_EQ_INT((long long)t, 1704164645);
	CHECK_EQ_INT(sync_parse_time(&t, "2024-01-02T04:04:05+01:00"), 0);
	CHECK_EQ_INT((long long)t, 1704164645);
	CHECK_EQ_INT(sync_parse_time(&t, "2024-01-02T03:04:05.5Z"), 0);
	CHECK(t > 1704164645.4 && t < 1704164645.6);
	CHECK_EQ_INT(sync_parse_time(&t, "2024-01-02 03:04:05"), -1);
	CHECK_EQ_INT(sync_parse_time(&t, "yesterday"), -1);
	CHECK_EQ_INT(sync_parse_time(&t, NULL), -1);
	char s[40];
	sync_format_time(s, 1704164645.25);
	CHECK_STR(s, "2024-01-02T03:04:05.250Z");
	CHECK(sync_is_hex("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 64));
	CHECK(!sync_is_hex("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", 64));
	CHECK(!sync_is_hex("abc", 3));
}

static const char *D1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

static void test_state_roundtrip(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/.state.json", dir);
	sync_state s;
	/* missing file: empty state */
	CHECK_EQ_INT(sync_state_load(&s, path), 0);
	CHECK_STR(s.digest, "");
	CHECK_EQ_INT(s.counters.synced, 0);
	snprintf(s.digest, sizeof s.digest, "%s", D1);
	snprintf(s.hook_digest, sizeof s.hook_digest, "%s", D1);
	snprintf(s.hook_result, sizeof s.hook_result, "failed");
	sync_state_set(&s.ref, "127.0.0.1:5000/app:prod");
	sync_state_set(&s.created, "2024-01-02T03:04:05Z");
	sync_state_set(&s.source, "https://example.com/\"repo\"");
	s.published = 1704164700.5;
	s.counters.synced = 3;
	s.counters.unchanged = 41;
	s.counters.error = 2;
	s.counters.hook_failures = 1;
	sync_state_touch_history(&s, "aa");
	sync_state_touch_history(&s, "bb");
	sync_state_touch_history(&s, "aa"); /* moves to the front */
	CHECK_EQ_INT(s.history.n, 2);
	CHECK_STR(s.history.items[0], "aa");
	CHECK_EQ_INT(sync_state_save(&s, path, 1), 0);
	struct stat st;
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0644);
	sync_state_dispose(&s);

	sync_state r;
	CHECK_EQ_INT(sync_state_load(&r, path), 0);
	CHECK_STR(r.digest, D1);
	CHECK_STR(r.hook_result, "failed");
	CHECK_STR(r.ref, "127.0.0.1:5000/app:prod");
	CHECK_STR(r.source, "https://example.com/\"repo\"");
	CHECK(r.revision == NULL);
	CHECK_EQ_INT(r.counters.unchanged, 41);
	CHECK_EQ_INT(r.counters.hook_failures, 1);
	CHECK(r.published > 1704164700.4 && r.published < 1704164700.6);
	/* history keeps only revision names (64 hex); "aa"/"bb" are dropped */
	CHECK_EQ_INT(r.history.n, 0);
	sync_state_dispose(&r);

	/* a corrupt file is reported, naming it */
	FILE *f = fopen(path, "w");
	fputs("{not json", f);
	fclose(f);
	CHECK_EQ_INT(sync_state_load(&r, path), OCI_EINVALID);
	CHECK_ERR_CONTAINS(".state.json");
	f = fopen(path, "w");
	fputs("{\"digest\":\"sha256:nothex\"}", f);
	fclose(f);
	CHECK_EQ_INT(sync_state_load(&r, path), OCI_EINVALID);
	CHECK_ERR_CONTAINS("bad digest");
	unlink(path);
}

static void test_reports(void)
{
	sync_state s;
	memset(&s, 0, sizeof s);
	snprintf(s.digest, sizeof s.digest, "%s", D1);
	sync_state_set(&s.created, "2024-01-02T03:04:05Z");
	sync_state_set(&s.source, "https://git.example/a\"b\\c");
	sync_state_set(&s.revision, "main@sha1:abc");
	s.published = 1704164645 + 90.0;
	s.last_sync = 1704164800;
	s.last_success = 1704164800;
	s.last_duration = 0.25;
	s.counters.synced = 2;
	s.counters.unchanged = 5;
	s.counters.error = 1;
	s.counters.hook_failures = 1;
	oci_sync_result res;
	memset(&res, 0, sizeof res);
	res.status = OCI_SYNC_UNCHANGED;
	snprintf(res.digest, sizeof res.digest, "%s", D1);
	sync_report rep = { "reg/app:prod", "reg/app:prod", "/srv/r\"1", "envs/eu", &s, &res, 1704164800 };

	char *m = NULL;
	CHECK_EQ_INT(sync_metrics_text(&m, &rep), 0);
	/* every series carries ref, root and path; a quote in ROOT is escaped */
#define LB "ref=\"reg/app:prod\",root=\"/srv/r\\\"1\",path=\"envs/eu\""
	const char *want[] = {
		"# TYPE ocisync_sync_total counter\n",
		"ocisync_sync_total{" LB ",result=\"synced\"} 2\n",
		"ocisync_sync_total{" LB ",result=\"unchanged\"} 5\n",
		"ocisync_sync_total{" LB ",result=\"error\"} 1\n",
		"ocisync_sync_total{" LB ",result=\"interrupted\"} 0\n",
		"# HELP ocisync_last_sync_timestamp_seconds ",
		"ocisync_last_sync_timestamp_seconds{" LB "} 1704164800.000\n",
		"ocisync_last_success_timestamp_seconds{" LB "} 1704164800.000\n",
		"# TYPE ocisync_sync_duration_seconds gauge\n",
		"ocisync_sync_duration_seconds{" LB "} 0.250000\n",
		"ocisync_hook_failures_total{" LB "} 1\n",
		"ocisync_artifact_info{" LB ",digest=\"" "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		"\",revision=\"main@sha1:abc\",source=\"https://git.example/a\\\"b\\\\c\"} 1\n",
		"ocisync_artifact_created_timestamp_seconds{" LB "} 1704164645.000\n",
		"# TYPE ocisync_lead_time_seconds gauge\n",
		"ocisync_lead_time_seconds{" LB "} 90.000\n",
	};
	for (size_t i = 0; m && i < sizeof want / sizeof want[0]; i++) {
		if (!strstr(m, want[i]))
			fprintf(stderr, "metrics lack: %s\n---\n%s", want[i], m);
		CHECK(strstr(m, want[i]) != NULL);
	}
	free(m);

	/* unchanged: no error, no hint (both present, null) */
	char *j0 = NULL;
	CHECK_EQ_INT(sync_status_json(&j0, &rep), 0);
	json_t *o0 = json_loads(j0, 0, NULL);
	CHECK(o0 != NULL);
	CHECK(json_is_null(json_object_get(o0, "error")));
	CHECK(json_is_null(json_object_get(o0, "hint")));
	json_decref(o0);
	free(j0);

	res.status = OCI_SYNC_ERROR;
	snprintf(res.error, sizeof res.error, "signature verification of X failed");
	char *j = NULL;
	CHECK_EQ_INT(sync_status_json(&j, &rep), 0);
	json_error_t jerr;
	json_t *o = json_loads(j, 0, &jerr);
	CHECK(o != NULL);
	CHECK_STR(json_string_value(json_object_get(o, "result")), "error");
	CHECK_STR(json_string_value(json_object_get(o, "error")), "signature verification of X failed");
	CHECK(json_is_null(json_object_get(o, "hint"))); /* the error has none */
	CHECK_STR(json_string_value(json_object_get(o, "ref")), "reg/app:prod");
	CHECK_STR(json_string_value(json_object_get(o, "revision")), "main@sha1:abc");
	CHECK_STR(json_string_value(json_object_get(o, "created")), "2024-01-02T03:04:05Z");
	CHECK_STR(json_string_value(json_object_get(o, "time")), "2024-01-02T03:06:40.000Z");
	CHECK(json_is_number(json_object_get(o, "duration_seconds")));
	json_decref(o);
	free(j);

	/* an error with a hint: its name, for an operator without ocisync */
	res.error_code = OCI_ETIMEOUT;
	res.error_hint = OCI_HINT_RAISE_TIMEOUT;
	CHECK_EQ_INT(sync_status_json(&j, &rep), 0);
	o = json_loads(j, 0, &jerr);
	CHECK(o != NULL);
	CHECK_STR(json_string_value(json_object_get(o, "error_kind")), "timeout");
	CHECK_STR(json_string_value(json_object_get(o, "hint")), "raise_timeout");
	json_decref(o);
	free(j);

	/* no artifact yet: no info, created or lead-time series */
	s.digest[0] = '\0';
	CHECK_EQ_INT(sync_metrics_text(&m, &rep), 0);
	CHECK(strstr(m, "ocisync_artifact_info") == NULL);
	CHECK(strstr(m, "ocisync_lead_time_seconds") == NULL);
	free(m);

	char path[512];
	snprintf(path, sizeof path, "%s/metrics.prom", dir);
	CHECK_EQ_INT(sync_write_metrics(path, &rep), 0);
	CHECK_EQ_INT(access(path, R_OK), 0);
	snprintf(path, sizeof path, "%s/no/such/dir/status.json", dir);
	CHECK(sync_write_status(path, &rep) < 0);
	CHECK_ERR_CONTAINS("writing status file");
	sync_state_dispose(&s);
}

/* --http-bind addresses: loopback unless every interface is written out;
 * names are not resolved. */
static void test_parse_bind(void)
{
	const char *good[] = { "9090", "127.0.0.1:9090", ":9090", "0.0.0.0:1", "[::1]:65535", "[::]:80" };
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		CHECK_EQ_INT(oci_sync_parse_bind(good[i]), 0);
	struct { const char *addr, *msg; } bad[] = {
		{ "", "the HTTP bind address is empty: write one like 127.0.0.1:9090, :9090 or 9090" },
		{ "localhost:9090", "the HTTP bind address 'localhost:9090': 'localhost' is not an IP address" },
		{ "127.0.0.1:0", "the port must be a number from 1 to 65535" },
		{ "127.0.0.1:65536", "the port must be a number from 1 to 65535" },
		{ "127.0.0.1:", "the port must be a number" },
		{ "9090x", "the port must be a number" },
		{ "::1:9090", "an IPv6 address is written [ADDR]:PORT" },
		{ "[::1]9090", "an IPv6 address is written [ADDR]:PORT" },
		{ "[127.0.0.1]:80", "is not an IP address" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		CHECK_EQ_INT(oci_sync_parse_bind(bad[i].addr), OCI_EINVALID);
		CHECK_ERR_CONTAINS(bad[i].msg);
		/* the option is the program's to name: a hint, not the message */
		CHECK(strstr(oci_error_last()->message, "--") == NULL);
		CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_HTTP_BIND);
	}
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_sync_state.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(test_time);
	RUN(test_state_roundtrip);
	RUN(test_reports);
	RUN(test_parse_bind);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	TEST_END();
}
