/* The one command-line parser and --help renderer, both driven by the
 * command's spec (options.h). No getopt: its messages, its abbreviations
 * of long names (which break when an option is added) and its global
 * state are what this replaces. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cli_args_init(cli_args *a, cli *c, const cli_command *cmd, int argc, char **argv)
{
	memset(a, 0, sizeof *a);
	a->c = c;
	a->cmd = cmd;
	a->argc = argc;
	a->argv = argv;
	a->next = 1;
	a->args = argv + 1;
}

static const cli_option *find_in(const cli_option *table, const char *name, size_t len, char letter)
{
	for (const cli_option *o = table; o && o->id; o++) {
		if (letter ? o->short_name == letter : strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	}
	return NULL;
}

static const cli_option help_option = { CLI_OPT_HELP, "help", 'h', CLI_VALUE_NONE, NULL, NULL, "this help" };

/* The command's own options first, then -h/--help, then the global ones. */
static const cli_option *find(const cli_args *a, const char *name, size_t len, char letter)
{
	const cli_option *o = a->cmd ? find_in(a->cmd->options, name, len, letter) : NULL;
	if (!o && (letter ? letter == 'h' : len == 4 && !strncmp(name, "help", 4)))
		o = &help_option;
	return o ? o : find_in(cli_global_options, name, len, letter);
}

/* Stops the parse with exit code rc. */
static int stop(cli_args *a, int rc)
{
	a->rc = rc;
	return -1;
}

/* An option found: returns its id for the command, or applies it here when
 * it is -h/--help or global (then 0 to read on, or -1 to stop). */
static int found(cli_args *a, const cli_option *o, const char *written)
{
	cli *c = a->c;
	if (o == &help_option) {
		if (!a->cmd) {
			c->want_help = 1;
			return 0;
		}
		return stop(a, cli_command_help(c, a->cmd));
	}
	if (o->id < CLI_GLOBAL_BASE)
		return o->id;
	if (o->id == CLI_GLOBAL_VERSION) {
		if (!a->cmd) {
			c->want_version = 1;
			return 0;
		}
		return stop(a, cmd_version(c, 0, NULL));
	}
	int rc = cli_global_apply(c, o->id, written, a->value);
	return rc ? stop(a, rc) : 0;
}

/* The value of an option that takes one: the rest of the word, else the
 * next word. 0, or -1 (usage error printed) when there is none. */
static int take_value(cli_args *a, const char *rest, const char *written)
{
	if (rest && *rest) {
		a->value = rest;
		return 0;
	}
	if (a->next >= a->argc) {
		a->rc = cli_usage_error(a->c, "option %s needs a value", written);
		return -1;
	}
	a->value = a->argv[a->next++];
	return 0;
}

static int long_option(cli_args *a, const char *word)
{
	const char *name = word + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	char written[64];
	snprintf(written, sizeof written, "--%.*s", (int)(len < 60 ? len : 60), name);
	const cli_option *o = find(a, name, len, 0);
	if (!o)
		return stop(a, cli_usage_error(a->c, "unknown option %s", written));
	a->value = NULL;
	if (o->value == CLI_VALUE_NONE) {
		if (eq)
			return stop(a, cli_usage_error(a->c, "option %s takes no value", written));
	} else if (eq) {
		a->value = eq + 1; /* "--name=" is an empty value, as given */
	} else if (take_value(a, NULL, written) < 0) {
		return -1;
	}
	return found(a, o, written);
}

static int short_option(cli_args *a)
{
	char letter = *a->cluster++;
	char written[3] = { '-', letter, '\0' };
	const cli_option *o = find(a, NULL, 0, letter);
	if (!o && strlen(a->word) > 2) /* "-dir": say which word, it may be an operand wanting "--" before it */
		return stop(a, cli_usage_error(a->c, "unknown option %s in '%s' (-- ends the options)", written, a->word));
	if (!o)
		return stop(a, cli_usage_error(a->c, "unknown option %s", written));
	a->value = NULL;
	if (o->value != CLI_VALUE_NONE) {
		const char *rest = a->cluster;
		a->cluster = NULL;
		if (take_value(a, rest, written) < 0)
			return -1;
	}
	if (a->cluster && !*a->cluster)
		a->cluster = NULL;
	return found(a, o, written);
}

int cli_args_next(cli_args *a)
{
	for (;;) {
		int id;
		if (a->cluster) {
			id = short_option(a);
		} else if (a->next >= a->argc) {
			a->argv[1 + a->nargs] = NULL;
			int rc = a->cmd ? cli_globals_check(a->c) : 0;
			return rc ? stop(a, rc) : 0;
		} else {
			char *word = a->argv[a->next++];
			if (a->no_more_options || word[0] != '-' || !word[1]) {
				/* an operand; operands move to the front, in order */
				a->argv[1 + a->nargs++] = word;
				if (!a->cmd) { /* the command name: the rest is the command's */
					while (a->next < a->argc)
						a->argv[1 + a->nargs++] = a->argv[a->next++];
				}
				continue;
			}
			if (!strcmp(word, "--")) {
				a->no_more_options = 1;
				if (!a->cmd) /* kept for the command, which then sees only operands */
					a->argv[1 + a->nargs++] = word;
				continue;
			}
			if (word[1] == '-') {
				id = long_option(a, word);
			} else {
				a->word = word;
				a->cluster = word + 1;
				id = short_option(a);
			}
		}
		if (id != 0)
			return id;
	}
}

int cli_args_operands_only(cli_args *a, cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args_init(a, c, cmd, argc, argv);
	int opt;
	while ((opt = cli_args_next(a)) > 0)
		; /* none of its own: the parser applies global ones */
	return opt < 0 ? -1 : 0;
}

/* One option's line(s) in --help: "  -a, --annotation K=V  text", the
 * text's further lines under the first. */
#define HELP_COLUMN 24

int cli_option_synopsis(char *buf, size_t size, const cli_option *o, int with_short)
{
	int n = with_short && o->short_name ? snprintf(buf, size, "-%c, --%s", o->short_name, o->name)
					    : snprintf(buf, size, "--%s", o->name);
	if (o->value == CLI_VALUE_ENUM && !o->metavar) {
		n += snprintf(buf + n, size - (size_t)n, " ");
		for (const char *v = o->values; *v && (size_t)n < size - 1; v++)
			buf[n++] = *v == ' ' ? '|' : *v;
		buf[n] = '\0';
	} else if (o->value != CLI_VALUE_NONE) {
		n += snprintf(buf + n, size - (size_t)n, " %s", o->metavar ? o->metavar : "VALUE");
	}
	return n;
}

static void print_option(const cli_option *o)
{
	char left[128] = "  ";
	int n = 2 + cli_option_synopsis(left + 2, sizeof left - 2, o, 1);
	fputs(left, stdout);
	int col = n < HELP_COLUMN - 1 ? HELP_COLUMN : n + 2;
	printf("%*s", col - n, "");
	for (const char *h = o->help; *h; h++) {
		putchar(*h);
		if (*h == '\n' && h[1])
			printf("%*s", HELP_COLUMN, "");
	}
	putchar('\n');
}

int cli_command_help(cli *c, const cli_command *cmd)
{
	(void)c;
	/* the summary reads as a sentence here */
	printf("Usage: ocisync %s\n\n%c%s.\n\n", cmd->usage, toupper((unsigned char)cmd->summary[0]), cmd->summary + 1);
	if (cmd->description)
		printf("%s\n", cmd->description);
	printf("Options:\n");
	for (const cli_option *o = cmd->options; o && o->id; o++)
		print_option(o);
	print_option(&help_option);
	if (cmd->footer)
		printf("\n%s", cmd->footer);
	printf("\nGlobal options:");
	int col = 15;
	for (const cli_option *o = cli_global_options; o->id; o++) {
		char item[64] = " ";
		int n = 1 + cli_option_synopsis(item + 1, sizeof item - 1, o, 0);
		if (col + n > 80) {
			printf("\n ");
			col = 1;
		}
		fputs(item, stdout);
		col += n;
	}
	printf("\n  (see ocisync --help)\n");
	return EXIT_OK;
}
