/* Helpers every command uses: errors, help, JSON, progress. */
#include <errno.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(cli *c, const char *what)
{
	const oci_error *e = oci_error_last();
	cli_progress_done(c);
	if (what && *what)
		fprintf(stderr, "ocisync %s: %s: %s\n", c->command ? c->command : "", what,
			e->message[0] ? e->message : "failed");
	else
		fprintf(stderr, "ocisync %s: %s\n", c->command ? c->command : "", e->message[0] ? e->message : "failed");
	return EXIT_FAIL;
}

int cli_usage_error(cli *c, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ocisync %s: ", c->command ? c->command : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see ocisync %s --help)\n", c->command ? c->command : "");
	return EXIT_USAGE;
}

int cli_help(cli *c, const char *text)
{
	const cli_command *cmd = c->command ? cli_find_command(c->command) : NULL;
	if (cmd) /* the summary reads as a sentence here */
		printf("Usage: ocisync %s\n\n%c%s.\n\n", cmd->usage, toupper((unsigned char)cmd->summary[0]), cmd->summary + 1);
	fputs(text, stdout);
	printf("\nGlobal options: --plain-http --insecure --ca-file F --cert-file F --key-file F\n"
	       "  --registry-config F -o text|json -q -v --no-progress (see ocisync --help)\n");
	return EXIT_OK;
}

int cli_open_target(cli *c, const char *refstr, oci_ref **ref_out, oci_target **t_out)
{
	oci_ref *ref = NULL;
	if (oci_ref_parse(&ref, refstr) < 0) {
		const oci_error *e = oci_error_last();
		fprintf(stderr, "ocisync %s: %s\n", c->command, e->message);
		return EXIT_USAGE;
	}
	if (oci_target_open(t_out, ref, &c->client) < 0) {
		oci_ref_free(ref);
		return cli_fail(c, refstr);
	}
	if (ref_out)
		*ref_out = ref;
	else
		oci_ref_free(ref);
	return 0;
}

void cli_print_json(json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	if (s) {
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

void cli_progress(void *ctx, const char *what, int64_t done, int64_t total)
{
	cli *c = ctx;
	if (!c || !c->progress)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - last_draw.tv_sec) * 1000 + (now.tv_nsec - last_draw.tv_nsec) / 1000000;
	if (bar_drawn && ms < 100 && done != total)
		return; /* redraw at most ten times a second */
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
}

void cli_progress_done(cli *c)
{
	if (bar_drawn) {
		fprintf(stderr, "\r\033[K");
		bar_drawn = 0;
	}
}

long long cli_parse_duration(const char *s)
{
	if (!s || !*s)
		return -1;
	long long total = 0;
	const char *p = s;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		if (end == p || v < 0)
			return -1;
		p = end;
		double mult;
		if (!strncmp(p, "ms", 2)) { mult = 1; p += 2; }
		else if (*p == 's') { mult = 1000; p++; }
		else if (*p == 'm') { mult = 60000; p++; }
		else if (*p == 'h') { mult = 3600000; p++; }
		else if (*p == '\0' && p == end && total == 0) { mult = 1000; } /* bare number: seconds */
		else return -1;
		total += (long long)(v * mult);
	}
	return total;
}

static long long parse_size(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end == s || v <= 0)
		return -1;
	switch (*end) {
	case '\0': return v;
	case 'K': case 'k': v <<= 10; break;
	case 'M': case 'm': v <<= 20; break;
	case 'G': case 'g': v <<= 30; break;
	default: return -1;
	}
	end++;
	if (*end == 'i')
		end++;
	if (*end == 'B')
		end++;
	return *end ? -1 : v;
}

int cli_parse_limit(cli *c, int64_t *out, const char *option, const char *arg)
{
	if (!strcmp(option, "--max-size")) {
		long long v = parse_size(arg);
		if (v < 0)
			return cli_usage_error(c, "--max-size takes a positive number of bytes (K, M, G suffixes), not '%s'", arg);
		*out = v;
		return 0;
	}
	char *end;
	errno = 0;
	long long v = arg[0] >= '0' && arg[0] <= '9' ? strtoll(arg, &end, 10) : -1;
	if (v <= 0 || errno || *end)
		return cli_usage_error(c, "%s takes a positive whole number, not '%s'", option, arg);
	*out = v;
	return 0;
}
