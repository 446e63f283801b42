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

_cleanup() {
	local rc=$?
	for p in "${_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${_pids[@]}"; do
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

# ocisync with the test's environment; stdout and stderr to $WORK/out, $WORK/err.
run() {
	set +e
	"$OCISYNC" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	set -e
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
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

# start_registry NAME [EXTRA_YAML]: a docker-registry on a free loopback
# port, storage under $WORK/NAME. Sets REG (host:port), REG_PORT,
# REG_LOG (its access log), REG_PID. EXTRA_YAML is appended under the
# top level (auth:, and an `http:` block is written for you; TLS via
# REG_TLS_CERT/REG_TLS_KEY/REG_TLS_CLIENTCA variables when set).
start_registry() {
	local name=${1:-registry} extra=${2:-}
	local dir="$WORK/$name"
	mkdir -p "$dir/data"
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
		echo "    enabled: true"
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
	wait_port "$REG_PORT"
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
