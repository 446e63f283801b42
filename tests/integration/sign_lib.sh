# Helpers for the sign_* tests (sourced after lib.sh): raw registry requests
# with curl, so the objects under test are built independently of ocisync.
COSIGN_DATA="$TESTDATA/cosign"
SS_MT=application/vnd.dev.cosign.simplesigning.v1+json
OCI_MT=application/vnd.oci.image.manifest.v1+json

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# reg_blob_put REPO FILE: uploads FILE as a blob (monolithic POST + PUT).
reg_blob_put() {
	local repo=$1 file=$2 dig loc
	dig="sha256:$(sha256_of "$file")"
	loc=$(curl -sfS -X POST -D - -o /dev/null "http://$REG/v2/$repo/blobs/uploads/" | tr -d '\r' |
		sed -n 's/^[Ll]ocation: //p')
	[ -n "$loc" ] || fail "no upload location for $repo"
	case "$loc" in http*) ;; *) loc="http://$REG$loc" ;; esac
	case "$loc" in *\?*) loc="$loc&digest=$dig" ;; *) loc="$loc?digest=$dig" ;; esac
	curl -sfS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$file" "$loc" -o /dev/null ||
		fail "uploading $file to $repo"
}

# reg_manifest_put REPO REF FILE [MEDIATYPE]
reg_manifest_put() {
	curl -sfS -X PUT -H "Content-Type: ${4:-$OCI_MT}" --data-binary "@$3" \
		"http://$REG/v2/$1/manifests/$2" -o /dev/null || fail "putting manifest $2 in $1"
}

# reg_manifest_get REPO REF > file
reg_manifest_get() {
	curl -sfS -H "Accept: $OCI_MT, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json" "http://$REG/v2/$1/manifests/$2"
}

# reg_blob_get REPO DIGEST > file
reg_blob_get() {
	curl -sfSL "http://$REG/v2/$1/blobs/$2"
}

# sig_tag DIGEST: cosign's signature tag.
sig_tag() { echo "sha256-${1#sha256:}.sig"; }

# make_sig_objects DIR PAYLOAD SIG_B64: writes DIR/config.json and DIR/manifest.json,
# a cosign signature image with one layer, with python (not ocisync).
make_sig_objects() {
	/usr/bin/python3 - "$@" <<'PY'
import hashlib, json, os, sys
d, payload, sig = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(d, exist_ok=True)
data = open(payload, "rb").read()
pd = "sha256:" + hashlib.sha256(data).hexdigest()
cfg = json.dumps({"architecture": "", "created": "0001-01-01T00:00:00Z",
                  "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
                  "rootfs": {"type": "layers", "diff_ids": [pd]}, "config": {}}, separators=(",", ":")).encode()
open(d + "/config.json", "wb").write(cfg)
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(cfg),
                  "digest": "sha256:" + hashlib.sha256(cfg).hexdigest()},
       "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": len(data),
                   "digest": pd, "annotations": {"dev.cosignproject.cosign/signature": sig}}]}
open(d + "/manifest.json", "w").write(json.dumps(man, separators=(",", ":")))
PY
}

# reg_put_sig REPO SIGNED_DIGEST DIR PAYLOAD: uploads a signature image made by make_sig_objects.
reg_put_sig() {
	reg_blob_put "$1" "$4"
	reg_blob_put "$1" "$3/config.json"
	reg_manifest_put "$1" "$(sig_tag "$2")" "$3/manifest.json"
}

# layout_put_blob DIR FILE: stores FILE in an OCI layout's blobs; prints its digest.
layout_put_blob() {
	local h
	h=$(sha256_of "$2")
	mkdir -p "$1/blobs/sha256"
	cp "$2" "$1/blobs/sha256/$h"
	echo "sha256:$h"
}

# layout_set_tag DIR TAG FILE [MEDIATYPE]: stores a manifest and points TAG at it in index.json.
layout_set_tag() {
	local dig
	dig=$(layout_put_blob "$1" "$3")
	/usr/bin/python3 - "$1" "$2" "$dig" "$(stat -c %s "$3")" "${4:-$OCI_MT}" <<'PY'
import json, os, sys
d, tag, dig, size, mt = sys.argv[1:6]
p = d + "/index.json"
idx = json.load(open(p)) if os.path.exists(p) else {"schemaVersion": 2, "manifests": []}
idx["manifests"] = [m for m in idx["manifests"]
                    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
idx["manifests"].append({"mediaType": mt, "digest": dig, "size": int(size),
                         "annotations": {"org.opencontainers.image.ref.name": tag}})
json.dump(idx, open(p, "w"))
if not os.path.exists(d + "/oci-layout"):
    json.dump({"imageLayoutVersion": "1.0.0"}, open(d + "/oci-layout", "w"))
PY
}

# extract_wrapped PATH OUT_PAYLOAD: containers/image's signature wrapper →
# payload file; prints the base64 signature.
extract_wrapped() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import base64, json, sys
raw = open(sys.argv[1], "rb").read()
assert raw[:15] == b"\x00sigstore-json\n", raw[:15]
doc = json.loads(raw[15:])
open(sys.argv[2], "wb").write(base64.b64decode(doc["payload"]))
print(doc["annotations"]["dev.cosignproject.cosign/signature"])
PY
}

# reg_push_layout_image REPO TAG LAYOUT_DIR DIGEST: uploads an image of an
# OCI layout (every blob, then the manifest) with curl.
reg_push_layout_image() {
	local f
	for f in "$3"/blobs/sha256/*; do
		[ "sha256:$(basename "$f")" = "$4" ] || reg_blob_put "$1" "$f"
	done
	reg_manifest_put "$1" "$2" "$3/blobs/sha256/${4#sha256:}"
}

# reg_store_raw_manifest REPO TAG FILE: writes a manifest straight into the
# registry's filesystem storage (start_registry's default name "registry").
# For manifests whose layers nobody has (the containers/image fixture):
# the registry serves it like any other, but would refuse a PUT of it.
reg_store_raw_manifest() {
	local root="$WORK/registry/data/docker/registry/v2" h r
	h=$(sha256_of "$3")
	r="$root/repositories/$1/_manifests"
	mkdir -p "$root/blobs/sha256/${h:0:2}/$h" "$r/revisions/sha256/$h" "$r/tags/$2/current" "$r/tags/$2/index/sha256/$h"
	cp "$3" "$root/blobs/sha256/${h:0:2}/$h/data"
	printf 'sha256:%s' "$h" >"$r/revisions/sha256/$h/link"
	printf 'sha256:%s' "$h" >"$r/tags/$2/current/link"
	printf 'sha256:%s' "$h" >"$r/tags/$2/index/sha256/$h/link"
}

# assert_verified PINNED KEY: the last `ok verify` printed PINNED (the
# digest it verified, not just any) and said that KEY verified it.
assert_verified() {
	assert_eq "$OUT" "$1" "reference printed by verify"
	assert_contains "$ERR" "Verified $1 with key $2" "stderr of verify"
}
