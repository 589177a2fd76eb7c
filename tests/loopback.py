"""Loopback helpers shared by test folders: one raw HTTP request on a fresh connection, and a
mirror of the library's files (as the publishers' addresses would serve them)."""

from __future__ import annotations

import http.server
import time
import urllib.parse

from conftest import LIBRARY

FILES = {p.name: p for p in LIBRARY.rglob("*") if p.is_file()} if LIBRARY.is_dir() else {}


def request(live_server, method, path, body=None, headers=None, chunked=False):
    """(status, headers, body bytes) of one request on a fresh connection."""
    import http.client

    parts = urllib.parse.urlsplit(live_server)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


class LibraryMirror(http.server.BaseHTTPRequestHandler):
    """Serves the library's files by name (``/usdos-hrr-2024-kazakhstan.html``), as a mirror
    of the publishers' addresses would; ``missing`` names files it answers 404 for,
    ``changed`` files whose bytes it alters, ``delay`` seconds it waits before each."""

    missing: set[str] = set()
    changed: set[str] = set()
    delay = 0.0

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        name = self.path.strip("/")
        time.sleep(self.delay)
        if name not in FILES or name in self.missing:
            self.send_error(404)
            return
        data = FILES[name].read_bytes()
        if name in self.changed:
            data = data.replace(b"</body>", b"<p>Updated.</p></body>", 1)
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf" if name.endswith(".pdf") else "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass
