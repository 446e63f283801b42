#!/bin/bash
# The command line (issue 9 item 10, issue 11 step 5): every command parses
# through the one spec-driven parser, so every usage mistake exits 2 with a
# message naming the option or operand; "--" ends the options; short flags
# combine; --opt=value and --opt value are the same.
. "$(dirname "$0")/lib.sh"

run --help
[ "$RC" -eq 0 ] || fail "ocisync --help exited $RC"
commands=$(printf '%s\n' "$OUT" | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }')
[ "$(printf '%s\n' "$commands" | wc -l)" -ge 19 ] || fail "too few commands in ocisync --help: $commands"

step "every command: unknown options, missing values, flags with values, missing operands exit 2"
for cmd in $commands; do
	expect_fail 2 "unknown option --no-such-option" "$cmd" --no-such-option
	expect_fail 2 "unknown option -Z" "$cmd" -Z
	expect_fail 2 "unknown option -Z" "$cmd" -qZ
	run "$cmd" --help
	[ "$RC" -eq 0 ] || fail "ocisync $cmd --help exited $RC: $ERR"
	help=$OUT
	# an option of the command's own that takes a value, else a global one
	valued=$(printf '%s\n' "$help" | sed -n '/^Options:/,/^$/p' | sed -nE 's/^  (-., )?--([a-z-]+) [A-Za-z|].*/\2/p' | head -1)
	expect_fail 2 "option --${valued:-timeout} needs a value" "$cmd" "--${valued:-timeout}"
	flag=$(printf '%s\n' "$help" | sed -n '/^Options:/,/^$/p' | sed -nE 's/^  (-., )?--([a-z-]+)( {2,}|$).*/\2/p' | { grep -v '^help$' || true; } | head -1)
	expect_fail 2 "option --${flag:-quiet} takes no value" "$cmd" "--${flag:-quiet}=yes"
	usage=$(printf '%s\n' "$help" | sed -n 's/^Usage: ocisync //p')
	case $usage in
	"$cmd" | "$cmd ["*) # no operands: an extra one is the mistake
		expect_fail 2 "$cmd takes no arguments" "$cmd" extra ;;
	*)
		run "$cmd"
		[ "$RC" -eq 2 ] || fail "ocisync $cmd without operands exited $RC, expected 2: $ERR"
		assert_contains "$ERR" "ocisync $cmd: $cmd " "the message of ocisync $cmd without operands"
		;;
	esac
	# the same mistakes with -o json: one error object, code usage
	run -o json "$cmd" --no-such-option
	[ "$RC" -eq 2 ] || fail "ocisync -o json $cmd --no-such-option exited $RC"
	assert_contains "$OUT" '"code":"usage","message":"unknown option --no-such-option"'
done
expect_fail 2 "unknown command 'frobnicate'" frobnicate
expect_fail 2 "unknown option --bogus" --bogus version

step "global options before or after the command, combined short flags"
run -qo json version
assert_contains "$OUT" '"ocisync":' "-qo json"
run version -qojson
assert_contains "$OUT" '"ocisync":' "-qojson after the command"
run version --output=json
assert_contains "$OUT" '"ocisync":' "--output=json"
expect_fail 2 "-o takes text or json, not 'yaml'" version -o yaml
expect_fail 2 "--output takes text or json, not 'yaml'" --output=yaml version
expect_fail 2 "option -o needs a value" version -o
run --version
assert_contains "$OUT" "ocisync " "--version"

step "-- ends the options: a PATH starting with -"
mkdir -p "$WORK/tree/-dir"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n' >"$WORK/tree/-dir/cm.yaml"
cd "$WORK/tree"
L="oci-layout:$WORK/store"
export SOURCE_DATE_EPOCH=1700000000
expect_fail 2 "unknown option -d in '-dir' (-- ends the options)" push "$L:a" -dir
ok push -q "$L:a" -- -dir
ok resolve "$L:a"
D1=$OUT

step "--opt=value and --opt value, -aK=V and -a K=V, options after operands"
ok push "$L:b" -- -dir
ok push --created=2024-01-02T03:04:05Z "$L:c" -aorg.example.k=v -- -dir
ok push "$L:d" --created 2024-01-02T03:04:05Z -a org.example.k=v -- -dir
ok resolve "$L:c"
C=$OUT
ok resolve "$L:d"
assert_eq "$OUT" "$C" "the same push written two ways"
[ "$C" != "$D1" ] || fail "--created and -a changed nothing"
expect_fail 2 "--max-size takes a number of bytes" push --max-size= "$L:e" -- -dir

step "push --created that is not RFC 3339: a usage error, nothing pushed"
expect_fail 2 "--created takes an RFC 3339 time like 2006-01-02T15:04:05Z, not 'yesterday'" push --created yesterday "$L:f" -- -dir
expect_fail 1 "" resolve "$L:f"
echo "cli_parse: ok"
