#!/bin/bash
# Faults injected by tests/faultproxy.py between ocisync and docker-registry:
# a connection dropped mid-blob (resumed with Range), 500/503 (retried,
# then given up with a message saying so), 429 with Retry-After, a redirect
# of blob GETs to another origin (no Authorization reaches it), a blob
# whose bytes are wrong (refused, nothing published), an upload cut off
# mid-chunk (resumed from the session status).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"

start_registry reg
make_manifests "$WORK/tree"
ok push "$REG/team/app:v1" "$WORK/tree"
pinned=$OUT
DIGEST=${pinned#*@}

step "no fault: one kept-alive connection carries every request of a pull"
start_proxy '[]'
ok pull "$PROXY/team/app:v1" "$WORK/p-plain"
same_tree "$WORK/tree" "$WORK/p-plain"
[ "$(proxy_count '^proxy ')" -ge 3 ] || fail "expected at least 3 requests for a pull"
assert_eq "$(grep -o 'conn=[0-9]*' "$PROXY_LOG" | sort -u | wc -l)" 1 "connections used by one pull"

step "a connection dropped mid-blob: resumed with a Range request"
start_proxy '[{"method":"GET","path":"/blobs/sha256:","mode":"drop"}]'
ok -v pull "$PROXY/team/app:v1" "$WORK/p-drop"
same_tree "$WORK/tree" "$WORK/p-drop"
assert_eq "$(proxy_count 'fault=drop')" 1 "dropped transfers"
assert_eq "$(proxy_count 'GET /v2/team/app/blobs/.* -> 206')" 1 "resumed (206) transfers"
assert_contains "$ERR" "retrying in"

step "500 twice, then fine: retried"
start_proxy '[{"method":"HEAD","path":"/manifests/v1","mode":"status","status":500,"count":2}]'
ok resolve "$PROXY/team/app:v1"
assert_eq "$OUT" "$DIGEST" "digest after retries"
assert_eq "$(proxy_count 'fault=status500')" 2 "500 answers"

step "503 for ever: gives up after 5 attempts and says so"
start_proxy '[{"path":"/manifests/","mode":"status","status":503,"count":1000}]'
expect_fail 1 "gave up after 5 attempts: 503 Service Unavailable" resolve "$PROXY/team/app:v1"
assert_eq "$(proxy_count 'fault=status503')" 5 "attempts"

step "429 with Retry-After: waited and retried"
start_proxy '[{"method":"GET","path":"/blobs/sha256:","mode":"retry-after","seconds":1}]'
ok -v pull "$PROXY/team/app:v1" "$WORK/p-429"
same_tree "$WORK/tree" "$WORK/p-429"
assert_contains "$ERR" "retrying in 1000 ms (429"

step "429 with Retry-After as an HTTP date"
start_proxy '[{"method":"HEAD","path":"/manifests/v1","mode":"retry-after","seconds":2,"date":true}]'
ok -v resolve "$PROXY/team/app:v1"
assert_eq "$OUT" "$DIGEST" "digest after a dated Retry-After"
assert_contains "$ERR" "(429 Too Many Requests)"
# the date is 3 s ahead when sent (2-3 s left when read: whole seconds; at
# least 1 s even on a slow machine): the client waited that long, not its
# own short backoff (100-200 ms)
grep -Eq 'retrying in [1-3][0-9]{3} ms \(429' <<<"$ERR" || fail "a dated Retry-After was not waited for: $ERR"

step "blob GETs redirected to another origin: followed, without Authorization"
start_proxy '[{"method":"GET","path":"/blobs/sha256:","mode":"redirect","count":10}]' --basic-auth "tester:s3cret-pass"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$PROXY" "$(printf 'tester:s3cret-pass' | base64)" >"$WORK/auth.json"
ok -v --registry-config "$WORK/auth.json" pull "$PROXY/team/app:v1" "$WORK/p-redirect"
same_tree "$WORK/tree" "$WORK/p-redirect"
[ "$(proxy_count '^storage GET ')" -ge 1 ] || fail "the storage server saw no request"
assert_eq "$(proxy_count '^storage .* auth=yes')" 0 "requests with Authorization at the other origin"
[ "$(proxy_count '^proxy GET /v2/team/app/blobs/.* -> 307 auth=yes')" -ge 1 ] ||
	fail "the registry side never saw the credential (the test proves nothing)"
assert_not_contains "$ERR" "s3cret" "verbose output"
assert_not_contains "$ERR" "secretsig0123" "verbose output"
assert_not_contains "$ERR" "secrettok0123" "verbose output"
assert_contains "$ERR" "X-Amz-Signature=REDACTED"
assert_not_contains "$ERR" "$(printf 'tester:s3cret-pass' | base64)" "verbose output"

step "a blob with a wrong byte: refused, nothing published"
start_proxy '[{"method":"GET","path":"/blobs/sha256:","mode":"flip","count":100}]'
expect_fail 1 "does not match its digest" pull "$PROXY/team/app:v1" "$WORK/p-flip"
[ ! -e "$WORK/p-flip" ] || fail "the destination exists after a digest failure"
assert_eq "$(find "$WORK" -maxdepth 1 -name '*p-flip*' | wc -l)" 0 "leftovers beside the destination"

step "a refused mount (202): the session is dropped and the blob uploaded"
start_proxy '[{"method":"POST","path":"mount=","mode":"refuse-mount","count":10}]'
ok -v copy "$PROXY/team/app:v1" "$PROXY/elsewhere/app:v1"
assert_contains "$ERR" "blobs/uploads/?mount=sha256:"
assert_contains "$ERR" "DELETE http://$PROXY/v2/elsewhere/app/blobs/uploads/"
assert_eq "$(proxy_count 'PUT /v2/elsewhere/app/blobs/uploads/.*digest=sha256')" 2 "uploads after refused mounts"
ok pull "$REG/elsewhere/app:v1" "$WORK/p-elsewhere"
same_tree "$WORK/tree" "$WORK/p-elsewhere"

step "no Docker-Content-Digest on HEAD: resolve fetches and hashes"
start_proxy '[{"method":"HEAD","path":"/manifests/v1","mode":"strip-digest"}]'
ok resolve "$PROXY/team/app:v1"
assert_eq "$OUT" "$DIGEST" "digest hashed locally"
assert_eq "$(proxy_count 'GET /v2/team/app/manifests/v1 -> 200')" 1 "manifest GETs"

step "a HEAD by digest answered with another digest: refused"
start_proxy '[{"method":"HEAD","path":"/manifests/sha256:","mode":"bad-digest"}]'
expect_fail 1 "the registry answered with digest sha256:0000" resolve "$PROXY/team/app@$DIGEST"

step "a manifest over 4 MiB: refused as it streams"
start_proxy '[{"method":"GET","path":"/manifests/","mode":"oversize"}]'
expect_fail 1 "larger than the limit of 4194304 bytes" manifest "$PROXY/team/app:v1"

step "an upload cut off mid-chunk: resumed from the session status"
mkdir -p "$WORK/big"
head -c 20M /dev/urandom >"$WORK/big/random.bin"
start_proxy '[{"method":"PATCH","mode":"drop","count":1}]'
ok -v push "$PROXY/team/big:v1" "$WORK/big"
assert_eq "$(proxy_count 'fault=drop-upload')" 1 "cut uploads"
assert_contains "$ERR" "resuming"
ok pull "$REG/team/big:v1" "$WORK/p-big"
cmp "$WORK/big/random.bin" "$WORK/p-big/random.bin" || fail "pulled content differs after a resumed upload"

step "OCI-Chunk-Min-Length above our chunk size is honoured"
start_proxy '[{"method":"POST","path":"/blobs/uploads/$","mode":"chunk-min","bytes":25165824,"count":10}]'
ok -v push "$PROXY/team/big-min:v1" "$WORK/big"
assert_eq "$(proxy_count 'PATCH /v2/team/big-min/blobs/uploads/')" 1 "PATCH requests with 24 MiB chunks for a 20 MiB layer"
assert_contains "$ERR" "in chunks of 25165824"

echo "registry_faults: ok"
