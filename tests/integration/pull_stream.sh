# pull is one stream from the registry through digest verification and
# gunzip into extraction (issue 11): while a slow registry sends the layer,
# no copy of the blob exists anywhere -- no named file beside the
# destination or in TMPDIR, and no anonymous (O_TMPFILE) or unlinked file
# held open by the process -- only the tree being extracted in its
# temporary directory. A layer that does not match its digest still
# publishes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"
cd "$WORK"
export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR" dl

start_registry reg
make_manifests "$WORK/tree"
# incompressible, so the blob is about this big: 256 KiB
head -c 262144 /dev/urandom | base64 -w 76 >"$WORK/tree/data.txt"
ok push "$REG/team/app:v1" "$WORK/tree"

step "pull from a registry sending 64 KiB/s: no blob temp file at any time"
start_proxy '[{"method":"GET","path":"/blobs/sha256:","mode":"drip","rate":65536,"count":100}]'
"$OCISYNC" pull "$PROXY/team/app:v1" "$WORK/dl/out" >"$WORK/pull.out" 2>"$WORK/pull.err" &
pid=$!
samples=0 extracting=0
: >"$WORK/seen"
while kill -0 "$pid" 2>/dev/null; do
	# files outside the extraction's own temporary directory (and the
	# published tree, once renamed)
	find "$WORK/dl" "$TMPDIR" \( -path '*/.out.ocisync-tmp-*' -o -path "$WORK/dl/out" \) -prune -o -type f -print >>"$WORK/seen" 2>/dev/null
	# files the process holds open that have no name (O_TMPFILE) or lost it
	ls -l "/proc/$pid/fd" 2>/dev/null | grep -E '\(deleted\)|/#[0-9]+' >>"$WORK/seen" || true
	ls -d "$WORK"/dl/.out.ocisync-tmp-* >/dev/null 2>&1 && extracting=$((extracting + 1))
	samples=$((samples + 1))
	sleep 0.1
done
wait "$pid" || fail "pull failed: $(cat "$WORK/pull.err")"
assert_eq "$(cat "$WORK/seen")" "" "blob temporaries seen during the pull"
# the watch ran while the layer was streaming, not only before or after
[ "$extracting" -ge 5 ] || fail "only $extracting of $samples samples saw the extraction in progress"
same_tree "$WORK/tree" "$WORK/dl/out"

step "a layer flipped in transit: refused at the end of the stream, nothing published"
start_proxy '[{"method":"GET","path":"/blobs/sha256:","mode":"flip","count":100}]'
expect_fail 1 "does not match its digest" pull "$PROXY/team/app:v1" "$WORK/dl/flipped"
[ ! -e "$WORK/dl/flipped" ] || fail "a tampered layer was published"
assert_eq "$(find "$WORK/dl" "$TMPDIR" -name '*ocisync*')" "" "temporaries after the refused pull"
