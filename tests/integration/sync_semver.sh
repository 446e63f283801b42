# sync --semver: the highest tag in the range wins, other tags are ignored,
# pre-releases only when the range names one; REF is a repository.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

start_registry
cd "$WORK"
src="$WORK/src"
make_manifests "$src"
REPO="$REG/team/sem"
declare -A dig
for tag in 1.2.0 v1.10.0 1.9.3 2.0.0 2.1.0-rc.1 1.11.0-beta.1 latest 0.9.0; do
	echo "version: $tag" >"$src/version.yaml"
	ok push "$REPO:$tag" "$src"
	dig[$tag]=${OUT##*@}
done
R="$WORK/root"

step "the highest tag matching '>=1.2.0 <2.0.0' (pre-releases and other tags ignored)"
ok sync "$REPO" --root "$R" --once --semver '>=1.2.0 <2.0.0' --status-file "$WORK/s.json"
assert_eq "$OUT" "synced ${dig[v1.10.0]} ($REPO:v1.10.0)"
assert_eq "$(cat "$R/current/version.yaml")" "version: v1.10.0"
assert_contains "$(cat "$WORK/s.json")" '"tag": "v1.10.0"'

step "unchanged: the tag list and one HEAD, nothing more"
reg_mark sem-a
ok sync "$REPO" --root "$R" --once --semver '>=1.2.0 <2.0.0'
reg_mark sem-b
assert_eq "$OUT" "unchanged ${dig[v1.10.0]}"
assert_eq "$(requests_between sem-a sem-b | tr '\n' ' ')" "GET /v2/team/sem/tags/list?n=1000 HEAD /v2/team/sem/manifests/v1.10.0 " "requests"

step "a new matching tag is picked up; a higher one outside the range is not"
echo "version: 1.12.1" >"$src/version.yaml"
ok push "$REPO:1.12.1" "$src"
d=${OUT##*@}
echo "version: 3.0.0" >"$src/version.yaml"
ok push "$REPO:3.0.0" "$src"
ok sync "$REPO" --root "$R" --once --semver '>=1.2.0 <2.0.0'
assert_eq "$OUT" "synced $d ($REPO:1.12.1)"

step "caret, tilde, x-ranges and pre-releases"
ok sync "$REPO" --root "$WORK/r2" --once --semver '^2'
assert_eq "$OUT" "synced ${dig[2.0.0]} ($REPO:2.0.0)"
ok sync "$REPO" --root "$WORK/r3" --once --semver '~1.9'
assert_eq "$OUT" "synced ${dig[1.9.3]} ($REPO:1.9.3)"
ok sync "$REPO" --root "$WORK/r4" --once --semver '>=2.1.0-rc.1 <3'
assert_eq "$OUT" "synced ${dig[2.1.0-rc.1]} ($REPO:2.1.0-rc.1)"
ok sync "$REPO" --root "$WORK/r5" --once --semver '0.x || ^5'
assert_eq "$OUT" "synced ${dig[0.9.0]} ($REPO:0.9.0)"

step "no tag in range: exit 1 naming the range, nothing published"
expect_fail 1 "no tag matches the semver range '^4'" sync "$REPO" --root "$WORK/r6" --once --semver '^4'
[ ! -e "$WORK/r6/current" ] || fail "published without a match"

step "usage: a bad range, or a REF with a tag"
expect_fail 2 "semver range '1.x.3'" sync "$REPO" --root "$WORK/r7" --once --semver 1.x.3
expect_fail 2 "with --semver, REF names a repository without tag or digest" sync "$REPO:latest" --root "$WORK/r7" --once --semver '^1'
[ ! -e "$WORK/r7" ] || fail "a usage error created the root"
echo "sync_semver: ok"
