#!/bin/bash
# Reading from a real docker-registry populated by skopeo: resolve (one
# HEAD, no /v2/ ping), manifest bytes as stored, tags with pagination,
# missing tags and repositories, a registry that is down, -v request lines.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"

# A minimal OCI layout holding one artifact manifest tagged $2, built by hand
# so skopeo (not ocisync) is what writes it to the registry.
make_layout() { # dir tag
	local d=$1 tag=$2 cfg layer ld ls m md ms
	mkdir -p "$d/blobs/sha256" "$WORK/src-$tag"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
	printf '{}' >"$d/cfg"
	cfg=$(sha256sum "$d/cfg" | cut -d' ' -f1)
	mv "$d/cfg" "$d/blobs/sha256/$cfg"
	echo "content of $tag" >"$WORK/src-$tag/file.txt"
	tar -C "$WORK/src-$tag" -czf "$d/layer" file.txt
	ld=$(sha256sum "$d/layer" | cut -d' ' -f1)
	ls=$(stat -c %s "$d/layer")
	mv "$d/layer" "$d/blobs/sha256/$ld"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:%s","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
		"$cfg" "$ld" "$ls" >"$d/m"
	md=$(sha256sum "$d/m" | cut -d' ' -f1)
	ms=$(stat -c %s "$d/m")
	cp "$d/m" "$WORK/manifest-$tag.json"
	mv "$d/m" "$d/blobs/sha256/$md"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
		"$md" "$ms" "$tag" >"$d/index.json"
	echo "sha256:$md"
}

start_registry reg
step "skopeo populates $REG/team/app with five tags"
for tag in v1 v2 v3 v4 v5; do
	digest=$(make_layout "$WORK/lay-$tag" "$tag")
	eval "DIGEST_$tag=$digest"
	skopeo copy -q --dest-tls-verify=false "oci:$WORK/lay-$tag:$tag" "docker://$REG/team/app:$tag" >/dev/null 2>&1 ||
		fail "skopeo copy of $tag failed"
done

step "resolve: one HEAD, no /v2/ ping"
before=$(wc -l <"$REG_LOG")
ok -v resolve "$REG/team/app:v1"
assert_eq "$OUT" "$DIGEST_v1" "resolved digest"
assert_contains "$ERR" "HEAD http://$REG/v2/team/app/manifests/v1 -> 200"
assert_eq "$(printf '%s\n' "$ERR" | grep -c -- ' -> ')" 1 "requests made by resolve"
new=$(tail -n +"$((before + 1))" "$REG_LOG")
assert_not_contains "$new" '"GET /v2/ ' "registry log after resolve"
assert_not_contains "$ERR" "Authorization" "verbose output"

step "manifest: the bytes exactly as stored"
ocisync_to_file "$WORK/got-v2" manifest "$REG/team/app:v2"
cmp -s "$WORK/got-v2" "$WORK/manifest-v2.json" || fail "manifest bytes differ from what skopeo stored"
ocisync_to_file "$WORK/got-v3" manifest "$REG/team/app@$DIGEST_v3"
cmp -s "$WORK/got-v3" "$WORK/manifest-v3.json" || fail "manifest by digest differs"

step "tags: all of them"
ok tags "$REG/team/app"
assert_eq "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')" "v1 v2 v3 v4 v5 " "tags"

# distribution 2.8 ignores ?n=, so a proxy serves the pages with Link headers.
step "tags across pages of two (Link: rel=next)"
start_proxy '[{"path":"/tags/list","mode":"paginate","count":100}]'
OCISYNC_TAGS_PAGE_SIZE=2 ok -v tags "$PROXY/team/app"
assert_eq "$(printf '%s\n' "$OUT" | tr '\n' ' ')" "v1 v2 v3 v4 v5 " "paginated tags"
assert_eq "$(printf '%s\n' "$ERR" | grep -c 'GET .*/tags/list.* -> 200')" 3 "tag list pages"
assert_contains "$ERR" "tags/list?last=v2&n=2"

step "a next link to another origin is refused"
start_proxy '[{"path":"/tags/list","mode":"foreign-link","count":100}]'
OCISYNC_TAGS_PAGE_SIZE=2 expect_fail 1 "another origin" tags "$PROXY/team/app"
assert_eq "$(proxy_count 'storage ')" 0 "requests that reached the other origin"

step "a missing tag or repository: exit 1, not found"
expect_fail 1 "not found" resolve "$REG/team/app:nope"
assert_contains "$ERR" "manifest team/app:nope"
expect_fail 1 "not found" manifest "$REG/team/app:nope"
expect_fail 1 "not found" resolve "$REG/team/nothing-here:v1"
missing=sha256:0000000000000000000000000000000000000000000000000000000000000000
expect_fail 1 "not found" manifest "$REG/team/app@$missing"

step "a registry that is down: a clear error naming the host"
down=$(free_port)
expect_fail 1 "cannot connect to 127.0.0.1:$down: Connection refused" resolve "127.0.0.1:$down/team/app:v1"
assert_contains "$ERR" "gave up after"

echo "registry_basic: ok"
