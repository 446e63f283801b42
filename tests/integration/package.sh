# The Debian packages: `dpkg-buildpackage -b -us -uc` on a copy of the
# tree builds ocisync, liboci0 and liboci-dev with only the declared
# build-dependencies; each package holds what it should (binary, soname
# link, headers, .pc, man pages); lintian reports no error; the packages
# unpacked into a scratch root run `ocisync version`.
. "$(dirname "$0")/lib.sh"
if [ "${SANITIZED:-none}" != none ]; then
	echo "package: checked once, in the build without sanitizers" >&2
	exit 77
fi
for tool in dpkg-buildpackage dpkg-checkbuilddeps lintian; do
	command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps.txt)"
done

step "the tree, as committed plus the working copy, into a scratch directory"
src="$WORK/pkg/ocisync"
mkdir -p "$src"
(cd "$SRCDIR" && git ls-files -co --exclude-standard 2>/dev/null || find . -path ./build\* -prune -o -type f -print) |
	(cd "$SRCDIR" && tar -cf - -T -) | tar -xf - -C "$src"
[ -f "$src/debian/control" ] || fail "no debian/control in the copy"

step "the build-dependencies are declared and present"
(cd "$src" && dpkg-checkbuilddeps) || fail "dpkg-checkbuilddeps"

step "dpkg-buildpackage -b -us -uc"
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -b -us -uc >"$WORK/build.log" 2>&1) ||
	fail "dpkg-buildpackage failed: $(tail -30 "$WORK/build.log")"
cd "$WORK/pkg"
version=$(sed -n '1s/^ocisync (\([^)]*\)).*/\1/p' "$src/debian/changelog")
arch=$(dpkg --print-architecture)
for p in ocisync liboci0 liboci-dev; do
	[ -f "${p}_${version}_${arch}.deb" ] || fail "no ${p}_${version}_${arch}.deb"
done

contents() { dpkg -c "$1_${version}_${arch}.deb" | awk '{ print $6 ($7 ? " " $7 " " $8 : "") }'; }
step "what each package holds"
c=$(contents ocisync)
assert_contains "$c" "./usr/bin/ocisync"
for page in ocisync ocisync-push ocisync-lint ocisync-sync ocisync-verify; do
	assert_contains "$c" "./usr/share/man/man1/$page.1.gz" "ocisync's files"
done
assert_contains "$c" "./usr/share/man/man1/ocisync-diff.1.gz -> ocisync-copy.1.gz" "ocisync's alias pages"
for f in bash-completion/completions/ocisync zsh/vendor-completions/_ocisync fish/vendor_completions.d/ocisync.fish; do
	assert_contains "$c" "./usr/share/$f" "ocisync's shell completions"
done
assert_not_contains "$c" "liboci.so" "ocisync's files"
c=$(contents liboci0)
assert_contains "$c" "/liboci.so.0.1.0"
assert_contains "$c" "/liboci.so.0 -> liboci.so.0.1.0" "liboci0's soname link"
assert_not_contains "$c" "include/" "liboci0's files"
c=$(contents liboci-dev)
assert_contains "$c" "./usr/include/oci/oci.h"
assert_contains "$c" "./usr/include/oci/lint.h"
assert_contains "$c" "/pkgconfig/liboci.pc"
assert_contains "$c" "/liboci.so -> liboci.so.0" "liboci-dev's development link"
assert_contains "$c" "./usr/share/man/man3/liboci.3.gz"
deps=$(dpkg-deb -f "liboci0_${version}_${arch}.deb" Depends)
assert_contains "$deps" "libcurl4" "liboci0's Depends"
assert_contains "$deps" "libyaml-0-2" "liboci0's Depends"
assert_contains "$deps" "libmicrohttpd12" "liboci0's Depends (sync --http-bind)"
assert_contains "$(dpkg-deb -f "ocisync_${version}_${arch}.deb" Depends)" "liboci0 (>= $version)" "ocisync's Depends"

step "lintian: no errors"
lintian --allow-root "ocisync_${version}_${arch}.changes" >"$WORK/lintian.log" 2>&1 || true
if grep -q '^E: ' "$WORK/lintian.log"; then
	fail "lintian errors: $(grep '^E: ' "$WORK/lintian.log")"
fi

step "unpacked into a scratch root, the binary runs"
root="$WORK/root"
for p in ocisync liboci0; do dpkg -x "${p}_${version}_${arch}.deb" "$root"; done
libdir=$(cd "$root/usr/lib" && ls -d *-linux-gnu | head -1)
out=$(LD_LIBRARY_PATH="$root/usr/lib/$libdir" "$root/usr/bin/ocisync" version) || fail "the packaged ocisync: $out"
assert_contains "$out" "ocisync $version"
assert_contains "$out" "liboci $version"
assert_contains "$(LD_LIBRARY_PATH="$root/usr/lib/$libdir" ldd "$root/usr/bin/ocisync")" "$root/usr/lib/$libdir/liboci.so.0" \
	"the packaged binary's liboci"
echo "package: ok"
