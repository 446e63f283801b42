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

# add_layer TAG KIND: stores a manifest whose layer is a hostile archive
# built by Python's tarfile (an independent writer), tagged TAG.
add_layer() {
	/usr/bin/python3 - "$WORK/store" "$1" "$2" "$WORK" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile, zlib
d, tag, kind, work = sys.argv[1:5]
buf = io.BytesIO()
def add(t, name, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if ti.type == tarfile.REGTYPE:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)
raw = None
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    if kind == "dotdot":
        add(t, "ok.yaml", b"a: 1\n")
        add(t, "../pwned.txt", b"pwned\n")
    elif kind == "absolute":
        add(t, work + "/abs-pwned.txt", b"pwned\n")
    elif kind == "symlink-out":
        add(t, "link", type=tarfile.SYMTYPE, linkname=work)
        add(t, "link/through-pwned.txt", b"pwned\n")
    elif kind == "symlink-rel-out":
        # alone: no later entry writes through it, so the symlink-target
        # check is the only thing that can refuse this layer
        add(t, "ok.yaml", b"a: 1\n")
        add(t, "envs/evil", type=tarfile.SYMTYPE, linkname="../../outside")
    elif kind == "symlink-abs":
        add(t, "ok.yaml", b"a: 1\n")
        add(t, "passwd", type=tarfile.SYMTYPE, linkname="/etc/passwd")
    elif kind == "hardlink-out":
        add(t, "passwd", type=tarfile.LNKTYPE, linkname="/etc/passwd")
    elif kind == "device":
        add(t, "null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
    elif kind == "fifo":
        add(t, "pipe", type=tarfile.FIFOTYPE)
    elif kind == "many":
        for i in range(100001):
            add(t, "f%06d" % i)
    elif kind == "bomb":
        add(t, "zeros.bin", bytes(64 * 1024 * 1024))
    # over 1 MiB compressed, so pull inflates it on a thread of its own
    # (diff below does not): the same refusal either way
    elif kind == "big-dotdot":
        add(t, "pad.bin", os.urandom(3 << 20))
        add(t, "../pwned.txt", b"pwned\n")
    elif kind == "big-dotdot-first":
        # refused while the inflating thread still has megabytes to give
        add(t, "../pwned.txt", b"pwned\n")
        add(t, "pad.bin", os.urandom(3 << 20))
layer = gzip.compress(buf.getvalue(), mtime=0, compresslevel=1)
if kind == "truncated-gzip":
    with tarfile.open(fileobj=(b := io.BytesIO()), mode="w") as t:
        for i in range(50):
            add(t, "f%d.yaml" % i, (b"x: %d\n" % i) * 2000)
    layer = gzip.compress(b.getvalue(), mtime=0)[:-200]
if kind == "big-truncated-gzip":
    with tarfile.open(fileobj=(b := io.BytesIO()), mode="w") as t:
        add(t, "pad.bin", os.urandom(3 << 20))
        add(t, "tail.yaml", b"x: 1\n")
    layer = gzip.compress(b.getvalue(), mtime=0)[:-200]
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
                         "annotations": {"org.opencontainers.image.ref.name": tag}})
open(f"{d}/index.json", "w").write(json.dumps(idx))
PY
}

# hostile KIND "message" [pull options]: refused with the message, exit 1,
# nothing published, nothing outside the destination, nothing left over.
hostile() {
	local kind=$1 msg=$2
	shift 2
	step "hostile layer: $kind"
	add_layer "$kind" "$kind"
	mkdir -p "$WORK/nest-$kind"
	local before
	before=$(find "$WORK" -path "$WORK/store" -prune -o -print | sort)
	expect_fail 1 "$msg" pull "$@" "oci-layout:$WORK/store:$kind" "$WORK/nest-$kind/out"
	echo "   -> $ERR" >&2
	[ ! -e "$WORK/nest-$kind/out" ] || fail "$kind: the destination was published"
	local after
	after=$(find "$WORK" -path "$WORK/store" -prune -o -print | grep -v '/\.std\(out\|err\)$' | sort)
	before=$(printf '%s\n' "$before" | grep -v '/\.std\(out\|err\)$')
	assert_eq "$after" "$before" "$kind: files created or left outside the destination"
	[ ! -e /etc/pwned.txt ] || fail "$kind escaped to /etc"
	# diff reads the layer with the same extractor: the same refusal, the
	# same message (exit 2: diff's status for every error, 1 is "differ")
	[ $# -eq 0 ] || return 0
	local ref="oci-layout:$WORK/store:$kind" pull_err=$ERR
	mkdir -p "$WORK/tmp"
	TMPDIR="$WORK/tmp" expect_fail 2 "" diff "$ref" "$TESTDATA/manifests"
	assert_eq "${ERR#ocisync diff: }" "${pull_err#ocisync pull: }" "$kind: diff's refusal"
	assert_eq "$(ls -A "$WORK/tmp")" "" "$kind: diff left temporaries"
	[ ! -e /etc/pwned.txt ] || fail "$kind (diff) escaped to /etc"
}

hostile dotdot ".."
hostile absolute "absolute"
hostile symlink-out "symlink"
hostile symlink-rel-out "symlink 'envs/evil' -> '../../outside' points outside"
hostile symlink-abs "symlink 'passwd' -> '/etc/passwd' points to an absolute path"
hostile hardlink-out "hard link"
hostile device "device"
hostile fifo "FIFO"
hostile many "100000 entries"
hostile bomb "1048576" --max-size 1M
hostile truncated-gzip "truncated"
hostile big-dotdot ".."
hostile big-dotdot-first ".."
hostile big-truncated-gzip "truncated"
echo ok
