#!/bin/bash
# The man pages (issue 9 item 10, issue 11 step 5): each command's options
# (its --help, written from its spec) are the ones its page documents, and
# every page built opens with `man -l` without a warning.
. "$(dirname "$0")/lib.sh"
: "${BUILDDIR:?BUILDDIR must name the build directory}"

step "every option of every command is in its man page, and the pages name no other"
out=$(/usr/bin/python3 "$SRCDIR/tests/integration/cli_man_check.py" "$OCISYNC" "$SRCDIR") || fail "man pages and options differ:
$out"

step "the check notices a page that lost an option, and one that documents a removed one"
mkdir -p "$WORK/src"
cp -r "$SRCDIR/man" "$WORK/src/man"
sed -i 's/--allow-empty/--allow-nothing/g' "$WORK/src/man/ocisync-push.1.scd"
set +e
out=$(/usr/bin/python3 "$SRCDIR/tests/integration/cli_man_check.py" "$OCISYNC" "$WORK/src")
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "the check passed a page without --allow-empty (rc $rc): $out"
assert_contains "$out" "ocisync push --allow-empty: not in man/ocisync-push.1.scd"
assert_contains "$out" "man/ocisync-push.1.scd documents --allow-nothing, which push does not take"

step "man -l renders every built page without a warning"
command -v man >/dev/null || fail "man is missing (scripts/deps.txt: man-db)"
n=0
for page in "$BUILDDIR"/man/*.1 "$BUILDDIR"/man/*.3; do
	[ -e "$page" ] || fail "no pages in $BUILDDIR/man (scdoc missing?)"
	err=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >"$WORK/page.txt") || fail "man -l $page failed: $err"
	[ -z "$err" ] || fail "man -l $page warned: $err"
	[ -s "$WORK/page.txt" ] || fail "man -l $page printed nothing"
	n=$((n + 1))
done
[ "$n" -ge 21 ] || fail "only $n pages built"
# every command has a page of its own name (alias pages included)
for cmd in $("$OCISYNC" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }'); do
	[ -f "$BUILDDIR/man/ocisync-$cmd.1" ] || fail "no page ocisync-$cmd.1"
done

step "liboci(3) spells the naming rule, not scdoc's underscores"
out=$(MANWIDTH=100 man -l "$BUILDDIR/man/liboci.3" 2>/dev/null | col -b)
assert_contains "$out" "named oci_<module>_<verb>"
assert_not_contains "$out" "oci__module"
echo "cli_man: ok"
