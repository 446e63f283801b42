#!/bin/bash
# Soak: the sync loop (`ocisync sync REF --root DIR --interval I`, one
# long-running process) for thousands of steps against a loopback
# docker-registry, sampling the process's RSS and open file descriptors
# from /proc. Flat figures mean no leak; a steady climb is one.
#   phase 1 (steady):     STEPS steps; a new artifact is pushed every
#                         PUBLISH_EVERY steps (so some steps publish and
#                         prune, most are no-ops)
#   phase 2 (restarting): RESTART_STEPS more steps while the registry is
#                         killed and restarted under it, down alternately
#                         1 s (absorbed by the HTTP retries) and 5 s (longer
#                         than they last: failed steps, the loop's back-off),
#                         up 2 s in between
# Steps are counted from the metrics file (ocisync_sync_total, written
# after every step).
#
# usage: bench/soak.sh [STEPS] [RESTART_STEPS]   (defaults 2000 and 600)
#        INTERVAL (default 50ms), PUBLISH_EVERY (default 250),
#        SAMPLE (seconds between samples, default 2),
#        OCISYNC=path/to/ocisync (default build/cli/ocisync)
set -euo pipefail
STEPS=${1:-2000}
RESTART_STEPS=${2:-600}
INTERVAL=${INTERVAL:-50ms}
PUBLISH_EVERY=${PUBLISH_EVERY:-250}
SAMPLE=${SAMPLE:-2}
. "$(dirname "$0")/common.sh"

start_registry soak
REG_DIR="$WORK/soak"
echo "registry $REG, ocisync $OCISYNC, interval $INTERVAL" >&2
make_manifests "$WORK/src"
push_variant() { # N: a new artifact (one file differs)
	echo "generation: $1" >"$WORK/src/generation.yaml"
	"$OCISYNC" push "$REG/soak/app:prod" "$WORK/src" >/dev/null
}
push_variant 0

M="$WORK/metrics.prom"
"$OCISYNC" sync "$REG/soak/app:prod" --root "$WORK/root" --interval "$INTERVAL" --keep 2 \
	--metrics-file "$M" --status-file "$WORK/status.json" >"$WORK/sync.out" 2>"$WORK/sync.err" &
SYNC_PID=$!
_pids+=("$SYNC_PID")

steps() { # steps so far, from the metrics file
	awk '/^ocisync_sync_total\{/ { n += $2 } END { print n + 0 }' "$M" 2>/dev/null || echo 0
}
errors() { awk '/^ocisync_sync_total\{result="error"\}/ { print $2 }' "$M" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$SYNC_PID/status"; }
# the heap and other private memory: what a leak grows (VmRSS also counts
# library code pages as new paths run for the first time)
anon_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$SYNC_PID/status"; }
fds() { ls "/proc/$SYNC_PID/fd" | wc -l; }
T0=$EPOCHREALTIME
SAMPLES="$WORK/samples"
sample() { # PHASE
	kill -0 "$SYNC_PID" 2>/dev/null || { echo "the sync loop died: $(tail -3 "$WORK/sync.err")" >&2; exit 1; }
	printf '%-10s %8.1f %7d %7d %7d %5d %6d\n' "$1" "$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" \
		"$(steps)" "$(rss_kb)" "$(anon_kb)" "$(fds)" "$(errors)" | tee -a "$SAMPLES"
}
printf '%-10s %8s %7s %7s %7s %5s %6s\n' phase seconds steps rss_kB anon_kB fds errors

# phase 1: steady, with a publish every PUBLISH_EVERY steps
gen=0
next_push=$PUBLISH_EVERY
while [ "$(steps)" -lt "$STEPS" ]; do
	sleep "$SAMPLE"
	if [ "$(steps)" -ge "$next_push" ]; then
		gen=$((gen + 1))
		push_variant "$gen"
		next_push=$((next_push + PUBLISH_EVERY))
	fi
	sample steady
done
steady_end=$(steps)

# phase 2: the registry restarts under the loop
restart_registry() { # DOWN_SECONDS
	kill "$REG_PID" 2>/dev/null || true
	wait "$REG_PID" 2>/dev/null || true
	sleep "$1"
	docker-registry serve "$REG_DIR/config.yml" >>"$REG_LOG" 2>&1 &
	REG_PID=$!
	_pids+=("$REG_PID")
	wait_port "$REG_PORT"
}
restarts=0
target=$((steady_end + RESTART_STEPS))
while [ "$(steps)" -lt "$target" ]; do
	restart_registry $((restarts % 2 ? 5 : 1))
	restarts=$((restarts + 1))
	sleep 2
	sample restarting
done
# the loop recovers: one more publish goes through
gen=$((gen + 1))
push_variant "$gen"
want=$("$OCISYNC" resolve "$REG/soak/app:prod")
for i in $(seq 1 100); do
	if [ "$(basename "$(readlink "$WORK/root/current")")" = "${want#sha256:}" ]; then break; fi
	sleep 0.1
done
[ "$(basename "$(readlink "$WORK/root/current")")" = "${want#sha256:}" ] ||
	{ echo "the loop did not publish after the restarts" >&2; exit 1; }
sample final
kill -TERM "$SYNC_PID"
wait "$SYNC_PID" || { echo "the sync loop did not exit 0 on SIGTERM" >&2; exit 1; }

# verdict: after warm-up (the first 10% of samples), private memory
# (RssAnon) and fds not still climbing (the second half's peaks within
# 256 kB / 2 fds of the first's)
/usr/bin/python3 - "$SAMPLES" "$gen" "$restarts" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
gens, restarts = int(sys.argv[2]), int(sys.argv[3])
steps = [int(r[2]) for r in rows]; rss = [int(r[3]) for r in rows]
anon = [int(r[4]) for r in rows]; fds = [int(r[5]) for r in rows]
warm = max(1, len(rows) // 10)
def span(xs): return min(xs), max(xs)
r_lo, r_hi = span(rss[warm:]); f_lo, f_hi = span(fds[warm:])
growth = rss[-1] - rss[warm]
per_k = growth / max(1, (steps[-1] - steps[warm])) * 1000
print("\nsteps %d (%d publishes, %d registry restarts, %d failed steps)" % (steps[-1], gens, restarts, int(rows[-1][6])))
print("RSS after warm-up: %d..%d kB (first %d, last %d: %+d kB, %+.1f kB per 1000 steps)" % (r_lo, r_hi, rss[warm], rss[-1], growth, per_k))
print("open fds after warm-up: %d..%d" % (f_lo, f_hi))
half = warm + (len(rows) - warm) // 2
a_lo, a_hi = span(anon[warm:])
print("RssAnon after warm-up: %d..%d kB (first %d, last %d: %+d kB)" % (a_lo, a_hi, anon[warm], anon[-1], anon[-1] - anon[warm]))
climb = max(anon[half:]) - max(anon[warm:half]) if half > warm else 0
fclimb = max(fds[half:]) - max(fds[warm:half]) if half > warm else 0
print("peaks, second half minus first half: RssAnon %+d kB, fds %+d" % (climb, fclimb))
# a sample may land while a step holds a file or socket open: only a
# climbing peak counts
leak = fclimb > 2 or climb > 256
print("verdict: %s" % ("LEAK?" if leak else "flat"))
sys.exit(1 if leak else 0)
PY
