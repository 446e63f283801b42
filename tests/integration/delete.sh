#!/bin/bash
# ocisync delete: a manifest by digest (a tag resolved first) on a registry
# and in an oci-layout:, --untag, --yes required, 404, and a registry that
# does not allow deletes (405).
. "$(dirname "$0")/lib.sh"

start_registry reg
make_manifests "$WORK/tree"
ok push "$REG/team/app:v1,prod" "$WORK/tree"
DIGEST=${OUT##*@}
echo v2 >"$WORK/tree/extra.yaml"
ok push "$REG/team/app:v2" "$WORK/tree"
D2=${OUT##*@}

step "usage errors before any request"
before=$(registry_requests "team/app")
expect_fail 2 "cannot be undone and removes every tag naming it: pass --yes" delete "$REG/team/app:v1"
expect_fail 2 "--untag removes a tag, and $REG/team/app@$DIGEST names none" delete --untag "$REG/team/app@$DIGEST"
expect_fail 2 "names neither a tag nor a digest" delete -y "oci-layout:$WORK/nolayout"
expect_fail 2 "delete takes one REF" delete -y
expect_fail 2 "unknown option --force" delete --force "$REG/team/app:v1"
run -o json delete "$REG/team/app:v1"
assert_eq "$RC" 2
assert_eq "$(jq -r .error.code <<<"$OUT")" usage
assert_eq "$(registry_requests "team/app")" "$before" "requests made by refused deletes"

step "registry: a tag is resolved, its manifest deleted with every tag naming it"
ok delete --yes "$REG/team/app:prod"
assert_eq "$OUT" "deleted $REG/team/app@$DIGEST"
assert_contains "$(cat "$REG_LOG")" "DELETE /v2/team/app/manifests/$DIGEST"
expect_fail 1 "not found" resolve "$REG/team/app:v1"
expect_fail 1 "not found" resolve "$REG/team/app@$DIGEST"
ok resolve "$REG/team/app:v2"
assert_eq "$OUT" "$D2"

step "registry: an absent manifest is 404"
expect_fail 1 "not found" delete -y "$REG/team/app@$DIGEST"
expect_fail 1 "manifest team/app:gone not found (404)" delete -y "$REG/team/app:gone"

step "registry: by digest, -o json"
ok -o json delete -y "$REG/team/app@$D2"
assert_eq "$(jq -r .deleted <<<"$OUT")" manifest
assert_eq "$(jq -r .digest <<<"$OUT")" "$D2"

step "registry: --untag where the registry deletes by digest only"
ok push "$REG/team/app:v3,keep" "$WORK/tree"
expect_fail 1 "the registry does not delete a tag alone" delete --untag "$REG/team/app:v3"
ok resolve "$REG/team/app:keep"

step "a registry that does not allow deletes answers 405"
REG_DELETE=false start_registry nodel
ok push "$REG/team/app:v1" "$WORK/tree"
expect_fail 1 "the registry does not allow deletes" delete -y "$REG/team/app:v1"
assert_contains "$ERR" "REGISTRY_STORAGE_DELETE_ENABLED=true"
run -o json delete -y "$REG/team/app:v1"
assert_eq "$RC" 1
assert_eq "$(jq -r .error.code <<<"$OUT")" unsupported
ok resolve "$REG/team/app:v1"

step "oci-layout: delete by tag removes every entry of the digest, blobs stay"
L="$WORK/layout"
ok push "oci-layout:$L:v1,prod" "$WORK/tree"
LD=${OUT##*@}
rm "$WORK/tree/extra.yaml"
ok push "oci-layout:$L:old" "$WORK/tree"
LOLD=${OUT##*@}
blobs=$(ls "$L/blobs/sha256" | wc -l)
ok delete -y "oci-layout:$L:prod"
assert_eq "$OUT" "deleted oci-layout:$L@$LD"
assert_contains "$ERR" "the blobs stay in the layout until a garbage collection"
assert_eq "$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | join(",")' "$L/index.json")" old
assert_eq "$(ls "$L/blobs/sha256" | wc -l)" "$blobs" "blobs after delete"
expect_fail 1 "tag 'v1' not found" delete -y "oci-layout:$L:v1"
expect_fail 1 "not found" delete -y "oci-layout:$WORK/absent:v1"
[ ! -e "$WORK/absent" ] || fail "delete created a layout"

step "oci-layout: --untag removes only the tag"
ok tag "oci-layout:$L:old" also
ok delete --untag "oci-layout:$L:old"
assert_eq "$OUT" "untagged oci-layout:$L:old"
ok resolve "oci-layout:$L:also"
assert_eq "$OUT" "$LOLD"
expect_fail 1 "not found" resolve "oci-layout:$L:old"
ok tag "oci-layout:$L:also" other
expect_fail 1 "tag 'other' names $LOLD, not $LD: not removed" delete --untag "oci-layout:$L:other@$LD"
ok -o json delete --untag "oci-layout:$L:other,also"
assert_eq "$(jq -c .untagged <<<"$OUT")" '["other","also"]'
assert_eq "$(jq '.manifests | length' "$L/index.json")" 0
