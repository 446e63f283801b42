# Shared by the integration tests: a scratch directory, assertions, and a
# real docker-registry (CNCF distribution) on a free loopback port.
# Each test script: `. "$(dirname "$0")/lib.sh"`, then plain bash.
set -euo pipefail

: "${OCISYNC:?OCISYNC must name the ocisync binary}"
: "${SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${TESTDATA:=$SRCDIR/testdata}"
export NO_COLOR=1
unset DOCKER_CONFIG REGISTRY_AUTH_FILE HTTPS_PROXY HTTP_PROXY https_proxy http_proxy 2>/dev/null || true

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ocisync-it.XXXXXX")
export HOME="$WORK/home"
mkdir -p "$HOME"
_pids=()

# _is_child PID: PID is still a child of this shell. A child the test
# already waited for is gone, and its PID may since have gone to another
# process -- another test's registry, on a busy machine: never signal it.
_is_child() {
	local line f
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	read -ra f <<<"${line##*) }" # after "pid (comm) ": state ppid ...
	[ "${f[1]:-}" = "$$" ]
}

_cleanup() {
	local rc=$?
	local live=()
	for p in "${_pids[@]}"; do
		_is_child "$p" && live+=("$p")
	done
	for p in "${live[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${live[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ "$rc" -eq 0 ] || [ -z "${KEEP_WORK:-}" ]; then
		chmod -R u+w "$WORK" 2>/dev/null || true
		rm -rf "$WORK"
	else
		echo "work directory kept: $WORK" >&2
	fi
}
trap _cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

step() { echo "== $*" >&2; }

assert_eq() { # actual expected [what]
	[ "$1" = "$2" ] || fail "${3:-value}: got '$1', expected '$2'"
}

assert_contains() { # haystack needle [what]
	case "$1" in *"$2"*) ;; *) fail "${3:-output} lacks '$2': $1" ;; esac
}

assert_not_contains() {
	case "$1" in *"$2"*) fail "${3:-output} contains '$2': $1" ;; *) ;; esac
}

# ocisync with the test environment; stdout and stderr in $OUT and $ERR, exit code in $RC.
run() {
	set +e
	"$OCISYNC" "$@" >"$WORK/.stdout" 2>"$WORK/.stderr"
	RC=$?
	set -e
	OUT=$(cat "$WORK/.stdout")
	ERR=$(cat "$WORK/.stderr")
}

# Succeeds or fails the test with what ocisync said.
ok() {
	run "$@"
	[ "$RC" -eq 0 ] || fail "ocisync $* exited $RC: $ERR"
}

# expect_fail CODE "message part" ocisync-args...: the exit code and stderr must match.
expect_fail() {
	local code=$1 msg=$2
	shift 2
	run "$@"
	[ "$RC" -eq "$code" ] || fail "ocisync $* exited $RC, expected $code (stderr: $ERR)"
	assert_contains "$ERR" "$msg" "stderr of ocisync $*"
}

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# dead_port: sets DEAD_PORT to a loopback port that refuses connections for
# the whole test. A port free_port found free may be taken by another test's
# registry a few seconds later (json_errors once reached a live one); a socket
# bound without listen() keeps the port ours and still refuses. A variable,
# not $(...), so the holder stays this shell's child and is cleaned up.
dead_port() {
	local fifo="$WORK/.dead-port.$RANDOM"
	mkfifo "$fifo"
	/usr/bin/python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0))
print(s.getsockname()[1], flush=True); sys.stdout.close()
time.sleep(86400)' >"$fifo" &
	_pids+=("$!")
	read -r DEAD_PORT <"$fifo"
	rm -f "$fifo"
}

# Waits until a TCP port accepts connections (10 s).
wait_port() {
	local port=$1 i
	for i in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	fail "nothing listens on port $port"
}

# port_up_or_dead PID PORT: 0 once PORT accepts connections while PID (the
# server just started on it) still runs; 1 when PID died first -- the port
# free_port found was taken by another test's server in the meantime (the
# caller retries on a new port). Fails after 10 s of neither.
_running() { # PID: a child of this shell that has not exited (not a zombie)
	local line f
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	read -ra f <<<"${line##*) }"
	[ "${f[1]:-}" = "$$" ] && [ "${f[0]:-}" != Z ]
}
port_up_or_dead() {
	local pid=$1 port=$2 i
	for i in $(seq 1 100); do
		_running "$pid" || return 1
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			sleep 0.05 # a server that lost the port dies right after trying
			_running "$pid" && return 0
			return 1
		fi
		sleep 0.1
	done
	fail "nothing listens on port $port"
}

# start_registry NAME [EXTRA_YAML]: a docker-registry on a free loopback
# port, storage under $WORK/NAME. Sets REG (host:port), REG_PORT,
# REG_LOG (its access log), REG_PID. EXTRA_YAML is appended under the
# top level (auth:, and an `http:` block is written for you; REG_DELETE=false
# disables deletes, as the registry ships; TLS via
# REG_TLS_CERT/REG_TLS_KEY/REG_TLS_CLIENTCA variables when set).
start_registry() {
	local name=${1:-registry} extra=${2:-}
	local dir="$WORK/$name"
	mkdir -p "$dir/data"
	local attempt
	for attempt in 1 2 3 4 5; do
	REG_PORT=$(free_port)
	REG="127.0.0.1:$REG_PORT"
	REG_LOG="$dir/log"
	{
		echo "version: 0.1"
		echo "log:"
		echo "  level: info"
		echo "  accesslog:"
		echo "    disabled: false"
		echo "storage:"
		echo "  filesystem:"
		echo "    rootdirectory: $dir/data"
		echo "  delete:"
		echo "    enabled: ${REG_DELETE:-true}"
		echo "http:"
		echo "  addr: 127.0.0.1:$REG_PORT"
		echo "  secret: ocisync-test-secret"
		if [ -n "${REG_TLS_CERT:-}" ]; then
			echo "  tls:"
			echo "    certificate: $REG_TLS_CERT"
			echo "    key: $REG_TLS_KEY"
			if [ -n "${REG_TLS_CLIENTCA:-}" ]; then
				echo "    clientcas:"
				echo "      - $REG_TLS_CLIENTCA"
			fi
		fi
		printf '%s\n' "$extra"
	} >"$dir/config.yml"
	docker-registry serve "$dir/config.yml" >"$REG_LOG" 2>&1 &
	REG_PID=$!
	_pids+=("$REG_PID")
	port_up_or_dead "$REG_PID" "$REG_PORT" && return 0
	wait "$REG_PID" 2>/dev/null || true
	done
	fail "docker-registry did not start on a free port (log: $(tail -3 "$REG_LOG"))"
}

# stop_and_wait PID SIGNAL WHAT BOUND_MS: sends SIGNAL to PID (a child) and
# waits for it; STOP_RC (its exit status) and STOP_MS (how long it took,
# printed). Fails past BOUND_MS: a generous bound, not a benchmark.
stop_and_wait() {
	local pid=$1 sig=$2 what=$3 bound=$4 t0
	t0=$(date +%s%N)
	kill -"$sig" "$pid"
	set +e
	wait "$pid"
	STOP_RC=$?
	set -e
	STOP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "$what: stopped $STOP_MS ms after SIG$sig (exit $STOP_RC)" >&2
	[ "$STOP_MS" -lt "$bound" ] || fail "$what took $STOP_MS ms to stop after SIG$sig"
}

# Counts requests the registry logged (access log lines) matching a pattern.
registry_requests() { # pattern
	grep -c "$1" "$REG_LOG" || true
}

# A small tree of rendered manifests to pack.
make_manifests() { # dir
	local d=$1
	mkdir -p "$d/apps/web" "$d/infra"
	printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n' >"$d/apps/web/deployment.yaml"
	printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n' >"$d/apps/web/service.yaml"
	printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: infra\n' >"$d/infra/namespace.yaml"
	printf '#!/bin/sh\necho hook\n' >"$d/infra/run.sh"
	chmod 755 "$d/infra/run.sh"
}

# Compares two trees: same paths, content and execute bits.
same_tree() { # a b
	diff -r "$1" "$2" >/dev/null || fail "trees differ: $1 $2"
	local pa pb
	pa=$(cd "$1" && find . -type f -perm -u+x | sort)
	pb=$(cd "$2" && find . -type f -perm -u+x | sort)
	[ "$pa" = "$pb" ] || fail "execute bits differ between $1 and $2"
}

# ---- authentication and TLS (auth tests) ----

# make_ca [DIR]: a throwaway CA, a server certificate for 127.0.0.1 and
# localhost, and a client certificate for mutual TLS, all signed by the CA.
# Sets CA_CERT, SERVER_CERT, SERVER_KEY, CLIENT_CERT, CLIENT_KEY.
make_ca() {
	local d=${1:-$WORK/pki} kind
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj "/CN=ocisync test CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
		fail "openssl could not make the test CA"
	for kind in server client; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$d/$kind.key" -out "$d/$kind.csr" -subj "/CN=ocisync test $kind" 2>/dev/null ||
			fail "openssl could not make the $kind key"
		if [ "$kind" = server ]; then
			printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$d/$kind.ext"
		else
			printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' >"$d/$kind.ext"
		fi
		openssl x509 -req -in "$d/$kind.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
			-days 2 -extfile "$d/$kind.ext" -out "$d/$kind.crt" 2>/dev/null ||
			fail "openssl could not sign the $kind certificate"
	done
	CA_CERT="$d/ca.crt"
	SERVER_CERT="$d/server.crt"
	SERVER_KEY="$d/server.key"
	CLIENT_CERT="$d/client.crt"
	CLIENT_KEY="$d/client.key"
}

# start_registry_basic NAME USER:PASSWORD...: a registry with htpasswd (bcrypt) auth.
start_registry_basic() {
	local name=$1 up
	shift
	local htp="$WORK/$name.htpasswd"
	: >"$htp"
	for up in "$@"; do
		htpasswd -Bbn "${up%%:*}" "${up#*:}" | sed '/^$/d' >>"$htp"
	done
	start_registry "$name" "auth:
  htpasswd:
    realm: ocisync-test
    path: $htp"
}

# start_registry_tls NAME [mtls] [EXTRA_YAML]: a registry serving HTTPS with a
# certificate from make_ca (made when CA_CERT is unset); "mtls" also requires
# a client certificate signed by that CA.
start_registry_tls() {
	local name=$1 mode=${2:-} extra=${3:-}
	[ -n "${CA_CERT:-}" ] || make_ca
	REG_TLS_CERT=$SERVER_CERT REG_TLS_KEY=$SERVER_KEY
	REG_TLS_CLIENTCA=
	[ "$mode" = mtls ] && REG_TLS_CLIENTCA=$CA_CERT
	start_registry "$name" "$extra"
	REG_TLS_CERT= REG_TLS_KEY= REG_TLS_CLIENTCA=
}

# start_token_server [tokenserver.py options...]: tests/tokenserver.py on a
# free loopback port with a fresh ES256 signing key. Sets TOKEN_DIR,
# TOKEN_PORT, TOKEN_REALM, TOKEN_LOG (one line per token request), TOKEN_PID;
# set TOKEN_NAME to run a second one beside the first. Pass --users FILE ("user:password:pull,push" lines), --refresh FILE, ...
start_token_server() {
	TOKEN_DIR="$WORK/${TOKEN_NAME:-tokenserver}"
	mkdir -p "$TOKEN_DIR"
	rm -f "$TOKEN_DIR/port"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$TOKEN_DIR/sign.key" -out "$TOKEN_DIR/sign.crt" -days 2 \
		-subj "/CN=ocisync test token signer" 2>/dev/null || fail "openssl could not make the signing key"
	TOKEN_LOG="$TOKEN_DIR/requests.log"
	: >"$TOKEN_LOG"
	/usr/bin/python3 "$SRCDIR/tests/tokenserver.py" --port-file "$TOKEN_DIR/port" \
		--key "$TOKEN_DIR/sign.key" --cert "$TOKEN_DIR/sign.crt" --log "$TOKEN_LOG" "$@" \
		>"$TOKEN_DIR/stderr" 2>&1 &
	TOKEN_PID=$!
	_pids+=("$TOKEN_PID")
	local i
	for i in $(seq 1 100); do
		[ -s "$TOKEN_DIR/port" ] && break
		kill -0 "$TOKEN_PID" 2>/dev/null || fail "token server died: $(cat "$TOKEN_DIR/stderr")"
		sleep 0.1
	done
	[ -s "$TOKEN_DIR/port" ] || fail "token server did not start"
	TOKEN_PORT=$(cat "$TOKEN_DIR/port")
	local scheme=http
	case " $* " in *" --tls-cert "*) scheme=https ;; esac
	TOKEN_REALM="$scheme://127.0.0.1:$TOKEN_PORT/token"
}

# start_registry_token NAME [tokenserver.py options...]: a token server and a
# registry that trusts its tokens (auth: token, service "ocisync-test").
start_registry_token() {
	local name=$1
	shift
	start_token_server "$@"
	start_registry "$name" "auth:
  token:
    realm: $TOKEN_REALM
    service: ocisync-test
    issuer: ocisync-test-issuer
    rootcertbundle: $TOKEN_DIR/sign.crt"
}

# Counts token requests the token server logged matching a pattern.
token_requests() { # pattern
	grep -c -- "$1" "$TOKEN_LOG" || true
}

# make_oci_image DIR TAG: a tiny valid OCI image (one layer, one file) in an
# OCI layout, for skopeo to copy into registries (oci:DIR:TAG).
make_oci_image() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
d, tag = sys.argv[1], sys.argv[2]
os.makedirs(d + "/blobs/sha256", exist_ok=True)
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    with open(d + "/blobs/sha256/" + h, "wb") as f:
        f.write(data)
    return "sha256:" + h, len(data)
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
    data = ("hello from " + tag + "\n").encode()
    ti = tarfile.TarInfo("hello.txt"); ti.size = len(data); ti.mode = 0o644
    t.addfile(ti, io.BytesIO(data))
tar = raw.getvalue()
layer, lsize = blob(gzip.compress(tar, mtime=0))
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]}}).encode()
cdig, csize = blob(cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdig, "size": csize},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": lsize}]}).encode()
mdig, msize = blob(man)
with open(d + "/oci-layout", "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
idx = {"schemaVersion": 2, "manifests": []}
if os.path.exists(d + "/index.json"):
    idx = json.load(open(d + "/index.json"))
idx["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdig, "size": msize,
                         "annotations": {"org.opencontainers.image.ref.name": tag}})
with open(d + "/index.json", "w") as f:
    json.dump(idx, f)
print(mdig)
PY
}
