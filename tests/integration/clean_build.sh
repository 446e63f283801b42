# The Debian packages built on a FRESH Debian 12: scripts/clean-build.sh
# debootstraps a minimal bookworm root, installs only the Build-Depends of
# debian/control, runs `dpkg-buildpackage -b -us -uc` (with the package's
# unit tests) as an unprivileged user, checks lintian, installs the .debs
# into a second fresh root and uses them there (version, push / pull / sync
# through oci-layout:, a program built against liboci-dev).
#
# It builds the COMMITTED tree (git archive HEAD). Skipped only where it
# cannot run: not root, no mount namespaces, no route to the Debian mirror
# (the script's exit 77, with its reason). The base root is cached in
# OCISYNC_CHROOT_CACHE (default: BUILDDIR/clean-build-cache).
. "$(dirname "$0")/lib.sh"
if [ "${SANITIZED:-none}" != none ]; then
	echo "clean_build: checked once, in the build without sanitizers" >&2
	exit 77
fi
git -C "$SRCDIR" rev-parse --verify --quiet HEAD >/dev/null || {
	echo "clean_build: $SRCDIR is not a git checkout (it builds git archive HEAD)" >&2
	exit 77
}
export OCISYNC_CHROOT_CACHE=${OCISYNC_CHROOT_CACHE:-${BUILDDIR:-$WORK}/clean-build-cache}

set +e
bash "$SRCDIR/scripts/clean-build.sh" "$WORK/out" 2>"$WORK/clean.err"
rc=$?
set -e
cat "$WORK/clean.err" >&2
case $rc in
0) ;;
77) exit 77 ;;
*) fail "scripts/clean-build.sh exited $rc: $(grep FAILED "$WORK/clean.err")" ;;
esac

step "what it left: a .changes naming the three packages, each there, a lintian log without errors"
changes=$(ls "$WORK/out"/ocisync_*.changes) || fail "no .changes in $WORK/out"
for p in ocisync liboci0 liboci-dev; do
	deb=$(grep -oE " ${p}_[^ ]+\.deb$" "$changes" | sort -u | tr -d ' ') || fail "$changes lists no $p package"
	[ -s "$WORK/out/$deb" ] || fail "no $deb"
done
assert_not_contains "$(cat "$WORK/out/lintian.log")" "E: " "lintian"
step "the package's unit tests ran in the build (dh_auto_test)"
assert_contains "$(cat "$WORK/out/build.log")" "meson test" "the build log"
grep -Eq '^Ok: +[1-9][0-9]* *$' "$WORK/out/build.log" || fail "no test passed in the package build"
grep -Eq '^Fail: +0 *$' "$WORK/out/build.log" || fail "the package build's tests: $(grep -E '^Fail: ' "$WORK/out/build.log")"
for suite in unit arch fuzz; do
	grep -q "ocisync:$suite / " "$WORK/out/build.log" || fail "dh_auto_test ran no $suite test"
done
echo "clean_build: ok"
