# OCI 1.1 referrers through the registry's referrers API (a loopback server
# of ours implementing distribution-spec v1.1's responses:
# tests/referrers_registry.py), the tag-schema fallback against
# docker-registry 2.8 (which has no API), copies between the two and into
# an oci-layout, and concurrent writers of a layout's referrers tag.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
export COSIGN_PASSWORD=refs-pass
BUNDLE_MT=application/vnd.dev.sigstore.bundle.v0.3+json
SBOM_MT=application/vnd.example.sbom.v1+json

# start_api NAME [server options]: sets API (host:port) and API_LOG.
start_api() {
	local name=$1
	shift
	local port
	port=$(free_port)
	API_LOG="$WORK/$name.log"
	/usr/bin/python3 "$SRCDIR/tests/referrers_registry.py" "$port" --log "$API_LOG" "$@" &
	_pids+=($!)
	wait_port "$port"
	API="127.0.0.1:$port"
}

# put_sbom HOST REPO SUBJECT_DIGEST: another tool's referrer (an SBOM) of a digest.
put_sbom() {
	local host=$1 repo=$2 subject=$3 body digest
	printf '{}' >empty.json
	curl -sf -X POST --data-binary @empty.json -H 'Content-Type: application/octet-stream' \
		"http://$host/v2/$repo/blobs/uploads/?digest=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" >/dev/null
	body=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"%s","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":1},"annotations":{"tool":"other"}}' "$SBOM_MT" "$subject")
	digest=sha256:$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)
	printf '%s' "$body" | curl -sf -X PUT --data-binary @- -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		"http://$host/v2/$repo/manifests/$digest" >/dev/null
	echo "$digest"
}

json_get() { # JSON python-expression-on-d
	/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

ok keygen --prefix "$WORK/k"
ok keygen --prefix "$WORK/other"

step "a registry with the referrers API: OCI-Subject answered, no fallback tag written"
start_api api --page-size 1
ok push "$API/app:v1" "$TESTDATA/manifests"
D=${OUT##*@}
ok -o json sign --signature-format bundle --key k.key "$API/app:v1"
R1=$(json_get "$OUT" 'd["referrer"]')
assert_eq "$(grep -c "PUT /v2/app/manifests/sha256-" "$API_LOG" || true)" 0 "fallback tag writes"
ok -o json discover "$API/app:v1"
assert_eq "$(json_get "$OUT" 'd["source"]')" referrers-api
assert_eq "$(json_get "$OUT" '[r["digest"] for r in d["referrers"]]')" "['$R1']"
assert_eq "$(json_get "$OUT" 'd["referrers"][0]["annotations"]["dev.sigstore.bundle.predicateType"]')" \
	https://sigstore.dev/cosign/sign/v1
ok verify --key k.pub "$API/app:v1"
assert_contains "$ERR" "(Sigstore bundle referrer $R1)"

step "pagination (one descriptor a page, Link rel=next) and the artifactType filter"
ok sign --signature-format bundle --key other.key "$API/app:v1"
S=$(put_sbom "$API" app "$D")
ok discover "$API/app:v1"
assert_eq "$(echo "$OUT" | wc -l)" 3 "referrers listed over 3 pages"
assert_contains "$OUT" "$S $SBOM_MT"
grep -q "GET /v2/app/referrers/$D?last=2" "$API_LOG" || fail "the third page was not requested"
ok discover --artifact-type "$BUNDLE_MT" "$API/app:v1"
assert_eq "$(echo "$OUT" | wc -l)" 2 "bundle referrers"
assert_not_contains "$OUT" "$S"
grep -qi "GET /v2/app/referrers/$D?artifactType=application%2Fvnd.dev.sigstore.bundle.v0.3%2Bjson" "$API_LOG" ||
	fail "the artifactType filter was not asked of the registry"
ok verify --key other.pub "$API/app:v1"

step "a registry that ignores artifactType: ocisync filters itself"
start_api api-nofilter --no-filter
ok push "$API/app:v1" "$TESTDATA/manifests"
D2=${OUT##*@}
S2=$(put_sbom "$API" app "$D2")
ok sign --signature-format bundle --key k.key "$API/app:v1"
ok discover --artifact-type "$BUNDLE_MT" "$API/app:v1"
assert_eq "$(echo "$OUT" | wc -l)" 1 "bundle referrers (filtered by ocisync)"
assert_not_contains "$OUT" "$S2"
ok -o json discover --artifact-type "$SBOM_MT" "$API/app:v1"
assert_eq "$(json_get "$OUT" '[(r["digest"], r["annotations"]["tool"]) for r in d["referrers"]]')" "[('$S2', 'other')]"
ok verify --key k.pub "$API/app:v1"
NOFILTER=$API

step "no referrers: an empty list, not an error"
ok push "$API/app:empty" "$TESTDATA/manifests" -a x=1
ok -o json discover "$API/app:empty"
assert_eq "$(json_get "$OUT" 'd["referrers"]')" "[]"
expect_fail 1 "no signatures found for" verify --key k.pub "$API/app:empty"
assert_contains "$ERR" "and no Sigstore bundle referrers"

step "docker-registry 2.8 (no API): the sha256-<hex> tag, another tool's entry kept"
start_registry
ok push "$REG/app:v1" "$TESTDATA/manifests"
D3=${OUT##*@}
S3=$(put_sbom "$REG" app "$D3")
# The SBOM tool keeps the tag schema too: an index listing its referrer.
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":1,"artifactType":"%s","x-other-tool":true}]}' \
	"$S3" "$SBOM_MT" | curl -sf -X PUT --data-binary @- -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
	"http://$REG/v2/app/manifests/sha256-${D3#sha256:}" >/dev/null
ok -o json sign --signature-format bundle --key k.key "$REG/app:v1"
R3=$(json_get "$OUT" 'd["referrer"]')
ok manifest "$REG/app:sha256-${D3#sha256:}"
assert_eq "$(json_get "$OUT" '[(m["digest"], m.get("x-other-tool")) for m in d["manifests"]]')" "[('$S3', True), ('$R3', None)]"
ok -o json discover "$REG/app:v1"
assert_eq "$(json_get "$OUT" 'd["source"]')" tag-schema
ok verify --key k.pub "$REG/app:v1"
assert_contains "$ERR" "(Sigstore bundle referrer $R3)"
# Signing again with the same key keeps the bundle there (DSSE signatures
# are randomised: a new one would pile up on every CI run).
ok -o json sign --signature-format bundle --key k.key "$REG/app:v1"
assert_eq "$(json_get "$OUT" '(d["added"], d["referrer"])')" "(False, '$R3')"
ok sign --signature-format bundle --key k.key "$REG/app:v1"
assert_contains "$ERR" "is already signed with this key (Sigstore bundle referrer $R3); nothing changed"
# ... new annotations make a new one.
ok sign --signature-format bundle --key k.key -a run=2 "$REG/app:v1"
ok manifest "$REG/app:sha256-${D3#sha256:}"
assert_eq "$(json_get "$OUT" 'len(d["manifests"]) == len(set(m["digest"] for m in d["manifests"])) == 3')" True

ok tags "$REG/app"
assert_not_contains "$OUT" "sha256-"
ok tags --all "$REG/app"
assert_contains "$OUT" "sha256-${D3#sha256:}"

step "a referrers tag that is not an index is reported, not overwritten"
ok push "$REG/app:v2" "$TESTDATA/manifests" -a x=2
D4=${OUT##*@}
ok manifest "$REG/app:v1"
printf '%s' "$OUT" | curl -sf -X PUT --data-binary @- -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	"http://$REG/v2/app/manifests/sha256-${D4#sha256:}" >/dev/null
expect_fail 1 "the referrers tag sha256-${D4#sha256:} holds application/vnd.oci.image.manifest.v1+json, not an image index" \
	sign --signature-format bundle --key k.key "$REG/app:v2"
expect_fail 1 "not an image index" discover "$REG/app:v2"

step "copy --with-signatures: tag schema -> referrers API -> oci-layout"
# Junk in the source's referrers tag: an entry whose manifest has no subject
# (one whose manifest does not exist: test_sigstore, docker-registry refuses it).
ok manifest "$REG/app:sha256-${D3#sha256:}"
/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["manifests"].append({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":sys.argv[2],"size":1,"artifactType":"application/x-junk"}); print(json.dumps(d))' "$OUT" "$D4" |
	curl -sf -X PUT --data-binary @- -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
	"http://$REG/v2/app/manifests/sha256-${D3#sha256:}" >/dev/null
ok discover "$REG/app:v1"
assert_eq "$(echo "$OUT" | wc -l)" 4 "source referrers, the junk one included"
ok copy --with-signatures "$REG/app:v1" "$NOFILTER/copied:v1"
assert_eq "$(grep -c "PUT /v2/copied/manifests/sha256-" "$WORK/api-nofilter.log" || true)" 0 "fallback tag writes at the API registry"
ok -o json discover "$NOFILTER/copied:v1"
assert_eq "$(json_get "$OUT" 'd["source"]')" referrers-api
assert_eq "$(json_get "$OUT" 'len(d["referrers"])')" 3
assert_contains "$OUT" "$S3"
ok verify --key k.pub "$NOFILTER/copied:v1"
assert_contains "$ERR" "Sigstore bundle referrer"
ok copy --with-signatures "$NOFILTER/copied:v1" "oci-layout:$WORK/lay:v1"
ok -o json discover "oci-layout:$WORK/lay:v1"
assert_eq "$(json_get "$OUT" 'd["source"]')" tag-schema
assert_eq "$(json_get "$OUT" 'len(d["referrers"])')" 3
ok verify --key k.pub "oci-layout:$WORK/lay:v1"
assert_contains "$ERR" "Sigstore bundle referrer"

step "registry without the API: another writer between our read and our write, or after it"
# The third read of the tag is the second sign's read-for-update (the first
# sign's confirming read and the second sign's look for an existing bundle come first).
start_api race --no-referrers --race-after-get 3
ok push "$API/app:v1" "$TESTDATA/manifests"
DR=${OUT##*@}
ok -o json sign --signature-format bundle --key k.key "$API/app:v1"
RA=$(json_get "$OUT" 'd["referrer"]')
ok -o json sign --signature-format bundle --key other.key "$API/app:v1"
RB=$(json_get "$OUT" 'd["referrer"]')
ok manifest "$API/app:sha256-${DR#sha256:}"
assert_eq "$(json_get "$OUT" '[m.get("artifactType") for m in d["manifests"]]')" \
	"['$BUNDLE_MT', 'application/x-other-tool', '$BUNDLE_MT']" "entries after a writer got in between"
assert_contains "$OUT" "$RA"
assert_contains "$OUT" "$RB"
# The second sign saw the tag change after its read (its re-check, a HEAD)
# and merged again: one re-check for the first sign, two for the second.
assert_eq "$(grep -c "HEAD /v2/app/manifests/sha256-${DR#sha256:}" "$API_LOG")" 3 "re-checks of the referrers tag"
ok -o json discover "$API/app:v1"
assert_eq "$(json_get "$OUT" 'd["source"]')" tag-schema
start_api clobber --no-referrers --clobber-after-put
ok push "$API/app:v1" "$TESTDATA/manifests"
DC=${OUT##*@}
ok -o json sign --signature-format bundle --key k.key "$API/app:v1"
RC1=$(json_get "$OUT" 'd["referrer"]')
ok manifest "$API/app:sha256-${DC#sha256:}"
assert_eq "$(json_get "$OUT" '[m.get("artifactType") for m in d["manifests"]]')" \
	"['application/x-other-tool', '$BUNDLE_MT']" "entries after a writer replaced ours"
assert_contains "$OUT" "$RC1"
ok verify --key k.pub "$API/app:v1"

step "a registry with conditional requests: a writer between our re-check and our write is refused (412), merged"
start_api cond --no-referrers --conditional --race-after-head 1
ok push "$API/app:v1" "$TESTDATA/manifests"
DQ=${OUT##*@}
ok -o json sign --signature-format bundle --key k.key "$API/app:v1"
RQ1=$(json_get "$OUT" 'd["referrer"]')
ok -o json sign --signature-format bundle --key other.key "$API/app:v1"
RQ2=$(json_get "$OUT" 'd["referrer"]')
ok manifest "$API/app:sha256-${DQ#sha256:}"
assert_eq "$(json_get "$OUT" '[m.get("artifactType") for m in d["manifests"]]')" \
	"['$BUNDLE_MT', 'application/x-other-tool', '$BUNDLE_MT']" "entries after a writer got in before our write"
assert_contains "$OUT" "$RQ1"
assert_contains "$OUT" "$RQ2"
# three PUTs of the tag: the first sign's, the second's refused one, its retry
assert_eq "$(grep -c "PUT /v2/app/manifests/sha256-${DQ#sha256:}" "$API_LOG")" 3 "writes of the referrers tag"

step "a registry whose ETags never match: 412 on an unchanged tag, then written without conditions"
start_api badetag --no-referrers --conditional --bad-etag
ok push "$API/app:v1" "$TESTDATA/manifests"
DB=${OUT##*@}
ok sign --signature-format bundle --key k.key "$API/app:v1"
ok sign --signature-format bundle --key other.key "$API/app:v1"
ok discover "$API/app:v1"
assert_eq "$(echo "$OUT" | wc -l)" 2 "referrers signed on a registry with broken ETags"
assert_eq "$(grep -c "PUT /v2/app/manifests/sha256-${DB#sha256:}" "$API_LOG")" 3 "writes of the referrers tag"

step "concurrent writers of a layout's referrers tag lose no entry"
ok push "oci-layout:$WORK/conc:v1" "$TESTDATA/manifests"
pids=()
for i in 1 2 3 4 5 6; do
	"$OCISYNC" sign --signature-format bundle --key k.key -a n=$i "oci-layout:$WORK/conc:v1" >/dev/null 2>"$WORK/conc.$i.err" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent sign failed: $(cat "$WORK"/conc.*.err)"; done
ok discover --artifact-type "$BUNDLE_MT" "oci-layout:$WORK/conc:v1"
assert_eq "$(echo "$OUT" | wc -l)" 6 "bundle referrers after 6 concurrent signs"
ok verify --key k.pub "oci-layout:$WORK/conc:v1"

step "usage errors"
expect_fail 2 "discover takes one REF" discover
expect_fail 2 "unknown option --bogus" discover --bogus "$REG/app:v1"
expect_fail 2 "--artifact-type needs a media type" discover --artifact-type "" "$REG/app:v1"
ok discover --help
assert_contains "$OUT" "referrers tag sha256-<hex>"
echo "referrers_api: ok"
