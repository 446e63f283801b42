/* Helpers every command uses: errors, help, JSON, progress. */
#include <errno.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* The one failure path of every command: the message on stderr as always
 * and, with -o json, one error object on stdout, so that a gate reading
 * stdout (jq -e .verified) gets a reason rather than a parse error. */

static int json_printed; /* a result object went to stdout (cli_print_json) */

const char *cli_error_code_name(int code)
{
	switch (code) {
	case OCI_EINVALID: return "invalid";
	case OCI_ENOTFOUND: return "not_found";
	case OCI_EAUTH: return "auth";
	case OCI_EIO: return "io";
	case OCI_ENET: return "network";
	case OCI_EDIGEST: return "digest";
	case OCI_ELIMIT: return "limit";
	case OCI_EUNSAFE: return "unsafe";
	case OCI_EVERIFY: return "verify";
	case OCI_ELOCKED: return "locked";
	case OCI_ENOMEM: return "no_memory";
	case OCI_EEXISTS: return "exists";
	case OCI_EPASSWORD: return "password";
	case OCI_EUNSUPPORTED: return "unsupported";
	case OCI_EPOLICY: return "policy";
	case OCI_ETIMEOUT: return "timeout";
	default: return "failed";
	}
}

void cli_json_error(cli *c, const char *code, const char *what, const char *message)
{
	if (!c->json || c->json_error)
		return;
	json_t *err = json_pack("{s:s, s:s}", "code", code, "message", message && *message ? message : "failed");
	if (!err)
		return;
	if (c->command)
		json_object_set_new(err, "command", json_string(c->command));
	if (what && *what) {
		/* "reference" when what names one (most failures are about one), else what it is */
		oci_ref *ref = NULL;
		int is_ref = strchr(what, '/') && oci_ref_parse(&ref, what) == 0;
		oci_ref_free(ref);
		json_object_set_new(err, is_ref ? "reference" : "subject", json_string(what));
	}
	if (c->json_extra) { /* what the command knows besides (verify: the signatures tried) */
		json_object_update(err, c->json_extra);
		json_decref(c->json_extra);
		c->json_extra = NULL;
	}
	c->json_error = err;
}

/* The hints in ocisync's words: appended to liboci's message, they give
 * the sentences ocisync printed before liboci stopped naming flags. */
static const char *hint_text(oci_hint hint)
{
	switch (hint) {
	case OCI_HINT_CA_FILE: return ": pass its CA with --ca-file (or use --insecure)";
	case OCI_HINT_CA_FILE_MISMATCH: return " in --ca-file"; /* "...not signed by the CA" */
	case OCI_HINT_PLAIN_HTTP: return ": pass --plain-http";
	case OCI_HINT_CLIENT_CERT: return ": pass --cert-file and --key-file";
	case OCI_HINT_CHECK_CLIENT_CERT: return ": check --cert-file and --key-file";
	case OCI_HINT_LOGIN: /* names the registry: cli_error_text */
	case OCI_HINT_REGISTRY_CONFIG: return " (use --registry-config)";
	case OCI_HINT_FORCE: return " (use --force to replace it)";
	case OCI_HINT_ALLOW_EMPTY: return "; --allow-empty pushes an empty artifact";
	case OCI_HINT_ALLOW_UNSIGNED: return "; --allow-unsigned copies it without";
	case OCI_HINT_IGNORE: return " (ignore it with --ignore)";
	case OCI_HINT_RENAME_OR_IGNORE: return "; rename it, or leave it out with --ignore";
	case OCI_HINT_MAX_ENTRIES: return "; raise --max-entries on push, pull and sync if this is expected";
	case OCI_HINT_MAX_SIZE: return "; raise --max-size on push, pull and sync if this is expected";
	case OCI_HINT_LINT_RULES: return " (see ocisync lint --rules)";
	case OCI_HINT_KEY_EXISTS: return " (remove it or choose another --prefix)";
	case OCI_HINT_RAISE_TIMEOUT: return "; raise --timeout if it needs longer";
	case OCI_HINT_REVOKED_WITHDRAWN: return " (--on-revoked withdraw)";
	case OCI_HINT_REVOKED_KEPT: return " (--on-revoked keep)";
	case OCI_HINT_ROOT_PER_PATH: return " (one --root per --path)";
	case OCI_HINT_STATUS_FILE_DIR: return "; create it or choose another --status-file";
	case OCI_HINT_METRICS_FILE_DIR: return "; create it or choose another --metrics-file";
	case OCI_HINT_MAX_FAILURES: /* name the option first: hint_prefix */
	case OCI_HINT_HTTP_BIND:
	case OCI_HINT_NONE: break;
	}
	return "";
}

/* Hints about an option's value lead, as ocisync's own usage errors do
 * ("--http-bind: ..."); the rest follow the message. */
static const char *hint_prefix(oci_hint hint)
{
	switch (hint) {
	case OCI_HINT_MAX_FAILURES: return "--max-failures: ";
	case OCI_HINT_HTTP_BIND: return "--http-bind: ";
	default: return "";
	}
}

const char *cli_error_text(char *buf, size_t n, const char *message, oci_hint hint, const char *subject)
{
	if (hint == OCI_HINT_LOGIN)
		snprintf(buf, n, "%s: run 'ocisync login %s'", message, subject ? subject : "REGISTRY");
	else
		snprintf(buf, n, "%s%s%s", hint_prefix(hint), message, hint_text(hint));
	return buf;
}

const char *cli_last_error(void)
{
	static char buf[sizeof oci_error_last()->message + 512];
	const char *subject;
	oci_hint hint = oci_error_hint(&subject);
	return cli_error_text(buf, sizeof buf, oci_error_last()->message, hint, subject);
}

int cli_fail(cli *c, const char *what)
{
	const oci_error *e = oci_error_last();
	cli_progress_done(c);
	const char *msg = e->message[0] ? cli_last_error() : "failed";
	if (what && *what)
		fprintf(stderr, "ocisync %s: %s: %s\n", c->command ? c->command : "", what, msg);
	else
		fprintf(stderr, "ocisync %s: %s\n", c->command ? c->command : "", msg);
	json_t *before = c->json_error;
	cli_json_error(c, cli_error_code_name(e->code), what, msg);
	/* scripts get the hint's stable name beside the rendered sentence, as
	 * sync's status file does */
	const char *hint = oci_hint_name(oci_error_hint(NULL));
	if (c->json_error && c->json_error != before && hint)
		json_object_set_new(c->json_error, "hint", json_string(hint));
	return EXIT_FAIL;
}

int cli_failf(cli *c, int code, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_progress_done(c);
	fprintf(stderr, "ocisync %s: %s\n", c->command ? c->command : "", msg);
	cli_json_error(c, cli_error_code_name(code), NULL, msg);
	return EXIT_FAIL;
}

int cli_usage_error(cli *c, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->command)
		fprintf(stderr, "ocisync %s: %s\n(see ocisync %s --help)\n", c->command, msg, c->command);
	else
		fprintf(stderr, "ocisync: %s\n", msg);
	cli_json_error(c, "usage", NULL, msg);
	return EXIT_USAGE;
}

int cli_global_usage_error(cli *c, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "ocisync: %s\n", msg);
	cli_json_error(c, "usage", NULL, msg);
	return EXIT_USAGE;
}

int cli_json_finish(cli *c, int rc)
{
	if (rc != EXIT_OK && c->json && !c->json_error && !json_printed) {
		/* a failure some path reported on stderr only: still one object */
		const oci_error *e = oci_error_last();
		if (rc == EXIT_USAGE && !e->message[0])
			cli_json_error(c, "usage", NULL, "usage error (see stderr)");
		else
			cli_json_error(c, cli_error_code_name(e->code), NULL, e->message[0] ? cli_last_error() : "failed (see stderr)");
	}
	if (rc != EXIT_OK && c->json_error) {
		/* the exit code is known only now (diff's errors are 2, as diff(1)'s) */
		json_object_set_new(c->json_error, "exit_code", json_integer(rc));
		json_t *o = json_pack("{s:O}", "error", c->json_error);
		if (o && c->json_top)
			json_object_update_missing(o, c->json_top);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (s)
			puts(s);
		free(s);
		json_decref(o);
	}
	json_decref(c->json_error);
	c->json_error = NULL;
	json_decref(c->json_extra);
	c->json_extra = NULL;
	json_decref(c->json_top);
	c->json_top = NULL;
	return rc;
}

volatile sig_atomic_t cli_cancel;
volatile sig_atomic_t cli_stop_signal;

static void on_cancel(int sig)
{
	cli_stop_signal = sig;
	cli_cancel = 1;
}

void cli_cancel_on_signals(cli *c)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_cancel;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	c->client.cancel = &cli_cancel;
}

int cli_exit_interrupted(void)
{
	return 128 + (cli_stop_signal ? (int)cli_stop_signal : SIGTERM);
}

int cli_client_opts_for(cli *c, oci_client_opts *out, const oci_client_opts *base, const char *host)
{
	if (!c->settings_loaded) {
		if (oci_registry_settings_load(&c->settings, c->client.registry_config) < 0) {
			/* a broken setting is found before any request, as a bad option is */
			const oci_error *e = oci_error_last();
			fprintf(stderr, "ocisync %s: %s\n", c->command ? c->command : "", e->message);
			cli_json_error(c, "usage", NULL, e->message);
			return EXIT_USAGE;
		}
		c->settings_loaded = 1;
	}
	*out = *base;
	oci_registry_settings_apply(c->settings, host, out);
	return 0;
}

int cli_open_target_opts(cli *c, const char *refstr, const oci_client_opts *opts, oci_ref **ref_out,
			 oci_target **t_out)
{
	oci_ref *ref = NULL;
	if (oci_ref_parse(&ref, refstr) < 0) {
		const oci_error *e = oci_error_last();
		fprintf(stderr, "ocisync %s: %s\n", c->command, e->message);
		cli_json_error(c, "usage", refstr, e->message);
		return EXIT_USAGE;
	}
	oci_client_opts o = *opts;
	int rc = ref->kind == OCI_REF_REGISTRY ? cli_client_opts_for(c, &o, opts, ref->registry) : 0;
	if (rc) {
		oci_ref_free(ref);
		return rc;
	}
	if (oci_target_open(t_out, ref, &o) < 0) {
		oci_ref_free(ref);
		return cli_fail(c, refstr);
	}
	if (ref_out)
		*ref_out = ref;
	else
		oci_ref_free(ref);
	return 0;
}

int cli_open_target(cli *c, const char *refstr, oci_ref **ref_out, oci_target **t_out)
{
	return cli_open_target_opts(c, refstr, &c->client, ref_out, t_out);
}

const char *cli_file_problem(const char *path)
{
	static char why[300];
	struct stat st;
	if (stat(path, &st) < 0)
		snprintf(why, sizeof why, "%s", errno == ENOENT ? "no such file" : strerror(errno));
	else if (S_ISDIR(st.st_mode))
		snprintf(why, sizeof why, "is a directory, not a file");
	else if (access(path, R_OK) < 0)
		snprintf(why, sizeof why, "cannot be read: %s", strerror(errno));
	else
		return NULL;
	return why;
}

int cli_check_file(cli *c, const char *option, const char *path)
{
	const char *why = path ? cli_file_problem(path) : NULL;
	return why ? cli_usage_error(c, "%s %s: %s", option, path, why) : 0;
}

void cli_print_json(json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	if (s) {
		json_printed = 1;
		puts(s);
		free(s);
	}
	json_decref(obj);
}

static void human_bytes(char *buf, size_t n, int64_t v)
{
	const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", d, units[u]);
}

static int bar_drawn;
static struct timespec last_draw;

int cli_progress(void *ctx, const char *what, int64_t done, int64_t total)
{
	cli *c = ctx;
	if (!c || !c->progress)
		return 0;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - last_draw.tv_sec) * 1000 + (now.tv_nsec - last_draw.tv_nsec) / 1000000;
	if (bar_drawn && ms < 100 && done != total)
		return 0; /* redraw at most ten times a second */
	last_draw = now;
	char a[32], b[32];
	human_bytes(a, sizeof a, done);
	char label[24];
	if (what && strncmp(what, "sha256:", 7) == 0)
		snprintf(label, sizeof label, "blob %.12s", what + 7); /* as registries' logs abbreviate */
	else
		snprintf(label, sizeof label, "%.19s", what ? what : "");
	if (total > 0) {
		int width = 30;
		int fill = (int)((double)done / (double)total * width);
		if (fill > width)
			fill = width;
		char bar[64];
		memset(bar, '=', (size_t)fill);
		memset(bar + fill, ' ', (size_t)(width - fill));
		bar[width] = '\0';
		human_bytes(b, sizeof b, total);
		fprintf(stderr, "\r%-19s [%s] %s / %s   ", label, bar, a, b);
	} else {
		fprintf(stderr, "\r%-19s %s   ", label, a);
	}
	bar_drawn = 1;
	return 0; /* never cancels: SIGTERM does (cli_cancel_on_signals) */
}

void cli_progress_done(cli *c)
{
	if (bar_drawn) {
		fprintf(stderr, "\r\033[K");
		bar_drawn = 0;
	}
}

/* Numbers on the command line: one strict, overflow-checked reader for
 * sizes and durations (no strtod: it takes "9e18", "inf" and hex, and
 * its products overflow silently). */

/* Digits with an optional fraction: value * 1000 (milli-units) in *out.
 * Returns the end of the number, or NULL when there is none or it is too
 * large for any unit to make sense of. */
static const char *read_decimal(const char *p, int64_t *milli)
{
	int64_t whole = 0, frac = 0, scale = 1000;
	const char *start = p;
	while (*p >= '0' && *p <= '9') {
		if (__builtin_mul_overflow(whole, 10, &whole) || __builtin_add_overflow(whole, *p - '0', &whole))
			return NULL;
		p++;
	}
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9') {
			if (scale > 1) { /* digits past the third are dropped */
				scale /= 10;
				frac += (*p - '0') * scale;
			}
			p++;
		}
	} else if (p == start) {
		return NULL;
	}
	if (__builtin_mul_overflow(whole, 1000, &whole) || __builtin_add_overflow(whole, frac, milli))
		return NULL;
	return p;
}

int cli_parse_size(int64_t *out, const char *s, const char **why)
{
	*why = "is not a size";
	if (!s || !(*s >= '0' && *s <= '9'))
		return -1;
	int64_t v = 0;
	const char *p = s;
	while (*p >= '0' && *p <= '9') {
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v)) {
			*why = "is too large";
			return -1;
		}
		p++;
	}
	int shift = 0;
	switch (*p) {
	case '\0': break;
	case 'K': case 'k': shift = 10; break;
	case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	case 'T': case 't': shift = 40; break;
	default: return -1;
	}
	if (shift) {
		p++;
		if (*p == 'i')
			p++;
		if (*p == 'B')
			p++;
	}
	if (*p)
		return -1;
	if (v > (CLI_SIZE_MAX >> shift)) {
		*why = "is too large (at most 1 PiB)";
		return -1;
	}
	v <<= shift;
	if (v <= 0) {
		*why = "must be more than 0 bytes";
		return -1;
	}
	*out = v;
	return 0;
}

long long cli_parse_duration(const char *s)
{
	int64_t ms;
	const char *why;
	return cli_parse_duration_ms(&ms, s, &why) < 0 ? -1 : ms;
}

int cli_parse_duration_ms(int64_t *out, const char *s, const char **why)
{
	*why = "is not a duration";
	if (!s || !*s)
		return -1;
	int64_t total = 0;
	const char *p = s;
	while (*p) {
		int64_t milli, mult, part;
		const char *start = p;
		const char *end = read_decimal(p, &milli);
		if (!end) {
			if (*p >= '0' && *p <= '9')
				*why = "is too long";
			return -1;
		}
		p = end;
		if (!strncmp(p, "ms", 2)) { mult = 1; p += 2; }
		else if (*p == 's') { mult = 1000; p++; }
		else if (*p == 'm') { mult = 60000; p++; }
		else if (*p == 'h') { mult = 3600000; p++; }
		else if (*p == 'd') { mult = 86400000; p++; }
		else if (*p == '\0' && start == s) { mult = 1000; } /* a bare number: seconds */
		else return -1;
		/* milli is in thousandths of the unit */
		if (__builtin_mul_overflow(milli, mult, &part) || __builtin_add_overflow(total, part / 1000, &total) ||
		    total > CLI_DURATION_MAX_MS) {
			*why = "is too long (at most 100 years)";
			return -1;
		}
	}
	*out = total;
	return 0;
}

int cli_parse_limit(cli *c, int64_t *out, const char *option, const char *arg)
{
	const char *why;
	if (!strcmp(option, "--max-size")) {
		/* the one strict, overflow-checked size reader */
		if (cli_parse_size(out, arg, &why) < 0)
			return cli_usage_error(c, "--max-size takes a number of bytes (K, M, G, T suffixes): '%s' %s", arg, why);
		return 0;
	}
	int64_t v = 0;
	const char *p = arg;
	for (; *p >= '0' && *p <= '9'; p++)
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
			return cli_usage_error(c, "%s takes a positive whole number: '%s' is too large", option, arg);
	if (p == arg || *p || v <= 0)
		return cli_usage_error(c, "%s takes a positive whole number, not '%s'", option, arg);
	*out = v;
	return 0;
}
