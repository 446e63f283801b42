#!/bin/bash
# The requests a push makes for a two-blob artifact (config + layer):
#  - a registry taking single-request uploads (POST .../uploads/?digest=
#    with the body; faultproxy's "monolithic" mode plays one in front of
#    docker-registry): HEAD layer, POST config, POST layer, PUT manifest;
#  - docker-registry itself, which answers such a POST with an upload
#    session (202): the config goes up through that session (POST + PUT),
#    the refusal is remembered, and the layer takes the two-step upload
#    without trying again; a re-push (layer there): HEAD, HEAD, PUT manifest;
#  - a registry answering the single-request POST with an error (405): the
#    two-step upload, the refusal remembered for the layer.
# The same for `copy` of that artifact from an oci-layout: (the blobs go up
# in parallel, so the sequences are compared sorted) 6 requests to
# docker-registry, 4 to a registry taking single-request uploads, the
# config sent without a HEAD once the layer was missing; 3 for a re-copy.
# Each pushed artifact is pulled back and compared with its source.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_helpers.sh"

make_manifests "$WORK/src"
start_registry reg

# "METHOD PATH STATUS" per request docker-registry logged after line $1,
# with queries dropped and upload session ids and digests made generic.
reg_sequence() { # from-line
	tail -n +"$(($1 + 1))" "$REG_LOG" | grep -o '"[A-Z]* /v2/[^ ]* HTTP/1.1" [0-9]*' |
		sed -E 's/^"([A-Z]+) ([^ ?]*)[^ ]* HTTP\/1.1" ([0-9]+)$/\1 \2 \3/;
			s#/uploads/[0-9a-f-]{36}#/uploads/ID#; s#sha256:[0-9a-f]{64}#DIGEST#'
}
# The same from the proxy's log, keeping whether a POST carried ?digest=.
proxy_sequence() {
	sed -E 's/^proxy ([A-Z]+) ([^ ]*) -> ([0-9]+).*/\1 \2 \3/; s/\?digest=[^ ]*/?digest=D/; s/\?_state=[^ ]*//;
		s#/uploads/[0-9a-f-]{36}#/uploads/ID#; s#sha256:[0-9a-f]{64}#DIGEST#' "$PROXY_LOG"
}

# The four requests of a first push of repository $1 (tag v1) to a registry
# taking single-request uploads (in sorted order too).
single_request_sequence() {
	printf '%s\n' "HEAD /v2/$1/blobs/DIGEST 404" "POST /v2/$1/blobs/uploads/?digest=D 201" \
		"POST /v2/$1/blobs/uploads/?digest=D 201" "PUT /v2/$1/manifests/v1 201"
}

# The three requests of a push of repository $1 (tag v2) whose blobs are there.
layer_there_sequence() {
	printf '%s\n' "HEAD /v2/$1/blobs/DIGEST 200" "HEAD /v2/$1/blobs/DIGEST 200" "PUT /v2/$1/manifests/v2 201"
}

step "docker-registry: the config's single-request POST opens a session; 6 requests"
before=$(wc -l <"$REG_LOG")
ok -v push "$REG/team/app:v1" "$WORK/src" --no-progress
assert_eq "$(reg_sequence "$before")" "HEAD /v2/team/app/blobs/DIGEST 404
POST /v2/team/app/blobs/uploads/ 202
PUT /v2/team/app/blobs/uploads/ID 201
POST /v2/team/app/blobs/uploads/ 202
PUT /v2/team/app/blobs/uploads/ID 201
PUT /v2/team/app/manifests/v1 201" "requests of a first push to docker-registry"
assert_contains "$ERR" "POST http://$REG/v2/team/app/blobs/uploads/?digest=sha256" "the config's POST"
assert_contains "$ERR" "opened a session instead of storing the blob; using POST + PUT" "-v output"
assert_contains "$ERR" "POST http://$REG/v2/team/app/blobs/uploads/ -> 202" "the layer's POST (no second try)"
assert_eq "$(printf '%s\n' "$ERR" | grep -c 'uploads/?digest=')" 1 "single-request POSTs tried"
ok pull "$REG/team/app:v1" "$WORK/pulled-1"
same_tree "$WORK/src" "$WORK/pulled-1"

step "docker-registry, the layer already there: 3 requests, no upload"
before=$(wc -l <"$REG_LOG")
ok push "$REG/team/app:v2" "$WORK/src" --no-progress
assert_eq "$(reg_sequence "$before")" "$(layer_there_sequence team/app)" "requests of a re-push"

step "a registry taking single-request uploads: 4 requests"
start_proxy '[{"mode": "monolithic", "method": "POST", "path": "/blobs/uploads/\\?digest=", "count": 100}]'
ok -v push "$PROXY/team/mono:v1" "$WORK/src" --no-progress
assert_eq "$(proxy_sequence)" "$(single_request_sequence team/mono)" \
	"requests of a push to a registry taking single-request uploads"
assert_not_contains "$ERR" "using POST + PUT" "-v output"
ok pull "$REG/team/mono:v1" "$WORK/pulled-2"
same_tree "$WORK/src" "$WORK/pulled-2"

step "a registry answering the single-request POST with 405: two-step uploads, one try"
start_proxy '[{"mode": "status", "status": 405, "method": "POST", "path": "/blobs/uploads/\\?digest=", "count": 100}]'
ok -v push "$PROXY/team/refusing:v1" "$WORK/src" --no-progress
assert_eq "$(proxy_sequence)" "HEAD /v2/team/refusing/blobs/DIGEST 404
POST /v2/team/refusing/blobs/uploads/?digest=D 405
POST /v2/team/refusing/blobs/uploads/ 202
PUT /v2/team/refusing/blobs/uploads/ID 201
POST /v2/team/refusing/blobs/uploads/ 202
PUT /v2/team/refusing/blobs/uploads/ID 201
PUT /v2/team/refusing/manifests/v1 201" "requests of a push to a refusing registry"
assert_contains "$ERR" "refused a single-request upload (405); using POST + PUT" "-v output"
ok pull "$REG/team/refusing:v1" "$WORK/pulled-3"
same_tree "$WORK/src" "$WORK/pulled-3"

step "a single-request upload answered with an unexpected status fails the push, naming it"
start_proxy '[{"mode": "status", "status": 200, "method": "POST", "path": "/blobs/uploads/\\?digest=", "count": 100}]'
expect_fail 1 "unexpected status 200 uploading in one request" push "$PROXY/team/odd:v1" "$WORK/src" --no-progress
assert_eq "$(proxy_count 'PUT /v2/team/odd/manifests')" 0 "manifest PUTs after the failure"
step "copy from an oci-layout to docker-registry: 6 requests, no HEAD for the config"
ok push "oci-layout:$WORK/layout:v1" "$WORK/src" --no-progress
before=$(wc -l <"$REG_LOG")
ok copy "oci-layout:$WORK/layout:v1" "$REG/team/copied:v1" --no-progress
assert_eq "$(reg_sequence "$before" | sort)" "HEAD /v2/team/copied/blobs/DIGEST 404
POST /v2/team/copied/blobs/uploads/ 202
POST /v2/team/copied/blobs/uploads/ 202
PUT /v2/team/copied/blobs/uploads/ID 201
PUT /v2/team/copied/blobs/uploads/ID 201
PUT /v2/team/copied/manifests/v1 201" "requests of a copy to docker-registry"
ok pull "$REG/team/copied:v1" "$WORK/pulled-4"
same_tree "$WORK/src" "$WORK/pulled-4"
before=$(wc -l <"$REG_LOG")
ok copy "oci-layout:$WORK/layout:v1" "$REG/team/copied:v2" --no-progress
assert_eq "$(reg_sequence "$before")" "$(layer_there_sequence team/copied)" "requests of a re-copy"

step "copy from an oci-layout to a registry taking single-request uploads: 4 requests"
start_proxy '[{"mode": "monolithic", "method": "POST", "path": "/blobs/uploads/\\?digest=", "count": 100}]'
ok copy "oci-layout:$WORK/layout:v1" "$PROXY/team/copied-mono:v1" --no-progress
assert_eq "$(proxy_sequence | sort)" "$(single_request_sequence team/copied-mono)" \
	"requests of a copy to a registry taking single-request uploads"
ok pull "$REG/team/copied-mono:v1" "$WORK/pulled-5"
same_tree "$WORK/src" "$WORK/pulled-5"

step "copy of an oci-layout whose blob was altered: the registry refuses it, no manifest"
cp -r "$WORK/layout" "$WORK/altered"
blob=$WORK/altered/blobs/sha256/$(/usr/bin/python3 -c 'import json,sys; d=sys.argv[1]; i=json.load(open(d+"/index.json"))
m=json.load(open(d+"/blobs/sha256/"+i["manifests"][0]["digest"][7:])); print(m["layers"][0]["digest"][7:])' "$WORK/altered")
chmod u+w "$blob"
printf 'X' | dd of="$blob" bs=1 seek=20 conv=notrunc 2>/dev/null
before=$(wc -l <"$REG_LOG")
expect_fail 1 "uploading blob sha256:$(basename "$blob"): provided digest did not match uploaded content" \
	copy "oci-layout:$WORK/altered:v1" "$REG/team/altered:v1" --no-progress
assert_eq "$(reg_sequence "$before" | grep -c manifests)" 0 "manifest requests after the refusal"

echo "push_requests: ok"
