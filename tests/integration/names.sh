#!/bin/bash
# File names that are not UTF-8: refused by push with a message naming the
# file (bytes escaped) and the way out (--ignore); nothing is written.
# Valid UTF-8 names round-trip. (Packing the raw bytes would need a PAX
# hdrcharset=BINARY header, and nothing shows that Flux and Argo CD (Go's
# archive/tar) extract such names the way pull does; refusing is the safe
# choice, and --ignore is the way out.)
. "$(dirname "$0")/lib.sh"

L="oci-layout:$WORK/layout"
src="$WORK/src"
make_manifests "$src"
bad=$(printf 'apps/web/bad\377name.yaml')
echo "kind: ConfigMap" >"$src/$bad"

step "a name that is not UTF-8 is refused, naming the file escaped, suggesting --ignore"
expect_fail 1 "file name is not valid UTF-8: $src/apps/web/bad\\xffname.yaml (bytes shown as \\xNN); rename it, or leave it out with --ignore" \
	push "$L:v1" "$src"
[ ! -e "$WORK/layout/index.json" ] || fail "a refused push wrote the layout"
# the same through diff, which walks the tree the same way (diff's trouble exit is 2)
expect_fail 2 'bad\xffname.yaml' diff "$L:v1" "$src"

step "--ignore leaves it out"
ok push "$L:v1" "$src" --ignore 'apps/web/bad*'
ok pull "$L:v1" "$WORK/out"
[ ! -e "$WORK/out/$bad" ] || fail "the ignored file was packed"

step "valid UTF-8 names round-trip"
rm "$src/$bad"
echo "kind: Secret" >"$src/apps/web/café-ü-✓.yaml"
ok push "$L:v2" "$src"
ok pull "$L:v2" "$WORK/out2"
same_tree "$src" "$WORK/out2"
echo "names: ok"
