# Shared by the benchmarks that run a registry: finds ocisync, gives a
# scratch directory and start_registry (tests/integration/lib.sh), and
# median. Source it after `set -euo pipefail`.
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${OCISYNC:=$SRCDIR/build/cli/ocisync}"
OCISYNC=$(realpath "$OCISYNC")
export OCISYNC SRCDIR
[ -x "$OCISYNC" ] || { echo "no ocisync at $OCISYNC (set OCISYNC)" >&2; exit 2; }
. "$SRCDIR/tests/integration/lib.sh"
export SOURCE_DATE_EPOCH=1700000000

# median of the numbers on stdin (mean of the middle two for an even count)
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.6f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# timed NAME CMD...: wall seconds and peak RSS (KiB) appended to $WORK/t.NAME / $WORK/m.NAME.
# The wall time is taken around /usr/bin/time to the microsecond (its own %e
# has 10 ms steps, a tenth of a ~0.1 s push); the RSS is its %M.
timed() {
	local name=$1 t0 t1
	shift
	t0=$EPOCHREALTIME
	/usr/bin/time -f "%e %M" -o "$WORK/time.out" "$@" >/dev/null 2>"$WORK/cmd.err" ||
		{ echo "$name failed: $(cat "$WORK/cmd.err")" >&2; exit 1; }
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f\n", b - a}' >>"$WORK/t.$name"
	awk '{print $2}' "$WORK/time.out" >>"$WORK/m.$name"
}
