# A full disk: push into a layout and pull into a directory on a tiny
# tmpfs (in a private mount namespace) fail with "No space left on
# device", and leave neither half-written blobs nor a half-extracted tree.
# Needs root (mount); skipped (exit 77) where it can't mount.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
	echo "skipped: needs root and mount namespaces" >&2
	exit 77
fi
mkdir -p "$WORK/src" "$WORK/small"
head -c 3000000 /dev/urandom >"$WORK/src/big.bin"
printf 'kind: ConfigMap\n' >"$WORK/src/cm.yaml"
ok push "oci-layout:$WORK/store:v1" "$WORK/src"
# compressible: the blob fits, the extracted tree does not (not zeros:
# those are extracted as holes and take no space)
mkdir -p "$WORK/src2"
{ yes 'kind: ConfigMap' || true; } | head -c 5000000 >"$WORK/src2/zeros.bin"
ok push "oci-layout:$WORK/store:zeros" "$WORK/src2"

export WORK OCISYNC
unshare -m --propagation private bash -euo pipefail -c '
	mount -t tmpfs -o size=1m tmpfs "$WORK/small"
	# push: the layer does not fit in the layout
	set +e
	"$OCISYNC" push "oci-layout:$WORK/small/store:v1" "$WORK/src" >"$WORK/push.out" 2>"$WORK/push.err"
	echo $? >"$WORK/push.rc"
	"$OCISYNC" pull "oci-layout:$WORK/store:v1" "$WORK/small/out" >"$WORK/pull.out" 2>"$WORK/pull.err"
	echo $? >"$WORK/pull.rc"
	"$OCISYNC" pull "oci-layout:$WORK/store:zeros" "$WORK/small/out2" >"$WORK/pull2.out" 2>"$WORK/pull2.err"
	echo $? >"$WORK/pull2.rc"
	set -e
	find "$WORK/small" -mindepth 1 | sort >"$WORK/small.list"
	cat "$WORK/small/store/index.json" >"$WORK/small.index" 2>/dev/null || true
	umount "$WORK/small"
'
assert_eq "$(cat "$WORK/push.rc")" "1" "push exit code on a full disk"
assert_contains "$(cat "$WORK/push.err")" "No space left on device"
assert_eq "$(sed "s|^$WORK/small/||" "$WORK/small.list" | grep -c 'tmp' || true)" "0" "temporary blobs left after a failed push"
assert_not_contains "$(cat "$WORK/small.index" 2>/dev/null)" '"v1"' "index after a failed push"
assert_eq "$(cat "$WORK/pull.rc")" "1" "pull exit code on a full disk"
assert_contains "$(cat "$WORK/pull.err")" "No space left on device"
assert_eq "$(sed "s|^$WORK/small/||" "$WORK/small.list" | grep -c '^\.out\|^out' || true)" "0" "half-extracted files left after a failed pull"
assert_eq "$(cat "$WORK/pull2.rc")" "1" "pull exit code when extraction fills the disk"
assert_contains "$(cat "$WORK/pull2.err")" "No space left on device"
echo ok
