#!/bin/bash
# Fleet load: N clusters' no-op syncs at the same instant against one
# loopback docker-registry. For each N: N `ocisync sync --once` processes
# started together, each on its own root already holding the current
# revision (bench/fleet-run.py times them). Prints requests per sync (from
# the registry's access log), p50/p99 latency and failures; targets: 1
# request per no-op sync, 0 failures, p99 within 3x p50.
# Then the same with the registry answering 429 (Retry-After: 1) to a share
# of requests (bench/throttle.py in front of it): every sync must succeed
# (a failed one is run again, as the next CronJob run would, up to RETRIES
# times) and none may exceed DEADLINE seconds.
#
# Last, for the extrapolation in bench/README.md, what the registry itself
# serves: CAPACITY manifest HEADs (default 3000), 50 in flight (curl
# --parallel over kept-alive connections, no process start per request).
#
# usage: bench/fleet.sh [N...]      (default: 50 200 500; at most 500)
#        SHARE (429 share, default 0.25), DEADLINE (s, default 60),
#        RETRIES (default 3), CAPACITY (default 3000),
#        OCISYNC=path/to/ocisync
set -euo pipefail
SHARE=${SHARE:-0.25}
DEADLINE=${DEADLINE:-60}
RETRIES=${RETRIES:-3}
. "$(dirname "$0")/common.sh"
. "$SRCDIR/tests/integration/sync_lib.sh"
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(50 200 500)
max=0
for n in "${sizes[@]}"; do
	[ "$n" -ge 1 ] && [ "$n" -le 500 ] || { echo "N must be 1..500, not $n" >&2; exit 2; }
	[ "$n" -le "$max" ] || max=$n
done

start_registry fleet
echo "registry $REG, ocisync $OCISYNC, $(nproc) cores" >&2
make_manifests "$WORK/src"
"$OCISYNC" push "$REG/fleet/app:prod" "$WORK/src" >/dev/null
mkdir -p "$WORK/roots"
"$OCISYNC" sync "$REG/fleet/app:prod" --root "$WORK/roots/r0" --once >/dev/null
for i in $(seq 1 $((max - 1))); do
	cp -a "$WORK/roots/r0" "$WORK/roots/r$i"
done

# the proxy answering 429 to a share of requests
PROXY_PORT=$(free_port)
PROXY_LOG="$WORK/throttle.log"
: >"$PROXY_LOG"
/usr/bin/python3 "$SRCDIR/bench/throttle.py" --port "$PROXY_PORT" --upstream-port "$REG_PORT" \
	--share "$SHARE" --log "$PROXY_LOG" &
_pids+=("$!")
wait_port "$PROXY_PORT"

report() { # LABEL JSON REQUESTS [PROXY_REQUESTS PROXY_429]
	/usr/bin/python3 - "$@" <<'PY'
import json, sys
label, r, reqs = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
n = r["n"]
line = "%-22s N=%3d  registry req/sync %.2f" % (label, n, reqs / n)
if len(sys.argv) > 4:
    line += "  (client req/sync %.2f, 429s %d)" % (int(sys.argv[4]) / n, int(sys.argv[5]))
line += "  p50 %.0f ms  p99 %.0f ms (%.1fx)  max %.0f ms  wall %.1f s  first-try failures %d  never ok %d  deadline misses %d" % (
    r["p50"] * 1000, r["p99"] * 1000, r["p99"] / r["p50"], r["max"] * 1000, r["wall"],
    r["first_failures"], r["never_succeeded"], r["deadline_misses"])
print(line)
for e in r["sample_errors"]:
    print("    e.g.: " + e.replace("\n", " | "))
PY
}

round=0
for n in "${sizes[@]}"; do
	round=$((round + 1))
	reg_mark "a$round"
	json=$(/usr/bin/python3 "$SRCDIR/bench/fleet-run.py" "$OCISYNC" "$REG/fleet/app:prod" "$WORK/roots" "$n" "$DEADLINE" "$RETRIES")
	reg_mark "b$round"
	reqs=$(requests_between "a$round" "b$round" | grep -c ' /v2/fleet/' || true)
	report "no-op" "$json" "$reqs"

	reg_mark "c$round"
	before=$(wc -l <"$PROXY_LOG")
	json=$(/usr/bin/python3 "$SRCDIR/bench/fleet-run.py" "$OCISYNC" "127.0.0.1:$PROXY_PORT/fleet/app:prod" "$WORK/roots" "$n" "$DEADLINE" "$RETRIES")
	reg_mark "d$round"
	reqs=$(requests_between "c$round" "d$round" | grep -c ' /v2/fleet/' || true)
	preqs=$(tail -n +"$((before + 1))" "$PROXY_LOG" | grep -c ' /v2/fleet/' || true)
	p429=$(tail -n +"$((before + 1))" "$PROXY_LOG" | grep -c ' 429$' || true)
	report "429 to ${SHARE} share" "$json" "$reqs" "$preqs" "$p429"
done
# every root still on the same revision (no-op syncs)
want=$(link_hex "$WORK/roots/r0")
for i in $(seq 0 $((max - 1))); do
	[ "$(link_hex "$WORK/roots/r$i")" = "$want" ] || { echo "root r$i moved" >&2; exit 1; }
done

# the registry's own rate for the same request
CAPACITY=${CAPACITY:-3000}
url="http://$REG/v2/fleet/app/manifests/prod"
for i in $(seq 1 "$CAPACITY"); do printf 'url = "%s"\noutput = /dev/null\n' "$url"; done >"$WORK/curl.cfg"
t0=$EPOCHREALTIME
curl -s --no-progress-meter -I --parallel --parallel-max 50 -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	-K "$WORK/curl.cfg" -w '%{http_code}\n' >"$WORK/codes"
t1=$EPOCHREALTIME
printf 'registry alone: %d manifest HEADs, 50 in flight: %s; answers: %s\n' "$CAPACITY" \
	"$(awk -v a="$t0" -v b="$t1" -v n="$CAPACITY" 'BEGIN { printf "%.1f s, %.0f/s", b - a, n / (b - a) }')" \
	"$(sort "$WORK/codes" | uniq -c | awk '{ printf "%s x %s ", $1, $2 }')"
