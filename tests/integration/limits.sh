#!/bin/bash
# One set of limits for push, pull and sync: push refuses (before packing,
# with pull's message) what pull and sync would refuse; --max-entries and
# --max-size raise them on every side; a push's non-default limits are
# recorded in the manifest and applied by pull/sync --publisher-limits.
. "$(dirname "$0")/lib.sh"

export SOURCE_DATE_EPOCH=1700000000 # digests compared below
L="oci-layout:$WORK/layout"
many="$WORK/many"

step "push refuses a tree of 100,001 entries (the pull/sync default), before packing, naming the limit"
/usr/bin/python3 - "$many" <<'PY'
import os, sys
root = sys.argv[1]
os.makedirs(root)
for i in range(100001):
    open(os.path.join(root, "f%06d" % i), "w").close()
PY
# the layer would hold 100,001 entries (the files; PATH itself is not one)
# its own TMPDIR: /tmp may hold other processes' files
mkdir -p "$WORK/tmp"
TMPDIR="$WORK/tmp" expect_fail 1 "the artifact has more than 100000 entries (files, directories, links); raise --max-entries on push, pull and sync if this is expected" \
	push "$L:many" "$many"
[ ! -e "$WORK/layout/index.json" ] || fail "a refused push wrote the layout"
[ -z "$(ls -A "$WORK/tmp")" ] || fail "a refused push left a layer file behind: $(ls -A "$WORK/tmp")"
rm -rf "$many"

step "the same limit, the same message on push and pull"
src="$WORK/src"
mkdir -p "$src"
for i in $(seq 1 24); do echo "item $i" >"$src/f$i.yaml"; done  # 24 entries
expect_fail 1 "the artifact has more than 20 entries (files, directories, links); raise --max-entries on push, pull and sync if this is expected" \
	push "$L:small" "$src" --max-entries 20
push_msg=${ERR##*: the artifact}
ok push "$L:plain" "$src"
expect_fail 1 "the artifact has more than 20 entries" pull "$L:plain" "$WORK/p1" --max-entries 20
assert_eq "${ERR##*: the artifact}" "$push_msg" "pull's message"
expect_fail 1 "the artifact holds more than 100 bytes of content (at entry 'f20.yaml'); raise --max-size on push, pull and sync if this is expected" \
	push "$L:small" "$src" --max-size 100
push_msg=${ERR##*: the artifact}
expect_fail 1 "the artifact holds more than 100 bytes of content (at entry 'f20.yaml')" pull "$L:plain" "$WORK/p2" --max-size 100
assert_eq "${ERR##*: the artifact}" "$push_msg" "pull's message"
[ ! -e "$WORK/p1" ] && [ ! -e "$WORK/p2" ] || fail "a refused pull left a directory"

step "raised limits are recorded in the manifest (defaults are not: digests stay as before)"
ok push "$L:raised" "$src" --max-entries 30 --max-size 2K
ok manifest "$L:raised"
assert_contains "$OUT" '"io.ocisync.limits.max-entries":"30"'
assert_contains "$OUT" '"io.ocisync.limits.max-size":"2048"'
ok manifest "$L:plain"
assert_not_contains "$OUT" "io.ocisync.limits"
ok push "$L:plain2" "$src" --max-entries 100000 --max-size 1G
ok resolve "$L:plain2"
d_default=$OUT
ok resolve "$L:plain"
assert_eq "$OUT" "$d_default" "digest of a push with the default limits spelled out"

step "pull and sync apply the publisher's limits only with --publisher-limits"
expect_fail 1 "the artifact has more than 20 entries" pull "$L:raised" "$WORK/p3" --max-entries 20
ok pull "$L:raised" "$WORK/p3" --max-entries 20 --publisher-limits
same_tree "$src" "$WORK/p3"
expect_fail 1 "the artifact has more than 20 entries" sync "$L:raised" --root "$WORK/root" --once --max-entries 20
ok sync "$L:raised" --root "$WORK/root" --once --max-entries 20 --publisher-limits
same_tree "$src" "$WORK/root/current"
ok sync "$L:plain" --root "$WORK/root2" --once --max-entries 30
expect_fail 1 "the artifact has more than 20 entries" sync "$L:plain" --root "$WORK/root3" --once --max-entries 20 --publisher-limits

step "a malformed recorded limit is refused when it would be used"
ok push "$L:bad" "$src" -a io.ocisync.limits.max-entries=lots
expect_fail 1 "manifest annotation io.ocisync.limits.max-entries is not a positive whole number: 'lots'" \
	pull "$L:bad" "$WORK/p4" --publisher-limits
ok pull "$L:bad" "$WORK/p4"

step "usage errors"
expect_fail 2 "--max-entries takes a positive whole number, not '0'" push "$L:x" "$src" --max-entries 0
expect_fail 2 "--max-entries takes a positive whole number, not '12x'" pull "$L:x" "$WORK/p5" --max-entries 12x
expect_fail 2 "--max-size takes a number of bytes (K, M, G, T suffixes): 'big' is not a size" sync "$L:x" --root "$WORK/r" --once --max-size big
echo "limits: ok"
