#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# A STAND-IN, not a real CA: the one thing the lab's Pebble never does is
# enforce a rate limit (it has none), so this serves an ACME directory whose
# newNonce and newAccount are Pebble's and whose newOrder answers what
# Boulder answers when the duplicate-certificate limit is exceeded: HTTP 429,
# a rateLimited problem document in Boulder's wording, Retry-After and the
# help Link. Real certbot talks to it and logs the answer.
# Usage: acme-429.py ADDR PORT CERT KEY PEBBLE_BASE   (ends after 120 s)
import json, ssl, sys, threading, time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

addr, port, cert, key, pebble = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
base = "https://%s:%d" % (addr, port)
RETRY = 3 * 3600


class H(BaseHTTPRequestHandler):
    def reply(self, code, body, ctype, extra=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Replay-Nonce", "c3RhbmQtaW4tbm9uY2U")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/dir":
            self.reply(200, {"newNonce": pebble + "/nonce-plz", "newAccount": pebble + "/sign-me-up",
                             "newOrder": base + "/new-order", "revokeCert": pebble + "/revoke-cert",
                             "keyChange": pebble + "/rollover-account-key"}, "application/json")
        else:
            self.reply(404, {"type": "urn:ietf:params:acme:error:malformed", "detail": "no such path"},
                       "application/problem+json")

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        when = (datetime.now(timezone.utc) + timedelta(seconds=RETRY)).strftime("%Y-%m-%d %H:%M:%S UTC")
        detail = ("too many certificates (5) already issued for this exact set of identifiers in the "
                  "last 168h0m0s, retry after %s: see https://letsencrypt.org/docs/rate-limits/"
                  "#new-certificates-per-exact-set-of-identifiers" % when)
        self.reply(429, {"type": "urn:ietf:params:acme:error:rateLimited", "detail": detail, "status": 429},
                   "application/problem+json",
                   [("Retry-After", str(RETRY)), ("Link", '<https://letsencrypt.org/docs/rate-limits>;rel="help"')])

    def log_message(self, *a):
        pass


srv = HTTPServer((addr, port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
threading.Timer(120, srv.shutdown).start()
print("ready", flush=True)
srv.serve_forever()
