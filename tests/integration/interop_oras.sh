# Against a real ORAS client: tests/oras/orasclient, built here offline
# from Debian's ORAS Go library (golang-oras-oras-go-dev: oras-go v1, its
# file store and oras.Copy, what `oras pull` / `oras push` run), with a real
# docker-registry in between.
# - our portable artifact pulls with ORAS: saved as the intact
#   manifests.tar.gz (title only, no unpack annotation), the same bytes as
#   the layer, holding the source tree;
# - ORAS's directory artifact (tar+gzip under the directory's name, unpack
#   annotation) pulls with ocisync into the same tree `oras pull` makes;
# - ORAS's single file (raw bytes, ...layer.v1.tar, a title) pulls, syncs
#   and diffs with ocisync as that one file; a title that is a path (ORAS
#   pushes "sub/evil.yaml" as it is) is refused with nothing written.
. "$(dirname "$0")/lib.sh"

if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/oras.land/oras-go/pkg/oras ]; then
	echo "skipped: needs Go and ORAS's Go library (Debian golang-go, golang-oras-oras-go-dev; see scripts/deps.txt)" >&2
	exit 77
fi

# Built once per build directory (the Go cache is kept beside it), again
# when the source is newer. GOPATH mode: Debian's Go sources, no network.
ORAS_DIR="${BUILDDIR:-$WORK}/tests/oras"
ORAS="$ORAS_DIR/orasclient"
ORAS_SRC="$SRCDIR/tests/oras/orasclient/main.go"
mkdir -p "$ORAS_DIR"
if [ ! -x "$ORAS" ] || [ "$ORAS_SRC" -nt "$ORAS" ]; then
	step "building the ORAS client (Go, GOPATH mode, offline)"
	(cd "$SRCDIR" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= \
		GOCACHE="$ORAS_DIR/gocache" go build -o "$ORAS.tmp.$$" ./tests/oras/orasclient) ||
		fail "go is installed but the ORAS client did not build"
	mv -f "$ORAS.tmp.$$" "$ORAS"
fi
# ORAS's library reads Docker's config for credentials: give it an empty one.
export DOCKER_CONFIG="$WORK/docker-config"
mkdir -p "$DOCKER_CONFIG"
oras() { # runs the ORAS client; its stdout in $OOUT, stderr in $OERR
	set +e
	"$ORAS" "$@" >"$WORK/.ostdout" 2>"$WORK/.ostderr"
	local rc=$?
	set -e
	OOUT=$(cat "$WORK/.ostdout")
	OERR=$(cat "$WORK/.ostderr")
	[ "$rc" -eq 0 ] || fail "orasclient $* exited $rc: $OERR"
}

start_registry
cd "$WORK"
src="$WORK/src"
cp -a "$TESTDATA/manifests" "$src"

step "ORAS pulls our portable artifact: manifests.tar.gz saved intact, holding the tree"
ok push "$REG/shop/app:v1" "$src"
digest=${OUT##*@}
oras pull "$REG/shop/app:v1" "$WORK/oras-out"
assert_contains "$OOUT" "pulled $digest"
assert_eq "$(ls -A "$WORK/oras-out")" "manifests.tar.gz" "what ORAS wrote"
ok manifest "$REG/shop/app:v1"
layer=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["layers"][0]["digest"])' "$OUT")
assert_eq "sha256:$(sha256sum "$WORK/oras-out/manifests.tar.gz" | cut -d' ' -f1)" "$layer" "digest of the saved file"
mkdir "$WORK/unpacked"
tar -xzf "$WORK/oras-out/manifests.tar.gz" -C "$WORK/unpacked"
same_tree "$src" "$WORK/unpacked"

step "ocisync pulls ORAS's directory artifact into the tree oras pull makes"
mkdir -p "$WORK/orassrc/conf/sub"
printf 'a: 1\n' >"$WORK/orassrc/conf/a.yaml"
printf 'b: 2\n' >"$WORK/orassrc/conf/sub/b.yaml"
(cd "$WORK/orassrc" && "$ORAS" push "$REG/oras/dir:v1" conf) >"$WORK/.ostdout" 2>"$WORK/.ostderr" ||
	fail "orasclient push of a directory failed: $(cat "$WORK/.ostderr")"
ok manifest "$REG/oras/dir:v1"
assert_contains "$OUT" '"io.deis.oras.content.unpack":"true"'
assert_contains "$OUT" '"org.opencontainers.image.title":"conf"'
ok pull "$REG/oras/dir:v1" "$WORK/dir-ocisync"
oras pull "$REG/oras/dir:v1" "$WORK/dir-oras"
same_tree "$WORK/dir-oras" "$WORK/dir-ocisync"
same_tree "$WORK/orassrc/conf" "$WORK/dir-ocisync/conf"

step "ocisync pulls, syncs and diffs ORAS's single file"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: single\n' >"$WORK/orassrc/single.yaml"
(cd "$WORK/orassrc" && "$ORAS" push "$REG/oras/file:v1" single.yaml) >"$WORK/.ostdout" 2>"$WORK/.ostderr" ||
	fail "orasclient push of a file failed: $(cat "$WORK/.ostderr")"
ok manifest "$REG/oras/file:v1"
assert_contains "$OUT" '"mediaType":"application/vnd.oci.image.layer.v1.tar"'
assert_not_contains "$OUT" "io.deis.oras.content.unpack" "a single file's layer"
ok pull "$REG/oras/file:v1" "$WORK/file-ocisync"
oras pull "$REG/oras/file:v1" "$WORK/file-oras"
same_tree "$WORK/file-oras" "$WORK/file-ocisync"
cmp "$WORK/orassrc/single.yaml" "$WORK/file-ocisync/single.yaml" || fail "the single file differs"
ok sync "$REG/oras/file:v1" --root "$WORK/root" --once
assert_contains "$OUT" "synced"
cmp "$WORK/orassrc/single.yaml" "$WORK/root/current/single.yaml" || fail "the synced file differs"
assert_eq "$(ls -A "$WORK/root/current")" "single.yaml" "the synced revision"
ok diff "$REG/oras/file:v1" "$WORK/orassrc/single.yaml"
assert_eq "$OUT" "" "diff of the single file against its source"
echo changed >>"$WORK/orassrc/single.yaml"
expect_fail 1 "" diff "$REG/oras/file:v1" "$WORK/orassrc/single.yaml"
assert_eq "$OUT" "M single.yaml" "diff after a change"

step "a single file ORAS titles with a path is refused, nothing written"
printf 'x: 1\n' >"$WORK/orassrc/conf/sub/evil.yaml"
(cd "$WORK/orassrc/conf" && "$ORAS" push "$REG/oras/evil:v1" sub/evil.yaml) >"$WORK/.ostdout" 2>"$WORK/.ostderr" ||
	fail "orasclient push of sub/evil.yaml failed: $(cat "$WORK/.ostderr")"
mkdir "$WORK/evil"
expect_fail 1 "the layer is a single file whose title 'sub/evil.yaml' is a path, not a file name; refused" \
	pull "$REG/oras/evil:v1" "$WORK/evil/dest"
assert_eq "$(find "$WORK/evil" -mindepth 1)" "" "what the refused pull left"

step "several files ORAS pushes together (one layer each) are refused, not cut down to one"
(cd "$WORK/orassrc/conf" && "$ORAS" push "$REG/oras/two:v1" a.yaml sub/b.yaml) >"$WORK/.ostdout" 2>"$WORK/.ostderr" ||
	fail "orasclient push of two files failed: $(cat "$WORK/.ostderr")"
expect_fail 1 "the artifact holds several files, one layer each" pull "$REG/oras/two:v1" "$WORK/two"
assert_contains "$ERR" "push them as one folder"
[ ! -e "$WORK/two" ] || fail "published part of a several-file artifact"
