#!/bin/bash
# -o json on failure (issue 9, item 4): every command prints ONE error
# object on stdout, {"error": {"code", "message", ...}}, usage errors too;
# the exit code and stderr are what they are without -o json. verify -o
# json lists each signature it tried with its verdict, and a release gate
# doing `jq -e .verified` gets an answer, never a parse error.
. "$(dirname "$0")/lib.sh"

cd "$WORK"
export COSIGN_PASSWORD=secret
ok keygen --prefix k1
ok keygen --prefix k2
L="$WORK/layout"
DIG=$(make_oci_image "$L" app)
mkdir -p tree
make_manifests tree
NONE="oci-layout:$WORK/none"
dead_port; DEAD=$DEAD_PORT # nothing listens there

# check CODE ERRCODE args...: text and json runs exit CODE with the same
# stderr; the json run's stdout is exactly one object with .error.code = ERRCODE.
check() {
	local code=$1 errcode=$2
	shift 2
	printf '%s\n' "${STDIN_TEXT:-}" >"$WORK/.stdin"
	run "$@" <"$WORK/.stdin"
	[ "$RC" -eq "$code" ] || fail "ocisync $* exited $RC, expected $code (stderr: $ERR)"
	local text_err=${ERR//after [0-9]* ms/after N ms} # libcurl's timings vary
	run -o json "$@" <"$WORK/.stdin"
	[ "$RC" -eq "$code" ] || fail "ocisync -o json $* exited $RC, expected $code (stderr: $ERR)"
	assert_eq "${ERR//after [0-9]* ms/after N ms}" "$text_err" "stderr of ocisync -o json $*"
	[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 1 ] || fail "ocisync -o json $*: not one line on stdout: $OUT"
	jq -e --arg c "$errcode" --argjson x "$code" \
		'(.error.code == $c) and (.error.message | type == "string" and length > 0) and (.error.exit_code == $x) and (keys == ["error"])' \
		<<<"$OUT" >/dev/null || fail "ocisync -o json $*: not the error object (code $errcode): $OUT"
}

step "usage errors, global and per command (exit 2)"
check 2 usage bogus-command
check 2 usage --timeout nope resolve "$NONE:v1"
check 2 usage --output yaml resolve "$NONE:v1"
check 2 usage resolve
check 2 usage push
check 2 usage pull "$NONE:v1"
check 2 usage manifest
check 2 usage inspect
check 2 usage tag "$NONE:v1"
check 2 usage copy "$NONE:v1"
check 2 usage tags
check 2 usage diff "$NONE:v1"
check 2 usage lint
check 2 usage sync "$NONE:v1"
check 2 usage keygen extra
check 2 usage sign "$NONE:v1"
check 2 usage verify "$NONE:v1"
check 2 usage discover
check 2 usage login
check 2 usage logout
check 2 usage resolve 'UPPER/Case:bad tag'
check 2 usage --ca-file "$WORK/no-ca.pem" resolve "$NONE:v1"

step "failures of every command (exit 1)"
check 1 not_found resolve "$NONE:v1"
check 1 not_found manifest "$NONE:v1"
check 1 not_found inspect "$NONE:v1"
check 1 not_found pull "$NONE:v1" "$WORK/out"
check 1 not_found tag "$NONE:v1" v2
check 1 not_found copy "$NONE:v1" "oci-layout:$WORK/copy:v1"
check 2 not_found diff "$NONE:v1" tree # diff: every error is 2, as diff(1)
check 1 network tags "127.0.0.1:$DEAD/team/app" --min-speed 1K/1s
check 1 not_found discover "$NONE:v1"
check 1 not_found sign --key k1.key "$NONE:v1"
check 1 not_found verify --key k1.pub "$NONE:v1"
check 1 not_found verify --key missing.pub "oci-layout:$L:app"
check 1 exists keygen --prefix k1
# an error with a hint names it for scripts; one without has no hint key
ok push --no-policy "oci-layout:$WORK/hinted:v1" tree
run -o json pull --max-size 10 "oci-layout:$WORK/hinted:v1" "$WORK/hinted-out"
assert_eq "$RC" 1 "pull over --max-size"
jq -e '.error.code == "limit" and .error.hint == "max_size"' <<<"$OUT" >/dev/null ||
	fail "pull over --max-size: not code limit with hint max_size: $OUT"
run -o json resolve "$NONE:v1"
jq -e '.error | has("hint") | not' <<<"$OUT" >/dev/null || fail "resolve of a missing layout: unexpected hint: $OUT"
check 1 network --min-speed 1K/1s resolve "127.0.0.1:$DEAD/team/app:v1"
STDIN_TEXT=pw check 1 network login "127.0.0.1:$DEAD" -u alice --password-stdin --min-speed 1K/1s
check 1 not_found push "oci-layout:$WORK/pushed:v1" "$WORK/no-such-dir"
# sync's -o json is its per-run result (ocisync-sync(1)): a failed run is
# {"result": "error", "error": "<message>", ...}, one object, parseable
run -o json sync "$NONE:v1" --root "$WORK/root" --once
[ "$RC" -eq 1 ] || fail "sync of a missing tag exited $RC: $ERR"
jq -e '.result == "error" and (.error | test("not found"))' <<<"$OUT" >/dev/null || fail "sync's failed result: $OUT"
# the reference is named when it is known
run -o json resolve "$NONE:v1"
assert_eq "$(jq -r .error.reference <<<"$OUT")" "$NONE:v1" "the error's reference"
assert_eq "$(jq -r .error.command <<<"$OUT")" "resolve" "the error's command"

step "verify -o json: each signature tried, with its verdict"
ok sign --key k1.key "oci-layout:$L:app"
ok sign --key k1.key --signature-format bundle "oci-layout:$L:app"
run -o json verify --key k2.pub "oci-layout:$L:app"
[ "$RC" -eq 1 ] || fail "verify with the wrong key exited $RC: $ERR"
jq -e --arg d "$DIG" '.error.code == "verify" and .error.verified == false and .error.digest == $d and
	([.error.signatures[].kind] | sort) == [".sig", "bundle"] and
	all(.error.signatures[]; .ok == false and (.reason | length > 0) and (.digest | startswith("sha256:")) and (has("key") | not))' \
	<<<"$OUT" >/dev/null || fail "verify's error object: $OUT"
# a gate's jq gets an answer (exit 1: null), not a parse error (exit 2+)
set +e
jq -e .verified <<<"$OUT" >/dev/null 2>&1
JQ=$?
set -e
assert_eq "$JQ" 1 "jq -e .verified on a failed verify"
run -o json verify --key k2.pub --key k1.pub "oci-layout:$L:app"
[ "$RC" -eq 0 ] || fail "verify with k1 exited $RC: $ERR"
jq -e '.verified == true and .signatures[-1].ok == true and .signatures[-1].key == "k1.pub" and (.signatures[-1] | has("reason") | not)' \
	<<<"$OUT" >/dev/null || fail "verify's result: $OUT"
assert_eq "$(jq -e .verified <<<"$OUT")" true "jq -e .verified on a verified reference"
# a signature whose annotations do not match is refused with its reason
run -o json verify --key k1.pub -a env=prod "oci-layout:$L:app"
[ "$RC" -eq 1 ] || fail "verify -a exited $RC: $ERR"
jq -e 'all(.error.signatures[]; .ok == false and (.reason | test("annotation")))' <<<"$OUT" >/dev/null ||
	fail "verify -a's error object: $OUT"
# no signatures at all: an error object with an empty list
DIG2=$(make_oci_image "$WORK/unsigned" app)
run -o json verify --key k1.pub "oci-layout:$WORK/unsigned:app"
[ "$RC" -eq 1 ] || fail "verify of an unsigned artifact exited $RC"
jq -e --arg d "$DIG2" '.error.code == "verify" and .error.signatures == [] and .error.digest == $d' <<<"$OUT" >/dev/null ||
	fail "unsigned verify's error object: $OUT"

step "text output is unchanged: nothing on stdout on failure"
run verify --key k2.pub "oci-layout:$L:app"
assert_eq "$OUT" "" "stdout of a failed verify without -o json"
echo "json_errors: ok"
