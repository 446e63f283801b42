# sync --verify-key: nothing unverified is fetched, extracted or published;
# the link stays on the last verified revision and the status file says why.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

start_registry
cd "$WORK"
export COSIGN_PASSWORD=test-password
ok keygen --prefix "$WORK/good"
ok keygen --prefix "$WORK/other"
src="$WORK/src"
make_manifests "$src"
REF="$REG/team/signed:prod"
R="$WORK/root"
S="$WORK/status.json"

step "a signed artifact verifies and is published"
ok push "$REF" "$src" --sign-key "$WORK/good.key"
d1=${OUT##*@}
ok sync "$REF" --root "$R" --once --verify-key "$WORK/good.pub" --status-file "$S"
assert_eq "$OUT" "synced $d1 ($REF)"
check_link "$R"

step "an unsigned new digest: exit 1, nothing fetched or extracted, the link stays, the status says why"
echo "changed: 1" >"$src/apps/web/changed.yaml"
ok push "$REF" "$src"
d2=${OUT##*@}
before=$(tree_listing "$R")
reg_mark unsigned-a
expect_fail 1 "$d2" sync "$REF" --root "$R" --once --verify-key "$WORK/good.pub" --status-file "$S"
reg_mark unsigned-b
assert_eq "$(link_hex "$R")" "${d1#sha256:}" "link after an unsigned digest"
[ ! -e "$R/.revisions/${d2#sha256:}" ] || fail "an unverified revision was extracted"
[ ! -e "$R/.revisions/${d2#sha256:}.index" ] || fail "an unverified revision left an index"
assert_eq "$before" "$(tree_listing "$R")" "tree after a refused digest"
blobs=$(requests_between unsigned-a unsigned-b | grep -c "/blobs/sha256:" || true)
assert_eq "$blobs" 0 "blob requests for an unverified digest"
st=$(cat "$S")
assert_contains "$st" '"result": "error"'
assert_contains "$st" "\"digest\": \"$d2\""
assert_contains "$st" "\"current_digest\": \"$d1\""
assert_contains "$st" "signature"

step "signed by a key that is not trusted: refused the same way"
ok sign --key "$WORK/other.key" "$REF"
expect_fail 1 "$d2" sync "$REF" --root "$R" --once --verify-key "$WORK/good.pub" --status-file "$S"
assert_eq "$(link_hex "$R")" "${d1#sha256:}" "link after a wrongly signed digest"
[ ! -e "$R/.revisions/${d2#sha256:}" ] || fail "a wrongly signed revision was extracted"
assert_contains "$(cat "$S")" '"result": "error"'

step "any one of several keys suffices; once signed by it, the digest is published"
ok sync "$REF" --root "$R" --once --verify-key "$WORK/good.pub" --verify-key "$WORK/other.pub"
assert_eq "$OUT" "synced $d2 ($REF)"
check_link "$R"

step "a kept revision is verified again before it is published again"
[ -d "$R/.revisions/${d1#sha256:}" ] || fail "the first revision should still be kept"
ok tag "$REG/team/signed@$d1" prod
expect_fail 1 "$d1" sync "$REF" --root "$R" --once --verify-key "$WORK/other.pub"
assert_eq "$(link_hex "$R")" "${d2#sha256:}" "link after a kept but untrusted revision"
ok sync "$REF" --root "$R" --once --verify-key "$WORK/good.pub"
assert_eq "$OUT" "synced $d1 ($REF)"

step "a missing key file is an error before anything is requested"
expect_fail 1 "nokey.pub" sync "$REF" --root "$R" --once --verify-key "$WORK/nokey.pub"
echo "sync_verify: ok"
