#!/bin/bash
# A failed pull removes the parent directories it created, and only those
# (issue 9, item 6): directories that were there before stay, even empty.
. "$(dirname "$0")/lib.sh"

cd "$WORK"
mkdir tree
make_manifests tree
L="$WORK/layout"
ok push "oci-layout:$L:v1" tree
ok manifest "oci-layout:$L:v1"
LAYER=$(jq -r '.layers[0].digest' <<<"$OUT")
BLOB="$L/blobs/sha256/${LAYER#sha256:}"
[ -f "$BLOB" ] || fail "no layer blob at $BLOB"
cp "$BLOB" good-layer
chmod u+w "$BLOB"
printf 'tampered' >>"$BLOB" # the download fails its digest check

step "a failed pull into new parents leaves none of them"
expect_fail 1 "$LAYER" pull "oci-layout:$L:v1" "$WORK/new/a/b/dest"
[ ! -e "$WORK/new" ] || fail "the failed pull left $(find "$WORK/new")"

step "parents that were there stay; only the new ones go"
mkdir -p "$WORK/had/empty"
expect_fail 1 "$LAYER" pull "oci-layout:$L:v1" "$WORK/had/empty/x/y/dest"
[ -d "$WORK/had/empty" ] || fail "the failed pull removed $WORK/had/empty, which was there before"
[ ! -e "$WORK/had/empty/x" ] || fail "the failed pull left $WORK/had/empty/x"
expect_fail 1 "$LAYER" pull "oci-layout:$L:v1" "$WORK/had/empty/dest"
[ -d "$WORK/had/empty" ] || fail "the failed pull removed its existing parent"
[ -z "$(ls -A "$WORK/had/empty")" ] || fail "the failed pull left $(ls -A "$WORK/had/empty")"

step "a relative destination too"
expect_fail 1 "$LAYER" pull "oci-layout:$L:v1" rel/p/dest
[ ! -e rel ] || fail "the failed pull left $(find rel)"

step "the same pull succeeds once the layer is whole, parents and all"
cp good-layer "$BLOB"
ok pull "oci-layout:$L:v1" "$WORK/new/a/b/dest"
same_tree tree "$WORK/new/a/b/dest"
echo "pull_parents: ok"
