/* The sync state file (ROOT/.state.json, read back by every step, so a
 * corrupt or hostile one must not hurt) and the status and metrics files
 * rendered from it. The input is the state file. Invariants: a failure
 * names the file; a loaded state saves and loads back to the same state;
 * the status file is one JSON object carrying the state's values; every
 * metrics line is a comment or an ocisync_ sample (no label can inject a
 * line). The first line of the input also goes through the RFC 3339
 * parser. */
#include "fuzz.h"

#include <jansson.h>

#include "sync_internal.h"

static char *state_file, *saved_file;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (asprintf(&state_file, "%s/.state.json", fuzz_sandbox()) < 0 ||
	    asprintf(&saved_file, "%s/saved.json", fuzz_sandbox()) < 0)
		abort();
	return 0;
}

static int same_str(const char *a, const char *b)
{
	/* save writes "" and NULL alike (null); load reads null as NULL */
	return !strcmp(a ? a : "", b ? b : "");
}

static void same_state(const sync_state *a, const sync_state *b)
{
	FUZZ_CHECK(!strcmp(a->digest, b->digest));
	FUZZ_CHECK(!strcmp(a->hook_digest, b->hook_digest) && !strcmp(a->hook_result, b->hook_result));
	FUZZ_CHECK(same_str(a->ref, b->ref) && same_str(a->tag, b->tag) && same_str(a->path, b->path));
	FUZZ_CHECK(same_str(a->created, b->created) && same_str(a->source, b->source) &&
		   same_str(a->revision, b->revision));
	FUZZ_CHECK(!memcmp(&a->counters, &b->counters, sizeof a->counters));
	FUZZ_CHECK(a->history.n == b->history.n);
	for (size_t i = 0; i < a->history.n; i++)
		FUZZ_CHECK(!strcmp(a->history.items[i], b->history.items[i]));
}

static void check_metrics(const char *text)
{
	const char *line = text;
	while (*line) {
		const char *end = strchr(line, '\n');
		FUZZ_CHECK(end != NULL); /* every line ends */
		if (strncmp(line, "# ", 2) && strncmp(line, "ocisync_", 8))
			fprintf(stderr, "metrics line: %.*s\n", (int)(end - line), line);
		FUZZ_CHECK(!strncmp(line, "# ", 2) || !strncmp(line, "ocisync_", 8));
		line = end + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!state_file)
		LLVMFuzzerInitialize(NULL, NULL);
	char *s = fuzz_cstring(data, size);
	if (s) {
		s[strcspn(s, "\n")] = '\0';
		double t;
		if (sync_parse_time(&t, s) == 0)
			FUZZ_CHECK(t == t); /* not NaN */
		free(s);
	}

	fuzz_write_file(state_file, data, size);
	sync_state st;
	int rc = sync_state_load(&st, state_file);
	FUZZ_CHECK_FAILURE(rc);
	if (rc != 0)
		return 0;
	FUZZ_CHECK(sync_state_save(&st, saved_file, 0) == 0);
	sync_state back;
	FUZZ_CHECK(sync_state_load(&back, saved_file) == 0);
	same_state(&st, &back);
	sync_state_dispose(&back);

	/* A step that failed (so the error text is in the status) and one
	 * that synced, both at a fixed time. */
	for (int i = 0; i < 2; i++) {
		oci_sync_result res;
		memset(&res, 0, sizeof res);
		res.status = i ? OCI_SYNC_SYNCED : OCI_SYNC_ERROR;
		snprintf(res.digest, sizeof res.digest, "%s", st.digest);
		snprintf(res.tag, sizeof res.tag, "%s", st.tag ? st.tag : "");
		snprintf(res.error, sizeof res.error, "error: %s", st.source ? st.source : "x");
		res.duration = 0.25;
		sync_report r = { .ref = st.ref, .label_ref = st.ref, .label_root = "/srv/root", .label_path = st.path,
				  .state = &st, .result = &res, .time = 1764300000.0 };
		char *json = NULL, *metrics = NULL;
		FUZZ_CHECK(sync_status_json(&json, &r) == 0);
		json_error_t jerr;
		json_t *o = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
		FUZZ_CHECK(json_is_object(o));
		FUZZ_CHECK(same_str(json_string_value(json_object_get(o, "ref")), st.ref));
		FUZZ_CHECK(same_str(json_string_value(json_object_get(o, "current_digest")), st.digest));
		json_decref(o);
		FUZZ_CHECK(sync_metrics_text(&metrics, &r) == 0);
		check_metrics(metrics);
		free(json);
		free(metrics);
	}
	sync_state_dispose(&st);
	return 0;
}
