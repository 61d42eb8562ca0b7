#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""fake_lapi.py ADDR PORT DIR - a stand-in for CrowdSec's Local API that
answers the bouncer's stream with what a test puts in DIR: each poll takes
the oldest file DIR/NN.body (NN.status, if there, is the HTTP status) and
removes it; with none left the stream is empty. Every request is logged
to DIR/requests. Only for the bad answers a real LAPI never gives."""
import http.server
import os
import sys

ADDR, PORT, DIR = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        with open(os.path.join(DIR, "requests"), "a") as f:
            f.write("%s %s\n" % (self.path, self.headers.get("X-Api-Key", "")))
        bodies = sorted(x for x in os.listdir(DIR) if x.endswith(".body"))
        status, body = 200, b'{"new":null,"deleted":null}'
        if bodies:
            path = os.path.join(DIR, bodies[0])
            with open(path, "rb") as f:
                body = f.read()
            st = path[:-5] + ".status"
            if os.path.exists(st):
                with open(st) as f:
                    status = int(f.read())
                os.unlink(st)
            os.unlink(path)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer((ADDR, PORT), H).serve_forever()
