/* ROOT/.state.json: what the last publish was, whether its hook passed, and
 * the counters the metrics report (so they survive restarts). Written with
 * tmp + fsync + rename, so a reader sees the old or the new state, whole. */
#include "sync_internal.h"
#include "error_internal.h"
#include "fileutil.h"

#include <jansson.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#define STATE_VERSION 1
#define STATE_MAX (1024 * 1024)

void sync_state_dispose(sync_state *s)
{
	free(s->ref);
	free(s->tag);
	free(s->created);
	free(s->source);
	free(s->revision);
	free(s->policy);
	free(s->policy_findings);
	free(s->path);
	free(s->trust);
	free(s->basic_auth_host);
	oci_strlist_dispose(&s->history);
	memset(s, 0, sizeof *s);
}

int sync_state_set(char **field, const char *value)
{
	char *v = NULL;
	if (value && !(v = strdup(value)))
		return OCI_ENOMEM_SET();
	free(*field);
	*field = v;
	return 0;
}

int sync_state_touch_history(sync_state *s, const char *hex)
{
	oci_strlist next = OCI_STRLIST_INIT;
	int rc = oci_strlist_push(&next, hex);
	for (size_t i = 0; i < s->history.n && !rc; i++)
		if (strcmp(s->history.items[i], hex) != 0)
			rc = oci_strlist_push(&next, s->history.items[i]);
	if (rc) {
		oci_strlist_dispose(&next);
		return rc;
	}
	oci_strlist_dispose(&s->history);
	s->history = next;
	return 0;
}

static void copy_str(char *dst, size_t n, json_t *v)
{
	const char *s = json_string_value(v);
	snprintf(dst, n, "%s", s ? s : "");
}

static double num(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : 0;
}

int sync_state_load(sync_state *s, const char *path)
{
	memset(s, 0, sizeof *s);
	oci_buf buf = OCI_BUF_INIT;
	json_t *root = NULL;
	struct stat lst;
	/* sync holds the lock on ROOT: a symlink here was put by someone else */
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
		return oci_error_set(OCI_EUNSAFE, "state file %s is a symlink; refusing to read or replace it", path);
	int rc = oci_read_file(&buf, path, STATE_MAX);
	if (rc == OCI_ENOTFOUND) {
		oci_error_clear();
		rc = 0;
		goto cleanup;
	}
	if (rc)
		goto cleanup;
	json_error_t jerr;
	root = json_loadb(buf.data, buf.len, 0, &jerr);
	if (!json_is_object(root)) {
		rc = oci_error_set(OCI_EINVALID, "state file %s is not a JSON object: %s", path,
				   root ? "wrong type" : jerr.text);
		goto cleanup;
	}
	copy_str(s->digest, sizeof s->digest, json_object_get(root, "digest"));
	if (s->digest[0] && oci_digest_validate(s->digest)) {
		rc = oci_error_set(OCI_EINVALID, "state file %s: bad digest", path);
		goto cleanup;
	}
	json_t *hook = json_object_get(root, "hook");
	copy_str(s->hook_digest, sizeof s->hook_digest, json_object_get(hook, "digest"));
	copy_str(s->hook_result, sizeof s->hook_result, json_object_get(hook, "result"));
	const char *fields[] = { "ref", "tag", "created", "source", "revision", "path", "policy", "policy_findings",
				 "verified_with" };
	char **dst[] = { &s->ref, &s->tag, &s->created, &s->source, &s->revision, &s->path, &s->policy,
			 &s->policy_findings, &s->trust };
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		const char *v = json_string_value(json_object_get(root, fields[i]));
		if (v && (rc = sync_state_set(dst[i], v)))
			goto cleanup;
	}
	json_t *auth = json_object_get(root, "auth");
	const char *scheme = json_string_value(json_object_get(auth, "scheme"));
	const char *host = json_string_value(json_object_get(auth, "host"));
	if (scheme && host && *host && !strcmp(scheme, "basic") && (rc = sync_state_set(&s->basic_auth_host, host)))
		goto cleanup;
	s->published = num(json_object_get(root, "published"));
	s->last_sync = num(json_object_get(root, "last_sync"));
	s->last_success = num(json_object_get(root, "last_success"));
	s->last_duration = num(json_object_get(root, "last_duration"));
	json_t *c = json_object_get(root, "counters");
	s->counters.synced = json_integer_value(json_object_get(c, "synced"));
	s->counters.unchanged = json_integer_value(json_object_get(c, "unchanged"));
	s->counters.error = json_integer_value(json_object_get(c, "error"));
	s->counters.interrupted = json_integer_value(json_object_get(c, "interrupted"));
	s->counters.hook_failures = json_integer_value(json_object_get(c, "hook_failures"));
	json_t *h = json_object_get(root, "history");
	size_t i;
	json_t *item;
	json_array_foreach(h, i, item) {
		const char *hex = json_string_value(item);
		if (hex && sync_is_hex(hex, strlen(hex)) && (rc = oci_strlist_push(&s->history, hex)))
			goto cleanup;
	}
cleanup:
	if (rc)
		sync_state_dispose(s);
	json_decref(root);
	oci_buf_dispose(&buf);
	return rc;
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

int sync_state_save(const sync_state *s, const char *path, int durable)
{
	int rc = 0;
	char *text = NULL;
	json_t *hist = json_array();
	for (size_t i = 0; hist && i < s->history.n; i++)
		json_array_append_new(hist, json_string(s->history.items[i]));
	json_t *root = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o}, s:f, s:f, s:f, s:f,"
				 " s:{s:I, s:I, s:I, s:I, s:I}, s:o}",
				 "version", STATE_VERSION,
				 "ref", str_or_null(s->ref), "tag", str_or_null(s->tag),
				 "digest", str_or_null(s->digest),
				 "created", str_or_null(s->created), "source", str_or_null(s->source),
				 "revision", str_or_null(s->revision), "path", str_or_null(s->path),
				 "hook", "digest", str_or_null(s->hook_digest), "result", str_or_null(s->hook_result),
				 "published", s->published, "last_sync", s->last_sync,
				 "last_success", s->last_success, "last_duration", s->last_duration,
				 "counters", "synced", (json_int_t)s->counters.synced,
				 "unchanged", (json_int_t)s->counters.unchanged, "error", (json_int_t)s->counters.error,
				 "interrupted", (json_int_t)s->counters.interrupted,
				 "hook_failures", (json_int_t)s->counters.hook_failures,
				 "history", hist ? hist : json_array());
	if (root) {
		json_object_set_new(root, "policy", str_or_null(s->policy));
		json_object_set_new(root, "policy_findings", str_or_null(s->policy_findings));
		/* the trusted keys digest was verified with (sha256 of each) */
		json_object_set_new(root, "verified_with", str_or_null(s->trust));
		/* what the registry asked for: the scheme alone, no secret */
		json_object_set_new(root, "auth", s->basic_auth_host && *s->basic_auth_host
					  ? json_pack("{s:s, s:s}", "host", s->basic_auth_host, "scheme", "basic")
					  : json_null());
	}
	if (!root || !(text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	size_t len = strlen(text);
	text[len] = '\0';
	char *nl = realloc(text, len + 2);
	if (!nl) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	text = nl;
	memcpy(text + len, "\n", 2);
	rc = sync_write_atomic(path, text, len + 1, durable);
cleanup:
	free(text);
	json_decref(root);
	return rc;
}
