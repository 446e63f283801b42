#!/bin/bash
# Sparse files come back sparse: a 200 MiB file holding 4 KiB of data uses
# about 4 KiB after pull and after sync (where the filesystem makes holes),
# with the same content.
. "$(dirname "$0")/lib.sh"

L="oci-layout:$WORK/layout"
src="$WORK/src"
mkdir -p "$src"
echo "kind: ConfigMap" >"$src/cm.yaml"
truncate -s 200M "$src/disk.img"
head -c 4096 /dev/urandom | dd of="$src/disk.img" bs=4096 seek=1000 conv=notrunc status=none
# does this filesystem make holes at all?
truncate -s 1M "$WORK/probe"
if [ "$(stat -c %b "$WORK/probe")" != 0 ]; then
	echo "sparse: $WORK makes no holes; checking content only" >&2
	holes=0
else
	holes=1
fi
used_kib() { du -k "$1" | cut -f1; }

step "push, pull: same content, holes kept"
ok push "$L:v1" "$src"
ok pull "$L:v1" "$WORK/out"
cmp "$src/disk.img" "$WORK/out/disk.img" || fail "pulled content differs"
assert_eq "$(stat -c %s "$WORK/out/disk.img")" 209715200 "size"
[ "$holes" = 0 ] || [ "$(used_kib "$WORK/out/disk.img")" -le 64 ] ||
	fail "the pulled file uses $(used_kib "$WORK/out/disk.img") KiB, not ~4 KiB"

step "sync: the same in the published revision"
ok sync "$L:v1" --root "$WORK/root" --once
cmp "$src/disk.img" "$WORK/root/current/disk.img" || fail "synced content differs"
[ "$holes" = 0 ] || [ "$(used_kib "$WORK/root/current/disk.img")" -le 64 ] ||
	fail "the synced file uses $(used_kib "$WORK/root/current/disk.img") KiB, not ~4 KiB"
echo "sparse: ok"
