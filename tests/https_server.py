#!/usr/bin/env python3
"""A small HTTPS server for allowsync's tests (Python 3 stdlib only).

Serves files under --root on --host (default 127.0.0.1).  The port it got
is written to --port-file (tmp file renamed into place) once it listens;
it serves until SIGTERM.  Every request is appended to --log as one JSON
line: {"method": ..., "path": ..., "headers": {...}}.

Files are sent with ETag (quoted sha256 prefix) and Last-Modified, and
If-None-Match / If-Modified-Since are answered with 304.

Misbehaviour on demand: when ROOT/<path>.behave exists it is a JSON object
that controls the response for <path>:

  {"status": 503, "body": "...", "headers": {"Retry-After": "1"}}
      answer with that status; without "body" a 2xx serves the file
      and anything else sends a short text body
  {"redirect": "https://...", "status": 301}    Location, 302 by default
  {"hang": 10}         read the request, answer nothing for 10 s, close
  {"trickle": 0.5}     send the file one byte every 0.5 s
  {"short": 100}       announce 100 bytes more than the body, then close
  {"gzip_bomb": 64}    64 MiB of zeros, gzip-compressed, Content-Encoding
  {"no_length": "chunked"}   the file without Content-Length, chunked
  {"no_length": "close"}     ... or delimited by closing the connection
                             (with a TLS close_notify, as every response)
  {"no_length": "cut"}       ... or by a TCP close without close_notify:
                             a truncation an attacker could make
  {"sequence": [{...}, {...}]}   one behave per request for this path, in
      turn; the last one repeats ("{}" means: serve normally)

"headers" is applied to any response and overrides the defaults.  Its
values go out as latin-1, one byte per character: U+00FF in the JSON is
sent as the raw byte 0xff, U+001B as ESC.
Certificates with faults (expired, wrong name, self-signed) are made by
tests/lib.sh's mkca and passed as --cert/--key.
"""

import argparse
import email.utils
import hashlib
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

CONTENT_TYPES = {".json": "application/json", ".txt": "text/plain"}
CONN_TIMEOUT = 30


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, root, ctx, log):
        super().__init__(addr, Handler)
        self.root = os.path.realpath(root)
        self.ctx = ctx
        self.log = log
        self.lock = threading.Lock()
        self.counters = {}
        self.bombs = {}

    def get_request(self):
        # The TLS handshake happens in the handler thread, so a client that
        # stalls in it cannot block the accept loop.
        sock, addr = self.socket.accept()
        sock.settimeout(CONN_TIMEOUT)
        return self.ctx.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr

    def shutdown_request(self, request):
        # End TLS properly: close_notify, without waiting for the peer's.
        # A response delimited by the close is complete only with it.
        if not getattr(request, "cut", False):
            try:
                request.setblocking(False)
                request.unwrap()
            except (OSError, ValueError):
                pass
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, OSError)):
            return      # a client that rejected us or went away: expected
        super().handle_error(request, client_address)

    def next_count(self, path):
        with self.lock:
            n = self.counters.get(path, 0)
            self.counters[path] = n + 1
            return n

    def record(self, entry):
        if self.log is None:
            return
        with self.lock:
            with open(self.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")

    def gzip_bomb(self, mib):
        with self.lock:
            if mib not in self.bombs:
                z = zlib.compressobj(9, zlib.DEFLATED, 31)
                zeros = bytes(1 << 20)
                data = b"".join(z.compress(zeros) for _ in range(mib))
                self.bombs[mib] = data + z.flush()
            return self.bombs[mib]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return "allowsync-test"

    def setup(self):
        self.request.do_handshake()
        super().setup()

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.close_connection = True
        self.server.record({"method": self.command, "path": self.path,
                            "headers": dict(self.headers.items())})
        rel = unquote(urlsplit(self.path).path)
        path = self.resolve(rel)
        behave = self.behave(rel, path)
        self.extra = behave.get("headers", {})
        content = None
        if path is not None and os.path.isfile(path):
            with open(path, "rb") as f:
                content = f.read()
        self.respond(behave, path, content)

    def resolve(self, rel):
        """The file for a request path, or None outside root."""
        if "\0" in rel or rel.endswith(".behave"):
            return None
        path = os.path.realpath(os.path.join(self.server.root,
                                             rel.lstrip("/")))
        if not path.startswith(self.server.root + os.sep):
            return None
        return path

    def behave(self, rel, path):
        if path is None or not os.path.isfile(path + ".behave"):
            return {}
        with open(path + ".behave", encoding="utf-8") as f:
            b = json.load(f)
        seq = b.get("sequence")
        if seq:
            b = seq[min(self.server.next_count(rel), len(seq) - 1)]
        return b

    def respond(self, b, path, content):
        if "hang" in b:
            time.sleep(b["hang"])
        elif "redirect" in b:
            self.send(b.get("status", 302), b"redirecting\n",
                      {"Location": b["redirect"]})
        elif "gzip_bomb" in b:
            self.send(200, self.server.gzip_bomb(int(b["gzip_bomb"])),
                      {"Content-Encoding": "gzip",
                       "Content-Type": "application/json"})
        elif "status" in b and ("body" in b or b["status"] // 100 != 2
                                or content is None):
            body = b.get("body", "status %d\n" % b["status"])
            self.send(b["status"], body.encode(), {})
        elif content is None:
            self.send(404, b"not found\n", {})
        else:
            self.serve_file(b, path, content)

    def serve_file(self, b, path, content):
        mtime = int(os.stat(path).st_mtime)
        etag = '"%s"' % hashlib.sha256(content).hexdigest()[:16]
        hdrs = {"ETag": etag,
                "Last-Modified": email.utils.formatdate(mtime, usegmt=True),
                "Content-Type": CONTENT_TYPES.get(
                    os.path.splitext(path)[1], "application/octet-stream")}
        if self.not_modified(etag, mtime):
            self.send(304, b"", hdrs, length=None)
            return
        if "trickle" in b:
            self.send(200, b"", hdrs, length=len(content))
            for i in range(len(content)):
                self.wfile.write(content[i:i + 1])
                self.wfile.flush()
                time.sleep(b["trickle"])
        elif "short" in b:
            self.send(200, content, hdrs,
                      length=len(content) + int(b["short"]))
        elif b.get("no_length") in ("close", "cut"):
            self.request.cut = b["no_length"] == "cut"
            self.send(200, content, hdrs, length=None)
        elif "no_length" in b:
            hdrs["Transfer-Encoding"] = "chunked"
            self.send(200, b"", hdrs, length=None)
            for i in range(0, len(content), 4096):
                chunk = content[i:i + 4096]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send(b.get("status", 200), content, hdrs)

    def not_modified(self, etag, mtime):
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims is not None:
            try:
                when = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
            return mtime <= when
        return False

    def send(self, status, body, hdrs, length=-1):
        """Status line, headers (length -1: len(body); None: none), body."""
        self.send_response(status)
        hdrs = dict(hdrs, **self.extra)
        hdrs.setdefault("Content-Type", "text/plain")
        hdrs["Connection"] = "close"
        if length is not None:
            hdrs.setdefault("Content-Length",
                            str(len(body) if length == -1 else length))
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log")
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    if ":" in args.host:
        Server.address_family = socket.AF_INET6
    srv = Server((args.host, args.port), args.root, ctx, args.log)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
