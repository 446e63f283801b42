#!/bin/bash
# Pull + extract, one build against another (issue 13's pull item): the
# 10,000-file tree pushed once to a local docker-registry, then pulled by
# both ocisync binaries in alternating order, each round timed; a second
# pass goes through tests/faultproxy.py sending blobs at RATE bytes/s
# (paced by the clock in 5 ms pieces: the network the slower side).
# Medians, ratios (new/old) and every round's time; each round also times
# GNU tar extracting the same layer from a local file (the anchor).
#
# usage: bench/pull.sh OLD_OCISYNC [ROUNDS] [RATE]   (OCISYNC=new, default build/cli/ocisync)
# PULL_DEST=DIR pulls into DIR instead (e.g. a tmpfs such as /dev/shm: the
# pipeline's own cost without the disk's, whose journal and writeback move
# a pull on ext4 by seconds from one round to the next).
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
	--rules "[{\"method\":\"GET\",\"path\":\"/blobs/sha256:\",\"mode\":\"drip\",\"rate\":$RATE,\"interval\":0.005,\"count\":100000}]" &
_pids+=("$!")
wait_port "$port"
DEST=${PULL_DEST:-$WORK}
if [ -n "${PULL_DEST:-}" ]; then
	DEST=$(mktemp -d "$PULL_DEST/ocisync-pull.XXXXXX")
	trap 'rc=$?; rm -rf "$DEST"; (exit $rc); _cleanup' EXIT
fi
# the anchor: GNU tar extracting the same layer blob from a local file
layer=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	"http://127.0.0.1:$REG_PORT/v2/seed/app/manifests/v1" |
	/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
curl -sf -o "$WORK/layer.tar.gz" "http://127.0.0.1:$REG_PORT/v2/seed/app/blobs/$layer"
echo "tree: $(find "$WORK/tree" -type f | wc -l) files; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$ROUNDS"); do
	for who in $( ((i % 2)) && echo "old new" || echo "new old"); do
		bin=$OCISYNC
		[ "$who" = old ] && bin=$OLD
		# each pull starts with nothing dirty: the previous trees'
		# writeback (and their removal) would otherwise throttle
		# whichever pull comes next by seconds (balance_dirty_pages)
		rm -rf "$DEST/d-$who" "$DEST/s-$who"
		sync
		timed "direct_$who" "$bin" pull "$REG/seed/app:v1" "$DEST/d-$who"
		sync
		timed "slow_$who" "$bin" pull "127.0.0.1:$port/seed/app:v1" "$DEST/s-$who"
	done
	rm -rf "$DEST/tar"
	mkdir "$DEST/tar"
	sync
	timed tar tar -xzf "$WORK/layer.tar.gz" -C "$DEST/tar"
done
for w in direct slow; do
	a=$(median <"$WORK/t.${w}_new")
	b=$(median <"$WORK/t.${w}_old")
	ma=$(median <"$WORK/m.${w}_new")
	mb=$(median <"$WORK/m.${w}_old")
	awk -v w="$w" -v a="$a" -v b="$b" -v ma="$ma" -v mb="$mb" 'BEGIN { printf "%-6s new %6.3f s   old %6.3f s   ratio %.2f   peak RSS %.1f / %.1f MiB\n", w, a, b, a / b, ma / 1024, mb / 1024 }'
	echo "       rounds new: $(tr '\n' ' ' <"$WORK/t.${w}_new")"
	echo "       rounds old: $(tr '\n' ' ' <"$WORK/t.${w}_old")"
done
t=$(median <"$WORK/t.tar")
for who in new old; do
	awk -v who="$who" -v a="$(median <"$WORK/t.direct_$who")" -v t="$t" 'BEGIN { printf "direct %s / tar -xzf of the blob from a local file (%.3f s): %.2f\n", who, t, a / t }'
done
echo "       rounds tar: $(tr '\n' ' ' <"$WORK/t.tar")"
