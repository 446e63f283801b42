#!/bin/bash
# Round trips through a real docker-registry: push and pull for both
# profiles, tag without re-upload, same-registry copy by mount, copies to
# and from a layout, skopeo reading what we push and we pulling what skopeo
# pushed, and a no-op sync costing exactly one HEAD.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"

# Requests the registry logged since line $1 (access log lines only).
requests_since() { tail -n +"$(($1 + 1))" "$REG_LOG" | grep -E '^[0-9.]+ - .*"(GET|HEAD|PUT|POST|PATCH|DELETE) ' || true; }

# A fixed creation time: pushing the same tree again gives the same digest.
export SOURCE_DATE_EPOCH=1700000000
start_registry reg
make_manifests "$WORK/tree"

for profile in portable flux; do
	step "push and pull, profile $profile"
	ok push "$REG/team/$profile:v1,latest" "$WORK/tree" --profile "$profile"
	pinned=$OUT
	case "$pinned" in "$REG/team/$profile@sha256:"*) ;; *) fail "push printed '$pinned'" ;; esac
	digest=${pinned#*@}
	ok resolve "$REG/team/$profile:latest"
	assert_eq "$OUT" "$digest" "digest of latest"
	ok pull "$REG/team/$profile:v1" "$WORK/pulled-$profile"
	assert_eq "$OUT" "$pinned" "pull output"
	same_tree "$WORK/tree" "$WORK/pulled-$profile"
	ok manifest "$REG/team/$profile@$digest"
	if [ "$profile" = flux ]; then
		assert_contains "$OUT" "application/vnd.cncf.flux.content.v1.tar+gzip"
	else
		assert_contains "$OUT" "application/vnd.ocisync.manifests.v1"
	fi
done
DIGEST=${pinned#*@}

step "pushing the same tree again uploads no blob"
mark=$(wc -l <"$REG_LOG")
ok push "$REG/team/flux:v1" "$WORK/tree" --profile flux
assert_eq "$(requests_since "$mark" | grep -c 'POST /v2/team/flux/blobs/uploads' || true)" 0 "uploads on re-push"

step "tag: no blob moves"
mark=$(wc -l <"$REG_LOG")
ok tag "$REG/team/flux:v1" prod staging
ok resolve "$REG/team/flux:staging"
assert_eq "$OUT" "$DIGEST" "digest of staging"
assert_eq "$(requests_since "$mark" | grep -c '/blobs/' || true)" 0 "blob requests by tag"

step "copy within the registry mounts the blobs"
mark=$(wc -l <"$REG_LOG")
ok copy "$REG/team/flux:v1" "$REG/other/copied:v1"
assert_eq "$OUT" "$REG/other/copied@$DIGEST" "copy output"
new=$(requests_since "$mark")
assert_contains "$new" "POST /v2/other/copied/blobs/uploads/?mount=sha256:"
assert_not_contains "$new" "PATCH " "copy by mount"
assert_not_contains "$new" "PUT /v2/other/copied/blobs/uploads" "copy by mount"
ok pull "$REG/other/copied:v1" "$WORK/pulled-copied"
same_tree "$WORK/tree" "$WORK/pulled-copied"

step "copy registry -> layout -> another registry repository"
ok copy "$REG/team/portable:v1" "oci-layout:$WORK/layout:v1"
ok copy "oci-layout:$WORK/layout:v1" "$REG/back/again:v1"
ok pull "$REG/back/again:v1" "$WORK/pulled-back"
same_tree "$WORK/tree" "$WORK/pulled-back"

step "skopeo reads what we pushed"
skopeo inspect --raw --tls-verify=false "docker://$REG/team/portable:v1" >"$WORK/skopeo-raw" 2>"$WORK/skopeo-err" ||
	fail "skopeo inspect: $(cat "$WORK/skopeo-err")"
ocisync_to_file "$WORK/ours-raw" manifest "$REG/team/portable:v1"
cmp -s "$WORK/ours-raw" "$WORK/skopeo-raw" || fail "skopeo sees other manifest bytes"
skopeo copy -q --src-tls-verify=false "docker://$REG/team/portable:v1" "oci:$WORK/skopeo-layout:v1" >/dev/null 2>"$WORK/skopeo-err" ||
	fail "skopeo copy from the registry: $(cat "$WORK/skopeo-err")"
ok pull "oci-layout:$WORK/skopeo-layout:v1" "$WORK/pulled-skopeo-layout"
same_tree "$WORK/tree" "$WORK/pulled-skopeo-layout"

step "we pull what skopeo pushed"
ok push "oci-layout:$WORK/ours:v7" "$WORK/tree"
skopeo copy -q --dest-tls-verify=false "oci:$WORK/ours:v7" "docker://$REG/by/skopeo:v7" >/dev/null 2>"$WORK/skopeo-err" ||
	fail "skopeo copy to the registry: $(cat "$WORK/skopeo-err")"
ok pull "$REG/by/skopeo:v7" "$WORK/pulled-from-skopeo"
same_tree "$WORK/tree" "$WORK/pulled-from-skopeo"

step "a no-op sync costs exactly one HEAD"
ok sync "$REG/team/flux:v1" --root "$WORK/root" --once
assert_eq "$OUT" "synced $DIGEST ($REG/team/flux:v1)" "first sync"
assert_eq "$(readlink "$WORK/root/current")" ".revisions/${DIGEST#sha256:}" "the link after the first sync"
same_tree "$WORK/tree" "$WORK/root/current/"
mark=$(wc -l <"$REG_LOG")
ok sync "$REG/team/flux:v1" --root "$WORK/root" --once
assert_eq "$OUT" "unchanged $DIGEST" "second sync"
new=$(requests_since "$mark")
assert_eq "$(printf '%s\n' "$new" | grep -c .)" 1 "requests of a no-op sync"
assert_contains "$new" '"HEAD /v2/team/flux/manifests/v1 '

echo "registry_roundtrip: ok"
