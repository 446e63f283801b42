# Sizes and durations on the command line go through one strict,
# overflow-checked reader: values that overflowed a shift or a signed add
# (undefined behaviour, or a wrapped value accepted) are refused with exit 2.
. "$(dirname "$0")/lib.sh"
cd "$WORK"

step "--max-size: too large, wrapped, zero, malformed"
expect_fail 2 "'99999999999G' is too large" pull oci-layout:"$WORK/none:v1" "$WORK/out" --max-size 99999999999G
expect_fail 2 "'17179869185G' is too large" pull oci-layout:"$WORK/none:v1" "$WORK/out" --max-size 17179869185G
expect_fail 2 "'99999999999999999999' is too large" pull oci-layout:"$WORK/none:v1" "$WORK/out" --max-size 99999999999999999999
expect_fail 2 "'0' must be more than 0 bytes" pull oci-layout:"$WORK/none:v1" "$WORK/out" --max-size 0
expect_fail 2 "'1e9' is not a size" pull oci-layout:"$WORK/none:v1" "$WORK/out" --max-size 1e9
expect_fail 2 "'-1M' is not a size" pull oci-layout:"$WORK/none:v1" "$WORK/out" --max-size -1M
[ ! -e "$WORK/out" ] || fail "a refused option still created the destination"

step "durations: exponents, overflowing sums, negative, too long"
expect_fail 2 "'9e18ms9e18ms' is not a duration" sync oci-layout:"$WORK/none:v1" --root "$WORK/r" --once --exec true --exec-timeout 9e18ms9e18ms
expect_fail 2 "'9000000000000000000ms9000000000000000000ms' is too long" sync oci-layout:"$WORK/none:v1" --root "$WORK/r" --once --exec true --exec-timeout 9000000000000000000ms9000000000000000000ms
expect_fail 2 "'99999999999999999999h' is too long" sync oci-layout:"$WORK/none:v1" --root "$WORK/r" --interval 99999999999999999999h
expect_fail 2 "'36601d' is too long" sync oci-layout:"$WORK/none:v1" --root "$WORK/r" --interval 36601d
expect_fail 2 "'inf' is not a duration" sync oci-layout:"$WORK/none:v1" --root "$WORK/r" --interval inf
expect_fail 2 "'0x10s' is not a duration" sync oci-layout:"$WORK/none:v1" --root "$WORK/r" --interval 0x10s
expect_fail 2 "'0s' must be longer than 0" sync oci-layout:"$WORK/none:v1" --root "$WORK/r" --interval 0s
[ ! -e "$WORK/r" ] || fail "a refused option still created the root"

step "valid forms still work"
make_manifests "$WORK/tree"
ok push "oci-layout:$WORK/store:v1" "$WORK/tree"
ok pull "oci-layout:$WORK/store:v1" "$WORK/p1" --max-size 1MiB
ok pull "oci-layout:$WORK/store:v1" "$WORK/p2" --max-size 1048576
ok sync "oci-layout:$WORK/store:v1" --root "$WORK/r2" --once --exec true --exec-timeout 1m30s
ok sync "oci-layout:$WORK/store:v1" --root "$WORK/r3" --once --exec true --exec-timeout 1.5s
echo ok
