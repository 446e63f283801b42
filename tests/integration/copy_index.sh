#!/bin/bash
# copy of an index of three artifacts: layout -> registry A -> registry B
# (another registry: no mount, every blob downloaded and uploaded, several
# at once) -> layout, digests checked at each end; a blob whose bytes are
# wrong fails the whole copy and leaves no manifest, no tag and no
# temporary file behind; --with-signatures carries the cosign signature.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"

# Every blob file of a layout matches its name (called directly: a fail
# inside $(...) would only end the subshell).
check_layout_blobs() {
	local f
	for f in "$1"/blobs/sha256/*; do
		[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || fail "blob $f does not match its name"
	done
}
layout_blob_names() { ls "$1/blobs/sha256" | sort; }

mapfile -t info < <(make_index "$WORK/src")
INDEX=${info[0]} LAYER2=${info[2]} CHILD1=${info[4]}
start_registry rega
REGA=$REG REGA_PORT=$REG_PORT
start_registry regb
REGB=$REG REGB_LOG=$REG_LOG

step "layout -> registry A"
ok copy "oci-layout:$WORK/src:v1" "$REGA/team/multi:v1"
assert_eq "$OUT" "$REGA/team/multi@$INDEX" "copy output"

step "registry A -> registry B: every blob moved, once"
ok -v copy "$REGA/team/multi:v1" "$REGB/team/multi:v1"
assert_eq "$OUT" "$REGB/team/multi@$INDEX" "copy output"
ok resolve "$REGB/team/multi:v1"
assert_eq "$OUT" "$INDEX" "digest of the tag on B"
# 3 layers and the shared config: four uploads, none twice.
assert_eq "$(grep -c 'PUT /v2/team/multi/blobs/uploads/.*digest=sha256' "$REGB_LOG")" 4 "blob uploads to B"
assert_not_contains "$ERR" "mount=" "a copy between registries"
# the manifests B serves are the source's bytes (their digests name them)
for d in "$INDEX" "${info[4]}" "${info[5]}" "${info[6]}"; do
	ok manifest "$REGB/team/multi@$d"
	assert_eq "$OUT" "$(cat "$WORK/src/blobs/sha256/${d#sha256:}")" "manifest $d on B"
	assert_eq "sha256:$(printf '%s' "$OUT" | sha256sum | cut -d' ' -f1)" "$d" "sha256 of manifest $d on B"
done
ok manifest "$REGB/team/multi:v1"
assert_eq "$OUT" "$(cat "$WORK/src/blobs/sha256/${INDEX#sha256:}")" "the index B serves for v1"

step "registry B -> layout: the same blobs, byte for byte"
ok copy "$REGB/team/multi:v1" "oci-layout:$WORK/back:v2"
assert_eq "$OUT" "oci-layout:$WORK/back@$INDEX" "copy output"
check_layout_blobs "$WORK/back"
assert_eq "$(layout_blob_names "$WORK/back")" "$(layout_blob_names "$WORK/src")" "blobs of the layout copy"
ok resolve "oci-layout:$WORK/back:v2"
assert_eq "$OUT" "$INDEX" "digest of the layout tag"

step "--with-signatures carries the cosign signature, to a registry and a layout"
(cd "$WORK" && COSIGN_PASSWORD= "$OCISYNC" keygen --prefix k1 >/dev/null 2>&1) || fail "keygen failed"
COSIGN_PASSWORD= ok sign --key "$WORK/k1.key" "$REGA/team/multi:v1"
SIGTAG="sha256-${INDEX#sha256:}.sig"
ok copy --with-signatures "$REGA/team/multi:v1" "$REGB/team/signed:v1"
ok verify --key "$WORK/k1.pub" "$REGB/team/signed:v1"
assert_eq "$OUT" "$REGB/team/signed@$INDEX" "verified reference"
ok resolve "$REGB/team/signed:$SIGTAG"
ok copy --with-signatures "$REGB/team/signed:v1" "oci-layout:$WORK/signed:v1"
ok verify --key "$WORK/k1.pub" "oci-layout:$WORK/signed:v1"
check_layout_blobs "$WORK/signed"
ok copy "$REGA/team/multi:v1" "$REGB/team/unsigned:v1"
expect_fail 1 "not found" resolve "$REGB/team/unsigned:$SIGTAG"

step "one blob with a wrong byte: the copy fails, nothing tagged or written on B"
REG_PORT=$REGA_PORT start_proxy "[{\"method\":\"GET\",\"path\":\"/blobs/$LAYER2\",\"mode\":\"flip\",\"count\":100}]"
mkdir -p "$WORK/tmp"
TMPDIR="$WORK/tmp" expect_fail 1 "does not match its digest" copy "$PROXY/team/multi:v1" "$REGB/team/broken:v1"
assert_contains "$ERR" "$LAYER2"
wait_proxy_count 'fault=flip' 1 || fail "the proxy flipped nothing"
expect_fail 1 "not found" resolve "$REGB/team/broken:v1"
expect_fail 1 "not found" manifest "$REGB/team/broken@$CHILD1"
assert_eq "$(ls -A "$WORK/tmp")" "" "temporary files left"

step "the same into a layout: no tag, no manifest"
TMPDIR="$WORK/tmp" expect_fail 1 "does not match its digest" copy "$PROXY/team/multi:v1" "oci-layout:$WORK/broken:v1"
expect_fail 1 "not found" resolve "oci-layout:$WORK/broken:v1"
[ ! -e "$WORK/broken/blobs/sha256/${CHILD1#sha256:}" ] || fail "a manifest was written before every blob was there"
[ ! -e "$WORK/broken/blobs/sha256/${LAYER2#sha256:}" ] || fail "the broken blob was stored"
assert_eq "$(ls -A "$WORK/tmp")" "" "temporary files left"
echo "copy_index: ok"
