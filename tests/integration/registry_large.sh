#!/bin/bash
# An artifact over 64 MiB (random, so gzip cannot shrink it) is pushed in
# PATCH chunks with Content-Range and pulled back identical.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"

start_registry reg
mkdir -p "$WORK/big"
head -c 70M /dev/urandom >"$WORK/big/random.bin"
echo "apiVersion: v1" >"$WORK/big/small.yaml"

step "push 70 MiB: chunked upload"
ok push "$REG/big/artifact:v1" "$WORK/big"
pinned=$OUT
patches=$(registry_requests '"PATCH /v2/big/artifact/blobs/uploads/')
[ "$patches" -ge 4 ] || fail "expected at least 4 PATCH chunks of 16 MiB, the registry saw $patches"
assert_eq "$(registry_requests '"PUT /v2/big/artifact/blobs/uploads/.*digest=sha256')" 2 "completing PUTs (config + layer)"

step "pull it back identical"
ok pull "$REG/big/artifact:v1" "$WORK/back"
assert_eq "$OUT" "$pinned" "pull output"
cmp "$WORK/big/random.bin" "$WORK/back/random.bin" || fail "pulled content differs"
same_tree "$WORK/big" "$WORK/back"

step "and skopeo reads the chunked blob too"
skopeo copy -q --src-tls-verify=false "docker://$REG/big/artifact:v1" "oci:$WORK/sk:v1" >/dev/null 2>"$WORK/sk.err" ||
	fail "skopeo copy: $(cat "$WORK/sk.err")"

echo "registry_large: ok"
