/* The command table's vocabulary: one spec per command (its options,
 * operands and help text) drives parsing, --help, shell completion
 * (completion.c) and the man-page check (tests/integration/cli_spec.sh).
 *
 * Adding an option to a command: one entry in its cli_option array and
 * one case in its parse loop. Adding a command: a cli_command in its
 * cmd_<name>.c and one line in cli_commands (main.c). */
#ifndef OCISYNC_OPTIONS_H
#define OCISYNC_OPTIONS_H
#include <stddef.h>

/* What a value (of an option or an operand) is: how it is shown in --help
 * and what the shells complete it with. */
typedef enum cli_value {
	CLI_VALUE_NONE = 0, /* an option: a flag without a value; an operand: the end of the list */
	CLI_VALUE_TEXT,     /* anything; nothing to complete */
	CLI_VALUE_FILE,     /* a file name */
	CLI_VALUE_DIR,      /* a directory name */
	CLI_VALUE_REF,      /* a reference; oci-layout:PATH completes PATH as a directory */
	CLI_VALUE_ENUM,     /* one of .values */
	CLI_VALUE_COMMAND,  /* an ocisync command name */
} cli_value;

typedef struct cli_option {
	int id;             /* what cli_args_next returns for it (>0; the short letter when it has one) */
	const char *name;   /* long name, without "--" */
	char short_name;    /* the one-letter form, or 0 */
	cli_value value;    /* CLI_VALUE_NONE: a flag */
	const char *metavar;/* the value's name in --help ("URL"); NULL for an enum: its values with '|' */
	const char *values; /* CLI_VALUE_ENUM: the values, space-separated */
	const char *help;   /* --help text: the first line, further lines after '\n' */
} cli_option;

typedef struct cli_operand {
	cli_value value;    /* CLI_VALUE_NONE ends the list */
	const char *name;   /* "REF" */
	const char *values; /* CLI_VALUE_ENUM: the values, space-separated */
	int repeats;        /* the last operand may be given more than once */
} cli_operand;

struct cli;

typedef struct cli_command {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	const char *summary;          /* one line, for ocisync --help and completion */
	const char *usage;            /* after "Usage: ocisync " in --help */
	const char *description;      /* --help text before the options (may be NULL) */
	const cli_option *options;    /* ended by an entry with id 0; -h/--help is implicit */
	const cli_operand *operands;  /* for completion; NULL: none */
	const char *footer;           /* --help text after the options (may be NULL) */
	const char *man_page;         /* the page documenting it when not ocisync-<name> */
} cli_command;

/* Global options: accepted before the command and anywhere after it. */
extern const cli_option cli_global_options[];

/* The implicit -h/--help every command takes. */
#define CLI_OPT_HELP 'h'

/* The parser of every command line: GNU style. Options and operands mix;
 * "--" ends the options; "--name=value" and "--name value"; "-a value" and
 * "-avalue"; short flags combine ("-qv", "-qa K=V"). Global options are
 * applied as they are met; -h/--help prints the command's help. Every
 * mistake is a usage error naming the option (exit 2). */
typedef struct cli_args {
	struct cli *c;
	const cli_command *cmd;   /* NULL: global options only, stopping at the first operand */
	int argc;
	char **argv;
	int next;                 /* the next argv index to read */
	const char *word;         /* the short-option cluster being read ("-qv") */
	const char *cluster;      /* the rest of it ("v") */
	int no_more_options;      /* after "--" */
	const char *value;        /* the value of the option just returned */
	char **args;        /* the operands, in order, once cli_args_next returned 0 */
	int nargs;
	int rc;                   /* the exit code when cli_args_next returned -1 */
} cli_args;

/* argv[0] is the command's name (or the program's), as main passes it. */
void cli_args_init(cli_args *a, struct cli *c, const cli_command *cmd, int argc, char **argv);
/* The next option's id (its value in a->value); 0 when the line is read
 * (operands in a->args, global options checked); -1 when the command is to
 * end now with exit code a->rc (a usage error printed, or --help shown). */
int cli_args_next(cli_args *a);
/* For a command without options of its own: reads the whole line;
 * 0 (operands in a->args), or -1 when the command is to end now with
 * exit code a->rc (--help shown, or a usage error). */
int cli_args_operands_only(cli_args *a, struct cli *c, const cli_command *cmd, int argc, char **argv);
/* Prints the command's --help; returns EXIT_OK. */
int cli_command_help(struct cli *c, const cli_command *cmd);
/* "-a, --annotation K=V" (with_short) or "--annotation K=V" in buf;
 * returns its length. */
int cli_option_synopsis(char *buf, size_t size, const cli_option *o, int with_short);

#endif
