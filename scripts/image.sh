#!/usr/bin/env bash
# Builds the ocisync container image FROM SCRATCH with Debian's buildah (vfs
# storage, no daemon, nothing pulled) and writes it as an OCI image layout
# at DIR, tagged with ocisync's version.
#
# The image holds exactly: /usr/bin/ocisync, liboci, the shared libraries
# both load (resolved here with the dynamic loader, their dependencies and
# the loader itself included), the CA bundle, /etc/passwd and /etc/group
# with the non-root user ocisync (65532) the image runs as, and a writable
# /tmp. Entrypoint: ocisync. With SOURCE_DATE_EPOCH fixed (default: the
# last commit's time) two builds give the same image digest.
#
# usage: scripts/image.sh DIR [BUILD_DIR]
#   BUILD_DIR: where to configure the release build (default build-image/)
# Prints the image's manifest digest on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/image.sh DIR [BUILD_DIR]}
build=${2:-$root/build-image}
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -n "$(ls -A "$out")" ] && [ ! -f "$out/oci-layout" ]; then
	echo "image.sh: $out is neither empty nor an OCI image layout; refusing to write there" >&2
	exit 2
fi
cd "$root"
command -v buildah >/dev/null || { echo "image.sh: needs buildah (apt-get install buildah)" >&2; exit 1; }

version=$(meson introspect --projectinfo meson.build 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
: "${SOURCE_DATE_EPOCH:=$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}"
export SOURCE_DATE_EPOCH
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
source_url=${OCISYNC_SOURCE_URL:-$(git -C "$root" remote get-url origin 2>/dev/null || true)}

# 1. A release build installed under /usr in a staging tree.
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --prefix=/usr --buildtype=release -Db_ndebug=true -Dman=disabled >/dev/null
fi
ninja -C "$build" >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/ocisync-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/stage
DESTDIR=$stage meson install -C "$build" --no-rebuild --quiet >/dev/null
rootfs=$work/rootfs
mkdir -p "$rootfs/usr/bin" "$rootfs/etc/ssl/certs" "$rootfs/tmp"
install -m 0755 -s "$stage/usr/bin/ocisync" "$rootfs/usr/bin/ocisync"
libdir=$(cd "$stage/usr" && ls -d lib/*-linux-gnu 2>/dev/null | head -1 || echo lib)
mkdir -p "$rootfs/usr/$libdir"
for f in "$stage/usr/$libdir"/liboci.so.*; do
	if [ -L "$f" ]; then cp -P "$f" "$rootfs/usr/$libdir/"; else install -m 0644 -s "$f" "$rootfs/usr/$libdir/"; fi
done

# 2. Exactly the shared libraries the binary and liboci load (ldd follows
#    their dependencies), each at the path the loader looks in, plus the
#    loader itself.
libs=$(LD_LIBRARY_PATH=$rootfs/usr/$libdir ldd "$rootfs/usr/bin/ocisync" "$rootfs/usr/$libdir"/liboci.so.0 |
	awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }' | grep -v "^$rootfs" | sort -u)
for lib in $libs; do
	dest=$rootfs$lib
	mkdir -p "$(dirname "$dest")"
	# the soname path is often a symlink: store the real file under that name
	cp -L "$lib" "$dest"
	chmod 0644 "$dest"
done
# /lib64 -> the loader, as the binary's PT_INTERP names it
interp=$(readelf -l "$rootfs/usr/bin/ocisync" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
if [ -n "$interp" ] && [ ! -e "$rootfs$interp" ]; then
	mkdir -p "$(dirname "$rootfs$interp")"
	cp -L "$interp" "$rootfs$interp"
fi
chmod 0755 "$rootfs$interp" # the kernel executes it

# 3. Certificates, the user, name resolution, a writable /tmp.
cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nocisync:x:65532:65532:ocisync:/tmp:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nocisync:x:65532:\n' >"$rootfs/etc/group"
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
chmod 1777 "$rootfs/tmp"
find "$rootfs" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# 4. The image: from scratch, one layer, configured, committed with every
#    timestamp pinned.
store=$work/containers
bh() { buildah --root "$store/root" --runroot "$store/run" --storage-driver vfs "$@"; }
ctr=$(bh from --quiet scratch)
bh copy --quiet "$ctr" "$rootfs/" / >/dev/null
bh config \
	--entrypoint '["/usr/bin/ocisync"]' --cmd '["--help"]' \
	--user 65532:65532 --workingdir /tmp \
	--env HOME=/tmp \
	--label "org.opencontainers.image.title=ocisync" \
	--label "org.opencontainers.image.description=Gitless GitOps: pack, push, verify and sync Kubernetes manifests as OCI artifacts" \
	--label "org.opencontainers.image.version=$version" \
	--label "org.opencontainers.image.revision=$revision" \
	${source_url:+--label "org.opencontainers.image.source=$source_url"} \
	--label "org.opencontainers.image.licenses=Apache-2.0" \
	--label "org.opencontainers.image.created=$created" \
	--created-by "scripts/image.sh" \
	"$ctr"
bh commit --quiet --timestamp "$SOURCE_DATE_EPOCH" --format oci --disable-compression=false --rm "$ctr" "oci:$out:$version" >/dev/null
/usr/bin/python3 - "$out" "$version" <<'PY'
import json, sys
idx = json.load(open(sys.argv[1] + "/index.json"))
for m in idx["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2]:
        print(m["digest"])
        break
else:
    sys.exit("image.sh: the layout has no manifest tagged " + sys.argv[2])
PY
