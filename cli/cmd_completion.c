/* ocisync completion bash|zsh|fish: shell completion written from the
 * command table (main.c) and each command's spec, so it knows every
 * command, option and what each value is, and cannot drift from --help. */
#include <string.h>

#include "cli.h"

static const char *kind_name(cli_value v)
{
	switch (v) {
	case CLI_VALUE_FILE: return "file";
	case CLI_VALUE_DIR: return "dir";
	case CLI_VALUE_REF: return "ref";
	case CLI_VALUE_ENUM: return "enum";
	case CLI_VALUE_COMMAND: return "command";
	case CLI_VALUE_TEXT: return "text";
	default: return "";
	}
}

/* ---- bash ---- */

static void bash_value_case(const char *cmd, const cli_option *o)
{
	if (o->value == CLI_VALUE_NONE)
		return;
	printf("\t%s:--%s", cmd, o->name);
	if (o->short_name)
		printf("|%s:-%c", cmd, o->short_name);
	printf(") echo '%s", kind_name(o->value));
	if (o->value == CLI_VALUE_ENUM)
		printf(" %s", o->values);
	printf("' ;;\n");
}

static void bash_words(const cli_option *opts)
{
	for (const cli_option *o = opts; o && o->id; o++) {
		printf(" --%s", o->name);
		if (o->short_name)
			printf(" -%c", o->short_name);
	}
}

static void bash_operands(const cli_command *cmd)
{
	int i = 0;
	for (const cli_operand *p = cmd->operands; p && p->value; p++, i++) {
		int last = p[1].value == CLI_VALUE_NONE;
		printf("\t%s:%s) echo '%s%s%s' ;;\n", cmd->name, last && p->repeats ? "*" : (char[]){ (char)('0' + i), 0 },
		       kind_name(p->value), p->values ? " " : "", p->values ? p->values : "");
	}
}

static int bash(void)
{
	printf("# bash completion for ocisync (written by `ocisync completion bash`)\n"
	       "_ocisync_commands='");
	for (const cli_command *const *c = cli_commands; *c; c++)
		printf("%s%s", c == cli_commands ? "" : " ", (*c)->name);
	printf(" help'\n_ocisync_globals='");
	bash_words(cli_global_options);
	printf(" -h --help'\n\n# the options of command $1\n_ocisync_options() {\n\tcase $1 in\n");
	for (const cli_command *const *c = cli_commands; *c; c++) {
		printf("\t%s) echo '", (*c)->name);
		bash_words((*c)->options);
		printf("' ;;\n");
	}
	printf("\tesac\n}\n\n# what option $2 of command $1 takes: file, dir, ref, text, enum VALUES...; nothing for a flag\n"
	       "_ocisync_value() {\n\tcase $1:$2 in\n");
	for (const cli_command *const *c = cli_commands; *c; c++)
		for (const cli_option *o = (*c)->options; o && o->id; o++)
			bash_value_case((*c)->name, o);
	for (const cli_option *o = cli_global_options; o->id; o++)
		bash_value_case("*", o);
	printf("\tesac\n}\n\n# what operand $2 (from 0) of command $1 is\n_ocisync_operand() {\n\tcase $1:$2 in\n");
	for (const cli_command *const *c = cli_commands; *c; c++)
		bash_operands(*c);
	printf("\thelp:0) echo command ;;\n\tesac\n}\n\n");
	fputs("_ocisync_complete_kind() {\n"
	      "\tlocal kind=$1\n"
	      "\tshift\n"
	      "\tcase $kind in\n"
	      "\tfile) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
	      "\tdir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- \"$cur\")) ;;\n"
	      "\tenum) COMPREPLY=($(compgen -W \"$*\" -- \"$cur\")) ;;\n"
	      "\tcommand) COMPREPLY=($(compgen -W \"$_ocisync_commands\" -- \"$cur\")) ;;\n"
	      "\tref)\n"
	      "\t\tcompopt -o nospace 2>/dev/null\n"
	      "\t\tif [[ $cur == oci-layout:* ]]; then\n"
	      "\t\t\tCOMPREPLY=($(compgen -d -S / -P oci-layout: -- \"${cur#oci-layout:}\"))\n"
	      "\t\telse\n"
	      "\t\t\tCOMPREPLY=($(compgen -W oci-layout: -- \"$cur\"))\n"
	      "\t\tfi\n"
	      "\t\tdeclare -F __ltrim_colon_completions >/dev/null && __ltrim_colon_completions \"$cur\" ;;\n"
	      "\tesac\n"
	      "}\n\n"
	      "_ocisync() {\n"
	      "\tlocal cur prev words cword split=false\n"
	      "\tif declare -F _init_completion >/dev/null; then\n"
	      "\t\t_init_completion -s -n : || return\n"
	      "\telse # without bash-completion: --opt=value arrives as three words\n"
	      "\t\twords=(\"${COMP_WORDS[@]}\")\n"
	      "\t\tcword=$COMP_CWORD\n"
	      "\t\tcur=${words[cword]}\n"
	      "\t\tprev=${words[cword-1]}\n"
	      "\t\tif [[ $cur == = ]]; then cur=; split=true; elif [[ $prev == = ]]; then prev=${words[cword-2]}; split=true; fi\n"
	      "\tfi\n"
	      "\tlocal cmd= n=0 i w dashdash=\n"
	      "\tfor ((i = 1; i < cword; i++)); do\n"
	      "\t\tw=${words[i]}\n"
	      "\t\tif [[ -n $dashdash || $w != -?* ]]; then\n"
	      "\t\t\tif [[ -z $cmd ]]; then cmd=$w; else n=$((n + 1)); fi\n"
	      "\t\t\tcontinue\n"
	      "\t\tfi\n"
	      "\t\tif [[ $w == -- ]]; then dashdash=1; continue; fi\n"
	      "\t\t[[ $w == --*=* ]] && continue\n"
	      "\t\t[[ $w == -[!-]?* ]] && w=-${w: -1} # a cluster: its last letter may take a value\n"
	      "\t\tif [[ -n $(_ocisync_value \"$cmd\" \"$w\") ]]; then i=$((i + 1)); fi\n"
	      "\tdone\n"
	      "\tlocal p=$prev\n"
	      "\t[[ $p == -[!-]?* ]] && p=-${p: -1}\n"
	      "\tif [[ -z $dashdash && $p == -?* ]] && [[ $split == true || $i -gt $cword ]]; then\n"
	      "\t\tlocal v\n"
	      "\t\tv=$(_ocisync_value \"$cmd\" \"$p\")\n"
	      "\t\t# shellcheck disable=SC2086\n"
	      "\t\t[[ -n $v ]] && _ocisync_complete_kind $v\n"
	      "\t\treturn\n"
	      "\tfi\n"
	      "\tif [[ -z $dashdash && $cur == -* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$(_ocisync_options \"$cmd\") $_ocisync_globals\" -- \"$cur\"))\n"
	      "\t\treturn\n"
	      "\tfi\n"
	      "\tif [[ -z $cmd ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$_ocisync_commands\" -- \"$cur\"))\n"
	      "\t\treturn\n"
	      "\tfi\n"
	      "\tlocal k\n"
	      "\tk=$(_ocisync_operand \"$cmd\" \"$n\")\n"
	      "\t# shellcheck disable=SC2086\n"
	      "\t[[ -n $k ]] && _ocisync_complete_kind $k\n"
	      "}\n"
	      "complete -F _ocisync ocisync\n",
	      stdout);
	return EXIT_OK;
}

/* ---- zsh ---- */

/* The _arguments action for a value: a completion function or values. */
static void zsh_action(cli_value v, const char *values)
{
	switch (v) {
	case CLI_VALUE_FILE: fputs("_files", stdout); break;
	case CLI_VALUE_DIR: fputs("_files -/", stdout); break;
	case CLI_VALUE_REF: fputs("_ocisync_ref", stdout); break;
	case CLI_VALUE_COMMAND: fputs("_ocisync_command", stdout); break;
	case CLI_VALUE_ENUM: printf("(%s)", values); break;
	default: fputs(" ", stdout); break;
	}
}

/* The help line for _arguments' [...]: brackets and colons escaped. */
static void zsh_help(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n') {
			putchar(' ');
			continue;
		}
		if (*s == '[' || *s == ']' || *s == ':' || *s == '\\')
			putchar('\\');
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	}
}

/* One _arguments spec per form of the option, each followed by end. */
static void zsh_option(const cli_option *o, const char *end)
{
	/* "*": an option may be given again (the repeatable ones; harmless for the others) */
	for (int form = 0; form < (o->short_name ? 2 : 1); form++) {
		printf("\t\t'*");
		if (form == 1)
			printf("-%c%s", o->short_name, o->value ? "+" : "");
		else
			printf("--%s%s", o->name, o->value ? "=" : "");
		putchar('[');
		zsh_help(o->help);
		putchar(']');
		if (o->value) {
			printf(":%s:", o->metavar ? o->metavar : "value");
			zsh_action(o->value, o->values);
		}
		printf("'%s", end);
	}
}

static int zsh(void)
{
	printf("#compdef ocisync\n# zsh completion for ocisync (written by `ocisync completion zsh`)\n\n"
	       "_ocisync_ref() {\n"
	       "\tif compset -P 'oci-layout:'; then\n\t\t_files -/\n\telse\n\t\tcompadd -S '' oci-layout:\n\tfi\n}\n\n"
	       "_ocisync_command() {\n\tlocal -a cmds=(\n");
	for (const cli_command *const *c = cli_commands; *c; c++) {
		printf("\t\t'%s:", (*c)->name);
		zsh_help((*c)->summary);
		printf("'\n");
	}
	printf("\t)\n\t_describe command cmds\n}\n\n_ocisync() {\n\tlocal -a globals=(\n");
	for (const cli_option *o = cli_global_options; o->id; o++)
		zsh_option(o, "\n");
	printf("\t\t'(-h --help)'{-h,--help}'[show help]'\n\t)\n"
	       "\tlocal curcontext=$curcontext state line\n"
	       "\t_arguments -C $globals '1:command:_ocisync_command' '*::arg:->args'\n"
	       "\t[[ $state == args ]] || return\n"
	       "\tcurcontext=${curcontext%%:*:*}:ocisync-$words[1]:\n"
	       "\tcase $words[1] in\n");
	for (const cli_command *const *c = cli_commands; *c; c++) {
		printf("\t%s)\n\t\t_arguments $globals \\\n", (*c)->name);
		for (const cli_option *o = (*c)->options; o && o->id; o++)
			zsh_option(o, " \\\n");
		int i = 1;
		for (const cli_operand *p = (*c)->operands; p && p->value; p++, i++) {
			if (p->repeats && p[1].value == CLI_VALUE_NONE)
				printf("\t\t'*:%s:", p->name);
			else
				printf("\t\t'%d:%s:", i, p->name);
			zsh_action(p->value, p->values);
			printf("' \\\n");
		}
		printf("\t\t;;\n");
	}
	printf("\thelp) _arguments '1:command:_ocisync_command' ;;\n\tesac\n}\n\n"
	       "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n\t_ocisync \"$@\"\nelse\n\tcompdef _ocisync ocisync\nfi\n");
	return EXIT_OK;
}

/* ---- fish ---- */

/* A fish single-quoted word: \ and ' escaped. */
static void fish_quoted(const char *s)
{
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\\' || *s == '\'')
			putchar('\\');
		putchar(*s == '\n' ? ' ' : *s);
	}
	putchar('\'');
}

static void fish_option(const char *cond, const cli_option *o)
{
	printf("complete -c ocisync");
	if (cond)
		printf(" -n '%s'", cond);
	if (o->short_name)
		printf(" -s %c", o->short_name);
	printf(" -l %s", o->name);
	switch (o->value) {
	case CLI_VALUE_NONE: break;
	case CLI_VALUE_FILE: printf(" -r -F"); break;
	case CLI_VALUE_DIR: printf(" -x -a '(__fish_complete_directories)'"); break;
	case CLI_VALUE_REF: printf(" -x -a '(__ocisync_ref)'"); break;
	case CLI_VALUE_ENUM: printf(" -x -a '%s'", o->values); break;
	default: printf(" -x"); break;
	}
	printf(" -d ");
	fish_quoted(o->help);
	putchar('\n');
}

static int fish(void)
{
	printf("# fish completion for ocisync (written by `ocisync completion fish`)\n"
	       "function __ocisync_ref\n"
	       "\tset -l cur (commandline -ct)\n"
	       "\tif string match -q 'oci-layout:*' -- $cur\n"
	       "\t\tset -l dir (string replace 'oci-layout:' '' -- $cur)\n"
	       "\t\tfor d in (__fish_complete_directories $dir)\n\t\t\techo oci-layout:$d\n\t\tend\n"
	       "\telse\n\t\techo oci-layout:\n\tend\nend\n\n"
	       "complete -c ocisync -f\n");
	printf("set -l __ocisync_commands");
	for (const cli_command *const *c = cli_commands; *c; c++)
		printf(" %s", (*c)->name);
	printf("\n");
	for (const cli_command *const *c = cli_commands; *c; c++) {
		printf("complete -c ocisync -n \"not __fish_seen_subcommand_from $__ocisync_commands\" -a %s -d ", (*c)->name);
		fish_quoted((*c)->summary);
		putchar('\n');
	}
	for (const cli_option *o = cli_global_options; o->id; o++)
		fish_option(NULL, o);
	printf("complete -c ocisync -s h -l help -d 'show help'\n");
	for (const cli_command *const *c = cli_commands; *c; c++) {
		char cond[96];
		snprintf(cond, sizeof cond, "__fish_seen_subcommand_from %s", (*c)->name);
		for (const cli_option *o = (*c)->options; o && o->id; o++)
			fish_option(cond, o);
		/* operands: what the first of them completes with */
		const cli_operand *p = (*c)->operands;
		for (; p && p->value; p++) {
			if (p->value == CLI_VALUE_FILE || p->value == CLI_VALUE_DIR)
				printf("complete -c ocisync -n '%s' -F\n", cond);
			else if (p->value == CLI_VALUE_REF)
				printf("complete -c ocisync -n '%s' -a '(__ocisync_ref)'\n", cond);
			else if (p->value == CLI_VALUE_ENUM)
				printf("complete -c ocisync -n '%s' -a '%s'\n", cond, p->values);
		}
	}
	return EXIT_OK;
}

static int cmd_completion(cli *c, int argc, char **argv)
{
	cli_args a;
	if (cli_args_operands_only(&a, c, &cli_cmd_completion, argc, argv) < 0)
		return a.rc;
	if (a.nargs != 1)
		return cli_usage_error(c, "completion takes one SHELL: bash, zsh or fish");
	if (!strcmp(a.args[0], "bash"))
		return bash();
	if (!strcmp(a.args[0], "zsh"))
		return zsh();
	if (!strcmp(a.args[0], "fish"))
		return fish();
	return cli_usage_error(c, "completion takes bash, zsh or fish, not '%s'", a.args[0]);
}

const cli_command cli_cmd_completion = {
	.name = "completion",
	.run = cmd_completion,
	.summary = "print shell completion for bash, zsh or fish",
	.usage = "completion bash|zsh|fish",
	.description =
		"Prints a completion script for the shell, written from the same command table\n"
		"as --help: commands, their options and what each value is (files, directories,\n"
		"oci-layout: references, one of a list). Installed packages ship all three;\n"
		"by hand: source <(ocisync completion bash) in ~/.bashrc,\n"
		"ocisync completion zsh > \"${fpath[1]}/_ocisync\",\n"
		"ocisync completion fish > ~/.config/fish/completions/ocisync.fish.\n",
	.operands = (const cli_operand[]){ { CLI_VALUE_ENUM, "SHELL", "bash zsh fish", 0 }, { 0 } },
};
