"""Adding a document by its address: what is downloaded, and every way it can fail, each
in one line. A server on 127.0.0.1 serves the real library documents of ../shared/library
and a few broken answers."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from conftest import LIBRARY
from kzqa.fetch import FetchError, fetch, file_name, is_address

REPORT_2023 = "usdos-kazakhstan/usdos-hrr-2023-kazakhstan.html"
NICARAGUA = "pdf/usdos-hrr-2023-nicaragua.pdf"


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        routes = {
            "/moved": (302, {"Location": "/library/" + REPORT_2023}, b""),
            "/loop": (302, {"Location": "/loop"}, b""),
            "/missing": (404, {}, b"not here"),
            "/login": (200, {"Content-Type": "text/html"},
                       b"<html><body><form><input type='password' name='pw'></form></body></html>"),
            "/image": (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n" + b"\0" * 100),
            "/huge": (200, {"Content-Type": "application/pdf", "Content-Length": str(10**9)}, b"%PDF-"),
        }
        if self.path == "/slow":
            time.sleep(3)
        if self.path in routes:
            status, headers, body = routes[self.path]
        elif self.path.startswith("/library/") and (LIBRARY / self.path[9:]).is_file():
            body = (LIBRARY / self.path[9:]).read_bytes()
            status, headers = 200, {"Content-Type": "application/octet-stream"}
        else:
            status, headers, body = 404, {}, b""
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    if not LIBRARY.is_dir():
        pytest.skip(f"the real documents are not at {LIBRARY} (../shared/library)")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_web_page_and_a_pdf_come_back_byte_for_byte_with_their_address_and_date(server):
    page = fetch(f"{server}/moved")  # through a redirect
    assert page.data == (LIBRARY / REPORT_2023).read_bytes() and page.suffix == ".html"
    assert page.url == f"{server}/moved" and page.final_url.endswith(REPORT_2023)
    assert len(page.accessed) == 10 and page.accessed[:2] == "20"
    pdf = fetch(f"{server}/library/{NICARAGUA}")  # served as octet-stream: the bytes decide
    assert pdf.data == (LIBRARY / NICARAGUA).read_bytes() and pdf.suffix == ".pdf"
    assert pdf.name == "pdf-usdos-hrr-2023-nicaragua.pdf"


@pytest.mark.parametrize("path, message", [
    ("/missing", "HTTP 404"), ("/loop", "more than 5 redirects"), ("/login", "login page"),
    ("/image", r"not a web page or a PDF \(image/png\)"), ("/huge", "kzqa takes documents up to"),
])
def test_every_failure_is_one_line_saying_what(server, path, message):
    with pytest.raises(FetchError, match=message) as err:
        fetch(server + path)
    assert "\n" not in str(err.value) and str(err.value).startswith(server + path)


def test_a_server_that_does_not_answer_in_time_is_given_up(server, monkeypatch):
    monkeypatch.setattr("kzqa.fetch.READ_SECONDS", 0.5)
    with pytest.raises(FetchError, match="no answer within"):
        fetch(server + "/slow")


def test_unreachable_and_other_schemes_are_refused_clearly():
    with pytest.raises(FetchError, match="http:// and https:// addresses only"):
        fetch("file:///etc/passwd")
    with pytest.raises(FetchError, match="cannot download"):
        fetch("http://127.0.0.1:9/report.pdf")  # the discard port: nothing listens


def test_file_names_come_from_the_address():
    url = "https://www.state.gov/reports/2023-country-reports-on-human-rights-practices/kazakhstan/"
    assert file_name(url, ".html") == "2023-country-reports-on-human-rights-practices-kazakhstan.html"
    assert file_name("https://example.org/a/B%20c.PDF", ".pdf") == "a-b-c.pdf"
    assert file_name("https://example.org/", ".html") == "example-org.html"
    assert is_address("https://x.org/a") and not is_address("reports/a.pdf") and not is_address("C:\\a.pdf")
