# Bytes are bounded twice: a download stops at the descriptor's size and a
# descriptor may not declare more than --max-size allows a layer to weigh;
# decompressed bytes count against --max-size wherever they sit, data after
# the tar end marker included.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"
cd "$WORK"

# manifest_json SIZE: an artifact manifest whose one layer declares SIZE bytes.
manifest_json() {
	/usr/bin/python3 -c '
import json, sys
print(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.empty.v1+json",
             "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2},
  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
              "digest": "sha256:" + "ab" * 32, "size": int(sys.argv[1])}]}))' "$1"
}
# rules SIZE: the proxy serves that manifest for tag v1 and an endless blob.
rules() {
	/usr/bin/python3 -c '
import json, sys
print(json.dumps([{"path": "/manifests/", "mode": "manifest", "body": sys.argv[1], "count": 100},
                  {"method": "GET", "path": "/blobs/sha256:", "mode": "endless", "count": 100}]))' "$(manifest_json "$1")"
}

start_registry reg
no_temporaries() {
	local l
	l=$(find "$WORK/dl" -name '.*ocisync*' 2>/dev/null || true)
	assert_eq "$l" "" "temporaries left beside the destination"
}

step "a manifest declaring 2^62 bytes: refused before downloading"
start_proxy "$(rules 4611686018427387904)"
mkdir -p dl
expect_fail 1 "declares 4611686018427387904 bytes, more than a layer extracting to at most 1048576 bytes (the size limit) can be (17956864); refused before downloading it; raise --max-size on push, pull and sync if this is expected" \
	pull --max-size 1M "$PROXY/team/app:v1" "$WORK/dl/out"
assert_eq "$(proxy_count 'fault=endless')" 0 "blob downloads started"
[ ! -e "$WORK/dl/out" ] || fail "published"
no_temporaries
step "... and with the default --max-size, and in diff"
expect_fail 1 "declares 4611686018427387904 bytes" pull "$PROXY/team/app:v1" "$WORK/dl/out"
make_manifests "$WORK/tree"
expect_fail 2 "declares 4611686018427387904 bytes" diff "$PROXY/team/app:v1" "$WORK/tree"
assert_eq "$(proxy_count 'fault=endless')" 0 "blob downloads started"

step "a declared size under the cap and an endless body: stops at the declared size"
start_proxy "$(rules 2097152)"
expect_fail 1 "blob is larger than its descriptor's size of 2097152 bytes" pull --max-size 1M "$PROXY/team/app:v1" "$WORK/dl/out"
[ ! -e "$WORK/dl/out" ] || fail "published"
no_temporaries

step "256 MiB of zeros after the tar end marker: counted against --max-size"
mkdir -p store
ok push "oci-layout:$WORK/store:seed" "$TESTDATA/manifests"
/usr/bin/python3 - "$WORK/store" <<'PY'
import hashlib, io, json, sys, tarfile, zlib
d = sys.argv[1]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    data = b"a: 1\n"
    ti = tarfile.TarInfo("ok.yaml"); ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
z = zlib.compressobj(9, zlib.DEFLATED, 31)  # one gzip member: the tar, then the zeros
parts = [z.compress(buf.getvalue())]
zeros = bytes(1 << 20)
for _ in range(256):
    parts.append(z.compress(zeros))
parts.append(z.flush())
layer = b"".join(parts)
lh = hashlib.sha256(layer).hexdigest()
open(f"{d}/blobs/sha256/{lh}", "wb").write(layer)
m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
     "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2},
     "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + lh, "size": len(layer)}]}
b = json.dumps(m).encode()
h = hashlib.sha256(b).hexdigest()
open(f"{d}/blobs/sha256/{h}", "wb").write(b)
idx = json.load(open(f"{d}/index.json"))
idx["manifests"].append({"mediaType": m["mediaType"], "digest": "sha256:" + h, "size": len(b),
                         "annotations": {"org.opencontainers.image.ref.name": "trailing"}})
open(f"{d}/index.json", "w").write(json.dumps(idx))
PY
expect_fail 1 "bytes after the end of its archive (with 5 bytes of content, over the size limit of 1048576); refused; raise --max-size on push, pull and sync if this is expected" \
	pull --max-size 1M "oci-layout:$WORK/store:trailing" "$WORK/dl/trail"
[ ! -e "$WORK/dl/trail" ] || fail "published"
no_temporaries
step "... sync refuses it too, and publishes nothing"
run sync "oci-layout:$WORK/store:trailing" --root "$WORK/root" --once --max-size 1M --status-file "$WORK/status.json"
[ "$RC" -eq 1 ] || fail "sync exited $RC"
assert_contains "$ERR" "bytes after the end of its archive (with 5 bytes of content, over the size limit of 1048576); refused; raise --max-size on push, pull and sync if this is expected"
/usr/bin/python3 - "$WORK/status.json" <<'PY' || fail "status file after the trailing bytes"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["result"] == "error" and s["error_kind"] == "limit exceeded", s
assert s["error"].endswith("over the size limit of 1048576); refused"), s
assert s["hint"] == "max_size", s
PY
[ ! -e "$WORK/root/current" ] || fail "sync published"
echo ok
