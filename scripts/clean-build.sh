#!/usr/bin/env bash
# Proves that `dpkg-buildpackage -b -us -uc` builds on a FRESH Debian 12
# with nothing but the Build-Depends that debian/control declares, and that
# the packages it makes install and work:
#
#  1. a minimal bookworm root (`debootstrap --variant=buildd`: essential
#     packages, apt and build-essential, nothing else) from the apt mirror
#     this machine uses; cached as a tarball, so reruns skip debootstrap;
#  2. `git archive` of HEAD (what is committed, not the working copy) copied
#     into it, its Build-Depends installed with `apt-get build-dep ./`;
#  3. `dpkg-buildpackage -b -us -uc` as an unprivileged user (the package's
#     unit tests run unless DEB_BUILD_OPTIONS has nocheck);
#  4. lintian on the .changes: no error;
#  5. a second fresh root from the same tarball: `apt-get install` of the
#     three .debs (their Depends resolved by apt, nothing else added but
#     pkgconf), then, as an unprivileged user, `ocisync version`, a push /
#     pull / one-shot sync through an oci-layout: store, and a C program
#     built with `pkg-config --cflags --libs liboci`.
#
# usage: scripts/clean-build.sh [OUT_DIR]
#   OUT_DIR (default build-clean/out): the .debs, .changes, build and lintian logs
# environment:
#   OCISYNC_CHROOT_CACHE  where the base tarball and downloaded .debs are kept
#                         (default build-clean/cache); delete it for a cold run
#   OCISYNC_MIRROR        the Debian mirror (default: the one in /etc/apt/sources.list*)
#   OCISYNC_SECURITY_MIRROR  the security mirror (default: likewise; none if absent)
#   OCISYNC_REV           what to build (default HEAD)
#   DEB_BUILD_OPTIONS     passed to dpkg-buildpackage (default parallel=$(nproc))
#   KEEP_WORK=1           keep the scratch roots after a failure
# Exits 0 when all of it passed, 1 when something failed (the step is named),
# 77 when this machine cannot run it at all (not root, no namespaces, the
# mirror unreachable), with the reason on stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build-clean/out}
cache=${OCISYNC_CHROOT_CACHE:-$root/build-clean/cache}
rev=${OCISYNC_REV:-HEAD}
suite=bookworm
start=$SECONDS

say() { echo "clean-build: $*" >&2; }
cannot() { say "cannot run here: $*"; exit 77; }
die() { say "FAILED: $*"; exit 1; }
step() { say "== [$((SECONDS - start)) s] $*"; }

[ "$(id -u)" -eq 0 ] || cannot "debootstrap and chroot need root (run it as root or with sudo)"
command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap; scripts/deps.txt)"
unshare --mount --propagation private --pid --fork true 2>/dev/null ||
	cannot "no mount and PID namespaces (unshare --mount --pid failed: an unprivileged container?)"
git -C "$root" rev-parse --verify --quiet "$rev^{commit}" >/dev/null || die "$rev is not a commit of $root"

# The mirror of this machine's apt sources for SUITE (one-line and deb822
# formats); the first one wins.
host_mirror() { # suite
	/usr/bin/python3 - "$1" <<'PY'
import glob, re, sys
want = sys.argv[1]
files = glob.glob("/etc/apt/sources.list") + sorted(glob.glob("/etc/apt/sources.list.d/*"))
for path in files:
    try:
        text = open(path).read()
    except OSError:
        continue
    if path.endswith(".sources"):
        for para in re.split(r"\n\s*\n", text):
            fields = dict(re.findall(r"^([A-Za-z-]+):[ \t]*(.*)$", para, re.M))
            if "deb" in fields.get("Types", "").split() and want in fields.get("Suites", "").split():
                print(fields["URIs"].split()[0]); sys.exit(0)
    elif path.endswith(".list"):
        for line in text.splitlines():
            words = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).split()
            if len(words) >= 3 and words[0] == "deb" and words[2] == want:
                print(words[1]); sys.exit(0)
PY
}
mirror=${OCISYNC_MIRROR:-$(host_mirror "$suite")}
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
security=${OCISYNC_SECURITY_MIRROR-$(host_mirror "$suite-security")}
security=${security%/}
curl -fsS --max-time 30 -o /dev/null "$mirror/dists/$suite/Release" 2>/dev/null ||
	cannot "the Debian mirror $mirror is unreachable ($mirror/dists/$suite/Release)"

mkdir -p "$out" "$cache/archives/partial"
out=$(cd "$out" && pwd)
cache=$(cd "$cache" && pwd)
arch=$(dpkg --print-architecture)
base=$cache/$suite-buildd-$arch.tar

work=$(mktemp -d "${TMPDIR:-/tmp}/ocisync-clean.XXXXXX")
cleanup() {
	local rc=$?
	# The mounts live in the namespaces of the steps (unshare below) and
	# vanish with them; --one-file-system refuses to cross one anyway.
	if [ "$rc" -eq 0 ] || [ -z "${KEEP_WORK:-}" ]; then
		rm -rf --one-file-system "$work"
	else
		say "scratch roots kept: $work"
	fi
}
trap cleanup EXIT

# 1. The base root, from the cache or made now. Made under a lock so that
#    two runs sharing a cache do not both debootstrap; written to a
#    temporary name and renamed, so an interrupted run leaves no half tarball.
step "base root: debootstrap --variant=buildd $suite from $mirror (cached in $cache)"
exec 9>"$cache/.lock"
flock 9
if [ ! -s "$base" ]; then
	fresh=$work/debootstrap
	debootstrap --variant=buildd --arch="$arch" --cache-dir="$cache/archives" "$suite" "$fresh" "$mirror" \
		>"$out/debootstrap.log" 2>&1 || die "debootstrap (log: $out/debootstrap.log): $(tail -5 "$out/debootstrap.log")"
	rm -f "$fresh"/var/cache/apt/archives/*.deb
	tar --numeric-owner -C "$fresh" -cf "$base.tmp" . && mv "$base.tmp" "$base"
	rm -rf --one-file-system "$fresh"
	say "base root cached: $base ($(du -m "$base" | cut -f1) MiB)"
fi
flock -u 9

# new_root DIR: the base root unpacked at DIR, with this machine's DNS and
# the mirrors; apt keeps its downloads in the cache (bind-mounted by in_root).
new_root() {
	mkdir -p "$1"
	tar --numeric-owner -C "$1" -xf "$base"
	cp /etc/resolv.conf "$1/etc/resolv.conf"
	{
		echo "deb $mirror $suite main"
		echo "deb $mirror $suite-updates main"
		[ -z "$security" ] || echo "deb $security $suite-security main"
	} >"$1/etc/apt/sources.list"
	printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$1/etc/apt/apt.conf.d/90clean-build"
}

# in_root DIR CMD...: CMD as root inside DIR, in a private mount namespace
# with /proc, /dev/shm and the shared apt cache mounted (gone when it exits).
in_root() {
	local r=$1
	shift
	unshare --mount --propagation private --pid --fork bash -c '
		set -e
		r=$1 archives=$2
		shift 2
		mount -t proc proc "$r/proc"
		mount -t tmpfs -o mode=1777 shm "$r/dev/shm"
		mount --bind "$archives" "$r/var/cache/apt/archives"
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
			DEBIAN_FRONTEND=noninteractive "$@"
	' in_root "$r" "$cache/archives" "$@"
}
# as_user DIR USER CMD...: CMD as USER (made on first use) inside DIR.
as_user() {
	local r=$1 user=$2
	shift 2
	in_root "$r" sh -c 'id -u "$1" >/dev/null 2>&1 || useradd --create-home "$1"' sh "$user"
	in_root "$r" runuser -u "$user" -- env HOME="/home/$user" "$@"
}

# 2. The build root: the committed tree and its declared Build-Depends.
build=$work/build
new_root "$build"
step "the tree at $rev ($(git -C "$root" rev-parse --short "$rev")) into the build root"
mkdir -p "$build/build"
git -C "$root" archive --format=tar --prefix=ocisync/ "$rev" | tar -xf - -C "$build/build"
step "apt-get build-dep ./ (only what debian/control declares)"
in_root "$build" apt-get update -qq >"$out/build-dep.log" 2>&1 ||
	die "apt-get update in the build root: $(tail -5 "$out/build-dep.log")"
in_root "$build" sh -c 'cd /build/ocisync && apt-get build-dep -y -q ./' >>"$out/build-dep.log" 2>&1 ||
	die "apt-get build-dep (log: $out/build-dep.log): $(tail -5 "$out/build-dep.log")"

# 3. The package build, as a user that owns nothing else.
options=${DEB_BUILD_OPTIONS-parallel=$(nproc)}
step "dpkg-buildpackage -b -us -uc as an unprivileged user (DEB_BUILD_OPTIONS=$options)"
in_root "$build" sh -c 'useradd --create-home builder && chown -R builder: /build'
t0=$SECONDS
as_user "$build" builder sh -c 'cd /build/ocisync && DEB_BUILD_OPTIONS="$1" dpkg-buildpackage -b -us -uc' sh "$options" \
	>"$out/build.log" 2>&1 || die "dpkg-buildpackage (log: $out/build.log): $(tail -30 "$out/build.log")"
say "dpkg-buildpackage took $((SECONDS - t0)) s"
version=$(sed -n '1s/^ocisync (\([^)]*\)).*/\1/p' "$build/build/ocisync/debian/changelog")
debs=()
for p in ocisync liboci0 liboci-dev; do
	f=${p}_${version}_${arch}.deb
	[ -f "$build/build/$f" ] || die "dpkg-buildpackage made no $f"
	debs+=("$f")
done
changes=ocisync_${version}_${arch}.changes
# everything the .changes lists (the -dbgsym packages too: lintian wants them)
cp "$build/build/$changes" "$build"/build/*.buildinfo "$build"/build/*.deb "$out/"

# 4. lintian (this machine's: the same Debian release) on what was built:
#    exit 2 on an error; a .changes it could not read is a failure too.
step "lintian $changes"
command -v lintian >/dev/null || die "lintian is missing (apt-get install lintian; scripts/deps.txt)"
lint_rc=0
(cd "$out" && lintian --allow-root --fail-on error "$changes") >"$out/lintian.log" 2>&1 || lint_rc=$?
if [ "$lint_rc" -ne 0 ] || grep -qE '^Skipping|No packages selected' "$out/lintian.log"; then
	die "lintian (exit $lint_rc): $(cat "$out/lintian.log")"
fi

# 5. A second fresh root: the packages installed by apt, used as a user.
run=$work/run
new_root "$run"
mkdir -p "$run/tmp/debs"
for f in "${debs[@]}"; do cp "$out/$f" "$run/tmp/debs/"; done
step "apt-get install of ${debs[*]} into a fresh root"
in_root "$run" apt-get update -qq >"$out/install.log" 2>&1 ||
	die "apt-get update in the run root: $(tail -5 "$out/install.log")"
in_root "$run" sh -c 'apt-get install -y -q /tmp/debs/*.deb pkgconf' >>"$out/install.log" 2>&1 ||
	die "apt-get install of the packages (log: $out/install.log): $(tail -5 "$out/install.log")"

step "as a user in that root: ocisync version, push / pull / sync --once through oci-layout:"
mkdir -p "$run/tmp/manifests"
git -C "$root" archive --format=tar "$rev" testdata/manifests | tar -xf - -C "$run/tmp/manifests" --strip-components=2
chmod -R a+rX "$run/tmp/manifests"
v=$(as_user "$run" user ocisync version 2>&1) || die "ocisync version: $v"
case $v in *"ocisync $version"*"liboci $version"*) ;; *) die "ocisync version printed: $v" ;; esac
as_user "$run" user sh -ec '
	cd "$HOME"
	ocisync push oci-layout:store:v1 /tmp/manifests --created 2024-01-02T03:04:05Z
	ocisync pull oci-layout:store:v1 pulled
	diff -r /tmp/manifests pulled
	ocisync sync oci-layout:store:v1 --root cluster --once
	diff -r /tmp/manifests cluster/current
' >"$out/use.log" 2>&1 || die "push / pull / sync in the installed root: $(cat "$out/use.log")"

step "as a user: a C program built with pkg-config --cflags --libs liboci (liboci-dev)"
as_user "$run" user sh -ec '
	cd "$HOME"
	printf "%s\n" "#include <stdio.h>" "#include <oci/oci.h>" \
		"int main(void) { printf(\"liboci %s\\n\", oci_version()); return 0; }" >prog.c
	cc -Wall -Werror prog.c -o prog $(pkg-config --cflags --libs liboci)
	./prog
' >"$out/dev.log" 2>&1 || die "building against liboci-dev: $(cat "$out/dev.log")"
grep -qx "liboci $version" "$out/dev.log" || die "the program printed: $(cat "$out/dev.log")"

step "passed: ${debs[*]} and $changes in $out"
echo "clean-build: passed in $((SECONDS - start)) s"
