#!/usr/bin/python3
"""A throttling reverse proxy for bench/fleet.sh (stdlib only): forwards
every request to a registry on --upstream-port, except a share of them
(--share, drawn at random with --seed), which it answers itself with
"429 Too Many Requests" and "Retry-After: --retry-after" seconds, as a
rate-limited registry does. Logs one line per request to --log:
"METHOD PATH STATUS"."""
import argparse
import http.client
import http.server
import random
import socketserver
import sys
import threading

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def note(self, status):
        with self.server.lock:
            self.server.logf.write("%s %s %d\n" % (self.command, self.path, status))
            self.server.logf.flush()

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        with self.server.lock:
            throttle = self.server.rng.random() < self.server.share
        if throttle:
            self.send_response(429)
            self.send_header("Retry-After", str(self.server.retry_after))
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.note(429)
            return
        c = http.client.HTTPConnection("127.0.0.1", self.server.upstream, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        c.request(self.command, self.path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        c.close()
        self.note(r.status)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream-port", type=int, required=True)
    p.add_argument("--share", type=float, default=0.25)
    p.add_argument("--retry-after", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--log", required=True)
    a = p.parse_args()
    s = Server(("127.0.0.1", a.port), Handler)
    s.upstream, s.share, s.retry_after = a.upstream_port, a.share, a.retry_after
    s.rng, s.lock, s.logf = random.Random(a.seed), threading.Lock(), open(a.log, "a")
    s.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
