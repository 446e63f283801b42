#!/bin/bash
# Registry benchmark (issues 3 and 13), against skopeo on the same local
# docker-registry, interleaved in one run:
#   push  ocisync copy oci-layout:LAYOUT:v1 REG/fresh:v1  vs  skopeo copy oci:LAYOUT:v1 docker://REG/fresh:v1
#         (the same work: an artifact packed once beforehand, uploaded to a
#         repository that has none of it; requests counted in the access log)
#   pack+push  ocisync push REG/fresh TREE (packing included), for information
#   pull  ocisync pull REG/app DIR             vs  skopeo copy docker://REG/app oci:DIR + tar -xzf
#   big   a 1 GiB incompressible artifact pushed and pulled: peak RSS (target <= 16 MiB, issue 13)
# The tree is bench/gen-tree.py's 10,000 files. Each round runs both tools
# (alternating who goes first); the report gives medians and ratios.
#
# usage: bench/registry.sh [ROUNDS]   (OCISYNC=path/to/ocisync, default build/cli/ocisync;
#                                      BIG=0 skips the 1 GiB part)
set -euo pipefail
ROUNDS=${1:-5}
. "$(dirname "$0")/common.sh"

# skopeo pull + extract, as one timed unit.
skopeo_pull_extract() { # repo dest
	local repo=$1 dest=$2 layer
	skopeo copy -q --src-tls-verify=false "docker://$repo" "oci:$dest.oci:v1"
	layer=$(/usr/bin/python3 -c 'import json,sys; i=json.load(open(sys.argv[1]+"/index.json")); m=json.load(open(sys.argv[1]+"/blobs/sha256/"+i["manifests"][0]["digest"][7:])); print(m["layers"][0]["digest"][7:])' "$dest.oci")
	mkdir -p "$dest"
	tar -xzf "$dest.oci/blobs/sha256/$layer" -C "$dest"
}
export -f skopeo_pull_extract

start_registry bench
echo "registry $REG, $ROUNDS rounds, ocisync $OCISYNC" >&2
/usr/bin/python3 "$SRCDIR/bench/gen-tree.py" "$WORK/tree" >/dev/null
files=$(find "$WORK/tree" -type f | wc -l)
bytes=$(du -sb "$WORK/tree" | cut -f1)
echo "tree: $files files, $bytes bytes; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$OCISYNC" push "oci-layout:$WORK/layout:v1" "$WORK/tree" >/dev/null
"$OCISYNC" push "$REG/seed/app:v1" "$WORK/tree" >/dev/null

# The requests made to repository $2 since log line $1, appended to $WORK/requests.$3.
count_requests() { # before repo name
	tail -n +"$(($1 + 1))" "$REG_LOG" | grep -c '"[A-Z]* /v2/\('"$2"'/\| \)' >>"$WORK/requests.$3" || true
}
# The packed artifact uploaded into a fresh repository, timed and counted.
push_ocisync() { # round
	local before
	before=$(wc -l <"$REG_LOG")
	timed push_ocisync "$OCISYNC" copy "oci-layout:$WORK/layout:v1" "$REG/o$1/app:v1" --no-progress
	count_requests "$before" "o$1/app" ocisync
}
push_skopeo() { # round
	local before
	before=$(wc -l <"$REG_LOG")
	timed push_skopeo skopeo copy -q --dest-tls-verify=false "oci:$WORK/layout:v1" "docker://$REG/s$1/app:v1"
	count_requests "$before" "s$1/app" skopeo
}

SEED=$REG
for i in $(seq 1 "$ROUNDS"); do
	echo "round $i" >&2
	# skopeo remembers (in /var/lib/containers/cache for root) where blobs
	# live and mounts them from earlier rounds' repositories: each round
	# pushes into a registry of its own, so both tools really upload.
	start_registry "push$i"
	timed pack_only "$OCISYNC" push "oci-layout:$WORK/pack$i:v1" "$WORK/tree"
	timed pack_push "$OCISYNC" push "$REG/p$i/app:v1" "$WORK/tree"
	if [ $((i % 2)) -eq 1 ]; then
		push_ocisync "$i"
		push_skopeo "$i"
		timed pull_ocisync "$OCISYNC" pull "$SEED/seed/app:v1" "$WORK/po$i"
		timed pull_skopeo bash -c 'skopeo_pull_extract "$1" "$2"' _ "$SEED/seed/app:v1" "$WORK/ps$i"
	else
		push_skopeo "$i"
		push_ocisync "$i"
		timed pull_skopeo bash -c 'skopeo_pull_extract "$1" "$2"' _ "$SEED/seed/app:v1" "$WORK/ps$i"
		timed pull_ocisync "$OCISYNC" pull "$SEED/seed/app:v1" "$WORK/po$i"
	fi
	rm -rf "$WORK/po$i" "$WORK/ps$i" "$WORK/ps$i.oci" "$WORK/pack$i"
	kill "$REG_PID"
	wait "$REG_PID" 2>/dev/null || true
	rm -rf "$WORK/push$i"
done

report() { # what ours theirs target
	local a b
	a=$(median <"$WORK/t.$2")
	b=$(median <"$WORK/t.$3")
	awk -v w="$1" -v a="$a" -v b="$b" -v t="$4" 'BEGIN {
		r = a / b
		printf "%-6s ocisync %6.3f s   skopeo %6.3f s   ratio %.2f (target <= %s) %s\n", w, a, b, r, t, (r <= t ? "PASS" : "FAIL") }'
}
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "medians over $ROUNDS interleaved rounds ($files files, $bytes bytes):"
report push push_ocisync push_skopeo 0.5
report pull pull_ocisync pull_skopeo 1.0
echo "requests per upload of the packed artifact (docker-registry access log): ocisync $(sort -u "$WORK/requests.ocisync" | tr '\n' ' ')skopeo $(sort -u "$WORK/requests.skopeo" | tr '\n' ' ')"
echo "for information: ocisync push (pack + upload) median $(median <"$WORK/t.pack_push") s, packing alone (to an oci-layout:) $(median <"$WORK/t.pack_only") s"
echo "peak RSS (median, MiB): push ocisync $(median <"$WORK/m.push_ocisync" | awk '{printf "%.1f", $1/1024}')," \
	"skopeo $(median <"$WORK/m.push_skopeo" | awk '{printf "%.1f", $1/1024}');" \
	"pull ocisync $(median <"$WORK/m.pull_ocisync" | awk '{printf "%.1f", $1/1024}')"

if [ "${BIG:-1}" != 0 ]; then
	echo "1 GiB incompressible artifact..." >&2
	mkdir -p "$WORK/big"
	head -c 1G /dev/urandom >"$WORK/big/random.bin"
	timed big_push "$OCISYNC" push "$SEED/big/app:v1" "$WORK/big"
	timed big_pull "$OCISYNC" pull "$SEED/big/app:v1" "$WORK/big-back"
	cmp -s "$WORK/big/random.bin" "$WORK/big-back/random.bin" || { echo "1 GiB pull differs" >&2; exit 1; }
	for w in push pull; do
		awk -v w="$w" -v s="$(cat "$WORK/t.big_$w")" -v m="$(cat "$WORK/m.big_$w")" 'BEGIN {
			printf "1 GiB %s: %.1f s, peak RSS %.1f MiB (target <= 16) %s\n", w, s, m / 1024, (m <= 16 * 1024 ? "PASS" : "FAIL") }'
	done
fi
