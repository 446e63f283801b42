# Layers other tools write, in oci-layout: stores built here byte by byte:
# Flux's tar writer (a bare "." root entry, then bare names) and GNU tar
# -C DIR . ("./" prefixes) diff as identical to their source tree; ORAS's
# single file (raw bytes in an ...image.layer.v1.tar layer with a title)
# pulls, syncs and diffs as that one file; a title that is a path is
# refused with nothing written; --profile flux warns about what Flux drops
# or refuses, and --strict refuses it.
. "$(dirname "$0")/lib.sh"
cd "$WORK"

# put_layout LAYOUT TAG BLOB LAYER_MEDIA_TYPE [TITLE] [CONFIG_MEDIA_TYPE]:
# a manifest with one layer (the bytes of BLOB) tagged TAG in LAYOUT.
put_layout() {
	/usr/bin/python3 - "$@" <<'PY'
import hashlib, json, os, sys
lay, tag, blob, mt = sys.argv[1:5]
title = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] else None
cfg_mt = sys.argv[6] if len(sys.argv) > 6 else "application/vnd.oci.empty.v1+json"
os.makedirs(f"{lay}/blobs/sha256", exist_ok=True)
open(f"{lay}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
def put(b):
    h = hashlib.sha256(b).hexdigest()
    open(f"{lay}/blobs/sha256/{h}", "wb").write(b)
    return {"digest": "sha256:" + h, "size": len(b)}
data = open(blob, "rb").read()
layer = {"mediaType": mt, **put(data)}
if title is not None:
    layer["annotations"] = {"org.opencontainers.image.title": title}
m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
     "config": {"mediaType": cfg_mt, **put(b"{}")}, "layers": [layer]}
mb = json.dumps(m).encode()
idxp = f"{lay}/index.json"
idx = json.load(open(idxp)) if os.path.exists(idxp) else {"schemaVersion": 2, "manifests": []}
idx["manifests"] = [d for d in idx["manifests"]
                    if d.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
idx["manifests"].append({"mediaType": m["mediaType"], **put(mb),
                         "annotations": {"org.opencontainers.image.ref.name": tag}})
open(idxp, "w").write(json.dumps(idx))
PY
}

src="$WORK/src"
cp -a "$TESTDATA/manifests" "$src"

step "a layer written the way Flux's tar writer does (bare '.' root entry) diffs as identical"
# fluxcd/pkg oci/client Build: filepath.Walk from the source dir, the root
# named ".", then relative names, directories without a trailing '/'.
/usr/bin/python3 - "$src" "$WORK/flux.tgz" <<'PY'
import gzip, io, os, sys, tarfile
src, out = sys.argv[1:3]
class FluxInfo(tarfile.TarInfo):
    # Python's writer appends '/' to directory names; Go's (Flux's) does not.
    def get_info(self):
        info = super().get_info()
        if info["type"] == tarfile.DIRTYPE:
            info["name"] = info["name"].rstrip("/")
        return info
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, tarinfo=FluxInfo) as t:
    def add(path, name):
        ti = t.gettarinfo(path, arcname=name)
        ti.name = name  # gettarinfo adds nothing for "."; keep Flux's bare names
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        ti.mtime = 0
        if ti.isfile():
            with open(path, "rb") as f:
                t.addfile(ti, f)
        else:
            t.addfile(ti)
    add(src, ".")
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for n in sorted(dirs + files):
            p = os.path.join(root, n)
            add(p, os.path.relpath(p, src))
raw = buf.getvalue()
assert raw[:2] == b".\0", raw[:8]  # the first header's name is exactly "."
assert b"base\0" in raw and b"base/\0" not in raw  # directories without a trailing '/'
open(out, "wb").write(gzip.compress(buf.getvalue(), mtime=0))
PY
put_layout "$WORK/flux" v1 "$WORK/flux.tgz" application/vnd.cncf.flux.content.v1.tar+gzip "" \
	application/vnd.cncf.flux.config.v1+json
ok diff "oci-layout:$WORK/flux:v1" "$src"
assert_eq "$OUT" "" "diff output for identical trees"
ok pull "oci-layout:$WORK/flux:v1" "$WORK/flux-out"
same_tree "$src" "$WORK/flux-out"
echo changed >>"$src/base/service.yaml"
expect_fail 1 "" diff "oci-layout:$WORK/flux:v1" "$src"
assert_eq "$OUT" "M base/service.yaml" "diff output after a change"
cp "$TESTDATA/manifests/base/service.yaml" "$src/base/service.yaml"

step "GNU tar -C DIR . ('./' root entry and prefixes) diffs as identical too"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$src" -czf "$WORK/gnu.tgz" .
first=$(tar -tzf "$WORK/gnu.tgz" | sed -n 1p) # (sed reads it all: no SIGPIPE under pipefail)
assert_eq "$first" "./" "GNU tar's first entry"
put_layout "$WORK/gnu" v1 "$WORK/gnu.tgz" application/vnd.oci.image.layer.v1.tar+gzip
ok diff "oci-layout:$WORK/gnu:v1" "$src"
assert_eq "$OUT" "" "diff output for identical trees"

step "ORAS's single file (raw bytes, a title) pulls as that one file"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n' >"$WORK/app.yaml"
put_layout "$WORK/single" v1 "$WORK/app.yaml" application/vnd.oci.image.layer.v1.tar app.yaml
ok pull "oci-layout:$WORK/single:v1" "$WORK/one"
cmp "$WORK/app.yaml" "$WORK/one/app.yaml" || fail "the single file differs"
assert_eq "$(ls -A "$WORK/one")" "app.yaml" "pulled tree"
assert_eq "$(stat -c %a "$WORK/one/app.yaml")" "644" "mode of the single file"
ok diff "oci-layout:$WORK/single:v1" "$WORK/app.yaml"
assert_eq "$OUT" "" "diff of the single file against itself"

step "a titled gzip that holds no tar (notes.yaml.gz) is a file too, saved as it is"
gzip -c "$WORK/app.yaml" >"$WORK/notes.yaml.gz"
put_layout "$WORK/gzfile" v1 "$WORK/notes.yaml.gz" application/vnd.oci.image.layer.v1.tar notes.yaml.gz
ok pull "oci-layout:$WORK/gzfile:v1" "$WORK/gzout"
cmp "$WORK/notes.yaml.gz" "$WORK/gzout/notes.yaml.gz" || fail "the .gz file was not saved as it is"

step "a file of another media type (oras push file:text/plain) is found by its title"
put_layout "$WORK/plain" v1 "$WORK/app.yaml" text/plain app.yaml
ok pull "oci-layout:$WORK/plain:v1" "$WORK/plainout"
cmp "$WORK/app.yaml" "$WORK/plainout/app.yaml" || fail "the text/plain file differs"

step "without a title the same bytes are refused as a broken archive"
put_layout "$WORK/untitled" v1 "$WORK/app.yaml" application/vnd.oci.image.layer.v1.tar
expect_fail 1 "Unrecognized archive format" pull "oci-layout:$WORK/untitled:v1" "$WORK/untitled-out"
[ ! -e "$WORK/untitled-out" ] || fail "published an unreadable layer"

step "sync publishes a single file as a one-file revision, and the next one links what did not change"
R="$WORK/root"
ok sync "oci-layout:$WORK/single:v1" --root "$R" --once
cmp "$WORK/app.yaml" "$R/current/app.yaml" || fail "the synced file differs"
assert_eq "$(stat -c %a "$R/current/app.yaml")" "444" "published mode"
ino1=$(stat -c %i "$R/current/app.yaml")
ok sync "oci-layout:$WORK/single:v1" --root "$R" --once
assert_contains "$OUT" "unchanged"
# Another artifact (a new title-less annotation on the manifest gives a new digest) with the same file.
/usr/bin/python3 - "$WORK/single" <<'PY'
import hashlib, json, sys
lay = sys.argv[1]
idx = json.load(open(f"{lay}/index.json"))
d = idx["manifests"][0]
m = json.load(open(f"{lay}/blobs/sha256/" + d["digest"].split(":")[1]))
m["annotations"] = {"org.opencontainers.image.revision": "r2"}
b = json.dumps(m).encode()
h = hashlib.sha256(b).hexdigest()
open(f"{lay}/blobs/sha256/{h}", "wb").write(b)
d["digest"], d["size"] = "sha256:" + h, len(b)
open(f"{lay}/index.json", "w").write(json.dumps(idx))
PY
ok sync "oci-layout:$WORK/single:v1" --root "$R" --once
assert_contains "$OUT" "synced"
assert_eq "$(stat -c %i "$R/current/app.yaml")" "$ino1" "inode of the unchanged file (hard-linked)"
expect_fail 1 "path 'envs/prod' is not in the artifact: it holds the single file 'app.yaml'" \
	sync "oci-layout:$WORK/single:v1" --root "$WORK/root2" --once --path envs/prod
[ ! -e "$WORK/root2/current" ] || fail "published with a --path the artifact lacks"

step "a title that is a path is refused, nothing written"
for t in "../evil.yaml:has a '..' component" "/tmp/ocisync-evil.yaml:is an absolute path" \
	"sub/evil.yaml:is a path, not a file name" "..:has a '..' component"; do
	title=${t%%:*}
	why=${t#*:}
	put_layout "$WORK/evil" v1 "$WORK/app.yaml" application/vnd.oci.image.layer.v1.tar "$title"
	expect_fail 1 "the layer is a single file whose title '$title' $why; refused" \
		pull "oci-layout:$WORK/evil:v1" "$WORK/evil-out/dest"
	[ ! -e "$WORK/evil-out/dest" ] || fail "published a file titled $title"
	[ ! -e "$WORK/evil-out/evil.yaml" ] && [ ! -e "$WORK/evil.yaml" ] && [ ! -e /tmp/ocisync-evil.yaml ] ||
		fail "a file titled $title was written outside"
	assert_eq "$(find "$WORK/evil-out" -mindepth 1)" "" "leftovers beside the destination"
done

step "--profile flux warns about symlinks and names Flux refuses; --strict refuses them"
t="$WORK/fluxtree"
mkdir -p "$t/base" "$t/odd.."
echo a >"$t/base/a.yaml"
echo b >"$t/odd../b.yaml"
echo c >"$t/back\\slash.yaml"
ln -s a.yaml "$t/base/link.yaml"
ok push "oci-layout:$WORK/fluxpush:v1" "$t" --profile flux
assert_contains "$ERR" "warning: base/link.yaml is a symlink: Flux's source-controller drops symlinks when it extracts"
assert_contains "$ERR" "warning: back\\slash.yaml has a backslash in its name: Flux refuses the whole artifact"
assert_contains "$ERR" "warning: odd.. has '../' in its name as packed"
assert_contains "$ERR" "warning: odd../b.yaml has '../' in its name as packed"
expect_fail 1 "4 entries that Flux would drop or refuse (listed above); nothing pushed (--strict)" \
	push "oci-layout:$WORK/strict:v1" "$t" --profile flux --strict
assert_contains "$ERR" "error: base/link.yaml is a symlink"
[ ! -e "$WORK/strict" ] || fail "--strict pushed something"
expect_fail 2 "--strict applies to --profile flux" push "oci-layout:$WORK/strict:v1" "$t" --strict
ok push "oci-layout:$WORK/clean:v1" "$src" --profile flux --strict
assert_eq "$ERR" "" "stderr for a tree Flux takes as it is"
rm "$t/base/link.yaml" "$t/back\\slash.yaml"
rm -r "$t/odd.."
ok push "oci-layout:$WORK/strict:v1" "$t" --profile flux --strict
