# Killed push/pull leave nothing a later run does not remove: the packed
# layer and the downloaded layer are anonymous files (O_TMPFILE), and what
# needs a name carries the owner's pid ("<prefix>-<pid>-*"): the next push,
# pull or layout write removes those whose process is gone, and keeps those
# of running processes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"
cd "$WORK"
export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR" dl

start_registry reg
make_manifests "$WORK/tree"
ok push "$REG/team/app:v1" "$WORK/tree"

# kill9_when PATTERN ocisync-args...: runs ocisync, SIGKILLs it once the
# proxy log shows PATTERN (the operation is then mid-way).
kill9_when() {
	local pattern=$1 i
	shift
	"$OCISYNC" "$@" >"$WORK/killed.out" 2>"$WORK/killed.err" &
	local pid=$!
	for i in $(seq 1 200); do
		grep -q -- "$pattern" "$PROXY_LOG" && break
		kill -0 "$pid" 2>/dev/null || fail "ocisync $* ended before the kill: $(cat "$WORK/killed.err")"
		sleep 0.05
	done
	grep -q -- "$pattern" "$PROXY_LOG" || fail "the proxy never saw $pattern"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
}
ours() { # everything of ours in TMPDIR, beside the pull destination and in the layout
	find "$TMPDIR" "$WORK/dl" "$WORK/layout" \( -name '*ocisync*' -o -name '*.tmp*' \) ! -name .ocisync.lock 2>/dev/null | sort
}

step "push killed while uploading: no packed layer left in \$TMPDIR"
start_proxy '[{"method":"POST","path":"/blobs/uploads/","mode":"stall","seconds":20,"count":100}]'
echo more >"$WORK/tree/more.yaml"
kill9_when "fault=stall" push "$PROXY/team/app:v2" "$WORK/tree"
assert_eq "$(ours)" "" "temporaries after a killed push"

step "pull killed while downloading: nothing left beside the destination"
start_proxy '[{"method":"GET","path":"/blobs/sha256:","mode":"drip","rate":3,"count":100}]'
"$OCISYNC" pull "$PROXY/team/app:v1" "$WORK/dl/out" >/dev/null 2>&1 &
pid=$!
sleep 1.5
kill -0 "$pid" 2>/dev/null || fail "the pull ended before the kill"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
assert_eq "$(ours)" "" "temporaries after a killed pull"

step "named leftovers of dead processes are removed by the next run; a running one's are kept"
sh -c 'exit 0' &
dead=$!
wait "$dead"
ok push "oci-layout:$WORK/layout:v1" "$WORK/tree"
printf x >"$TMPDIR/ocisync-layer-$dead-aaaaaa"
printf x >"$TMPDIR/ocisync-layer-$$-bbbbbb"        # this shell: running
printf x >"$TMPDIR/ocisync-copy-$dead-cccccc"
mkdir -p "$WORK/dl/.out.ocisync-tmp-$dead-dddddd/sub"
printf x >"$WORK/dl/.out.ocisync-tmp-$dead-dddddd/sub/f"
chmod -R a-w "$WORK/dl/.out.ocisync-tmp-$dead-dddddd"
printf x >"$WORK/dl/.out.ocisync-blob-$dead-eeeeee"
printf x >"$WORK/layout/blobs/sha256/.ocisync-tmp-$dead-ffffff"
printf x >"$WORK/layout/index.json.tmp.$dead-gggggg"
ok push "oci-layout:$WORK/layout:v2" "$WORK/tree"
ok pull "$REG/team/app:v1" "$WORK/dl/out"
[ -f "$WORK/dl/out/apps/web/deployment.yaml" ] || fail "the clean pull did not publish"
assert_eq "$(ours)" "$TMPDIR/ocisync-copy-$dead-cccccc
$TMPDIR/ocisync-layer-$$-bbbbbb" "what the clean push and pull left"
ok copy "$REG/team/app:v1" "oci-layout:$WORK/layout:copied"
assert_eq "$(ours)" "$TMPDIR/ocisync-layer-$$-bbbbbb" "what a copy left"
echo ok
