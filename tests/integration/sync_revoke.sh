# sync and revoked keys: the state remembers the keys the published revision
# was verified with; when the trusted keys change, that revision is verified
# again before anything else. One no trusted key verifies is withdrawn (the
# default) or kept (--on-revoked keep); either way the sync is an error that
# says why, exit 1, and the hook does not run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

cd "$WORK"
export COSIGN_PASSWORD=test-password
ok keygen --prefix "$WORK/k1"
ok keygen --prefix "$WORK/k2"
src="$WORK/src"
make_manifests "$src"
L="$WORK/layout"
REF="oci-layout:$L:prod"
R="$WORK/root"
S="$WORK/status.json"
HOOK="echo \"\$OCISYNC_DIGEST\" >>$WORK/hook.log"
hook_runs() { if [ -f "$WORK/hook.log" ]; then wc -l <"$WORK/hook.log"; else echo 0; fi; }

ok push "$REF" "$src" --sign-key "$WORK/k1.key"
d1=${OUT##*@}

step "published with k1"
ok sync "$REF" --root "$R" --once --verify-key "$WORK/k1.pub" --status-file "$S" --exec "$HOOK"
assert_eq "$OUT" "synced $d1 ($REF)"
assert_eq "$(hook_runs)" 1 "hook runs"
assert_contains "$(cat "$R/.state.json")" '"verified_with": "sha256:'

step "the same key under another file name is the same key set: unchanged, not verified again"
cp "$WORK/k1.pub" "$WORK/k1-copy.pub"
ok sync "$REF" --root "$R" --once --verify-key "$WORK/k1-copy.pub" --status-file "$S" --exec "$HOOK"
assert_eq "$OUT" "unchanged $d1"
assert_not_contains "$ERR" "trusted keys changed"

step "k1 revoked (only k2 trusted), tag not moved: error, exit 1, the link withdrawn, no hook"
expect_fail 1 "the published revision $d1 is not verified by any trusted key (the keys changed)" \
	sync "$REF" --root "$R" --once --verify-key "$WORK/k2.pub" --status-file "$S" --exec "$HOOK"
assert_contains "$ERR" "it was withdrawn: the link is removed (--on-revoked withdraw)"
[ ! -e "$R/current" ] && [ ! -L "$R/current" ] || fail "the revoked revision is still linked"
assert_eq "$(hook_runs)" 1 "hook runs after a revocation"
st=$(cat "$S")
assert_contains "$st" '"result": "error"'
assert_contains "$st" '"current_digest": null'
assert_contains "$st" '"error_kind": "verification failed"'
assert_contains "$st" "is not verified by any trusted key"
assert_contains "$st" '"hint": "revoked_withdrawn"'
/usr/bin/python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e.endswith("; it was withdrawn: the link is removed"), e' \
	"$S" || fail "the status file's error after a withdrawal"

step "the next run with k2 still refuses it (nothing published, exit 1)"
expect_fail 1 "no valid signature for $d1" sync "$REF" --root "$R" --once --verify-key "$WORK/k2.pub" --status-file "$S"
[ ! -L "$R/current" ] || fail "a revoked revision was published again"
assert_contains "$(cat "$S")" '"result": "error"'

step "trusted again (k1 back): republished, the hook runs"
ok sync "$REF" --root "$R" --once --verify-key "$WORK/k1.pub" --status-file "$S" --exec "$HOOK"
assert_eq "$OUT" "synced $d1 ($REF)"
check_link_present "$R"
assert_eq "$(hook_runs)" 2 "hook runs after republishing"

step "--on-revoked keep: the link stays, still an error every run, no hook"
expect_fail 1 "it is still served (--on-revoked keep)" \
	sync "$REF" --root "$R" --once --verify-key "$WORK/k2.pub" --on-revoked keep --status-file "$S" --exec "$HOOK"
assert_eq "$(link_hex "$R")" "${d1#sha256:}" "link with --on-revoked keep"
assert_contains "$(cat "$S")" "\"current_digest\": \"$d1\""
assert_contains "$(cat "$S")" '"hint": "revoked_kept"'
/usr/bin/python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e.endswith("; it is still served"), e' \
	"$S" || fail "the status file's error with --on-revoked keep"
expect_fail 1 "is not verified by any trusted key" \
	sync "$REF" --root "$R" --once --verify-key "$WORK/k2.pub" --on-revoked keep --exec "$HOOK"
assert_eq "$(hook_runs)" 2 "hook runs with --on-revoked keep"

step "the tag moves to a k2-signed revision: the revoked one is replaced, synced"
echo "changed: 1" >"$src/apps/web/changed.yaml"
ok push "$REF" "$src" --sign-key "$WORK/k2.key"
d2=${OUT##*@}
ok sync "$REF" --root "$R" --once --verify-key "$WORK/k2.pub" --status-file "$S" --exec "$HOOK"
assert_eq "$OUT" "synced $d2 ($REF)"
assert_eq "$(link_hex "$R")" "${d2#sha256:}" "link after the tag moved"
assert_eq "$(hook_runs)" 3 "hook runs after the move"
ok sync "$REF" --root "$R" --once --verify-key "$WORK/k2.pub"
assert_eq "$OUT" "unchanged $d2"

step "--verify-key added to a sync that had none: the unsigned revision is verified, withdrawn"
L2="$WORK/layout2"
ok push "oci-layout:$L2:prod" "$src"
u=${OUT##*@}
R2="$WORK/root2"
ok sync "oci-layout:$L2:prod" --root "$R2" --once
assert_eq "$OUT" "synced $u (oci-layout:$L2:prod)"
expect_fail 1 "the published revision $u is not verified by any trusted key" \
	sync "oci-layout:$L2:prod" --root "$R2" --once --verify-key "$WORK/k1.pub"
[ ! -L "$R2/current" ] || fail "an unsigned revision stayed published after --verify-key was added"

step "--on-revoked takes withdraw or keep"
expect_fail 2 "--on-revoked takes withdraw or keep, not 'never'" \
	sync "$REF" --root "$R" --once --verify-key "$WORK/k2.pub" --on-revoked never
echo "sync_revoke: ok"
