# sync --http-bind: a loop serves /metrics (the metrics file's text),
# /healthz and /readyz over HTTP (libmicrohttpd), on loopback unless every
# interface is asked for; --once refuses it (exit 2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

cd "$WORK"
src="$WORK/src"
make_manifests "$src"
L="$WORK/layout"
REF="oci-layout:$L:prod"
ok push "$REF" "$src"
d1=${OUT##*@}

# http [CURL-ARGS] URL: the status code in $CODE, the body in $WORK/body and
# (without its last newline) in $BODY
http() {
	CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' "$@") || fail "curl $* failed"
	BODY=$(cat "$WORK/body")
}
# listening PORT: the local address (hex, as /proc/net/tcp writes it) listening there
listening() {
	awk -v p="$(printf ':%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { print $2 }' /proc/net/tcp
}
start_loop() { # ROOT BIND ARGS...: a sync loop in the background, its pid in LOOP
	local root=$1 bind=$2
	shift 2
	"$OCISYNC" sync "$@" --root "$root" --interval 1h --http-bind "$bind" >"$WORK/loop.out" 2>"$WORK/loop.err" &
	LOOP=$!
	_pids+=("$LOOP")
}
stop_loop() {
	kill -TERM "$LOOP"
	local rc=0
	wait "$LOOP" || rc=$?
	assert_eq "$rc" 0 "exit status of the loop after SIGTERM"
}
# waits until /metrics has the first step's text (10 s)
wait_first_step() {
	local i
	for i in $(seq 1 100); do
		http "http://127.0.0.1:$1/metrics"
		[ -n "$BODY" ] && return 0
		sleep 0.1
	done
	fail "no metrics after the first step"
}

step "a loop serves /metrics, /healthz and /readyz on loopback (a bare port)"
port=$(free_port)
start_loop "$WORK/root" "$port" "$REF" --metrics-file "$WORK/m.prom"
wait_port "$port"
assert_eq "$(listening "$port")" "$(printf '0100007F:%04X' "$port")" "listening address of a bare port"
wait_first_step "$port"
assert_eq "$CODE" 200 "/metrics status"
cmp -s "$WORK/body" "$WORK/m.prom" || fail "/metrics differs from the metrics file: $(diff "$WORK/body" "$WORK/m.prom")"
assert_contains "$BODY" "ocisync_artifact_info{ref=\"$REF\",root=\"$WORK/root\",path=\"\",digest=\"$d1\""
http "http://127.0.0.1:$port/healthz"
assert_eq "$CODE $BODY" "200 ok" "/healthz"
http "http://127.0.0.1:$port/readyz"
assert_eq "$CODE $BODY" "200 ok" "/readyz after a successful sync"
http "http://127.0.0.1:$port/other"
assert_eq "$CODE" 404 "an unknown path"
http -X POST "http://127.0.0.1:$port/metrics"
assert_eq "$CODE" 405 "POST"
stop_loop
assert_contains "$(cat "$WORK/loop.out")" "synced $d1 ($REF)"

step "the status file's directory removed under a running loop: the next sync fails before publishing, /readyz 503"
port=$(free_port)
mkdir "$WORK/sd"
start_loop "$WORK/root1" "$port" "$REF" --status-file "$WORK/sd/status.json"
wait_port "$port"
wait_first_step "$port"
http "http://127.0.0.1:$port/readyz"
assert_eq "$CODE $BODY" "200 ok" "/readyz before"
rm -r "$WORK/sd"
kill -HUP "$LOOP"
for i in $(seq 1 100); do
	http "http://127.0.0.1:$port/readyz"
	[ "$CODE" = 503 ] && break
	sleep 0.1
done
assert_eq "$CODE $BODY" "503 the last sync failed" "/readyz after a sync that could not report"
stop_loop
assert_contains "$(cat "$WORK/loop.err")" "the status file $WORK/sd/status.json: directory $WORK/sd does not exist; create it or choose another --status-file"

step "a failing sync: /healthz alive, /readyz 503 with the reason"
port=$(free_port)
start_loop "$WORK/root2" "127.0.0.1:$port" "oci-layout:$L:missing"
wait_port "$port"
wait_first_step "$port"
assert_contains "$BODY" 'result="error"} 1'
http "http://127.0.0.1:$port/healthz"
assert_eq "$CODE $BODY" "200 ok" "/healthz while syncs fail"
http "http://127.0.0.1:$port/readyz"
assert_eq "$CODE $BODY" "503 no sync has succeeded yet" "/readyz while syncs fail"

step "the port in use: the second loop exits 1 saying so"
run sync "$REF" --root "$WORK/root3" --interval 1h --http-bind "127.0.0.1:$port"
assert_eq "$RC" 1 "exit status with the port taken"
assert_contains "$ERR" "ocisync sync: --http-bind: the HTTP bind address 127.0.0.1:$port: cannot listen there (in use, or not an address of this host)"
[ ! -L "$WORK/root3/current" ] || fail "published without its HTTP server"
stop_loop

step ":PORT listens on every interface, only when asked for"
port=$(free_port)
start_loop "$WORK/root4" ":$port" "$REF"
wait_port "$port"
assert_eq "$(listening "$port")" "$(printf '00000000:%04X' "$port")" "listening address of :PORT"
wait_first_step "$port" # a SIGTERM during the step would interrupt it (exit 143), not stop the loop
stop_loop

step "usage errors: --once, a host name, a bad port"
expect_fail 2 "--http-bind serves the loop; it does not apply to --once" \
	sync "$REF" --root "$WORK/r5" --once --http-bind 9090
expect_fail 2 "ocisync sync: --http-bind: the HTTP bind address 'localhost:9090': 'localhost' is not an IP address (names are not resolved)" \
	sync "$REF" --root "$WORK/r5" --http-bind localhost:9090
expect_fail 2 "ocisync sync: --http-bind: the HTTP bind address '127.0.0.1:99999': the port must be a number from 1 to 65535" \
	sync "$REF" --root "$WORK/r5" --http-bind 127.0.0.1:99999
[ ! -e "$WORK/r5" ] || fail "a usage error touched the root"
echo "sync_http: ok"
