# Helpers for the registry_*.sh tests (sourced after lib.sh; not a test).

# start_proxy RULES_JSON [faultproxy args...]: tests/faultproxy.py in front
# of $REG_PORT on a free port, with a "storage" server on another. Sets
# PROXY (host:port), PROXY_LOG, STORAGE_PORT.
start_proxy() {
	local rules=$1
	shift
	local port pid attempt
	for attempt in 1 2 3 4 5; do
		port=$(free_port)
		STORAGE_PORT=$(free_port)
		PROXY="127.0.0.1:$port"
		PROXY_LOG="$WORK/proxy-$port.log"
		: >"$PROXY_LOG"
		/usr/bin/python3 "$SRCDIR/tests/faultproxy.py" --port "$port" --upstream-port "$REG_PORT" \
			--storage-port "$STORAGE_PORT" --log "$PROXY_LOG" --rules "$rules" "$@" &
		pid=$!
		_pids+=("$pid")
		# a port another test took meanwhile: the proxy dies; try new ones
		port_up_or_dead "$pid" "$STORAGE_PORT" && port_up_or_dead "$pid" "$port" && return 0
		wait "$pid" 2>/dev/null || true
	done
	fail "tests/faultproxy.py did not start on free ports"
}

# Lines of the proxy log matching a pattern.
proxy_count() { grep -c -- "$1" "$PROXY_LOG" || true; }
# The proxy logs a request once it has sent the whole body, which can be
# after the client gave up on it: wait (up to 5 s) for N matching lines.
wait_proxy_count() { # pattern min
	local i
	for i in $(seq 1 50); do
		[ "$(proxy_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# ocisync's stdout, byte for byte, into a file (for cmp); fails the test on error.
ocisync_to_file() { # file args...
	local f=$1
	shift
	"$OCISYNC" "$@" >"$f" 2>"$WORK/raw.err" || fail "ocisync $* failed: $(cat "$WORK/raw.err")"
}

# make_index DIR [LAYER_BYTES]: an OCI layout tagged v1 with an index of
# three image manifests (a shared config, a random layer each, 1 MiB unless
# given). Prints the index digest, then each layer digest, then each
# manifest digest.
make_index() {
	/usr/bin/python3 - "$1" "${2:-1048576}" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
os.makedirs(d + "/blobs/sha256", exist_ok=True)
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    with open(d + "/blobs/sha256/" + h, "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + h, "size": len(data)}
cfg = dict(blob(b"{}"), mediaType="application/vnd.oci.empty.v1+json")
mans, layers = [], []
for i in range(3):
    layer = dict(blob(os.urandom(int(sys.argv[2]))), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
    layers.append(layer["digest"])
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "artifactType": "application/vnd.ocisync.test.v1", "config": cfg, "layers": [layer],
                    "annotations": {"n": str(i)}}).encode()
    mans.append(dict(blob(m), mediaType="application/vnd.oci.image.manifest.v1+json"))
idx = dict(blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                            "manifests": mans}).encode()), mediaType="application/vnd.oci.image.index.v1+json")
idx["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
with open(d + "/oci-layout", "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
with open(d + "/index.json", "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [idx]}, f)
print(idx["digest"])
for l in layers:
    print(l)
for m in mans:
    print(m["digest"])
PY
}
