#!/usr/bin/env bash
# Mutation check: plants each bug described in tests/mutants/*.mutant, one
# at a time, into a scratch copy of the tree, rebuilds it incrementally (one
# build directory for all mutants), and runs the tests the mutant names --
# then, if those pass, the whole suite. A mutant that no test kills is a
# dangerous bug the suite would let through: the script prints it and fails.
#
#   scripts/mutate.sh [--check] [NAME...]
#
# NAME: mutants to run (file names without .mutant; default all).
# --check: only verify that every find string still matches exactly once
# (seconds; for reviewing mutants after the code moved).
# Environment: MUTATE_JOBS (test processes, default 2), MUTATE_SETUP_ARGS
# (extra `meson setup` arguments for the scratch build, e.g. sanitizers),
# MUTATE_KEEP=1 (keep the scratch directory), MUTATE_DIR (another
# directory of mutants).
# Last line: "mutants: K killed, S survived, B broken (of N) in M min S s";
# exit 0 only when every mutant was killed.
# The whole script is one { } block, read before it runs: editing this file
# during a run (it takes minutes) cannot derail the run.
{
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mdir=${MUTATE_DIR:-$root/tests/mutants}
helper="$root/scripts/mutate.py"
py=/usr/bin/python3
jobs=${MUTATE_JOBS:-2}
check_only=0
names=()
for a in "$@"; do
	case "$a" in
	--check) check_only=1 ;;
	-h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "mutate.sh: unknown option $a" >&2; exit 2 ;;
	*) names+=("$a") ;;
	esac
done

mutants=()
if [ "${#names[@]}" -eq 0 ]; then
	for f in "$mdir"/*.mutant; do [ -e "$f" ] && mutants+=("$f"); done
else
	for n in "${names[@]}"; do
		f="$mdir/${n%.mutant}.mutant"
		[ -f "$f" ] || { echo "mutate.sh: no mutant $f" >&2; exit 2; }
		mutants+=("$f")
	done
fi
[ "${#mutants[@]}" -gt 0 ] || { echo "mutate.sh: no mutants in $mdir" >&2; exit 2; }

# Every find string must match exactly once before anything is built: a
# mutant that no longer applies fails loudly, it is not skipped.
if ! "$py" "$helper" check "$root" "${mutants[@]}"; then
	echo "mutate.sh: some mutants no longer apply (above); fix their find strings" >&2
	echo "mutants: 0 killed, 0 survived, ${#mutants[@]} not run (find strings do not match)"
	exit 1
fi
if [ "$check_only" -eq 1 ]; then
	echo "mutants: ${#mutants[@]} apply cleanly"
	exit 0
fi

t0=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/ocisync-mutate.XXXXXX")
cleanup() { [ "${MUTATE_KEEP:-0}" = 1 ] && echo "scratch kept: $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
src="$work/src"
build="$work/build"
mkdir -p "$src"
# the tree as it is now (committed or not), without build directories
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$root" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$src"
else
	tar -C "$root" --exclude='./build*' --exclude='./.git' -cf - . | tar -xf - -C "$src"
fi || { echo "mutate.sh: copying the tree failed" >&2; exit 1; }

echo "== building the scratch copy ($src)"
# shellcheck disable=SC2086
if ! meson setup "$build" "$src" ${MUTATE_SETUP_ARGS:-} >"$work/setup.log" 2>&1 || ! ninja -C "$build" >"$work/build.log" 2>&1; then
	tail -30 "$work/setup.log" "$work/build.log" >&2
	echo "mutants: 0 killed, 0 survived, ${#mutants[@]} not run (the unmutated copy does not build)"
	exit 1
fi

# failed_tests: the names of the tests that did not pass in the last run
failed_tests() {
	"$py" - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
bad, stopped = [], []
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        name = r["name"].split(" / ")[-1]
        if r.get("result") == "INTERRUPT":
            stopped.append(name)  # cut short by --maxfail, not failed
        elif r.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL"):
            bad.append(name)
except FileNotFoundError:
    pass
print(" ".join(bad or stopped))
PY
}
run_tests() { # log [meson test options] TEST...: 0 when every test passed
	local log=$1
	shift
	meson test -C "$build" --no-rebuild --num-processes "$jobs" --print-errorlogs "$@" >"$log" 2>&1
}

# The named tests must pass on the unmutated copy, or a "kill" means nothing.
mapfile -t all_tests < <("$py" "$helper" tests "${mutants[@]}" | tr ' ' '\n' | sort -u)
echo "== baseline: ${all_tests[*]}"
if ! run_tests "$work/baseline.log" "${all_tests[@]}"; then
	echo "mutate.sh: the unmutated copy fails: $(failed_tests)" >&2
	tail -40 "$work/baseline.log" >&2
	echo "mutants: 0 killed, 0 survived, ${#mutants[@]} not run (the baseline fails)"
	exit 1
fi

killed=0 survived=0 broken=0
survivors=() brokens=()
for f in "${mutants[@]}"; do
	name=$(basename "$f" .mutant)
	read -r -a tests < <("$py" "$helper" tests "$f")
	rel=$("$py" "$helper" file "$f")
	cp -p "$src/$rel" "$work/original"
	target=$("$py" "$helper" apply "$src" "$f") || { broken=$((broken + 1)); brokens+=("$name (does not apply)"); continue; }
	m0=$(date +%s)
	if ! ninja -C "$build" >"$work/$name.build.log" 2>&1; then
		printf '%-34s BROKEN (does not build; see below)\n' "$name"
		grep -E 'error' "$work/$name.build.log" | head -5
		broken=$((broken + 1))
		brokens+=("$name (does not build)")
	elif ! run_tests "$work/$name.log" --maxfail 1 "${tests[@]}"; then # the first failure kills it
		printf '%-34s killed by %s (%ss)\n' "$name" "$(failed_tests)" $(($(date +%s) - m0))
		killed=$((killed + 1))
	elif ! run_tests "$work/$name.suite.log" --maxfail 1; then
		printf '%-34s killed by %s, not by its own tests (%s): name them in the mutant (%ss)\n' \
			"$name" "$(failed_tests)" "${tests[*]}" $(($(date +%s) - m0))
		killed=$((killed + 1))
	else
		printf '%-34s SURVIVED its tests (%s) and the whole suite (%ss)\n' "$name" "${tests[*]}" $(($(date +%s) - m0))
		survived=$((survived + 1))
		survivors+=("$name")
	fi
	# back to the original: newer than the mutant's object, so the next
	# ninja run rebuilds it
	cp "$work/original" "$target" && touch "$target"
done

dt=$(($(date +%s) - t0))
if [ "$survived" -gt 0 ]; then
	echo "SURVIVORS (bugs no test catches): ${survivors[*]}"
fi
if [ "$broken" -gt 0 ]; then
	echo "BROKEN (fix the mutant): ${brokens[*]}"
fi
echo "mutants: $killed killed, $survived survived, $broken broken (of ${#mutants[@]}) in $((dt / 60)) min $((dt % 60)) s"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]
exit
}
