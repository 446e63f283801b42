#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test twice: in a normal
# build (build/) and under AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/); the Debian packages once on a fresh Debian 12 root; then
# each libFuzzer harness briefly when clang is there, and the mutation
# check (each counted as one test). Ends with the line
# "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

jobs=${OCISYNC_TEST_JOBS:-$(nproc)}
status=0
suites=()
logs=()

run_build() { # name dir [meson setup args...]
	local name=$1 dir=$2
	shift 2
	echo "== $name build ($dir)"
	if ! bash scripts/build.sh "$dir" "$@"; then
		echo "build $dir failed"
		status=1
		return
	fi
	echo "== $name tests"
	meson test -C "$dir" --num-processes "$jobs" --print-errorlogs --no-rebuild || status=1
	suites+=("$dir")
	logs+=("$dir/meson-logs/testlog.json")
}

run_build normal build

# The Debian packages on a fresh Debian 12 root (scripts/clean-build.sh:
# debootstrap, only the declared Build-Depends, dpkg-buildpackage, lintian,
# the .debs installed and used): once, in the normal build, as its own
# step and not in the suites above, because it is the one test that leaves
# loopback (it downloads from the Debian mirror) and it takes 7 to 10
# minutes from a cold cache (README). Counted from its own log,
# clean-build.json.
# OCISYNC_TEST_CLEAN_BUILD=0 leaves it out.
if [ "${OCISYNC_TEST_CLEAN_BUILD:-1}" != 0 ] && [ "${suites[0]:-}" = build ]; then
	echo "== Debian packages on a fresh Debian 12 root (scripts/clean-build.sh)"
	rm -f build/meson-logs/clean-build.json
	meson test -C build --no-rebuild --print-errorlogs --suite clean-build --logbase clean-build || status=1
	logs+=(build/meson-logs/clean-build.json)
fi

# Sanitizers: any UBSan finding aborts the test; ASan's leak checker is on.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
run_build sanitized build-asan -Db_sanitize=address,undefined -Db_lundef=false \
	-Dc_args=-fno-sanitize-recover=all

# Fuzzing: each libFuzzer harness for a short fixed time (scripts/fuzz.sh
# runs them longer on demand); skipped when clang is not installed.
fuzz_result=skipped
echo "== fuzz (${OCISYNC_FUZZ_SECONDS:-12} s per harness)"
bash scripts/fuzz.sh -t "${OCISYNC_FUZZ_SECONDS:-12}"
case $? in
0) fuzz_result=passed ;;
77) ;;
*) fuzz_result=failed; status=1 ;;
esac

# The mutation check (tests/mutants/, scripts/mutate.sh): every planted bug
# must make some test fail. Its own scratch build; about 10-15 minutes on two
# shared cores (README). OCISYNC_TEST_MUTATE=0 leaves it out.
unset UBSAN_OPTIONS ASAN_OPTIONS
mutate_rc=skip
if [ "${OCISYNC_TEST_MUTATE:-1}" != 0 ]; then
	echo "== mutation check"
	MUTATE_JOBS=${MUTATE_JOBS:-$jobs} bash scripts/mutate.sh && mutate_rc=0 || { mutate_rc=1; status=1; }
fi

# Count from Meson's JSON logs: one line per test.
counts=$(/usr/bin/python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for log in sys.argv[1:]:
    try:
        with open(log) as f:
            for line in f:
                r = json.loads(line).get("result")
                if r in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif r == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    except FileNotFoundError:
        failed += 1
print(passed, failed, skipped)
PY
)
read -r passed failed skipped <<<"$counts"
case "$mutate_rc" in
0) passed=$((passed + 1)) ;;
1) failed=$((failed + 1)) ;;
esac
if [ "${#suites[@]}" -lt 2 ]; then
	failed=$((failed + 2 - ${#suites[@]}))
fi
case $fuzz_result in
passed) passed=$((passed + 1)) ;;
failed) failed=$((failed + 1)) ;;
skipped) skipped=$((skipped + 1)) ;;
esac
[ "$failed" -eq 0 ] || status=1
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
exit $status
