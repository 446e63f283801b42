#!/usr/bin/env bash
# Runs the libFuzzer harnesses of tests/fuzz/ (see tests/fuzz/README.md).
#   scripts/fuzz.sh [-t SECONDS] [HARNESS...]
# Each harness (all by default) runs for SECONDS (default 300; CI: 12) on a
# copy of its seed corpus, testdata/fuzz/HARNESS/, kept in
# build-fuzz/fuzz-corpus/HARNESS/ so longer runs build on earlier ones.
# The build is clang with libFuzzer, ASan and UBSan (build-fuzz/,
# -Dfuzz=enabled). A crash, leak, timeout or broken invariant is saved to
# build-fuzz/fuzz-crashes/HARNESS/ and named at the end; the exit status is
# then 1; 77 when clang or libFuzzer is missing. Add a (minimised: fuzz-HARNESS -minimize_crash=1 FILE) crasher to
# testdata/fuzz/HARNESS/ so every test run replays it once fixed.
# FUZZ_BUILD_DIR overrides build-fuzz; extra libFuzzer flags go in FUZZ_ARGS.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=300
if [ "${1:-}" = "-t" ]; then
	seconds=$2
	shift 2
fi
dir=${FUZZ_BUILD_DIR:-build-fuzz}
harnesses=("$@")
if [ "${#harnesses[@]}" -eq 0 ]; then
	mapfile -t harnesses < <(sed -n "/^fuzz_harnesses = \[/,/^\]/s/^ *'\([a-z_0-9]*\)',*$/\1/p" tests/fuzz/meson.build)
fi
# 77 (skipped) without clang and its libFuzzer runtime
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n' >"$probe/p.c"
if ! command -v clang >/dev/null || ! clang -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" 2>/dev/null; then
	echo "fuzz: clang with libFuzzer is not installed (apt-get install clang libclang-rt-dev)" >&2
	exit 77
fi
if ! CC=clang bash scripts/build.sh "$dir" -Dfuzz=enabled -Dman=disabled \
	-Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize-recover=all; then
	echo "fuzz: building $dir failed" >&2
	exit 2
fi
# the extraction harness creates and removes trees: keep that off the disk
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	export TMPDIR=/dev/shm
fi
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
status=0
crashed=()
for h in "${harnesses[@]}"; do
	bin=$dir/tests/fuzz/fuzz-$h
	if [ ! -x "$bin" ]; then
		echo "fuzz: no harness $h ($bin)" >&2
		exit 2
	fi
	corpus=$dir/fuzz-corpus/$h
	crashes=$dir/fuzz-crashes/$h
	mkdir -p "$corpus" "$crashes"
	log=$dir/fuzz-$h.log
	# new inputs go to the first directory; the seeds stay untouched
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$crashes/" -print_final_stats=1 ${FUZZ_ARGS:-} \
		"$corpus" "testdata/fuzz/$h" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	units=$(ls "$corpus" | wc -l)
	if [ "$rc" -ne 0 ]; then
		status=1
		crashed+=("$h")
		echo "fuzz $h: FAILED after ${runs:-?} runs (log $log):" >&2
		grep -E 'ERROR|invariant broken|SUMMARY|Test unit written' "$log" | head -8 >&2
	else
		echo "fuzz $h: ${runs:-?} runs in ${seconds}s, ${cov:-cov: ?}, corpus $units new units"
	fi
done
if [ "$status" -ne 0 ]; then
	echo "fuzz: crashes in ${crashed[*]} (inputs under $dir/fuzz-crashes/)" >&2
fi
exit $status
