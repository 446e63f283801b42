/* What a sync tells operators: a JSON status file and a Prometheus text
 * file (node_exporter's textfile collector), both replaced atomically after
 * every step so a scraper never reads half a file. Counters come from the
 * state, so they survive restarts. */
#include "sync_internal.h"
#include "error_internal.h"
#include "fileutil.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

int sync_status_json(char **out, const sync_report *r)
{
	*out = NULL;
	const sync_state *st = r->state;
	const oci_sync_result *res = r->result;
	char when[40];
	sync_format_time(when, r->time);
	json_t *o = json_object();
	if (!o)
		return OCI_ENOMEM_SET();
	json_object_set_new(o, "ref", str_or_null(r->ref));
	json_object_set_new(o, "tag", str_or_null(res->tag));
	json_object_set_new(o, "digest", str_or_null(res->digest[0] ? res->digest : NULL));
	/* what consumers see now (on error: still the previous revision) */
	json_object_set_new(o, "current_digest", str_or_null(st->digest));
	json_object_set_new(o, "previous_digest", str_or_null(res->previous_digest));
	json_object_set_new(o, "revision", str_or_null(st->revision));
	json_object_set_new(o, "source", str_or_null(st->source));
	json_object_set_new(o, "created", str_or_null(st->created));
	json_object_set_new(o, "result", json_string(oci_sync_status_name(res->status)));
	int failed = res->status == OCI_SYNC_ERROR || res->status == OCI_SYNC_INTERRUPTED;
	json_object_set_new(o, "error", failed ? json_string(res->error) : json_null());
	/* what kind of failure, for alerts: "timeout", "network", "verification failed", ... */
	json_object_set_new(o, "error_kind", failed ? json_string(oci_error_name(res->error_code))
									 : json_null());
	/* what to change, for an operator without ocisync's own words: the
	 * hint's stable name ("raise_timeout"), null when there is none */
	json_object_set_new(o, "hint", str_or_null(failed ? oci_hint_name(res->error_hint) : NULL));
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "duration_seconds", json_real(res->duration));
	json_object_set_new(o, "revision_dir", str_or_null(res->revision_dir));
	if (res->hook_ran)
		json_object_set_new(o, "hook", json_pack("{s:i, s:b}", "exit", res->hook_exit, "timed_out",
							 res->hook_timed_out));
	else
		json_object_set_new(o, "hook", json_null());
	json_object_set_new(o, "files_written", json_integer(res->stats.files_written));
	json_object_set_new(o, "files_linked", json_integer(res->stats.files_linked));
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (!text)
		return OCI_ENOMEM_SET();
	size_t len = strlen(text);
	char *t2 = realloc(text, len + 2);
	if (!t2) {
		free(text);
		return OCI_ENOMEM_SET();
	}
	memcpy(t2 + len, "\n", 2);
	*out = t2;
	return 0;
}

/* A label value in the exposition format: \ " and newline escaped. */
static int label(oci_buf *b, const char *name, const char *value, int first)
{
	int rc = oci_buf_append(b, first ? "" : ",", first ? 0 : 1);
	if (!rc)
		rc = oci_buf_append(b, name, strlen(name));
	if (!rc)
		rc = oci_buf_append(b, "=\"", 2);
	for (const char *p = value ? value : ""; *p && !rc; p++) {
		if (*p == '\\')
			rc = oci_buf_append(b, "\\\\", 2);
		else if (*p == '"')
			rc = oci_buf_append(b, "\\\"", 2);
		else if (*p == '\n')
			rc = oci_buf_append(b, "\\n", 2);
		else
			rc = oci_buf_append(b, p, 1);
	}
	return rc ? rc : oci_buf_append(b, "\"", 1);
}

static int printf_buf(oci_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int printf_buf(oci_buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return oci_error_set(OCI_ERROR, "formatting metrics");
	return oci_buf_append(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static int header(oci_buf *b, const char *name, const char *type, const char *help)
{
	return printf_buf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* What the served artifact's push recorded about its lint: whether it was
 * checked, and the findings by severity (the policy violation rate a fleet
 * dashboard sums). Artifacts pushed by other tools say nothing: 0. */
static int series(oci_buf *b, const char *name, const char *labels, const char *extra, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int policy_metrics(oci_buf *b, const sync_state *st, const char *L)
{
	int checked = st->policy && strncmp(st->policy, "sha256:", 7) == 0;
	int rc = header(b, "ocisync_policy_checked", "gauge",
			"1 when the served artifact was linted at push (io.ocisync.policy), else 0.");
	if (!rc)
		rc = series(b, "ocisync_policy_checked", L, NULL, "%d", checked);
	json_t *f = checked && st->policy_findings ? json_loads(st->policy_findings, 0, NULL) : NULL;
	if (!rc && json_is_object(f)) {
		rc = header(b, "ocisync_policy_findings", "gauge",
			    "Lint findings the served artifact was pushed with, by severity.");
		static const char *const sev[] = { "error", "warning" };
		for (size_t i = 0; !rc && i < 2; i++) {
			json_t *v = json_object_get(f, sev[i]);
			char extra[40];
			snprintf(extra, sizeof extra, ",severity=\"%s\"", sev[i]);
			if (json_is_integer(v))
				rc = series(b, "ocisync_policy_findings", L, extra, "%lld",
					    (long long)json_integer_value(v));
		}
	}
	json_decref(f);
	return rc;
}

/* NAME{LABELS[,extra]} VALUE: every series carries ref, root and path, so
 * the files of two syncs on one node are distinct series to node_exporter
 * (which refuses the same series from two files). */
static int series(oci_buf *b, const char *name, const char *labels, const char *extra, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int series(oci_buf *b, const char *name, const char *labels, const char *extra, const char *fmt, ...)
{
	char value[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(value, sizeof value, fmt, ap);
	va_end(ap);
	int rc = oci_buf_append(b, name, strlen(name));
	if (!rc)
		rc = oci_buf_append(b, "{", 1);
	if (!rc)
		rc = oci_buf_append(b, labels, strlen(labels));
	if (!rc && extra)
		rc = oci_buf_append(b, extra, strlen(extra));
	if (!rc)
		rc = oci_buf_append(b, "} ", 2);
	if (!rc)
		rc = oci_buf_append(b, value, strlen(value));
	return rc ? rc : oci_buf_append(b, "\n", 1);
}

int sync_metrics_text(char **out, const sync_report *r)
{
	*out = NULL;
	const sync_state *st = r->state;
	oci_buf b = OCI_BUF_INIT, lb = OCI_BUF_INIT;
	int rc = label(&lb, "ref", r->label_ref ? r->label_ref : r->ref, 1);
	if (!rc)
		rc = label(&lb, "root", r->label_root, 0);
	if (!rc)
		rc = label(&lb, "path", r->label_path, 0);
	const char *L = rc ? "" : lb.data;
	if (!rc)
		rc = header(&b, "ocisync_sync_total", "counter", "Sync steps by result.");
	if (!rc)
		rc = series(&b, "ocisync_sync_total", L, ",result=\"synced\"", "%lld", (long long)st->counters.synced);
	if (!rc)
		rc = series(&b, "ocisync_sync_total", L, ",result=\"unchanged\"", "%lld",
			    (long long)st->counters.unchanged);
	if (!rc)
		rc = series(&b, "ocisync_sync_total", L, ",result=\"error\"", "%lld", (long long)st->counters.error);
	if (!rc)
		rc = series(&b, "ocisync_sync_total", L, ",result=\"interrupted\"", "%lld",
			    (long long)st->counters.interrupted);
	if (!rc)
		rc = header(&b, "ocisync_last_sync_timestamp_seconds", "gauge", "When the last sync step ran.");
	if (!rc)
		rc = series(&b, "ocisync_last_sync_timestamp_seconds", L, NULL, "%.3f", st->last_sync);
	if (!rc)
		rc = header(&b, "ocisync_last_success_timestamp_seconds", "gauge",
			    "When a sync step last succeeded (synced or unchanged).");
	if (!rc)
		rc = series(&b, "ocisync_last_success_timestamp_seconds", L, NULL, "%.3f", st->last_success);
	if (!rc)
		rc = header(&b, "ocisync_sync_duration_seconds", "gauge", "How long the last sync step took.");
	if (!rc)
		rc = series(&b, "ocisync_sync_duration_seconds", L, NULL, "%.6f", st->last_duration);
	if (!rc)
		rc = header(&b, "ocisync_hook_failures_total", "counter", "Hook runs that failed or timed out.");
	if (!rc)
		rc = series(&b, "ocisync_hook_failures_total", L, NULL, "%lld", (long long)st->counters.hook_failures);
	if (!rc && st->digest[0]) {
		oci_buf info = OCI_BUF_INIT;
		rc = oci_buf_append(&info, ",", 1);
		if (!rc)
			rc = label(&info, "digest", st->digest, 1);
		if (!rc)
			rc = label(&info, "revision", st->revision, 0);
		if (!rc)
			rc = label(&info, "source", st->source, 0);
		if (!rc)
			rc = header(&b, "ocisync_artifact_info", "gauge", "The artifact the link serves.");
		if (!rc)
			rc = series(&b, "ocisync_artifact_info", L, info.data, "1");
		oci_buf_dispose(&info);
		if (!rc)
			rc = policy_metrics(&b, st, L);
		double created;
		if (!rc && st->created && sync_parse_time(&created, st->created) == 0) {
			rc = header(&b, "ocisync_artifact_created_timestamp_seconds", "gauge",
				    "The served artifact's org.opencontainers.image.created annotation.");
			if (!rc)
				rc = series(&b, "ocisync_artifact_created_timestamp_seconds", L, NULL, "%.3f", created);
			if (!rc && st->published > 0) {
				rc = header(&b, "ocisync_lead_time_seconds", "gauge",
					    "Publish time minus the artifact's created time (lead time from CI to cluster).");
				if (!rc)
					rc = series(&b, "ocisync_lead_time_seconds", L, NULL, "%.3f", st->published - created);
			}
		}
	}
	oci_buf_dispose(&lb);
	if (rc) {
		oci_buf_dispose(&b);
		return rc;
	}
	*out = b.data;
	return 0;
}

static int write_text(const char *file, char *text)
{
	int rc = sync_write_atomic(file, text, strlen(text), 0);
	free(text);
	return rc;
}

int sync_write_status(const char *file, const sync_report *r)
{
	char *text;
	int rc = sync_status_json(&text, r);
	if (rc)
		return rc;
	if ((rc = write_text(file, text)))
		oci_error_wrap("writing status file");
	return rc;
}

int sync_write_metrics(const char *file, const sync_report *r)
{
	char *text;
	int rc = sync_metrics_text(&text, r);
	if (rc)
		return rc;
	if ((rc = write_text(file, text)))
		oci_error_wrap("writing metrics file");
	return rc;
}
