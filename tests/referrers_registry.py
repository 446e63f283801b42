#!/usr/bin/env python3
"""A small in-memory OCI registry on loopback with the distribution-spec v1.1
referrers API, for the tests of ocisync's referrers API path (docker-registry
2.8 has none). It implements what the spec says a registry with the API does
(https://github.com/opencontainers/distribution-spec/blob/main/spec.md):

- PUT of a manifest with "subject" answers "OCI-Subject: <subject digest>"
  ("Pushing Manifests with Subject");
- GET /v2/<name>/referrers/<digest>[?artifactType=T] answers 200 with an image
  index (Content-Type application/vnd.oci.image.index.v1+json) of descriptors
  with artifactType (the manifest's, else its config media type) and the
  manifest's annotations, an empty list when nothing refers to the digest,
  "OCI-Filters-Applied: artifactType" when it filtered, and a Link rel="next"
  header when the list does not fit in one page ("Listing Referrers").

Options: --page-size N (descriptors per referrers page, default 1000),
--no-filter (ignore artifactType, as a registry that does not support
filtering), --log FILE (one "METHOD PATH" line per request).

--no-referrers makes it a registry without the API (404, no OCI-Subject), for
the tests of the referrers tag written by clients, with two simulated
concurrent writers of that tag ("another tool"): --race-after-get N, which right
after the Nth GET of a sha256-<hex> tag appends its own entry to the index
(a well-behaved writer that got in between), and --clobber-after-put, which
right after the first PUT of such a tag replaces it with an index of only its
entry (a writer that lost ours). --race-after-head N appends its entry right
after the Nth HEAD of such a tag (between a client's re-check and its write).
--conditional honours If-Match / If-None-Match: * on manifest PUTs (412 when
the tag changed) and sends ETag: "<digest>" with manifests (with --bad-etag an
ETag that never matches: a registry whose conditions cannot be relied on).
Usage: referrers_registry.py PORT [options]
"""
import argparse
import hashlib
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse, urlencode

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"

blobs = {}       # digest -> bytes
manifests = {}   # (name, digest) -> (media type, bytes)
tags = {}        # (name, tag) -> digest
uploads = {}     # id -> bytearray
lock = threading.Lock()
opts = None


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _log(self):
        if opts.log:
            with open(opts.log, "a") as f:
                f.write(f"{self.command} {self.path}\n")

    def _send(self, code, body=b"", headers=None, head=False):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not head and self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, code, err, msg):
        self._send(code, json.dumps({"errors": [{"code": err, "message": msg}]}).encode(),
                   {"Content-Type": "application/json"})

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _foreign(self, name, tag, keep):
        """Another tool's write of a referrers tag: its entry appended to the
        current index (keep) or replacing it."""
        d = tags.get((name, tag))
        index = json.loads(manifests[(name, d)][1]) if (keep and d) else {"schemaVersion": 2, "mediaType": INDEX, "manifests": []}
        index["manifests"].append({"mediaType": MANIFEST, "size": 1, "artifactType": "application/x-other-tool",
                                   "digest": "sha256:" + hashlib.sha256(tag.encode() + str(keep).encode()).hexdigest()})
        body = json.dumps(index).encode()
        manifests[(name, sha(body))] = (INDEX, body)
        tags[(name, tag)] = sha(body)

    def _route(self):
        self._log()
        u = urlparse(self.path)
        q = parse_qs(u.query)
        p = u.path
        if opts.no_referrers and "/referrers/" in p:
            return self._error(404, "NOT_FOUND", "no referrers API")
        if p == "/v2/" or p == "/v2":
            return self._send(200, b"{}", {"Content-Type": "application/json"})
        m = re.fullmatch(r"/v2/(.+)/(manifests|blobs|referrers|tags)/(.*)", p)
        if not m:
            return self._error(404, "NOT_FOUND", "no route")
        name, kind, rest = m.groups()
        getattr(self, f"_{kind}")(name, rest, q)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _route

    # ---- blobs ----
    def _blobs(self, name, rest, q):
        head = self.command == "HEAD"
        if rest.startswith("uploads"):
            uid = rest[len("uploads/"):] if rest.startswith("uploads/") else ""
            if self.command == "POST":
                uid = uuid.uuid4().hex
                with lock:
                    uploads[uid] = bytearray()
                if "digest" in q:
                    return self._finish(name, uid, q["digest"][0], self._body())
                return self._send(202, headers={"Location": f"/v2/{name}/blobs/uploads/{uid}", "Range": "0-0"})
            if uid not in uploads:
                return self._error(404, "BLOB_UPLOAD_UNKNOWN", "unknown upload")
            if self.command == "PATCH":
                data = self._body()
                with lock:
                    uploads[uid] += data
                    n = len(uploads[uid])
                return self._send(202, headers={"Location": f"/v2/{name}/blobs/uploads/{uid}",
                                                "Range": f"0-{max(n - 1, 0)}"})
            if self.command == "PUT":
                return self._finish(name, uid, q.get("digest", [""])[0], self._body())
            if self.command == "GET":
                n = len(uploads[uid])
                return self._send(204, headers={"Location": f"/v2/{name}/blobs/uploads/{uid}",
                                                "Range": f"0-{max(n - 1, 0)}"})
            return self._error(405, "UNSUPPORTED", "method")
        d = rest
        if self.command in ("GET", "HEAD"):
            if d not in blobs:
                return self._error(404, "BLOB_UNKNOWN", "blob unknown")
            return self._send(200, blobs[d], {"Content-Type": "application/octet-stream",
                                              "Docker-Content-Digest": d}, head)
        return self._error(405, "UNSUPPORTED", "method")

    def _finish(self, name, uid, digest, data):
        with lock:
            buf = uploads.pop(uid, bytearray()) + data
        if sha(bytes(buf)) != digest:
            return self._error(400, "DIGEST_INVALID", "digest mismatch")
        blobs[digest] = bytes(buf)
        return self._send(201, headers={"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})

    # ---- manifests ----
    def _manifests(self, name, ref, q):
        head = self.command == "HEAD"
        if self.command == "PUT":
            body = self._body()
            d = sha(body)
            mt = (self.headers.get("Content-Type") or MANIFEST).split(";")[0]
            try:
                doc = json.loads(body)
            except ValueError:
                return self._error(400, "MANIFEST_INVALID", "not JSON")
            with lock:
                cur = tags.get((name, ref))
                im, inm = self.headers.get("If-Match"), self.headers.get("If-None-Match")
                if opts.conditional and not ref.startswith("sha256:") and (
                        (inm == "*" and cur) or (im and (not cur or im.strip('"') != cur))):
                    return self._error(412, "PRECONDITION_FAILED", "the tag changed")
                manifests[(name, d)] = (mt, body)
                if not ref.startswith("sha256:"):
                    tags[(name, ref)] = d
            h = {"Location": f"/v2/{name}/manifests/{d}", "Docker-Content-Digest": d}
            subj = (doc.get("subject") or {}).get("digest")
            if subj and not opts.no_referrers:
                h["OCI-Subject"] = subj
            self._send(201, headers=h)
            if opts.clobber_after_put and re.fullmatch(r"sha256-[0-9a-f]{64}", ref):
                opts.clobber_after_put = False
                with lock:
                    self._foreign(name, ref, keep=False)
            return None
        if self.command in ("GET", "HEAD"):
            d = ref if ref.startswith("sha256:") else tags.get((name, ref))
            if not d or (name, d) not in manifests:
                return self._error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            mt, body = manifests[(name, d)]
            h = {"Content-Type": mt, "Docker-Content-Digest": d}
            if opts.conditional:
                h["ETag"] = '"bogus"' if opts.bad_etag else f'"{d}"'
            self._send(200, body, h, head)
            if opts.race_after_head and head and re.fullmatch(r"sha256-[0-9a-f]{64}", ref):
                opts.race_after_head -= 1
                if not opts.race_after_head:
                    with lock:
                        self._foreign(name, ref, keep=True)
            if opts.race_after_get and not head and re.fullmatch(r"sha256-[0-9a-f]{64}", ref):
                opts.race_after_get -= 1
                if opts.race_after_get:
                    return None
                with lock:
                    self._foreign(name, ref, keep=True)
            return None
        return self._error(405, "UNSUPPORTED", "method")

    # ---- referrers ----
    def _referrers(self, name, digest, q):
        if self.command != "GET":
            return self._error(405, "UNSUPPORTED", "method")
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            return self._error(400, "DIGEST_INVALID", "bad digest")
        want = q.get("artifactType", [None])[0]
        filtered = want is not None and not opts.no_filter
        found = []
        with lock:
            items = sorted(manifests.items(), key=lambda kv: kv[0][1])
        for (n, d), (mt, body) in items:
            if n != name:
                continue
            doc = json.loads(body)
            if (doc.get("subject") or {}).get("digest") != digest:
                continue
            at = doc.get("artifactType") or (doc.get("config") or {}).get("mediaType")
            if filtered and at != want:
                continue
            desc = {"mediaType": mt, "digest": d, "size": len(body)}
            if at:
                desc["artifactType"] = at
            if doc.get("annotations"):
                desc["annotations"] = doc["annotations"]
            found.append(desc)
        start = int(q.get("last", ["0"])[0])
        page = found[start:start + opts.page_size]
        h = {"Content-Type": INDEX}
        if filtered:
            h["OCI-Filters-Applied"] = "artifactType"
        if start + opts.page_size < len(found):
            nq = {"last": str(start + opts.page_size)}
            if want is not None:
                nq["artifactType"] = want
            h["Link"] = f'</v2/{name}/referrers/{digest}?{urlencode(nq)}>; rel="next"'
        body = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": page}).encode()
        self._send(200, body, h)

    # ---- tags ----
    def _tags(self, name, rest, q):
        with lock:
            ts = sorted(t for (n, t) in tags if n == name)
        self._send(200, json.dumps({"name": name, "tags": ts}).encode(), {"Content-Type": "application/json"})


def main():
    global opts
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--no-filter", action="store_true")
    ap.add_argument("--log")
    ap.add_argument("--no-referrers", action="store_true")
    ap.add_argument("--race-after-get", type=int, default=0)
    ap.add_argument("--clobber-after-put", action="store_true")
    ap.add_argument("--race-after-head", type=int, default=0)
    ap.add_argument("--conditional", action="store_true")
    ap.add_argument("--bad-etag", action="store_true")
    opts = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
