#!/bin/bash
# Pull + extract, one build against another (issue 13's pull item): the
# 10,000-file tree pushed once to a local docker-registry, then pulled by
# both ocisync binaries in alternating order, each round timed; a second
# pass goes through tests/faultproxy.py sending blobs at RATE bytes/s
# (the network the slower side). Medians and ratios.
#
# usage: bench/pull.sh OLD_OCISYNC [ROUNDS] [RATE]   (OCISYNC=new, default build/cli/ocisync)
set -euo pipefail
OLD=${1:?usage: bench/pull.sh OLD_OCISYNC [ROUNDS] [RATE]}
ROUNDS=${2:-5}
RATE=${3:-20971520}
. "$(dirname "$0")/common.sh"

start_registry bench
/usr/bin/python3 "$SRCDIR/bench/gen-tree.py" "$WORK/tree" >/dev/null
"$OCISYNC" push "$REG/seed/app:v1" "$WORK/tree" >/dev/null
port=$(free_port)
/usr/bin/python3 "$SRCDIR/tests/faultproxy.py" --port "$port" --upstream-port "$REG_PORT" \
	--storage-port "$(free_port)" --log "$WORK/proxy.log" \
	--rules "[{\"method\":\"GET\",\"path\":\"/blobs/sha256:\",\"mode\":\"drip\",\"rate\":$RATE,\"count\":100000}]" &
_pids+=("$!")
wait_port "$port"
echo "tree: $(find "$WORK/tree" -type f | wc -l) files; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$ROUNDS"); do
	for who in $( ((i % 2)) && echo "old new" || echo "new old"); do
		bin=$OCISYNC
		[ "$who" = old ] && bin=$OLD
		rm -rf "$WORK/d-$who" "$WORK/s-$who"
		timed "direct_$who" "$bin" pull "$REG/seed/app:v1" "$WORK/d-$who"
		timed "slow_$who" "$bin" pull "127.0.0.1:$port/seed/app:v1" "$WORK/s-$who"
	done
done
for w in direct slow; do
	a=$(median <"$WORK/t.${w}_new")
	b=$(median <"$WORK/t.${w}_old")
	ma=$(median <"$WORK/m.${w}_new")
	mb=$(median <"$WORK/m.${w}_old")
	awk -v w="$w" -v a="$a" -v b="$b" -v ma="$ma" -v mb="$mb" 'BEGIN { printf "%-6s one stream %6.3f s   download-then-extract %6.3f s   ratio %.2f   peak RSS %.1f / %.1f MiB\n", w, a, b, a / b, ma / 1024, mb / 1024 }'
done
