"""Adding a document by its address: what is downloaded, and every way it can fail, each
in one line. A server on 127.0.0.1 serves the real library documents of ../shared/library
and a few broken answers."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from conftest import LIBRARY, write
from kzqa.ingest.fetch import FetchError, fetch, file_name, is_address

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


@pytest.fixture(autouse=True)
def _allow_the_test_server(request, monkeypatch):
    """The loopback server stands for a public one: named in KZQA_FETCH_ALLOW, as an intranet
    mirror would be (nothing local is fetched otherwise)."""
    if "server" in request.fixturenames:
        monkeypatch.setenv("KZQA_FETCH_ALLOW", request.getfixturevalue("server").removeprefix("http://"))


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
    monkeypatch.setattr("kzqa.ingest.fetch.READ_SECONDS", 0.5)
    with pytest.raises(FetchError, match="no answer within"):
        fetch(server + "/slow")


def test_unreachable_and_other_schemes_are_refused_clearly(monkeypatch):
    with pytest.raises(FetchError, match="http:// and https:// addresses only"):
        fetch("file:///etc/passwd")
    monkeypatch.setenv("KZQA_FETCH_ALLOW", "127.0.0.1:9")
    with pytest.raises(FetchError, match="cannot download"):
        fetch("http://127.0.0.1:9/report.pdf")  # the discard port: nothing listens


def test_file_names_come_from_the_address():
    url = "https://www.state.gov/reports/2023-country-reports-on-human-rights-practices/kazakhstan/"
    assert file_name(url, ".html") == "2023-country-reports-on-human-rights-practices-kazakhstan.html"
    assert file_name("https://example.org/a/B%20c.PDF", ".pdf") == "a-b-c.pdf"
    assert file_name("https://example.org/", ".html") == "example-org.html"
    assert is_address("https://x.org/a") and not is_address("reports/a.pdf") and not is_address("C:\\a.pdf")


def _cli(*args: str) -> int:
    from kzqa.cli.main import main

    return main(list(args))


def test_kzqa_add_by_address_keeps_the_bytes_the_address_and_the_date(server, built, capsys):
    import kzqa

    corpus, index = built
    url = f"{server}/library/{REPORT_2023}"
    assert _cli("add", url, f"{server}/missing", "--corpus", str(corpus), "--index", str(index)) == 1
    err = capsys.readouterr().err
    assert f"downloading {url}" in err and f"not added {server}/missing: the server answered HTTP 404" in err
    name = "usdos-kazakhstan-usdos-hrr-2023-kazakhstan.html"
    assert (corpus / name).read_bytes() == (LIBRARY / REPORT_2023).read_bytes()
    record = kzqa.load(index).documents[name.removesuffix(".html")]
    assert record.source.url == url and record.source.accessed and record.source.accessed[:2] == "20"
    assert _cli("add", f"{server}/login", "--corpus", str(corpus), "--index", str(index)) == 2
    assert "nothing was added" in capsys.readouterr().err and not list(corpus.glob("login*"))


def test_a_collection_is_added_whole_with_its_facts_from_its_addresses(server, built, tmp_path, capsys):
    import yaml

    import kzqa
    from kzqa.ingest.catalogue import CATALOGUE

    corpus, index = built
    shipped = yaml.safe_load((CATALOGUE / "usdos-kazakhstan.yaml").read_text(encoding="utf-8"))
    for doc in shipped["documents"]:  # the same collection, its addresses pointed at the loopback copy
        doc["url"] = f"{server}/library/usdos-kazakhstan/{doc['file']}"
    mine = write(tmp_path / "usdos-local.yaml", yaml.safe_dump(shipped, allow_unicode=True))
    assert _cli("add", "--collection", str(mine), "--corpus", str(corpus), "--index", str(index)) == 0  # old name
    err = capsys.readouterr().err
    assert "[9/9] downloading" in err and "Added usdos-hrr-2016-kazakhstan.html" in err
    qa = kzqa.load(index)
    record = qa.documents["usdos-hrr-2023-kazakhstan"]
    assert record.source.title == "2023 Country Reports on Human Rights Practices: Kazakhstan"
    assert (record.source.publisher, record.source.covers, record.source.country) == \
        ("U.S. Department of State", "2023", "Kazakhstan")
    assert _cli("add", "--source-list", str(mine), "--corpus", str(corpus), "--index", str(index)) == 0
    assert "usdos-hrr-2016-kazakhstan.html is already in the corpus, unchanged" in capsys.readouterr().err
