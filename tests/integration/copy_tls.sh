#!/bin/bash
# copy from an oci-layout to a registry over HTTPS, where docker-registry
# speaks HTTP/2: it answers a single-request upload (POST ?digest= with the
# blob) with 202 before reading the body and resets the stream, which
# libcurl reports as a framing error without the answer. Blobs over 64 KiB
# must still go up (the two-step upload, at once where the connection is
# known to be HTTP/2, after that one failed try on a new worker's
# connection), and the copy read back intact.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"

# 4 MiB: more than the HTTP/2 stream window, so the body cannot all be
# in flight when the registry answers
mapfile -t info < <(make_index "$WORK/src" $((4 * 1024 * 1024)))
INDEX=${info[0]}
start_registry_tls reg

step "copy of three 4 MiB layers over HTTP/2"
ok --ca-file "$CA_CERT" -v copy "oci-layout:$WORK/src:v1" "$REG/team/app:v1" --no-progress
assert_contains "$OUT" "@$INDEX"
# the caller's connection asked (HEAD) over HTTP/2 already: its layer goes
# POST + PUT at once; the two workers' new connections try the single
# request once each and fall back
assert_contains "$ERR" "no answer to a single-request upload"
assert_not_contains "$ERR" "retrying"
n=$(grep -c 'POST /v2/team/app/blobs/uploads/?digest=sha256%3a[0-9a-f]* HTTP/2.0" 202' "$REG_LOG" || true)
[ "$n" -le 3 ] || fail "$n single-request tries (at most one per connection: 3): $(grep POST "$REG_LOG")"

step "read back intact"
ok --ca-file "$CA_CERT" resolve "$REG/team/app:v1"
assert_eq "$OUT" "$INDEX"
ok --ca-file "$CA_CERT" copy "$REG/team/app:v1" "oci-layout:$WORK/back:v1" --no-progress
for d in "${info[@]}"; do
	cmp -s "$WORK/src/blobs/sha256/${d#sha256:}" "$WORK/back/blobs/sha256/${d#sha256:}" ||
		fail "blob $d differs after the round trip"
done
echo "copy_tls: ok"
