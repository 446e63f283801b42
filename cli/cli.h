/* Shared by the command files: global options, output helpers. The CLI only
 * parses, calls liboci and prints. */
#ifndef OCISYNC_CLI_H
#define OCISYNC_CLI_H
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include "oci/oci.h"
#include "options.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

typedef struct cli {
	oci_client_opts client;   /* TLS, config, verbosity for targets */
	int json;                 /* -o json */
	int quiet;
	int verbose;
	int progress;             /* a bar on stderr: terminal and not --no-progress */
	const char *prog;         /* "ocisync" */
	const char *command;
	int timeout_set;          /* --timeout given (client.timeout_ms, 0 = never) */
	json_t *json_error;       /* -o json: the error object, printed as the command ends (owned) */
	json_t *json_extra;       /* -o json: fields the error object gets besides (owned) */
	json_t *json_top;         /* -o json: fields beside "error" in the object printed (owned; push: "policy") */
	int no_progress;          /* --no-progress */
	int want_help;            /* --help before the command */
	int want_version;         /* --version before the command */
	oci_registry_settings *settings; /* the config's per-registry settings, read at the first registry (owned) */
	int settings_loaded;
} cli;

/* The command table (main.c): every command's spec, NULL-terminated. */
extern const cli_command *const cli_commands[];
const cli_command *cli_find_command(const char *name);

/* The failure path. Each prints its message on stderr and, with -o json,
 * records one object {"error": {"code", "message", "command", "reference"
 * or "subject", ...c->json_extra, "exit_code"}} for stdout (cli_json_finish).
 * Codes: cli_error_code_name, or "usage" for usage errors. */
/* message followed by what the user can do about it, naming ocisync's
 * flags (liboci's messages name none: it gives a hint code,
 * oci_error_hint), into buf. Returns buf. */
const char *cli_error_text(char *buf, size_t n, const char *message, oci_hint hint, const char *subject);
/* cli_error_text of oci_error_last() and its hint (a static buffer). */
const char *cli_last_error(void);
/* "ocisync CMD: [what: ]<cli_last_error()>"; returns EXIT_FAIL. */
int cli_fail(cli *c, const char *what);
/* "ocisync CMD: <message>" for a failure of the CLI's own (code: an oci_error_code); returns EXIT_FAIL. */
int cli_failf(cli *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints a usage error on stderr; returns EXIT_USAGE. */
/* (Before any command: "ocisync: <message>", as cli_global_usage_error.) */
int cli_usage_error(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A usage error before any command ("ocisync: <message>"); returns EXIT_USAGE. */
int cli_global_usage_error(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records the error object alone (the message is already on stderr); the
 * first one recorded is the one printed. */
void cli_json_error(cli *c, const char *code, const char *what, const char *message);
/* As the process ends with rc: prints the error object (with "exit_code"
 * rc) when rc != 0 -- one made from oci_error_last() when the failure
 * recorded none and printed no result object either. Returns rc. */
int cli_json_finish(cli *c, int rc);
/* "not_found", "auth", "timeout", "policy", ... for an oci_error_code. */
const char *cli_error_code_name(int code);
/* Global options (globals.c): ids from CLI_GLOBAL_BASE up. */
#define CLI_GLOBAL_BASE 1000
#define CLI_GLOBAL_VERSION CLI_GLOBAL_BASE
/* Applies global option id with value v (written: as on the command line);
 * 0 or EXIT_USAGE (printed). */
int cli_global_apply(cli *c, int id, const char *written, const char *v);
/* Once the line is read: --cert-file/--key-file pairs and the files the
 * options name are checked (before any network traffic); 0 or EXIT_USAGE. */
int cli_globals_check(cli *c);
/* -o json anywhere on the line, looked for before the parser runs, so a
 * usage error found first still answers with an error object. */
int cli_wants_json(int argc, char **argv);
/* Parses a reference and opens its target; prints the error and returns
 * non-zero (an exit code) on failure. */
int cli_open_target(cli *c, const char *refstr, oci_ref **ref_out, oci_target **t_out);
/* The same with connection options of its own (copy: --src-* and --dest-*):
 * opts, then the config's settings for the registry in what opts left unset. */
int cli_open_target_opts(cli *c, const char *refstr, const oci_client_opts *opts, oci_ref **ref_out,
			 oci_target **t_out);
/* opts for host: *base with the config's per-registry settings filled in
 * (the settings are read, and every file they name checked, the first
 * time: a bad one is a usage error). 0, or the exit code after printing. */
int cli_client_opts_for(cli *c, oci_client_opts *out, const oci_client_opts *base, const char *host);
/* Checks that an option naming a file names a readable one (before any
 * request): 0, or prints the usage error and returns EXIT_USAGE. */
int cli_check_file(cli *c, const char *option, const char *path);
/* What is wrong with a file an option names ("no such file", ...), or NULL. */
const char *cli_file_problem(const char *path);
/* Prints a JSON object on stdout (compact, one line) and frees it. */
void cli_print_json(json_t *obj);
/* Progress callback drawing a bar on stderr (only when c->progress). */
int cli_progress(void *ctx, const char *what, int64_t done, int64_t total);
void cli_progress_done(cli *c);
/* The one reader of sizes and durations on the command line: strict and
 * overflow-checked. 0 and the value in *out, or -1 and in *why what is
 * wrong with it ("is too large", "is not a duration ..."), to follow the
 * option and its value in a usage error. */
#define CLI_SIZE_MAX ((int64_t)1 << 50)                          /* 1 PiB */
#define CLI_DURATION_MAX_MS ((int64_t)100 * 366 * 24 * 3600 * 1000) /* 100 years */
/* BYTES, or with a K, M, G or T suffix (powers of 1024; "Ki"/"KiB" too); more than 0. */
int cli_parse_size(int64_t *out, const char *s, const char **why);
/* "30s", "5m", "1h30m", "250ms", "1.5s", "2d"; a bare number is seconds. */
int cli_parse_duration_ms(int64_t *out, const char *s, const char **why);
/* Duration → milliseconds; -1 when invalid. */
long long cli_parse_duration(const char *s);
/* --max-size BYTES (K, M, G suffixes) and --max-entries N, which push, pull
 * and sync all take (one set of limits): 0 with *out set, or the usage
 * error's exit code (2) after printing it. */
int cli_parse_limit(cli *c, int64_t *out, const char *option, const char *arg);
/* The extraction limits pull and sync take alike (ids 'm', 'n', 'P'). */
#define CLI_OPTIONS_EXTRACT_LIMITS \
	{ 'm', "max-size", 0, CLI_VALUE_TEXT, "BYTES", NULL, "limit on extracted bytes (default 1 GiB; K, M, G, T suffixes)" }, \
	{ 'n', "max-entries", 0, CLI_VALUE_TEXT, "N", NULL, "limit on files, directories and links (default 100000)" }, \
	{ 'P', "publisher-limits", 0, CLI_VALUE_NONE, NULL, NULL, \
	  "use the limits the artifact records (push --max-size/--max-entries)\ninstead of the two above: only for publishers you trust" }

/* Stopping. cli_cancel is the flag handed to liboci (oci_client_opts.cancel,
 * oci_sync_opts.cancel); cli_stop_signal the signal that set it. */
extern volatile sig_atomic_t cli_cancel;
extern volatile sig_atomic_t cli_stop_signal;
/* SIGTERM and SIGINT set cli_cancel (and c->client.cancel points at it):
 * a transfer in progress aborts within about a second, after the usual
 * cleanup. Called before the target is opened. */
void cli_cancel_on_signals(cli *c);
/* The exit status of a command stopped by a signal: 128 + its number
 * (143 for SIGTERM, 130 for SIGINT), as a shell reports it. */
int cli_exit_interrupted(void);

/* The commands' specs, one in each cmd_<name>.c. */
extern const cli_command cli_cmd_push;
extern const cli_command cli_cmd_pull;
extern const cli_command cli_cmd_resolve;
extern const cli_command cli_cmd_manifest;
extern const cli_command cli_cmd_inspect;
extern const cli_command cli_cmd_tag;
extern const cli_command cli_cmd_copy;
extern const cli_command cli_cmd_delete;
extern const cli_command cli_cmd_tags;
extern const cli_command cli_cmd_diff;
extern const cli_command cli_cmd_lint;
extern const cli_command cli_cmd_sync;
extern const cli_command cli_cmd_keygen;
extern const cli_command cli_cmd_sign;
extern const cli_command cli_cmd_verify;
extern const cli_command cli_cmd_discover;
extern const cli_command cli_cmd_login;
extern const cli_command cli_cmd_logout;
extern const cli_command cli_cmd_version;
extern const cli_command cli_cmd_completion;
/* --version anywhere runs it. */
int cmd_version(cli *c, int argc, char **argv);

#endif
