#!/usr/bin/python3
"""A small token service for the distribution registry's `auth: token`, for
tests (loopback only, Python standard library plus Debian's
python3-cryptography for ES256).

  GET  /token?service=S&scope=A&scope=B   Basic credentials or anonymous
  POST /token  grant_type=refresh_token|password (OAuth2, form-encoded)

Users come from --users FILE, one "user:password:actions" a line, where
actions ("pull", "pull,push", "*") are what the user may do on every
repository; anonymous requests get --anonymous ACTIONS (default none).
Refresh tokens come from --refresh FILE, "token:user" a line, and are also
issued to POST grant_type=password. Tokens are ES256 JWTs whose header
carries the signing certificate (x5c), which the registry checks against its
rootcertbundle. Every request is appended to --log FILE as
"METHOD user scope..." so tests can count them. --no-oauth answers POST with
404, like token services that only know the GET; --oversize answers with
a 2 MiB token (clients must bound what they read).
"""
import argparse
import base64
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Service:
    def __init__(self, args):
        self.args = args
        with open(args.key, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        with open(args.cert, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        self.x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
        self.users = {}
        if args.users:
            with open(args.users) as f:
                for line in f:
                    line = line.rstrip("\n")
                    if not line:
                        continue
                    user, password, actions = line.split(":", 2)
                    self.users[user] = (password, actions)
        self.refresh = {}
        if args.refresh:
            with open(args.refresh) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        tok, user = line.split(":", 1)
                        self.refresh[tok] = user
        self.lock = threading.Lock()
        self.serial = 0

    def log(self, line):
        if self.args.log:
            with self.lock, open(self.args.log, "a") as f:
                f.write(line + "\n")

    def allowed(self, user):
        if user is None:
            acts = self.args.anonymous
        else:
            acts = self.users[user][1]
        return set(a for a in acts.split(",") if a)

    def grant(self, user, scopes):
        allowed = self.allowed(user)
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) < 3:
                continue
            typ, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1]
            if "*" in allowed:
                granted = actions.split(",")
            else:
                granted = [a for a in actions.split(",") if a in allowed]
            access.append({"type": typ, "name": name, "actions": granted})
        return access

    def token(self, user, service, scopes):
        with self.lock:
            self.serial += 1
            serial = self.serial
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": self.x5c}
        claims = {
            "iss": self.args.issuer,
            "sub": user or "",
            "aud": service,
            "exp": now + self.args.expires_in,
            "nbf": now - 10,
            "iat": now,
            "jti": "t%d-%d" % (os.getpid(), serial),
            "access": self.grant(user, scopes),
        }
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        der = self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return signing_input + "." + b64url(sig)


class Handler(BaseHTTPRequestHandler):
    server_version = "ocisync-test-tokenserver"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):  # quiet: the request log is ours
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def deny(self, code, message):
        self.reply(code, {"errors": [{"code": "UNAUTHORIZED", "message": message}]})

    def basic_user(self):
        """None (anonymous), a user name, or False (wrong credentials)."""
        svc = self.server.service
        h = self.headers.get("Authorization")
        if not h:
            return None
        if not h.lower().startswith("basic "):
            return False
        try:
            user, password = base64.b64decode(h[6:]).decode().split(":", 1)
        except Exception:
            return False
        if user in svc.users and svc.users[user][0] == password:
            return user
        # an identity token sent as the password of the GET fallback
        if password in svc.refresh:
            return svc.refresh[password]
        return False

    def do_GET(self):
        svc = self.server.service
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/token":
            return self.deny(404, "not found")
        q = urllib.parse.parse_qs(url.query)
        scopes = q.get("scope", [])
        service = q.get("service", [""])[0]
        user = self.basic_user()
        svc.log("GET %s %s" % (user if user is not False else "!denied", " ".join(scopes)))
        if user is False:
            return self.deny(401, "invalid username or password")
        if svc.args.oversize:
            return self.reply(200, {"token": "x" * (2 * 1024 * 1024)})
        tok = svc.token(user, service, scopes)
        self.reply(200, {"token": tok, "access_token": tok, "expires_in": svc.args.expires_in,
                         "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

    def do_POST(self):
        svc = self.server.service
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        if svc.args.no_oauth or urllib.parse.urlsplit(self.path).path != "/token":
            svc.log("POST 404")
            return self.deny(404, "not found")
        grant = form.get("grant_type", [""])[0]
        service = form.get("service", [""])[0]
        scopes = " ".join(form.get("scope", [])).split()
        user = False
        refresh = None
        if grant == "refresh_token":
            user = svc.refresh.get(form.get("refresh_token", [""])[0], False)
        elif grant == "password":
            u = form.get("username", [""])[0]
            if u in svc.users and svc.users[u][0] == form.get("password", [""])[0]:
                user = u
                refresh = "refresh-" + u
                svc.refresh[refresh] = u
        svc.log("POST %s %s %s" % (grant, user if user is not False else "!denied", " ".join(scopes)))
        if user is False:
            return self.deny(401, "invalid grant")
        if form.get("client_id", [""])[0] == "":
            return self.reply(400, {"error": "invalid_request", "error_description": "client_id missing"})
        tok = svc.token(user, service, scopes)
        out = {"access_token": tok, "expires_in": svc.args.expires_in, "scope": " ".join(scopes)}
        if refresh:
            out["refresh_token"] = refresh
        self.reply(200, out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True, help="where the chosen port is written")
    p.add_argument("--key", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--issuer", default="ocisync-test-issuer")
    p.add_argument("--users")
    p.add_argument("--refresh")
    p.add_argument("--anonymous", default="")
    p.add_argument("--log")
    p.add_argument("--expires-in", type=int, default=300)
    p.add_argument("--no-oauth", action="store_true")
    p.add_argument("--oversize", action="store_true", help="answer GETs with a 2 MiB token")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.service = Service(args)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
