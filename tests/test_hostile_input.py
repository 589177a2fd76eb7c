"""Odd and hostile questions get an answer or a clear message on every surface, never a
traceback or a server error. (The chat page is covered in serve/test_browser.py.)"""

from __future__ import annotations

import json
import urllib.parse

import pytest

from conftest import http_get, http_post
from kzqa.cli.main import main

ODD = [
    "Выборы в Казахстане свободны?", "Сайлау еркін бе?", "هل الانتخابات حرة؟", "🗳️❓", "?!?…",
    "the of and to", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "**bold** `code` [x](javascript:alert(1))", "a\x00b\x07c", "bad \ud800 surrogate", "\u202eevil",
]
REFUSED = ["", "   \n\t ", "\x00\x01\x02", "x" * 100_000]


@pytest.fixture
def index(built):
    return built[1]


@pytest.mark.parametrize("question", ODD)
def test_python_api_answers_or_abstains(index, question):
    import kzqa
    from conftest import FakeEmbedder

    answer = kzqa.load(index, embedder=FakeEmbedder()).ask(question)
    assert isinstance(answer, kzqa.Answer) and answer.abstained == (answer.passages == ())


@pytest.mark.parametrize("question", ODD + REFUSED)
def test_cli_answers_or_refuses_clearly(index, capsys, question):
    code = main(["ask", "--index", str(index), "--json", question])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if question in REFUSED:
        assert code == 2 and err.startswith("kzqa: error: ") and out == ""
        assert ("empty" in err) or ("limit is 2,000" in err)
    else:
        assert code == 0 and isinstance(json.loads(out)["abstained"], bool)


def test_cli_batch_survives_every_odd_line(index, capsys, monkeypatch):
    import io

    lines = [q.replace("\n", " ") for q in ODD + REFUSED[:1] + ["x" * 100_000]]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code = main(["ask", "--index", str(index), "--json"])
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and "Traceback" not in err
    assert sum("error" in r for r in rows) == 1 and len(rows) == len(ODD) + 1


@pytest.mark.model
@pytest.mark.parametrize("question", ODD + REFUSED)
def test_http_answers_or_refuses_clearly(live_server, question):
    body = json.dumps({"question": question}).encode()  # lone surrogates travel as \ud800
    status, data = http_post(f"{live_server}api/ask", body)
    if question in REFUSED:
        assert status in (400, 422) and data["error"]  # kzqa's message, or the size check's
    elif "\ud800" in question:
        assert status == 422 and "question" in data["error"]  # not valid text: refused, no 500
    else:
        assert status == 200 and isinstance(data["abstained"], bool)


@pytest.mark.model
def test_http_rejects_broken_json_and_wrong_types_clearly(live_server):
    for body in (b"{not json", b'{"question": 42}', b'{"question": "ok", "k": "many"}',
                 b'{"question": "ok", "history": "not a list"}', b"\xff\xfe"):
        status, data = http_post(f"{live_server}api/ask", body)
        assert status == 422 and data["error"].startswith("invalid request: ")


@pytest.mark.model
def test_http_errors_say_in_words_what_is_wrong_with_the_request(live_server):
    """Issue 16: malformed JSON got "invalid request: 0: JSON decode error". Each message
    names the field (or the body) and what was expected, in one line, without the input."""
    cases = [
        (b'{"question": ', "invalid request: body: not valid JSON (expecting value after the first 13 characters)"),
        (b"{not json", "invalid request: body: not valid JSON (expecting property name enclosed in "
                       "double quotes after the first character)"),
        (b"", 'invalid request: body: empty; send a JSON object such as {"question": "..."}'),
        (b"[1, 2]", 'invalid request: body: expected a JSON object such as {"question": "..."}, got a list'),
        (b"{}", "invalid request: question: missing; it is required"),
        (b'{"question": 42}', "invalid request: question: expected a string, got a number"),
        (b'{"question": "ok", "k": "many"}', "invalid request: k: expected a whole number, got a string"),
        (b'{"question": "ok", "k": 0}', "invalid request: k: must be at least 1"),
        (b'{"question": "ok", "history": [1]}', "invalid request: history[0]: expected a string, got a number"),
        (b'{"question": "ok", "filters": {"year": 2020}}',
         "invalid request: filters.year: not a known field (known: documents, publishers, countries, since, until)"),
        (b'{"question": "ok", "filter": {"since": 2020}}',  # issue 24, item 10: was 200, unfiltered
         "invalid request: filter: not a known field (known: question, k, history, filters, style)"),
        (b'{"question": "ok", "hisotry": ["Who?"]}',
         "invalid request: hisotry: not a known field (known: question, k, history, filters, style)"),
        (b'{"question": "\\ud800"}', "invalid request: question: not valid text (a \\ud800-\\udfff escape without its pair)"),
        (b'{"question": "\xe9"}', "invalid request: body: not UTF-8 text (byte 15 is not UTF-8)"),
    ]
    for body, message in cases:
        status, data = http_post(f"{live_server}api/ask", body)
        assert (status, data) == (422, {"error": message}), body
    status, data = http_get(f"{live_server}api/ask?question=ok&k=x")
    assert (status, data) == (422, {"error": "invalid request: k: expected a whole number"})
    from loopback import request

    status, _, body = request(live_server, "POST", "/api/ask", b'{"question": "ok"}', {"Content-Type": "text/plain"})
    assert (status, json.loads(body)) == (422, {"error": 'invalid request: body: expected a JSON object such as '
                                                         '{"question": "..."}, sent with Content-Type: application/json'})


@pytest.mark.model
def test_gradio_api_answers_or_refuses_clearly(live_server):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(live_server, verbose=False)
    for question in [q for q in ODD + REFUSED if "\ud800" not in q]:  # httpx cannot send those
        try:
            reply = client.predict(question, api_name="/chat")
            assert reply.startswith("Q: ")
        except AppError as e:
            assert question in REFUSED and ("empty" in str(e) or "limit" in str(e))


@pytest.mark.model
def test_http_contract_of_the_limits_table(live_server):
    """The "Limits and errors" rows for HTTP (docs/limits.md), one by one."""
    from loopback import request

    huge = (b" " * 65536 for _ in range(17))  # 1 MiB + 64 KiB, chunked: no Content-Length to refuse
    status, headers, body = request(live_server, "POST", "/api/ask", huge,
                                    {"Content-Type": "application/json"}, chunked=True)
    assert status == 413 and "KiB" in json.loads(body)["error"] and headers["connection"] == "close"
    deep = b'{"question": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, data = http_post(f"{live_server}api/ask", deep)
    assert status == 422 and data["error"].startswith("invalid request: body:")
    for wrong in ({"k": True}, {"k": "3"}, {"k": 3.0}, {"history": [1]}, {"history": ["a", None]}):
        status, data = http_post(f"{live_server}api/ask", {"question": "protest", **wrong})
        assert status == 422 and data["error"].startswith("invalid request: "), wrong
    status, headers, body = request(live_server, "HEAD", "/api/ask?question=protest&k=1")
    assert status == 200 and body == b"" and headers["content-type"] == "application/json"
    status, headers, body = request(live_server, "HEAD", "/api/health")
    assert status == 200 and body == b""
    for method, path, allow in (("PUT", "/api/ask", "GET, HEAD, POST"), ("DELETE", "/api/health", "GET, HEAD"),
                                ("POST", "/api/openapi.json", "GET, HEAD")):
        status, headers, body = request(live_server, method, path)
        assert status == 405 and headers["allow"] == allow and json.loads(body)["error"]
    status, _, body = request(live_server, "GET", "/api/nothing-here")
    assert status == 404 and json.loads(body)["error"]
    status, headers, body = request(live_server, "TRACE", "/api/ask")  # issue 24, item 10: was 404
    assert status == 405 and headers["allow"] == "GET, HEAD, POST" and json.loads(body)["error"]
    status, data = http_post(f"{live_server}api/export", {"items": [{"question": "q", "passage": "x#1"}]})
    assert (status, data["error"]) == (422, "invalid request: items[0].passage_id: missing; it is required; "
                                            "items[0].passage: not a known field (known: question, passage_id)")


@pytest.mark.model
def test_a_url_over_the_head_limit_gets_414_and_headers_431_not_a_reset(live_server):
    """Issue 24, item 10: a 1 MiB question in the URL reset the connection."""
    from loopback import request

    for size in (20_000, 1024 * 1024):
        status, headers, body = request(live_server, "GET", "/api/ask?question=" + "a" * size)
        assert status == 414 and json.loads(body) == {"error": "the request's address (URL) over 16 KiB"}
        assert headers["connection"] == "close"
    status, _, body = request(live_server, "GET", "/api/health", headers={"X-Padding": "b" * 40_000})
    assert status == 431 and "headers over 16 KiB" in json.loads(body)["error"]
    cyrillic = urllib.parse.quote("Свобода собраний " * 117)  # 1,989 characters, 11,232 in the URL
    status, _, _ = request(live_server, "GET", f"/api/ask?k=1&question={cyrillic}")
    assert status == 200
    big = {"question": "Can people protest?", "history": ["Earlier question " * 50] * 20}
    status, data = http_post(f"{live_server}api/ask", json.dumps(big).encode() + b" " * 200_000)
    assert status == 200 and data["passages"]  # a large body is not a large head


class GatedQA:
    """A QA whose answers wait at a gate the test opens; counts answers running at once."""

    def __init__(self, qa):
        import threading

        self.qa, self.gate, self.lock = qa, threading.Event(), threading.Lock()
        self.gate.set()
        self.running = self.most = 0

    def __getattr__(self, name):
        return getattr(self.qa, name)

    def ask(self, *args, **kwargs):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            self.gate.wait(60)
            return self.qa.ask(*args, **kwargs)
        finally:
            with self.lock:
                self.running -= 1


WORKING, WAITING = 2, 50  # more waiting than anyio's 40 threads: the old bound never triggered


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """A server over the fake model with short read deadlines (1 s), 100 connections at most
    and 2 + 50 REST answer slots, on a free loopback port: (base URL, GatedQA, protocol)."""
    import shutil
    import socket
    import threading
    import time

    import uvicorn

    import kzqa
    from conftest import CORPUS, FAKE_SETTINGS, FakeEmbedder
    from kzqa.serve.guards import guarded_h11
    from kzqa.serve.server import make_server, uvicorn_config

    root = tmp_path_factory.mktemp("guarded")
    shutil.copytree(CORPUS, root / "corpus")
    kzqa.build(root / "corpus", root / "index", FAKE_SETTINGS, embedder=FakeEmbedder())
    qa = GatedQA(kzqa.load(root / "index", embedder=FakeEmbedder()))
    protocol = guarded_h11(header_timeout=1.0, body_timeout=1.0, max_connections=100)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_server(qa, working=WORKING, waiting=WAITING)
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, protocol=protocol))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", qa, protocol
    qa.gate.set()
    server.should_exit = True
    thread.join(timeout=10)


def health_answers(url: str) -> None:
    """GET /api/health on a fresh connection, asserting it answered."""
    import urllib.request

    with urllib.request.urlopen(f"{url}api/health", timeout=10) as r:
        assert r.status == 200 and json.loads(r.read())["status"] == "ok"


def trickle(url: str, count: int, head: bytes, drip: bytes, seconds: float,
            opened=None) -> list[bytes | None]:
    """Open ``count`` loopback connections that send ``head`` (then set the event ``opened``)
    and then ``drip`` every 0.1 s for at most ``seconds``; return what each received before
    the server closed it, or None for each the server left open."""
    import select
    import socket
    import time
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    socks = []
    for _ in range(count):
        s = socket.create_connection((parts.hostname, parts.port), timeout=5)
        s.sendall(head)
        socks.append(s)
    if opened is not None:
        opened.set()
    got: dict[socket.socket, bytes] = {}
    end = time.monotonic() + seconds
    while time.monotonic() < end and len(got) < count:
        for s in socks:
            if s in got:
                continue
            if select.select([s], [], [], 0)[0]:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data or data.endswith(b"\r\n\r\n") or b"}" in data:
                    got[s] = data
                    continue
            try:
                s.sendall(drip)
            except OSError:
                got[s] = b""
        time.sleep(0.1)
    for s in socks:
        s.close()
    return [got.get(s) for s in socks]


def test_slow_clients_are_cut_off_and_health_answers_meanwhile(guarded):
    import concurrent.futures

    url, _, _ = guarded
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        heads = pool.submit(trickle, url, 20, b"GET /api/health HTTP/1.1\r\nHost: x\r\n", b"X-a: b\r\n", 8.0)
        bodies = pool.submit(trickle, url, 8, b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: "
                             b"application/json\r\nContent-Length: 100000\r\n\r\n{", b" ", 8.0)
        for _ in range(10):
            health_answers(url)  # answered (200) ...
        meanwhile = not heads.done() and not bodies.done()  # ... while the slow clients still hold on
        heads, bodies = heads.result(), bodies.result()
    assert all(r is not None and r.startswith(b"HTTP/1.1 408") for r in heads), heads  # header deadline
    assert all(r is not None for r in bodies), bodies  # body deadline: closed
    assert meanwhile


def test_connections_past_the_cap_push_out_the_slowest_not_the_newest(guarded, monkeypatch):
    import concurrent.futures
    import threading

    url, _, protocol = guarded
    monkeypatch.setattr(protocol, "header_timeout", 30.0)  # only the cap closes connections here
    monkeypatch.setattr(protocol, "max_connections", 40)
    opened = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(trickle, url, 60, b"GET /api/health HTTP/1.1\r\n", b"X-a: b\r\n", 4.0, opened)
        assert opened.wait(10)  # 60 slow clients on a server that keeps 40 connections
        for _ in range(10):
            health_answers(url)  # answered (200) ...
        meanwhile = not slow.done()  # ... while the slow clients still hold on
        slow = slow.result()
    assert meanwhile
    closed = [r is not None for r in slow]
    assert 20 <= sum(closed) <= 30 and closed == sorted(closed, reverse=True), closed  # oldest first


def test_rest_refuses_past_the_bound_at_once_and_health_never_waits(guarded):
    import concurrent.futures
    import time

    url, qa, _ = guarded
    total, admitted = 70, WORKING + WAITING
    qa.gate.clear()  # no answer finishes until the checks below are done
    try:
        with concurrent.futures.ThreadPoolExecutor(total) as pool:
            asks = [pool.submit(http_post, f"{url}api/ask", {"question": f"protest permits {n}"})
                    for n in range(total)]
            deadline = time.monotonic() + 20
            while (sum(f.done() for f in asks) < total - admitted or qa.running < WORKING) \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            refused = [f.result() for f in asks if f.done()]
            for _ in range(5):  # answered while no answer can finish (the gate is shut): it never waits
                health_answers(url)
            running = (qa.running, qa.most)
            qa.gate.set()
            statuses = sorted(f.result()[0] for f in asks)
    finally:
        qa.gate.set()
    assert len(refused) == total - admitted, "past the bound, refused while every answer still waits"
    assert all(status == 503 and data["error"].startswith("busy:") for status, data in refused)
    assert running == (WORKING, WORKING), running
    assert statuses == [200] * admitted + [503] * (total - admitted)
