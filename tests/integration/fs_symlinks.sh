# Sync and pull work relative to directory descriptors: ROOT (and pull's
# destination parent) is opened once with O_NOFOLLOW and nothing under it
# is followed if it is a symlink. Each case: refused or removed as itself,
# and nothing outside touched.
. "$(dirname "$0")/lib.sh"
cd "$WORK"

make_manifests "$WORK/tree"
ok push "oci-layout:$WORK/store:v1" "$WORK/tree"
echo changed >"$WORK/tree/changed.yaml"
ok push "oci-layout:$WORK/store:v2" "$WORK/tree"
REF1="oci-layout:$WORK/store:v1"
REF2="oci-layout:$WORK/store:v2"

# outside: a directory and a file that must never change
mkdir -p outside/dir
echo precious >outside/dir/keep.txt
echo precious >outside/file
snapshot() { (cd outside && find . -printf '%p %s %T@\n' | sort && cat dir/keep.txt file); }
before=$(snapshot)
untouched() { assert_eq "$(snapshot)" "$before" "the directory outside ($1)"; }

step "ROOT/.revisions/<hex> replaced by a symlink: removed as itself, never followed"
ok sync "$REF1" --root "$WORK/r1" --once
hex=$(readlink r1/current); hex=${hex#.revisions/}
chmod -R u+w "r1/.revisions/$hex" && rm -rf "r1/.revisions/$hex"
ln -s "$WORK/outside/dir" "r1/.revisions/$hex"
ok sync "$REF2" --root "$WORK/r1" --once
assert_contains "$ERR" "removed leftover $WORK/r1/.revisions/$hex"
[ ! -L "r1/.revisions/$hex" ] || fail "the symlinked revision is still there"
[ -f r1/current/changed.yaml ] || fail "the new revision was not published"
untouched "revision symlink"

step "ROOT/.revisions/<hex>.index replaced by a symlink: removed as itself"
hex2=$(readlink r1/current); hex2=${hex2#.revisions/}
ok sync "$REF1" --root "$WORK/r1" --once
rm -f "r1/.revisions/$hex2.index"
ln -s "$WORK/outside/file" "r1/.revisions/$hex2.index"
ok sync "$REF2" --root "$WORK/r1" --once
[ ! -L "r1/.revisions/$hex2.index" ] || fail "the symlinked index is still there"
untouched "index symlink"

step "a symlinked state file inside ROOT: refused, not read, not replaced"
mv r1/.state.json r1/.state.json.real
ln -s "$WORK/outside/file" r1/.state.json
expect_fail 1 "state file $WORK/r1/.state.json is a symlink; refusing to read or replace it" sync "$REF1" --root "$WORK/r1" --once
[ -L r1/.state.json ] || fail "the state symlink was replaced"
rm r1/.state.json && mv r1/.state.json.real r1/.state.json
untouched "state symlink"

step "a symlinked status file inside ROOT: refused, not replaced"
ln -s "$WORK/outside/file" r1/status.json
expect_fail 1 "$WORK/r1/status.json is a symlink; refusing to replace it" sync "$REF1" --root "$WORK/r1" --once --status-file "$WORK/r1/status.json"
[ -L r1/status.json ] || fail "the status symlink was replaced"
rm r1/status.json
untouched "status symlink"

step "ROOT itself a symlink: refused before anything is written"
mkdir real-root
ln -s "$WORK/real-root" link-root
expect_fail 1 "$WORK/link-root is a symlink, not a directory made by ocisync sync" sync "$REF1" --root "$WORK/link-root" --once
assert_eq "$(ls -A real-root)" "" "the directory the symlinked root points to"

step "pull: a symlinked destination parent is refused"
mkdir realparent
ln -s "$WORK/realparent" linkparent
expect_fail 1 "the destination's parent $WORK/linkparent is a symlink; refused" pull "$REF1" "$WORK/linkparent/out"
assert_eq "$(ls -A realparent)" "" "the directory the symlinked parent points to"

step "pull: a symlinked destination is refused, with --force too"
ln -s "$WORK/outside/dir" "$WORK/dest-link"
expect_fail 1 "destination $WORK/dest-link is a symlink; refused" pull "$REF1" "$WORK/dest-link"
expect_fail 1 "destination $WORK/dest-link is a symlink; refused" pull --force "$REF1" "$WORK/dest-link"
[ -L "$WORK/dest-link" ] || fail "the destination symlink was replaced"
assert_eq "$(find "$WORK" -maxdepth 1 -name '.dest-link.ocisync*')" "" "temporaries beside the destination"
untouched "pull"

step "a regular pull and --force replace still work"
ok pull "$REF1" "$WORK/p"
ok pull --force "$REF2" "$WORK/p"
[ -f p/changed.yaml ] || fail "--force did not replace the tree"
echo ok
