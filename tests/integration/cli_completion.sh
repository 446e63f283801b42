#!/bin/bash
# `ocisync completion bash|zsh|fish` (issue 9 item 10): written from the
# command table. bash: sourced in bash (with bash-completion, as Debian
# loads it, and without), `complete -p` and the completions of real command
# lines checked; zsh and fish: syntax-checked, fish asked for completions.
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/cwd/store" "$WORK/cwd/stuff"
touch "$WORK/cwd/key.pub"
cd "$WORK/cwd"
ok completion bash
printf '%s\n' "$OUT" >"$WORK/ocisync.bash"
bash -n "$WORK/ocisync.bash" || fail "the bash completion does not parse"
expect_fail 2 "completion takes bash, zsh or fish, not 'tcsh'" completion tcsh
expect_fail 2 "completion takes one SHELL" completion

# complete.sh WITH_BASH_COMPLETION LINE...: each LINE's completions, "LINE => words" (sorted)
cat >"$WORK/complete.sh" <<'SH'
with=$1
shift
if [ "$with" = 1 ]; then
	. /usr/share/bash-completion/bash_completion
fi
. "$COMPLETION"
complete -p ocisync
for line in "$@"; do
	COMP_LINE=$line
	COMP_POINT=${#line}
	# the words as bash splits them (COMP_WORDBREAKS), an empty one after a space
	read -ra COMP_WORDS <<<"${line//=/ = }"
	[[ $line == *" " || $line == *= ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_ocisync ocisync "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	echo "$line => $(printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | xargs)"
done
SH

check_bash() { # WITH: the lines every bash completes alike
	local with=$1 out
	out=$(COMPLETION="$WORK/ocisync.bash" bash "$WORK/complete.sh" "$with" \
		"ocisync pu" "ocisync push --sig" "ocisync push --profile " "ocisync -o " "ocisync -qo " \
		"ocisync verify --key k" "ocisync sync --root s" "ocisync completion " "ocisync push x s" \
		"ocisync help ver" "ocisync sign --signature-format=" "ocisync --ver" "ocisync tag " \
		"ocisync push -- --x s") || fail "bash completion (bash-completion $with): $out"
	assert_contains "$out" "complete -F _ocisync ocisync"
	assert_contains "$out" "ocisync pu => pull push"
	assert_contains "$out" "ocisync push --sig => --sign-key --signature-format"
	assert_contains "$out" "ocisync push --profile  => flux portable"
	assert_contains "$out" "ocisync -o  => json text"
	assert_contains "$out" "ocisync -qo  => json text"
	assert_contains "$out" "ocisync verify --key k => key.pub"
	assert_contains "$out" "ocisync sync --root s => store stuff"
	assert_contains "$out" "ocisync completion  => bash fish zsh"
	assert_contains "$out" "ocisync push x s => store stuff"
	assert_contains "$out" "ocisync help ver => verify version"
	assert_contains "$out" "ocisync sign --signature-format= => bundle sig"
	assert_contains "$out" "ocisync --ver => --verbose --version"
	assert_contains "$out" "ocisync tag  => oci-layout:"
	assert_contains "$out" "ocisync push -- --x s => store stuff"
	printf '%s\n' "$out"
}
step "bash, with bash-completion loaded"
[ -f /usr/share/bash-completion/bash_completion ] || fail "bash-completion is missing (scripts/deps.txt)"
out=$(check_bash 1)
# a reference: oci-layout: completes to directories (bash shows what follows the colon)
out=$(COMPLETION="$WORK/ocisync.bash" bash "$WORK/complete.sh" 1 "ocisync push oci-layout:st")
assert_contains "$out" "ocisync push oci-layout:st => store/ stuff/"
step "bash, without bash-completion"
out=$(check_bash 0)

step "every command and option of --help is in each script"
ok completion zsh
printf '%s\n' "$OUT" >"$WORK/_ocisync"
ok completion fish
printf '%s\n' "$OUT" >"$WORK/ocisync.fish"
run --help
commands=$(printf '%s\n' "$OUT" | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }')
for cmd in $commands; do
	assert_contains "$(cat "$WORK/ocisync.bash")" "$cmd) echo '" "bash: $cmd"
	assert_contains "$(cat "$WORK/_ocisync")" "	$cmd)" "zsh: $cmd"
	assert_contains "$(cat "$WORK/ocisync.fish")" "-a $cmd -d" "fish: $cmd"
	run "$cmd" --help
	for opt in $(printf '%s\n' "$OUT" | sed -n '/^Options:/,/^$/p' | sed -nE 's/^  (-., )?--([a-z-]+).*/\2/p'); do
		[ "$opt" = help ] && continue
		assert_contains "$(cat "$WORK/_ocisync")" "'*--$opt" "zsh: $cmd --$opt"
		grep -qE "__fish_seen_subcommand_from $cmd'( -s .)? -l $opt( |\$)" "$WORK/ocisync.fish" || fail "fish: no $cmd --$opt"
	done
done

step "zsh"
if command -v zsh >/dev/null; then
	zsh -n "$WORK/_ocisync" || fail "the zsh completion does not parse"
	head -1 "$WORK/_ocisync" | grep -qx '#compdef ocisync' || fail "the zsh completion lacks #compdef"
	assert_contains "$(cat "$WORK/_ocisync")" "'*--profile=[manifest layout (default portable); flux warns about what Flux drops (symlinks)" "zsh: an option's whole help"
	assert_contains "$(cat "$WORK/_ocisync")" "]:value:(portable flux)'" "zsh: an enum"
	assert_contains "$(cat "$WORK/_ocisync")" "'*--verify-key=[" "zsh: a file option"
else
	fail "zsh is missing (scripts/deps.txt)"
fi

step "fish"
if command -v fish >/dev/null; then
	fish -n "$WORK/ocisync.fish" || fail "the fish completion does not parse"
	out=$(fish --no-config -c "source $WORK/ocisync.fish; complete -C 'ocisync pu'; complete -C 'ocisync push --profile '; complete -C 'ocisync -o '") ||
		fail "fish complete: $out"
	assert_contains "$out" "push	pack a directory"
	assert_contains "$out" "pull	download"
	assert_contains "$out" "portable"
	assert_contains "$out" "flux"
	assert_contains "$out" "json"
else
	fail "fish is missing (scripts/deps.txt)"
fi
echo "cli_completion: ok"
