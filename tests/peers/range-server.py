#!/usr/bin/env python3
"""A tiny HTTP server for ferry's HTTP source tests: serves one file with
HEAD and single-range GET (206 + Content-Range), on 127.0.0.1.

  range-server.py FILE [--fail-first N] [--reset-first N] [--require-cookie V]
                       [--no-head]

Prints the port it listens on, then serves until killed.
--fail-first N    answer the first N GETs with 503 (retry testing)
--reset-first N   close the connection without answering the first N GETs
--require-cookie  answer 403 unless the Cookie header is exactly V
--no-head         answer HEAD with 405 (size from a one-byte range GET)
"""
import argparse
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("--fail-first", type=int, default=0)
ap.add_argument("--reset-first", type=int, default=0)
ap.add_argument("--require-cookie")
ap.add_argument("--no-head", action="store_true")
args = ap.parse_args()

lock = threading.Lock()
counts = {"fail": args.fail_first, "reset": args.reset_first}


def take(kind):
    with lock:
        if counts[kind] > 0:
            counts[kind] -= 1
            return True
        return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def cookie_ok(self):
        if args.require_cookie is None:
            return True
        if self.headers.get("Cookie") == args.require_cookie:
            return True
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_HEAD(self):
        if not self.cookie_ok():
            return
        if args.no_head:
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(os.path.getsize(args.file)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()

    def do_GET(self):
        if take("reset"):
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if take("fail"):
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not self.cookie_ok():
            return
        size = os.path.getsize(args.file)
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if not m:
            start, end, status = 0, size - 1, 200
        else:
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) else size - 1
            end = min(end, size - 1)
            status = 206
            if start >= size or start > end:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_response(status)
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        with open(args.file, "rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = f.read(min(left, 1 << 20))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
