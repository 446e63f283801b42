# Guards against the easy mistakes (issue 9, item 7), each with its clear
# message and explicit override: an empty tree is not pushed (--allow-empty),
# push and sync both read a REF without a tag as :latest, and
# copy --with-signatures of an unsigned source copies nothing
# (--allow-unsigned).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
start_registry
cd "$WORK"
export SOURCE_DATE_EPOCH=1700000000 # the same tree pushes the same digest

step "an empty directory is not pushed; --allow-empty pushes it"
mkdir -p empty ignored/sub
expect_fail 1 "$WORK/empty holds no files (empty, or every file ignored): nothing to push; --allow-empty pushes an empty artifact" \
	push "$REG/team/empty:v1" "$WORK/empty"
expect_fail 1 "not found" resolve "$REG/team/empty:v1"
echo x >ignored/sub/notes.txt
expect_fail 1 "$WORK/ignored holds no files" push "$REG/team/empty:v1" "$WORK/ignored" --ignore '*.txt'
expect_fail 1 "holds no files" push "oci-layout:$WORK/lay:v1" "$WORK/empty"
[ ! -e "$WORK/lay" ] || fail "the refused push wrote the layout"
ok push "$REG/team/empty:v1" "$WORK/empty" --allow-empty
ok resolve "$REG/team/empty:v1"

step "push REPO and sync REPO without a tag both mean :latest"
make_manifests "$WORK/tree"
ok push "$REG/team/app" "$WORK/tree"
dl=${OUT##*@}
assert_contains "$ERR" "no tag in $REG/team/app: using the default tag latest"
ok resolve "$REG/team/app:latest"
assert_eq "$OUT" "$dl" "the :latest tag names what was pushed"
ok sync "$REG/team/app" --root "$WORK/root" --once
assert_eq "$OUT" "synced $dl ($REG/team/app:latest)"
ok -o json push "$REG/team/app" "$WORK/tree"
assert_contains "$OUT" '"tags":["latest"]'

step "copy --with-signatures of an unsigned source copies nothing; --allow-unsigned copies it"
expect_fail 1 "$REG/team/app:latest ($dl) has no signatures to copy (no cosign .sig tag, no referrers): nothing copied; --allow-unsigned copies it without" \
	copy --with-signatures "$REG/team/app:latest" "$REG/team/copied:v1"
expect_fail 1 "not found" resolve "$REG/team/copied:v1"
ok copy --with-signatures --allow-unsigned "$REG/team/app:latest" "$REG/team/copied:v1"
assert_eq "$OUT" "$REG/team/copied@$dl"
expect_fail 2 "--allow-unsigned goes with --with-signatures" copy --allow-unsigned "$REG/team/app:latest" "$REG/team/copied:v2"
echo "guards: ok"
