# The same tree, copied elsewhere with other mtimes, umask and owner, gives
# the same layer digest; with SOURCE_DATE_EPOCH (or --created) fixed, the
# same manifest digest too.
. "$(dirname "$0")/lib.sh"

a="$WORK/a/manifests"
b="$WORK/elsewhere/deeper/tree"
mkdir -p "$WORK/a" "$(dirname "$b")"
cp -a "$TESTDATA/manifests" "$a"
# The copy: new mtimes, a restrictive umask, another owner when we can.
(umask 077 && cp -r "$TESTDATA/manifests" "$b")
find "$b" -exec touch -d '2001-02-03 04:05:06' {} +
chmod 600 "$b/base/service.yaml"
chmod 700 "$b/hooks/post-sync.sh"
if [ "$(id -u)" -eq 0 ]; then
	chown -R 4321:4321 "$b"
fi

export SOURCE_DATE_EPOCH=1700000000
ok -o json push "oci-layout:$WORK/s1:v1" "$a"
m1=$(/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["digest"], d["layer"]["digest"])' "$OUT")
ok -o json push "oci-layout:$WORK/s2:v1" "$b"
m2=$(/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["digest"], d["layer"]["digest"])' "$OUT")
assert_eq "$m2" "$m1" "manifest and layer digests of the copy"

unset SOURCE_DATE_EPOCH
ok -o json push "oci-layout:$WORK/s3:v1" "$b" --created 2023-11-14T22:13:20Z
m3=$(/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["digest"], d["layer"]["digest"])' "$OUT")
assert_eq "$m3" "$m1" "--created gives the same manifest as SOURCE_DATE_EPOCH"

# check_order BLOB: the entries are in the documented order: sorted by path,
# byte-wise, where a directory's path ends in '/' (walk.c's rule).
check_order() {
	/usr/bin/python3 - "$1" <<'PY' || fail "tar entries of $1 are not in the documented order"
import sys, tarfile
with tarfile.open(sys.argv[1], "r:gz") as t:
    keys = [m.name.rstrip("/") + ("/" if m.isdir() else "") for m in t.getmembers()]
b = [k.encode() for k in keys]
if b != sorted(b):
    print("out of order:", keys, file=sys.stderr)
    sys.exit(1)
PY
}

step "the layer is what cli.md says: sorted, zero times, root-owned, normalised modes, bare gzip header"
layer=${m1#* }
blob="$WORK/s1/blobs/sha256/${layer#sha256:}"
head -c 10 "$blob" | od -An -tx1 | tr -d ' \n' >"$WORK/hdr"
hdr=$(cat "$WORK/hdr")
assert_eq "${hdr:0:6}" "1f8b08" "gzip magic and deflate"
assert_eq "${hdr:6:2}" "00" "gzip FLG (no name, no comment)"
assert_eq "${hdr:8:8}" "00000000" "gzip MTIME"
listing=$(tar -tvzf "$blob" --numeric-owner --full-time)
assert_not_contains "$listing" "4321" "owner"
/usr/bin/python3 - "$blob" <<'PY'
import sys, tarfile
names = []
with tarfile.open(sys.argv[1], "r:gz") as t:
    for m in t.getmembers():
        names.append(m.name)
        assert m.mtime == 0, (m.name, m.mtime)
        assert m.uid == 0 and m.gid == 0 and m.uname == "" and m.gname == "", m.name
        assert not m.name.startswith("./") and not m.name.startswith("/"), m.name
        if m.isdir():
            assert m.mode == 0o755, (m.name, oct(m.mode))
        elif m.isfile():
            assert m.mode in (0o644, 0o755), (m.name, oct(m.mode))
    assert "hooks/post-sync.sh" in names
    assert t.getmember("hooks/post-sync.sh").mode == 0o755
    assert t.getmember("base/service.yaml").mode == 0o644
PY
check_order "$blob"

step "tar order: directories compare as 'name/' (prod-eu/ < prod.yaml < prod/)"
t="$WORK/order"
mkdir -p "$t/envs/prod/a" "$t/envs/prod-eu" "$t/envs/prod0"
echo 1 >"$t/envs/prod/a/x.yaml"
echo 2 >"$t/envs/prod/z.yaml"
echo 3 >"$t/envs/prod-eu/x.yaml"
echo 4 >"$t/envs/prod.yaml"
echo 5 >"$t/envs/prod0/x.yaml"
ok -o json push "oci-layout:$WORK/s-order:v1" "$t"
ob=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["layer"]["digest"])' "$OUT")
ob="$WORK/s-order/blobs/sha256/${ob#sha256:}"
check_order "$ob"
# the whole order, spelled out: a plain string sort of the names would put
# envs/prod before envs/prod-eu, and envs/prod/... after envs/prod.yaml
assert_eq "$(tar -tzf "$ob" | tr '\n' ' ')" "envs/ envs/prod-eu/ envs/prod-eu/x.yaml envs/prod.yaml \
envs/prod/ envs/prod/a/ envs/prod/a/x.yaml envs/prod/z.yaml envs/prod0/ envs/prod0/x.yaml " "tar order"
step "the layer carries the title only (ORAS saves it as manifests.tar.gz, no unpack annotation)"
ok manifest "oci-layout:$WORK/s1:v1"
assert_contains "$OUT" '"annotations":{"org.opencontainers.image.title":"manifests.tar.gz"}'
assert_not_contains "$OUT" "io.deis.oras" "ORAS unpack annotations"
step "push -o json still reports the diff_id (sha256 of the uncompressed tar)"
diffid=$(gzip -dc "$blob" | sha256sum | cut -d' ' -f1)
ok -o json push "oci-layout:$WORK/s1b:v1" "$a"
assert_contains "$OUT" "\"diff_id\":\"sha256:$diffid\""

step ".git is never packed, .sourceignore and --ignore are honoured"
mkdir -p "$a/.git/objects" && echo x >"$a/.git/HEAD"
echo "*.secret" >"$a/.sourceignore"
echo s >"$a/base/db.secret"
echo t >"$a/base/tmp.log"
ok push "oci-layout:$WORK/s4:v1" "$a" --ignore '*.log'
ok pull "oci-layout:$WORK/s4:v1" "$WORK/p4"
[ ! -e "$WORK/p4/.git" ] || fail ".git was packed"
[ ! -e "$WORK/p4/base/db.secret" ] || fail ".sourceignore not honoured"
[ ! -e "$WORK/p4/base/tmp.log" ] || fail "--ignore not honoured"
[ -f "$WORK/p4/base/service.yaml" ] || fail "a normal file went missing"

step "symlinks inside are kept; one that escapes is an error"
ln -s ../base/service.yaml "$a/envs/svc-link.yaml"
ok push "oci-layout:$WORK/s5:v1" "$a"
ok pull "oci-layout:$WORK/s5:v1" "$WORK/p5"
[ -L "$WORK/p5/envs/svc-link.yaml" ] || fail "symlink not kept"
ln -s /etc/passwd "$a/envs/escape"
expect_fail 1 "escape" push "oci-layout:$WORK/s6:v1" "$a"
[ ! -e "$WORK/s6/index.json" ] || fail "a failed push wrote an index"
echo ok
