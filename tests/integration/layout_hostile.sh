# Damaged or hostile content in a layout: each refused with a clear error,
# nothing published, nothing left behind.
. "$(dirname "$0")/lib.sh"
cd "$WORK"

ok push "oci-layout:$WORK/store:v1" "$TESTDATA/manifests"
digest=${OUT##*@}
mdigest_hex=${digest#sha256:}
layer=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"].split(":")[1])' "store/blobs/sha256/$mdigest_hex")

no_leftovers() {
	local l
	l=$(find "$WORK" -maxdepth 1 -name '.*ocisync*')
	assert_eq "$l" "" "temporary files left in $WORK"
}

step "a blob whose bytes don't match its digest"
cp -a store tampered
chmod u+w "tampered/blobs/sha256/$layer"
printf 'X' | dd of="tampered/blobs/sha256/$layer" bs=1 seek=100 conv=notrunc 2>/dev/null
expect_fail 1 "does not match its digest" pull "oci-layout:$WORK/tampered:v1" "$WORK/out1"
[ ! -e "$WORK/out1" ] || fail "a tampered blob was published"
no_leftovers

step "a truncated blob"
cp -a store truncated
truncate -s 200 "truncated/blobs/sha256/$layer"
expect_fail 1 "received 200 bytes" pull "oci-layout:$WORK/truncated:v1" "$WORK/out2"
[ ! -e "$WORK/out2" ] || fail "a truncated blob was published"

step "a manifest over 4 MiB"
cp -a store big
/usr/bin/python3 - big <<'PY'
import hashlib, json, sys, os
d = sys.argv[1]
doc = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                  "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2},
       "layers": [], "annotations": {"pad": "x" * (5 * 1024 * 1024)}}
b = json.dumps(doc).encode()
h = hashlib.sha256(b).hexdigest()
open(f"{d}/blobs/sha256/{h}", "wb").write(b)
idx = json.load(open(f"{d}/index.json"))
idx["manifests"].append({"mediaType": doc["mediaType"], "digest": "sha256:" + h, "size": len(b),
                         "annotations": {"org.opencontainers.image.ref.name": "big"}})
open(f"{d}/index.json", "w").write(json.dumps(idx))
PY
expect_fail 1 "over the 4 MiB limit" pull "oci-layout:$WORK/big:big" "$WORK/out3"
[ ! -e "$WORK/out3" ] || fail "published from an oversized manifest"

step "malformed manifest JSON"
cp -a store malformed
/usr/bin/python3 - malformed <<'PY'
import hashlib, json, sys
d = sys.argv[1]
b = b'{"schemaVersion": 2, "layers": [ {"mediaType": '
h = hashlib.sha256(b).hexdigest()
open(f"{d}/blobs/sha256/{h}", "wb").write(b)
idx = json.load(open(f"{d}/index.json"))
idx["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + h,
                         "size": len(b), "annotations": {"org.opencontainers.image.ref.name": "bad"}})
open(f"{d}/index.json", "w").write(json.dumps(idx))
PY
expect_fail 1 "not valid JSON" pull "oci-layout:$WORK/malformed:bad" "$WORK/out4"
[ ! -e "$WORK/out4" ] || fail "published from malformed JSON"

step "a malformed index.json"
mkdir broken && echo '{"manifests": 3' >broken/index.json
expect_fail 1 "is not a valid OCI index" resolve "oci-layout:$WORK/broken:v1"

step "a hostile layer (../ entry) is refused and nothing escapes"
/usr/bin/python3 - store "$WORK" <<'PY'
import gzip, hashlib, io, json, sys, tarfile
d, work = sys.argv[1], sys.argv[2]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    data = b"pwned\n"
    ti = tarfile.TarInfo("../pwned.txt"); ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
layer = gzip.compress(buf.getvalue(), mtime=0)
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
                         "annotations": {"org.opencontainers.image.ref.name": "hostile"}})
open(f"{d}/index.json", "w").write(json.dumps(idx))
PY
mkdir -p "$WORK/nest"
expect_fail 1 ".." pull "oci-layout:$WORK/store:hostile" "$WORK/nest/out5"
[ ! -e "$WORK/nest/pwned.txt" ] && [ ! -e "$WORK/pwned.txt" ] || fail "a ../ entry escaped"
[ ! -e "$WORK/nest/out5" ] || fail "a hostile layer was published"
echo ok
