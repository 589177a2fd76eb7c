"""kzqa downloads only from the public internet (kzqa.ingest.addresses): loopback, private,
link-local, multicast and reserved addresses are refused, in IPv4 and IPv6, mapped forms
included, for the first request and every redirect, checked on the address connected to;
a local address is fetched only when named in KZQA_FETCH_ALLOW."""

from __future__ import annotations

import http.server
import socket
import threading

import pytest

from conftest import write
from kzqa.cli.main import main
from kzqa.ingest.addresses import is_public
from kzqa.ingest.fetch import FetchError, fetch

INSIDE = ["127.0.0.1", "127.255.0.9", "10.0.0.1", "172.16.0.1", "172.31.255.254", "192.168.1.1",
          "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "239.255.255.250", "240.0.0.1",
          "255.255.255.255", "192.0.0.1", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
          "ff02::1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "2002:a00:1::1",
          "64:ff9b::a9fe:a9fe", "fe80::1%eth0"]
OUTSIDE = ["8.8.8.8", "1.1.1.1", "151.101.1.69", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e",
           "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", INSIDE)
def test_addresses_inside_a_network_are_not_public(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", OUTSIDE)
def test_public_addresses_are(address):
    assert is_public(address)


def _server(location_of: dict[str, str]) -> tuple[http.server.ThreadingHTTPServer, int]:
    """A loopback server: ``/secret`` is an internal page; a path in ``location_of`` redirects."""

    class Handler(http.server.BaseHTTPRequestHandler):
        hits: list[str] = []

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            Handler.hits.append(self.path)
            if self.path in location_of:
                self.send_response(302)
                self.send_header("Location", location_of[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b"<html><body><p>INTERNAL-ONLY: database password is hunter2.</p></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.hits = Handler.hits  # type: ignore[attr-defined]
    return server, server.server_address[1]


def test_a_loopback_page_is_refused_unless_named_and_kzqa_add_says_so_in_one_line(monkeypatch, built, capsys):
    server, port = _server({})
    try:
        with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.1 is 127\.0\.0\.1, not a public address"):
            fetch(f"http://127.0.0.1:{port}/secret")
        assert server.hits == []  # nothing was asked of it
        corpus, index = built
        code = main(["add", f"http://localhost:{port}/admin.html", "--corpus", str(corpus), "--index", str(index)])
        err = capsys.readouterr().err
        assert code != 0 and "not a public address" in err and "Traceback" not in err
        assert server.hits == [] and not list(corpus.glob("admin*"))
        monkeypatch.setenv("KZQA_FETCH_ALLOW", f"127.0.0.1:{port}")  # an intranet mirror, named
        assert b"INTERNAL-ONLY" in fetch(f"http://127.0.0.1:{port}/secret").data
    finally:
        server.shutdown()


@pytest.mark.parametrize("target", ["http://127.0.0.1:{other}/secret", "http://169.254.169.254/latest/meta-data/",
                                    "http://10.0.0.1/", "http://[::ffff:169.254.169.254]/", "http://[::1]:{other}/"])
def test_a_redirect_into_the_network_is_refused_before_any_connection(monkeypatch, target):
    inner, other = _server({})
    outer, port = _server({"/report": target.format(other=other)})
    attempts: list[tuple[str, int]] = []
    connect = socket.create_connection

    def spy(address, *args, **kwargs):  # every TCP connection the download opens
        attempts.append(address[:2])
        return connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", spy)
    monkeypatch.setenv("KZQA_FETCH_ALLOW", f"127.0.0.1:{port}")  # only the first hop stands for public
    try:
        with pytest.raises(FetchError, match="refused: .* not a public address"):
            fetch(f"http://127.0.0.1:{port}/report")
        assert attempts == [("127.0.0.1", port)]  # the redirect's target was never connected to
        assert inner.hits == []
    finally:
        inner.shutdown()
        outer.shutdown()


def test_a_name_is_checked_on_every_address_it_resolves_to(monkeypatch):
    """A host name that resolves to a private address is refused (and so is one that could
    resolve to one: every address is checked, and the one connected to is a checked one)."""
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host == "rebind.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(FetchError, match="refused: rebind.example is 169.254.169.254"):
        fetch("http://rebind.example/report.pdf")


def test_the_librarys_downloads_obey_the_same_rule(monkeypatch, tmp_path):
    from kzqa.indexing import library

    server, port = _server({})
    monkeypatch.setenv("KZQA_LIBRARY_MIRROR", f"http://127.0.0.1:{port}")
    write(tmp_path / "x.txt", "x")
    try:
        with pytest.raises(Exception, match="not a public address"):
            library.build()
        assert server.hits == []
    finally:
        server.shutdown()
