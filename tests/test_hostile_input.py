"""Odd and hostile questions get an answer or a clear message on every surface, never a
traceback or a server error. (The chat page is covered in test_browser.py.)"""

from __future__ import annotations

import json

import pytest

from conftest import http_post
from kzqa.cli import main

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
