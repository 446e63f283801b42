#!/bin/bash
# Stopping local work (issue 9): SIGTERM while push packs a large tree into an
# oci-layout: (no transfer callback watches that) ends ocisync quickly
# (exit 143, "interrupted") and leaves no tag and no temporary file. The bound
# asserted is generous (a loaded machine); the measured time is printed.
. "$(dirname "$0")/lib.sh"
export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR" "$WORK/big"
BOUND_MS=10000 # the goal is 2 s

# Incompressible data: packing it takes several seconds.
for i in 1 2 3 4 5 6; do
	head -c 30M /dev/urandom >"$WORK/big/blob$i.bin"
done

# run_and_stop WHAT ocisync-args...: starts ocisync, waits until it is busy
# (WAIT_FOR names a file that shows it), sends SIGTERM; STOP_RC, STOP_MS.
run_and_stop() {
	local what=$1 i
	shift
	"$OCISYNC" "$@" >"$WORK/bg.out" 2>"$WORK/bg.err" &
	local pid=$!
	_pids+=("$pid")
	for i in $(seq 1 200); do
		eval "$WAIT_FOR" && break
		kill -0 "$pid" 2>/dev/null || fail "$what ended before the signal: $(cat "$WORK/bg.err")"
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null || fail "$what ended before the signal"
	stop_and_wait "$pid" TERM "$what" "$BOUND_MS"
	assert_eq "$STOP_RC" 143 "exit status of $what after SIGTERM"
	assert_contains "$(cat "$WORK/bg.err")" "interrupted"
}
leftovers() { find "$TMPDIR" "$@" -name '*tmp*' -o -name '*ocisync-layer*' 2>/dev/null | grep -v "^$TMPDIR\$" || true; }

step "push of a large tree to oci-layout: SIGTERM while packing"
# busy: the process has been packing for half a second
WAIT_FOR='sleep 0.5; true'
run_and_stop push --no-progress push "oci-layout:$WORK/lay:v1" "$WORK/big" --no-policy
expect_fail 1 "not found" resolve "oci-layout:$WORK/lay:v1"
[ -z "$(leftovers "$WORK/lay")" ] || fail "temporaries left: $(leftovers "$WORK/lay")"

