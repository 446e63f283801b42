#!/usr/bin/python3
"""A fault-injecting HTTP proxy for the registry tests (stdlib only).

Sits between ocisync and a docker-registry and, for requests matching a
rule, misbehaves a given number of times:

  status       answer STATUS (e.g. 500, 503) without asking the registry
  retry-after  answer 429 with "Retry-After: SECONDS" (or an HTTP date that
               many seconds ahead with "date": true)
  drop         forward, but cut the connection halfway through the response
               body (GET) or the request body (PUT/PATCH: nothing forwarded)
  flip         forward, flipping one byte in the middle of the response body
  paginate     serve /tags/list in pages of ?n= with Link: rel="next" headers
               (distribution 2.8 ignores n), from the registry's full list
  foreign-link like paginate, but the next link points to another origin
  chunk-min    forward, adding "OCI-Chunk-Min-Length: BYTES" to the answer
  oversize     answer a manifest GET with a 5 MiB body (streamed)
  strip-digest forward, removing Docker-Content-Digest from the answer
  bad-digest   forward, replacing Docker-Content-Digest with another digest
  monolithic   take a single-request upload (POST .../blobs/uploads/?digest=D
               with the blob as body), which distribution 2.x does not: the
               proxy makes the registry's POST + PUT itself and answers 201,
               as registries implementing that part of the OCI spec do
  refuse-mount forward a mount POST without its query: the registry opens an
               ordinary upload session (202), as when it refuses to mount
  redirect     answer 307 to the "storage" server (the Location carries
               signature-like query parameters, as pre-signed URLs do) (a second port of this
               process) which serves the same path from the registry and
               records whether an Authorization header reached it
  location-param
               forward, appending "&pw=PARAM" (the rule's "value") to a
               Location header, as registries carrying a session secret in
               the upload URL do
  drip         forward, but send the response body at the rule's "rate"
               bytes per second (default 3), as a hostile or broken
               registry does that stays just above libcurl's low-speed limit;
               by default a piece of "rate" bytes each second, with the
               rule's "interval" (seconds, e.g. 0.01) pieces of rate*interval
               bytes kept to the rate by the clock (a slow network for a
               benchmark: bench/pull.sh)
  stall        log "fault=stall" at once, then answer nothing for the rule's
               "seconds" (default 30) and hang up: a client waits mid-operation
               (for a test to kill it there)
  manifest     answer a manifest HEAD/GET with the rule's "body" (a JSON
               string) and its Docker-Content-Digest, without asking the
               registry
  endless      answer a blob GET 200 with the rule's "declared" Content-Length
               (default none: the body ends when the client hangs up) and an
               endless stream of zeros
  challenge    answer STATUS (default 401) with "WWW-Authenticate: WWW"
               (the rule's "www") without asking the registry, as a
               registry does that refuses the token it was sent
  extra-challenge
               forward; an answer carrying WWW-Authenticate gets another
               WWW-Authenticate line (the rule's "www", default a Basic
               challenge) before the registry's, as registries offering
               Basic and Bearer in two header lines do

With --basic-auth USER:PASS every /v2/ request must carry that Basic
credential (else 401 with a Basic challenge); the proxy forwards without it.
With --pass-auth the Authorization header is forwarded (a registry with
token auth behind the proxy).

Every request is logged to --log as
  "<proxy|storage> METHOD PATH -> STATUS auth=<yes|no> conn=<client port> [fault]"
(the client port shows which requests shared a kept-alive connection).

Rules: a JSON list of objects {"method": "GET", "path": "regex", "mode":
"drop", "count": 1, "status": 503, "seconds": 1}; method, path and auth
(true: only requests carrying Authorization, false: only those without)
are optional filters, count defaults to 1.
"""
import argparse
import base64
import email.utils
import hashlib
import http.client
import http.server
import json
import re
import socket
import socketserver
import sys
import threading
import time

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-authorization", "proxy-authenticate"}

lock = threading.Lock()
args = None
rules = []
logf = None


def log(line):
    with lock:
        logf.write(line + "\n")
        logf.flush()


def take_rule(method, path, has_auth):
    with lock:
        for r in rules:
            if r.get("count", 1) <= 0:
                continue
            if "auth" in r and bool(r["auth"]) != has_auth:
                continue
            if "method" in r and r["method"] != method:
                continue
            if "path" in r and not re.search(r["path"], path):
                continue
            r["count"] = r.get("count", 1) - 1
            return r
    return None


class LimitedReader:
    def __init__(self, f, n):
        self.f, self.left = f, n

    def read(self, n=65536):
        if self.left <= 0:
            return b""
        b = self.f.read(min(n, self.left))
        self.left -= len(b)
        return b


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    role = "proxy"

    def log_message(self, fmt, *a):
        pass

    def do_GET(self): self.handle_any()
    def do_HEAD(self): self.handle_any()
    def do_PUT(self): self.handle_any()
    def do_POST(self): self.handle_any()
    def do_PATCH(self): self.handle_any()
    def do_DELETE(self): self.handle_any()

    def body_length(self):
        return int(self.headers.get("Content-Length") or 0)

    def discard_body(self):
        n = 0 if getattr(self, "body_taken", False) else self.body_length()
        while n > 0:
            b = self.rfile.read(min(n, 65536))
            if not b:
                break
            n -= len(b)

    def simple(self, status, headers=None, body=b"", fault=""):
        self.discard_body()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.logreq(status, fault)

    def logreq(self, status, fault=""):
        auth = "yes" if self.headers.get("Authorization") else "no"
        conn = self.client_address[1]
        log(f"{self.role} {self.command} {self.path} -> {status} auth={auth} conn={conn} {fault}".rstrip())

    def handle_any(self):
        if self.role == "proxy" and args.basic_auth and self.path.startswith("/v2"):
            want = "Basic " + base64.b64encode(args.basic_auth.encode()).decode()
            if self.headers.get("Authorization") != want:
                body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})
                self.simple(401, {"WWW-Authenticate": 'Basic realm="faultproxy"',
                                  "Content-Type": "application/json"}, body.encode(), "auth-required")
                return
        rule = (take_rule(self.command, self.path, bool(self.headers.get("Authorization")))
                if self.role == "proxy" else None)
        self.current_rule = rule or {}
        self.body_taken = False
        mode = rule["mode"] if rule else None
        if mode == "status":
            st = int(rule.get("status", 503))
            body = json.dumps({"errors": [{"code": "UNAVAILABLE", "message": "injected failure"}]})
            self.simple(st, {"Content-Type": "application/json"}, body.encode(), f"fault=status{st}")
            return
        if mode == "challenge":
            st = int(rule.get("status", 401))
            code = "DENIED" if st == 403 else "UNAUTHORIZED"
            body = json.dumps({"errors": [{"code": code, "message": "injected refusal"}]})
            self.simple(st, {"WWW-Authenticate": rule["www"], "Content-Type": "application/json"},
                        body.encode(), f"fault=challenge{st}")
            return
        if mode == "retry-after":
            secs = int(rule.get("seconds", 1))
            value = str(secs)
            if rule.get("date"):
                value = email.utils.formatdate(time.time() + secs + 1, usegmt=True)
            self.simple(429, {"Retry-After": value}, b"slow down", "fault=429")
            return
        if mode == "oversize":
            self.discard_body()
            size = 5 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(size // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass  # the client hung up, as it should
            self.close_connection = True
            self.logreq(200, "fault=oversize")
            return
        if mode in ("paginate", "foreign-link"):
            self.paginate(mode)
            return
        if mode == "redirect":
            loc = (f"http://127.0.0.1:{args.storage_port}{self.path}"
                   "?X-Amz-Signature=secretsig0123&X-Amz-Security-Token=secrettok0123&expires=60"
                   "&pw=hunter2pw")
            self.simple(307, {"Location": loc}, b"", "fault=redirect")
            return
        if mode == "drop" and self.command in ("PUT", "PATCH", "POST"):
            # Read half of what the client sends, then hang up.
            n = self.body_length() // 2
            while n > 0:
                b = self.rfile.read(min(n, 65536))
                if not b:
                    break
                n -= len(b)
            self.logreq(0, "fault=drop-upload")
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "stall":
            self.logreq(0, "fault=stall")
            time.sleep(float(rule.get("seconds", 30)))
            self.close_connection = True
            return
        if mode == "manifest":
            body = rule["body"].encode()
            self.discard_body()
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Docker-Content-Digest", "sha256:" + hashlib.sha256(body).hexdigest())
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.logreq(200, "fault=manifest")
            return
        if mode == "endless":
            self.discard_body()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if "declared" in rule:
                self.send_header("Content-Length", str(rule["declared"]))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            chunk = bytes(65536)
            sent = 0
            try:
                while sent < (1 << 40):
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except OSError:
                pass  # the client hung up, as it should
            self.close_connection = True
            self.logreq(200, f"fault=endless sent={sent}")
            return
        if mode == "refuse-mount":
            self.path = self.path.split("?", 1)[0]
        if mode == "monolithic" and self.command == "POST" and "digest=" in self.path:
            self.monolithic()
            return
        self.forward(mode)

    def monolithic(self):
        path, _, query = self.path.partition("?")
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() == "authorization" and args.pass_auth}
        body = self.rfile.read(self.body_length())
        self.body_taken = True
        conn = http.client.HTTPConnection("127.0.0.1", args.upstream_port, timeout=60)
        conn.request("POST", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        loc = resp.getheader("Location")
        if resp.status != 202 or not loc:
            conn.close()
            self.simple(resp.status, {}, b"", "fault=monolithic")
            return
        loc = re.sub(r"^https?://[^/]+", "", loc)
        conn.request("PUT", loc + ("&" if "?" in loc else "?") + query,
                     body=body, headers=dict(headers, **{"Content-Type": "application/octet-stream"}))
        resp = conn.getresponse()
        resp.read()
        conn.close()
        out = {k: v for k, v in resp.getheaders() if k.lower() in ("location", "docker-content-digest")}
        self.simple(resp.status, out, b"", "fault=monolithic")

    def paginate(self, mode):
        self.discard_body()
        path, _, query = self.path.partition("?")
        q = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        conn = http.client.HTTPConnection("127.0.0.1", args.upstream_port, timeout=60)
        conn.request("GET", path)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if resp.status != 200:
            self.simple(resp.status, {"Content-Type": "application/json"}, data)
            return
        doc = json.loads(data)
        tags = sorted(doc.get("tags") or [])
        if "last" in q:
            tags = [t for t in tags if t > q["last"]]
        n = int(q.get("n", "100"))
        page, rest = tags[:n], tags[n:]
        headers = {"Content-Type": "application/json"}
        if rest:
            link = f"{path}?last={page[-1]}&n={n}"
            if mode == "foreign-link":
                link = f"http://127.0.0.1:{args.storage_port or 1}{link}"
            headers["Link"] = f'<{link}>; rel="next"'
        body = json.dumps({"name": doc.get("name"), "tags": page}).encode()
        self.simple(200, headers, body, f"fault={mode}")

    def forward(self, mode):
        conn = http.client.HTTPConnection("127.0.0.1", args.upstream_port, timeout=120)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP and k.lower() != "expect"
                   and (k.lower() != "authorization" or args.pass_auth)}
        n = self.body_length()
        body = LimitedReader(self.rfile, n) if n else None
        if n:
            headers["Content-Length"] = str(n)
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        self.send_response(resp.status)
        length = resp.getheader("Content-Length")
        for k, v in resp.getheaders():
            if k.lower() in HOP:
                continue
            if k.lower() == "location" and self.role == "storage":
                continue
            if k.lower() == "location" and mode == "location-param":
                v += ("&" if "?" in v else "?") + "pw=" + self.current_rule.get("value", "s3cr3t")
            if k.lower() == "docker-content-digest" and mode == "strip-digest":
                continue
            if k.lower() == "docker-content-digest" and mode == "bad-digest":
                v = "sha256:" + "0" * 64
            if k.lower() == "www-authenticate" and mode == "extra-challenge":
                self.send_header(k, self.current_rule.get("www", 'Basic realm="faultproxy"'))
            self.send_header(k, v)
        if mode == "chunk-min":
            self.send_header("OCI-Chunk-Min-Length", str(self.current_rule.get("bytes", 0)))
        if length is None and self.command != "HEAD":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        fault = f"fault={mode}" if mode else ""
        if self.command == "HEAD" or resp.status in (204, 304):
            resp.read()
            conn.close()
            self.logreq(resp.status, fault)
            return
        total = int(length) if length is not None else None
        sent = 0
        cut = total // 2 if (mode == "drop" and total) else None
        flip_at = total // 2 if (mode == "flip" and total) else None
        rate = int(self.current_rule.get("rate", 3)) if mode == "drip" else 0
        interval = float(self.current_rule.get("interval", 1)) if rate else 0
        piece = max(1, int(rate * interval)) if rate else 65536
        began = time.monotonic()
        while True:
            b = resp.read(piece)
            if not b:
                break
            if rate:
                try:
                    self.wfile.write(b)
                    self.wfile.flush()
                except OSError:
                    conn.close()
                    self.logreq(resp.status, "fault=drip hung-up")
                    self.close_connection = True
                    return
                sent += len(b)
                if interval == 1:
                    time.sleep(1)
                else:
                    # paced by the clock, so the time spent writing counts
                    time.sleep(max(0.0, began + sent / rate - time.monotonic()))
                continue
            if flip_at is not None and sent <= flip_at < sent + len(b):
                i = flip_at - sent
                b = b[:i] + bytes([b[i] ^ 0x01]) + b[i + 1:]
            if cut is not None and sent + len(b) >= cut:
                self.wfile.write(b[:cut - sent])
                self.wfile.flush()
                self.logreq(resp.status, "fault=drop")
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                conn.close()
                return
            self.wfile.write(b)
            sent += len(b)
        conn.close()
        self.logreq(resp.status, fault)


class StorageHandler(Handler):
    role = "storage"


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global args, rules, logf
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream-port", type=int, required=True)
    p.add_argument("--storage-port", type=int, default=0)
    p.add_argument("--rules", default="[]")
    p.add_argument("--basic-auth", default="")
    p.add_argument("--pass-auth", action="store_true")
    p.add_argument("--log", required=True)
    args = p.parse_args()
    rules = json.loads(args.rules)
    logf = open(args.log, "a", buffering=1)
    if args.storage_port:
        st = Server(("127.0.0.1", args.storage_port), StorageHandler)
        threading.Thread(target=st.serve_forever, daemon=True).start()
    Server(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    sys.exit(main())
