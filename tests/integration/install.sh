# `meson install` with DESTDIR lays out what a distribution expects (bin,
# lib with soname links, include/oci, pkgconfig, man1, man3, shell
# completions), and a C
# program built with only `pkg-config --cflags --libs liboci` against that
# tree runs and prints liboci's version.
. "$(dirname "$0")/lib.sh"
: "${BUILDDIR:?BUILDDIR must name the build directory}"
if [ "${SANITIZED:-none}" != none ]; then
	echo "install: checked once, in the build without sanitizers" >&2
	exit 77
fi
command -v pkg-config >/dev/null || fail "pkg-config is missing (scripts/deps.txt)"

step "meson install into a DESTDIR"
dest="$WORK/dest"
DESTDIR="$dest" meson install -C "$BUILDDIR" --no-rebuild --quiet >"$WORK/install.log" 2>&1 ||
	fail "meson install failed: $(cat "$WORK/install.log")"
prefix=$(meson introspect --buildoptions "$BUILDDIR" | /usr/bin/python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
libdir=$(meson introspect --buildoptions "$BUILDDIR" | /usr/bin/python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="libdir"][0])')
p="$dest$prefix"
l="$p/$libdir"

step "the file list"
[ -x "$p/bin/ocisync" ] || fail "no bin/ocisync"
[ -f "$l/liboci.so.0.1.0" ] || fail "no $libdir/liboci.so.0.1.0"
assert_eq "$(readlink "$l/liboci.so.0")" "liboci.so.0.1.0" "soname link"
assert_eq "$(readlink "$l/liboci.so")" "liboci.so.0" "development link"
assert_eq "$(objdump -p "$l/liboci.so.0.1.0" | awk '/SONAME/ { print $2 }')" "liboci.so.0" "SONAME"
for h in oci.h common.h error.h io.h digest.h ref.h manifest.h target.h bundle.h lint.h extract.h callbacks.h push.h pull.h copy.h diff.h resolve.h artifact.h key.h sign.h sync.h semver.h version.h credentials.h; do
	[ -f "$p/include/oci/$h" ] || fail "no include/oci/$h"
done
[ -f "$l/pkgconfig/liboci.pc" ] || fail "no pkgconfig/liboci.pc"
for page in ocisync ocisync-push ocisync-pull ocisync-lint ocisync-sync ocisync-verify ocisync-diff; do
	[ -f "$p/share/man/man1/$page.1" ] || fail "no man1/$page.1"
done
[ -f "$p/share/man/man3/liboci.3" ] || fail "no man3/liboci.3"
# shell completions, written by the built ocisync from its command table
for f in bash-completion/completions/ocisync zsh/vendor-completions/_ocisync fish/vendor_completions.d/ocisync.fish; do
	[ -s "$p/share/$f" ] || fail "no share/$f"
done
assert_contains "$(cat "$p/share/bash-completion/completions/ocisync")" "complete -F _ocisync ocisync" "the bash completion"
assert_eq "$(readlink "$p/share/man/man1/ocisync-diff.1")" "ocisync-copy.1" "an alias page is a symlink"
# every installed page renders (an alias page through its .so line)
for page in "$p"/share/man/man1/*.1 "$p"/share/man/man3/*.3; do
	out=$(cd "$p/share/man" && MANWIDTH=80 man -l "$page" 2>&1 | head -3) || fail "man -l $page: $out"
	[ -n "$out" ] || fail "man -l $page printed nothing"
done

step "a program built with pkg-config against the installed liboci"
export PKG_CONFIG_PATH="$l/pkgconfig"
cflags=$(pkg-config --define-variable=prefix="$p" --cflags liboci) || fail "pkg-config --cflags liboci"
libs=$(pkg-config --define-variable=prefix="$p" --libs liboci) || fail "pkg-config --libs liboci"
assert_contains "$cflags" "-I$p/include"
assert_contains "$libs" "-loci"
# shellcheck disable=SC2086
cc -o "$WORK/hello" "$SRCDIR/tests/install/hello-liboci.c" $cflags $libs || fail "compiling against the installed liboci"
run_out=$(LD_LIBRARY_PATH="$l" "$WORK/hello") || fail "the program failed: $run_out"
assert_eq "$run_out" "liboci $(LD_LIBRARY_PATH="$l" "$p/bin/ocisync" version | sed -n 's/^liboci //p')" "the program's output"
assert_contains "$(LD_LIBRARY_PATH="$l" ldd "$WORK/hello")" "$l/liboci.so.0" "the program links the installed liboci"
echo "install: ok"
