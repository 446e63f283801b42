# The container image (scripts/image.sh): built from scratch with buildah;
# its config runs ocisync as uid 65532; two builds with the same
# SOURCE_DATE_EPOCH have the same digest; skopeo reads it; its rootfs,
# unpacked with umoci, runs `ocisync version` and a one-shot sync of an
# oci-layout: store under chroot as the image's user, with nothing but the
# image's files.
. "$(dirname "$0")/lib.sh"
if [ "${SANITIZED:-none}" != none ]; then
	echo "image: checked once, in the build without sanitizers" >&2
	exit 77
fi
for tool in buildah umoci skopeo chroot; do
	command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps.txt)"
done
[ "$(id -u)" = 0 ] || { echo "image: chroot and buildah's vfs store need root" >&2; exit 77; }
: "${BUILDDIR:?}"
export SOURCE_DATE_EPOCH=1700000000
ibuild="$BUILDDIR/image-build" # the release build, reused by later runs

step "two builds with the same SOURCE_DATE_EPOCH"
d1=$(bash "$SRCDIR/scripts/image.sh" "$WORK/img1" "$ibuild" 2>"$WORK/image.log") || fail "image.sh: $(cat "$WORK/image.log")"
d2=$(bash "$SRCDIR/scripts/image.sh" "$WORK/img2" "$ibuild" 2>"$WORK/image.log") || fail "image.sh: $(cat "$WORK/image.log")"
assert_contains "$d1" "sha256:"
assert_eq "$d2" "$d1" "digest of the second build"
version=$(meson introspect --projectinfo "$BUILDDIR" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')

step "skopeo reads it; its config"
cfg=$(skopeo inspect --config "oci:$WORK/img1:$version") || fail "skopeo inspect --config"
/usr/bin/python3 - "$cfg" "$version" <<'PY' || fail "image config: $cfg"
import json, sys
c = json.loads(sys.argv[1])
cc = c["config"]
assert cc["User"] == "65532:65532", cc
assert cc["Entrypoint"] == ["/usr/bin/ocisync"], cc
labels = cc["Labels"]
for k in ("version", "revision", "licenses", "created"):
    assert labels.get("org.opencontainers.image." + k), (k, labels)
assert labels["org.opencontainers.image.version"] == sys.argv[2], labels
assert labels["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z", labels
assert c["created"] == "2023-11-14T22:13:20Z", c["created"]
assert len(c["rootfs"]["diff_ids"]) == 1, c["rootfs"]
PY
man=$(skopeo inspect --raw "oci:$WORK/img1:$version")
size=$(/usr/bin/python3 -c 'import json,sys; print(sum(l["size"] for l in json.loads(sys.argv[1])["layers"]))' "$man")
echo "compressed size: $size bytes" >&2
[ "$size" -le $((25 * 1024 * 1024)) ] || fail "the image is $size bytes compressed, over 25 MiB"
assert_contains "$man" "application/vnd.oci.image.layer.v1.tar+gzip" "layer media type"

step "the rootfs: only what ocisync needs"
umoci unpack --image "$WORK/img1:$version" "$WORK/bundle" >"$WORK/umoci.log" 2>&1 || fail "umoci unpack: $(cat "$WORK/umoci.log")"
rootfs="$WORK/bundle/rootfs"
[ ! -e "$rootfs/bin/sh" ] && [ ! -e "$rootfs/usr/bin/sh" ] || fail "the image has a shell"
assert_eq "$(cd "$rootfs/usr/bin" && ls)" "ocisync" "programs in the image"
assert_eq "$(stat -c %a "$rootfs/tmp")" "1777" "mode of /tmp"
grep -q '^ocisync:x:65532:65532:' "$rootfs/etc/passwd" || fail "no user 65532 in /etc/passwd"
[ -s "$rootfs/etc/ssl/certs/ca-certificates.crt" ] || fail "no CA bundle"

step "under chroot as 65532: version, then a one-shot sync of an oci-layout: store"
out=$(chroot --userspec=65532:65532 "$rootfs" /usr/bin/ocisync version 2>&1) || fail "ocisync version in the image: $out"
assert_contains "$out" "ocisync $version"
ok push "oci-layout:$rootfs/tmp/store:v1" "$TESTDATA/manifests" --created 2024-01-02T03:04:05Z
chown -R 65532:65532 "$rootfs/tmp/store"
out=$(chroot --userspec=65532:65532 "$rootfs" /usr/bin/ocisync sync oci-layout:/tmp/store:v1 --root /tmp/cluster --once 2>&1) ||
	fail "sync in the image: $out"
assert_contains "$out" "synced sha256:"
same_tree "$TESTDATA/manifests" "$rootfs/tmp/cluster/current"
assert_eq "$(stat -c %u "$rootfs/tmp/cluster/.revisions")" 65532 "owner of what the image's sync wrote"

step "publishing with ocisync itself: sign in the layout, copy --with-signatures, verify at the registry"
(cd "$WORK" && COSIGN_PASSWORD= "$OCISYNC" keygen --prefix release >/dev/null 2>&1) || fail "keygen"
COSIGN_PASSWORD= ok sign --key "$WORK/release.key" "oci-layout:$WORK/img1:$version"
start_registry
ok copy --with-signatures "oci-layout:$WORK/img1:$version" "$REG/ocisync:$version"
assert_eq "$OUT" "$REG/ocisync@$d1" "published reference"
ok verify --key "$WORK/release.pub" "$REG/ocisync:$version"
assert_contains "$OUT" "$d1"
out=$(skopeo inspect --tls-verify=false "docker://$REG/ocisync:$version") || fail "skopeo inspect of the published image"
assert_contains "$out" "\"Digest\": \"$d1\""
echo "image: ok"
