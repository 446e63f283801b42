# Checks for the fault loops (sourced after lib.sh): is what a killed
# command left behind consistent?

# check_layout DIR: an OCI layout whose index.json parses and whose every
# reachable blob (manifests, indexes, configs, layers, recursively) exists
# with the digest and size its descriptor names. Blobs no descriptor names
# are allowed (a killed push uploads blobs before the manifest).
check_layout() {
	/usr/bin/python3 - "$1" <<'PY' || fail "layout $1 is not valid"
import hashlib, json, os, sys
root = sys.argv[1]
def die(msg):
    print("layout %s: %s" % (root, msg), file=sys.stderr)
    sys.exit(1)
try:
    if json.load(open(os.path.join(root, "oci-layout")))["imageLayoutVersion"] != "1.0.0":
        die("oci-layout: wrong version")
    index = json.load(open(os.path.join(root, "index.json")))
except Exception as e:
    die("index.json / oci-layout: %s" % e)
seen = set()
def blob(desc):
    alg, _, hexd = desc["digest"].partition(":")
    path = os.path.join(root, "blobs", alg, hexd)
    try:
        data = open(path, "rb").read()
    except OSError as e:
        die("%s (named by a descriptor) is missing: %s" % (desc["digest"], e))
    if hashlib.new(alg, data).hexdigest() != hexd:
        die("%s does not hash to its name" % desc["digest"])
    if len(data) != desc["size"]:
        die("%s has %d bytes, its descriptor says %d" % (desc["digest"], len(data), desc["size"]))
    return data
def walk(desc):
    if desc["digest"] in seen:
        return
    seen.add(desc["digest"])
    data = blob(desc)
    mt = desc.get("mediaType", "")
    if mt.endswith("manifest.v1+json") or mt.endswith("manifest.v2+json") or "index" in mt or "list" in mt:
        doc = json.loads(data)
        for d in ([doc["config"]] if "config" in doc else []) + doc.get("layers", []):
            blob(d)
        for d in doc.get("manifests", []):
            walk(d)
for d in index.get("manifests", []):
    walk(d)
PY
}

# check_registry_repo REPO: every tag of http://$REG/REPO names a manifest
# that is served whole (its digest matches) and whose blobs are all there.
check_registry_repo() {
	/usr/bin/python3 - "$REG" "$1" <<'PY' || fail "registry repository $1 is not consistent"
import hashlib, json, sys, urllib.request, urllib.error
reg, repo = sys.argv[1], sys.argv[2]
base = "http://%s/v2/%s" % (reg, repo)
accept = ", ".join(["application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
                    "application/vnd.docker.distribution.manifest.v2+json"])
def get(url, method="GET"):
    req = urllib.request.Request(url, method=method, headers={"Accept": accept})
    return urllib.request.urlopen(req, timeout=30)
try:
    tags = json.load(get(base + "/tags/list")).get("tags") or []
except urllib.error.HTTPError as e:
    if e.code == 404:
        sys.exit(0)  # nothing pushed yet
    raise
for tag in tags:
    r = get("%s/manifests/%s" % (base, tag))
    body = r.read()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if r.headers.get("Docker-Content-Digest") not in (None, digest):
        print("%s:%s: served digest differs" % (repo, tag), file=sys.stderr)
        sys.exit(1)
    doc = json.loads(body)
    for d in ([doc["config"]] if "config" in doc else []) + doc.get("layers", []) + doc.get("manifests", []):
        kind = "manifests" if "manifests" in doc else "blobs"
        try:
            h = get("%s/%s/%s" % (base, kind, d["digest"]), "HEAD")
        except urllib.error.HTTPError as e:
            print("%s:%s: %s %s: HTTP %d" % (repo, tag, kind, d["digest"], e.code), file=sys.stderr)
            sys.exit(1)
        if kind == "blobs" and int(h.headers.get("Content-Length", "-1")) != d["size"]:
            print("%s:%s: blob %s has the wrong size" % (repo, tag, d["digest"]), file=sys.stderr)
            sys.exit(1)
PY
}

# kill_at_random ARGS...: starts `ocisync ARGS`, SIGKILLs it after a
# random delay below $span ms; RAN is 1 when it finished before the kill.
kill_at_random() {
	local delay pid
	"$OCISYNC" "$@" >/dev/null 2>&1 &
	pid=$!
	delay=$((RANDOM % span))
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	if kill -KILL "$pid" 2>/dev/null; then RAN=0; else RAN=1; fi
	wait "$pid" 2>/dev/null || true
}

# temporaries_of_ours: what killed runs of push and pull can leave (issue
# 10, defect 6): packed layers in $TMPDIR, blobs/sha256/.tmp-* in layouts,
# .DEST.ocisync-* beside pull destinations. Prints one path a line.
temporaries_of_ours() { # dir...
	find "$@" \( -name 'ocisync-layer-*' -o -name '.tmp-*' -o -name '.*.ocisync-*' \) -print 2>/dev/null || true
}

# assert_no_push_pull_temporaries DIR...: after clean runs, nothing of the
# above is left (defect 6 of issue 10, fixed: anonymous temporaries, and a
# sweep of named ones whose process is gone). On by default;
# FAULT_CHECK_TEMPORARIES=0 only reports the count.
assert_no_push_pull_temporaries() {
	local left
	left=$(temporaries_of_ours "$@")
	[ -z "$left" ] || fail "temporaries left after clean runs: $(echo "$left" | head -5 | tr '\n' ' ')"
}
