/* ocisync sync REF --root DIR: the cluster-side puller, once (CronJob) or as
 * a loop. Parsing, signals and printing; every decision is in liboci's
 * oci_sync_once / oci_sync_loop. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "keys.h"
#include "oci/sign.h"
#include "oci/sync.h"

/* Shorter than the period of any sensible CronJob running sync --once, so
 * a stalled run never holds the lock into the next one. */
#define CLI_SYNC_TIMEOUT_MS (10 * 60 * 1000)

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t wake_flag;

/* SIGTERM stops at once (cli_cancel: the transfer aborts, the hook gets
 * SIGTERM then SIGKILL after --exec-grace); a first Ctrl-C lets the sync
 * in hand finish, a second one stops at once. */
static void on_stop(int sig)
{
	if (sig == SIGTERM || stop_flag) {
		cli_stop_signal = sig;
		cli_cancel = 1;
	}
	stop_flag = 1;
}

static void on_wake(int sig)
{
	(void)sig;
	wake_flag = 1;
}

typedef struct sync_cli {
	cli *c;
	const char *refstr;
	const oci_ref *ref;
	const oci_verifier *verifier; /* NULL without --verify-key */
} sync_cli;

static void on_log(void *ctx, oci_log_level level, const char *line)
{
	sync_cli *sc = ctx;
	(void)level;
	if (!sc->c->quiet)
		fprintf(stderr, "ocisync sync: %s\n", line);
}

/* "REPO:TAG" when a tag was resolved, else the reference as written. */
static char *shown_ref(sync_cli *sc, const oci_sync_result *r)
{
	char *repo = NULL, *out = NULL;
	if (r->tag[0] && oci_ref_format_repo(&repo, sc->ref) == 0) {
		if (asprintf(&out, "%s:%s", repo, r->tag) < 0)
			out = NULL;
		free(repo);
	}
	return out ? out : strdup(sc->refstr);
}

static void print_result(sync_cli *sc, const oci_sync_result *r)
{
	cli *c = sc->c;
	char error[sizeof r->error + 512];
	cli_error_text(error, sizeof error, r->error, r->error_hint, r->error_hint_subject);
	char *ref = shown_ref(sc, r);
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:I, s:I, s:b, s:f}",
				      "result", oci_sync_status_name(r->status), "reference", ref,
				      "digest", r->digest[0] ? r->digest : NULL,
				      "previous_digest", r->previous_digest[0] ? r->previous_digest : NULL,
				      "tag", r->tag[0] ? r->tag : NULL,
				      "revision_dir", r->revision_dir[0] ? r->revision_dir : NULL,
				      "files_written", (json_int_t)r->stats.files_written,
				      "files_linked", (json_int_t)r->stats.files_linked,
				      "reused_revision", r->reused_revision, "duration_seconds", r->duration);
		if (o && r->hook_ran)
			json_object_set_new(o, "hook", json_pack("{s:i, s:b}", "exit", r->hook_exit, "timed_out",
								 r->hook_timed_out));
		if (o && r->status == OCI_SYNC_SYNCED && sc->verifier && oci_verifier_source(sc->verifier))
			json_object_set_new(o, "signature", json_string(oci_verifier_source(sc->verifier)));
		if (o && (r->status == OCI_SYNC_ERROR || r->status == OCI_SYNC_INTERRUPTED))
			json_object_set_new(o, "error", json_string(error));
		if (o)
			cli_print_json(o);
	} else if ((r->status == OCI_SYNC_SYNCED || r->status == OCI_SYNC_UNCHANGED) && !c->quiet) {
		if (r->status == OCI_SYNC_SYNCED) {
			printf("synced %s (%s)\n", r->digest, ref ? ref : sc->refstr);
			if (sc->verifier && oci_verifier_source(sc->verifier))
				fprintf(stderr, "ocisync sync: verified %s with %s\n", r->digest,
					oci_verifier_source(sc->verifier));
		}
		else
			printf("unchanged %s\n", r->digest);
	}
	if (r->status == OCI_SYNC_ERROR || r->status == OCI_SYNC_INTERRUPTED)
		fprintf(stderr, "ocisync sync: %s\n", error);
	fflush(stdout);
	free(ref);
}

static void on_event(void *ctx, const oci_event *ev)
{
	if (ev->type == OCI_EVENT_SYNC_STEP) {
		print_result(ctx, ev->sync_result);
		return;
	}
	/* hook output goes to stderr whatever its stream, so stdout stays one
	 * result per line (one JSON object per line with -o json) */
	fprintf(stderr, "hook%s: %s\n", ev->type == OCI_EVENT_HOOK_STDERR ? "[stderr]" : "", ev->line);
}

/* 0 when FILE's directory exists (or FILE is not given), else a usage error. */
static int check_report_dir(cli *c, const char *option, const char *file)
{
	if (!file)
		return 0;
	if (!*file)
		return cli_usage_error(c, "%s needs a file name", option);
	const char *slash = strrchr(file, '/');
	char dir[4096];
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == file)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - file), file);
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return cli_usage_error(c, "%s %s: directory %s does not exist", option, file, dir);
	return 0;
}

/* Strict non-negative integer option. */
static int parse_count(const char *s, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > 1000000)
		return -1;
	*out = v;
	return 0;
}

static int cmd_sync(cli *c, int argc, char **argv)
{
	oci_sync_opts opts; oci_sync_opts_init(&opts);
	oci_sync_loop_opts loop; oci_sync_loop_opts_init(&loop);
	oci_strlist keys = OCI_STRLIST_INIT;
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	oci_verifier *verifier = NULL;
	char *trust = NULL;
	int once = 0, have_interval = 0, have_jitter = 0;
	long n;
	int64_t ms;
	const char *why;
	int rc = EXIT_FAIL, opt;
	cli_args a;
	cli_args_init(&a, c, &cli_cmd_sync, argc, argv);
	while ((opt = cli_args_next(&a)) > 0) {
		switch (opt) {
		case 'r': opts.root = a.value; break;
		case 'l': opts.link = a.value; break;
		case '1': once = 1; break;
		case 'i':
			if (cli_parse_duration_ms(&ms, a.value, &why) < 0 || (ms <= 0 && (why = "must be longer than 0"))) {
				rc = cli_usage_error(c, "--interval takes a duration like 30s, 5m or 1h: '%s' %s", a.value, why);
				goto cleanup;
			}
			loop.interval_ms = ms;
			have_interval = 1;
			break;
		case 'j': {
			/* "10" or "10%" */
			char num[16];
			snprintf(num, sizeof num, "%s", a.value);
			size_t len = strlen(num);
			if (len && num[len - 1] == '%')
				num[len - 1] = '\0';
			if (strlen(a.value) >= sizeof num || parse_count(num, &n) || n > 50) {
				rc = cli_usage_error(c, "--jitter takes a percentage from 0 to 50 (like 10 or 10%%), not '%s'", a.value);
				goto cleanup;
			}
			loop.jitter_percent = n ? (int)n : OCI_SYNC_NO_JITTER;
			have_jitter = 1;
			break;
		}
		case 'K':
			if (parse_count(a.value, &n) || n < 1) {
				rc = cli_usage_error(c, "--keep takes a number of revisions (1 or more), not '%s'", a.value);
				goto cleanup;
			}
			opts.keep = (int)n;
			break;
		case 'k': oci_strlist_push(&keys, a.value); break;
		case 's': opts.semver = a.value; break;
		case 'p': opts.path = a.value; break;
		case 'e': opts.exec = a.value; break;
		case 't':
			if (cli_parse_duration_ms(&ms, a.value, &why) < 0 || (ms <= 0 && (why = "must be longer than 0"))) {
				rc = cli_usage_error(c, "--exec-timeout takes a duration like 30s or 5m: '%s' %s", a.value, why);
				goto cleanup;
			}
			opts.exec_timeout_ms = ms;
			break;
		case 'g':
			if (cli_parse_duration_ms(&ms, a.value, &why) < 0 || (ms <= 0 && (why = "must be longer than 0"))) {
				rc = cli_usage_error(c, "--exec-grace takes a duration like 10s or 500ms: '%s' %s", a.value, why);
				goto cleanup;
			}
			opts.exec_kill_grace_ms = ms;
			break;
		case 'F':
			if (parse_count(a.value, &n) || n < 1) {
				rc = cli_usage_error(c, "--max-failures takes a number (1 or more), not '%s'", a.value);
				goto cleanup;
			}
			loop.max_failures = (int)n;
			break;
		case 'm':
			if ((rc = cli_parse_limit(c, &opts.max_size, "--max-size", a.value)) != 0)
				goto cleanup;
			break;
		case 'n':
			if ((rc = cli_parse_limit(c, &opts.max_entries, "--max-entries", a.value)) != 0)
				goto cleanup;
			break;
		case 'P': opts.publisher_limits = 1; break;
		case 'S': opts.status_file = a.value; break;
		case 'M': opts.metrics_file = a.value; break;
		case 'R':
			if (!strcmp(a.value, "withdraw") || !strcmp(a.value, "keep")) {
				opts.keep_revoked = !strcmp(a.value, "keep");
				break;
			}
			rc = cli_usage_error(c, "--on-revoked takes withdraw or keep, not '%s'", a.value);
			goto cleanup;
		case 'H':
			if (oci_sync_parse_bind(a.value) < 0) {
				rc = cli_usage_error(c, "%s", cli_last_error());
				goto cleanup;
			}
			loop.http_bind = a.value;
			break;
		}
	}
	if (opt < 0) {
		rc = a.rc;
		goto cleanup;
	}
	if (a.nargs != 1) {
		rc = cli_usage_error(c, "sync takes one REF (and --root DIR)");
		goto cleanup;
	}
	if (!opts.root || !*opts.root) {
		rc = cli_usage_error(c, "sync needs --root DIR");
		goto cleanup;
	}
	if (once && have_interval) {
		rc = cli_usage_error(c, "--once and --interval exclude each other");
		goto cleanup;
	}
	if (once && have_jitter) {
		rc = cli_usage_error(c, "--jitter spreads the loop's waits; it does not apply to --once "
					  "(a CronJob's schedule decides when that runs)");
		goto cleanup;
	}
	if (once && loop.http_bind) {
		rc = cli_usage_error(c, "--http-bind serves the loop; it does not apply to --once");
		goto cleanup;
	}
	/* checked before anything is published: a sync that cannot report
	 * would publish and then fail every run */
	if ((rc = check_report_dir(c, "--status-file", opts.status_file)) ||
	    (rc = check_report_dir(c, "--metrics-file", opts.metrics_file)))
		goto cleanup;
	if (once && loop.max_failures) {
		rc = cli_usage_error(c, "--max-failures applies to the loop, not to --once");
		goto cleanup;
	}
	if (opts.link && (!*opts.link || strchr(opts.link, '/') || opts.link[0] == '.')) {
		rc = cli_usage_error(c, "--link takes a plain name not starting with '.', not '%s'", opts.link);
		goto cleanup;
	}
	if (opts.semver) {
		oci_semver_range *range = NULL;
		if (oci_semver_range_parse(&range, opts.semver) < 0) {
			rc = cli_usage_error(c, "%s", cli_last_error());
			goto cleanup;
		}
		oci_semver_range_free(range);
	}
	if ((rc = (keys.n ? cli_verifier_load(c, &verifier, &keys, NULL) : 0)) != 0)
		goto cleanup;
	c->client.cancel = &cli_cancel;
	opts.cancel = &cli_cancel;
	if ((rc = cli_open_target(c, a.args[0], &ref, &t)) != 0)
		goto cleanup;
	if (opts.semver && (ref->digest || ref->tags.n)) {
		rc = cli_usage_error(c, "with --semver, REF names a repository without tag or digest");
		goto cleanup;
	}
	if (verifier) {
		opts.verify = oci_verifier_check;
		opts.verify_ctx = verifier;
		if (oci_verifier_fingerprint(&trust, verifier) < 0) {
			rc = cli_fail(c, "--verify-key");
			goto cleanup;
		}
		opts.trust = trust;
	}
	sync_cli sc = { c, a.args[0], ref, verifier };
	/* the deadline runs per sync, not from the start of the process */
	opts.timeout_ms = c->timeout_set ? c->client.timeout_ms : CLI_SYNC_TIMEOUT_MS;
	oci_target_set_timeout(t, 0);
	opts.callbacks.log = on_log;
	opts.callbacks.event = on_event;
	opts.callbacks.payload = &sc;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (once) {
		oci_sync_result *res = malloc(sizeof *res);
		if (!res) {
			rc = EXIT_FAIL;
			goto cleanup;
		}
		oci_sync_once(res, t, &opts);
		print_result(&sc, res);
		rc = res->status == OCI_SYNC_INTERRUPTED ? cli_exit_interrupted()
		     : res->status == OCI_SYNC_ERROR ? EXIT_FAIL : EXIT_OK;
		free(res);
		goto cleanup;
	}

	/* Signals stay blocked except while the loop waits (ppoll with the old
	 * mask) or runs a step (the loop opens the same mask), so none is lost
	 * between the loop's check and its wait. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	sa.sa_handler = on_wake;
	sigaction(SIGHUP, &sa, NULL);
	loop.stop = &stop_flag;
	loop.wake = &wake_flag;
	loop.wait_mask = &old;
	int lrc = oci_sync_loop(t, &opts, &loop);
	if (lrc == OCI_EINTERRUPTED) {
		rc = cli_exit_interrupted(); /* the step's line said why */
	} else if (lrc < 0) {
		fprintf(stderr, "ocisync sync: %s\n", cli_last_error());
		rc = EXIT_FAIL;
	} else {
		rc = EXIT_OK;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
cleanup:
	oci_verifier_free(verifier);
	free(trust);
	oci_target_free(t);
	oci_ref_free(ref);
	oci_strlist_dispose(&keys);
	return rc;
}

static const cli_option options[] = {
	{ 'r', "root", 0, CLI_VALUE_DIR, "DIR", NULL, "the directory to publish under (required)" },
	{ 'l', "link", 0, CLI_VALUE_TEXT, "NAME", NULL, "the symlink consumers read through (default current)" },
	{ '1', "once", 0, CLI_VALUE_NONE, NULL, NULL, "one sync, then exit: 0 synced/unchanged, 1 otherwise" },
	{ 'i', "interval", 0, CLI_VALUE_TEXT, "D", NULL, "loop, syncing every D (default 60s; 30s, 5m, 1h)" },
	{ 'j', "jitter", 0, CLI_VALUE_TEXT, "PERCENT", NULL, "loop: spread each wait by up to +/-PERCENT of it (0-50,\ndefault 10; 0 = the exact interval), so a fleet started\ntogether does not hit the registry in the same second" },
	{ 'K', "keep", 0, CLI_VALUE_TEXT, "N", NULL, "revisions kept, the current one included (default 2)" },
	{ 'k', "verify-key", 0, CLI_VALUE_FILE, "PUB", NULL, "require a signature by this key (repeatable: any one suffices);\nwhen the keys change, the published revision is verified again" },
	{ 'R', "on-revoked", 0, CLI_VALUE_ENUM, "ACTION", "withdraw keep", "when no trusted key verifies the published revision any more:\nwithdraw (default: remove the link) or keep (serve it); an error either way" },
	{ 's', "semver", 0, CLI_VALUE_TEXT, "RANGE", NULL, "follow the highest tag in RANGE ('>=1.2.0 <2.0.0', '^1.2', '~1.2', '1.x')" },
	{ 'p', "path", 0, CLI_VALUE_TEXT, "SUBDIR", NULL, "publish only this folder of the artifact" },
	{ 'e', "exec", 0, CLI_VALUE_TEXT, "CMD", NULL, "after each publish run /bin/sh -c CMD in the new revision, with\nOCISYNC_DIGEST, OCISYNC_REF, OCISYNC_REVISION_DIR and\nOCISYNC_PREVIOUS_DIGEST set; a failed hook is retried next sync" },
	{ 't', "exec-timeout", 0, CLI_VALUE_TEXT, "D", NULL, "kill the hook's process group after D (default 5m)" },
	{ 'g', "exec-grace", 0, CLI_VALUE_TEXT, "D", NULL, "SIGTERM to the hook's group, then SIGKILL after D: at its\ntimeout or when sync stops (default 10s)" },
	{ 'F', "max-failures", 0, CLI_VALUE_TEXT, "N", NULL, "loop: exit 1 after N failed syncs in a row (default never)" },
	CLI_OPTIONS_EXTRACT_LIMITS,
	{ 'S', "status-file", 0, CLI_VALUE_FILE, "F", NULL, "JSON status written atomically after every sync" },
	{ 'M', "metrics-file", 0, CLI_VALUE_FILE, "F", NULL, "Prometheus text (node_exporter textfile) written atomically\n(labels ref, root, path on every series)" },
	{ 'H', "http-bind", 0, CLI_VALUE_TEXT, "ADDR", NULL, "loop: serve /metrics, /healthz, /readyz on ADDR (PORT or\nIP:PORT: 9090 = 127.0.0.1:9090; :9090 = every interface);\n/readyz: the last sync succeeded within 3 intervals" },
	{ 0 },
};

const cli_command cli_cmd_sync = {
	.name = "sync",
	.run = cmd_sync,
	.summary = "publish an artifact atomically under a directory, once or in a loop",
	.usage = "sync REF --root DIR [options]",
	.description =
		"Publishes the artifact REF resolves to (or the highest tag matching --semver) as a\n"
		"read-only tree DIR/.revisions/<hex>, swapped in atomically through the symlink\n"
		"DIR/<link>. An unchanged artifact costs one manifest HEAD; unchanged files are\n"
		"hard-linked from the previous revision; nothing unverified is published.\n",
	.options = options,
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "REF", NULL, 0 }, { 0 } },
	.footer =
		"The global --timeout D gives up a sync after D (default 10m, per sync in the loop;\n"
		"0 = never): status error, the lock released.\n"
		"SIGTERM (or a second Ctrl-C) stops at once: a transfer aborts, the hook's process\n"
		"group gets SIGTERM (SIGKILL after --exec-grace), the link only ever names a complete\n"
		"revision; result \"interrupted\", exit 143 (130 for Ctrl-C). A first Ctrl-C lets\n"
		"the sync in hand finish; between syncs a stop exits 0. Loop: SIGHUP syncs now.\n"
		"After n failures in a row the next try comes after min(interval, 2^n s) (+/- jitter).\n"
		"Prints one line per sync: \"synced sha256:... (REF)\" or \"unchanged sha256:...\";\n"
		"errors go to stderr. -o json prints one object per sync.\n",
};
