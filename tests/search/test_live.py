"""A running server follows its index: after `kzqa add` / `remove` / `build` the next
question is answered from the new index, without a restart; answers in flight finish on
the index they started with; an index that cannot be loaded is not taken."""

from __future__ import annotations

import json

import kzqa
from conftest import FakeEmbedder, write
from kzqa.search.live import LiveQA

NEW_DOC = ("Zhanaozen oil workers strike\n\nThe oil workers of Zhanaozen went on strike for "
           "higher wages and the police fired on the strikers in the town square.\n")
QUESTION = "Did police fire on striking oil workers in Zhanaozen?"


def test_the_next_question_after_an_add_is_answered_from_the_new_index(built, tmp_path, capsys):
    corpus, index = built
    live = LiveQA(index)
    before = live.qa
    assert all("Zhanaozen" not in h.text for h in live.search(QUESTION, k=3).passages)
    kzqa.add([write(tmp_path / "in" / "zhanaozen.txt", NEW_DOC)], corpus, index, embedder=FakeEmbedder())
    after = live.search(QUESTION, k=3)
    assert "Zhanaozen" in after.passages[0].text and live.reloads == 1
    assert "zhanaozen" in live.documents
    # a question that started on the old index finishes there, whole and verbatim
    assert all("Zhanaozen" not in h.text for h in before.search(QUESTION, k=3).passages)
    assert "now answering from the rebuilt index" in capsys.readouterr().err
    kzqa.remove(["zhanaozen"], corpus, index, embedder=FakeEmbedder())
    assert "zhanaozen" not in live.documents and live.reloads == 2


def test_an_index_that_cannot_be_loaded_is_not_taken(built, capsys):
    _, index = built
    live = LiveQA(index)
    manifest = index / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format_version"] = 999
    manifest.write_text(json.dumps(data))
    answer = live.search("permits for public demonstrations", k=1)  # still the previous index
    assert answer.passages and live.reloads == 0
    err = capsys.readouterr().err
    assert "still answering from the previous index" in err and "Rebuild it with" in err
    live.search("permits", k=1)
    assert capsys.readouterr().err == ""  # said once per manifest, not on every question


def test_a_running_server_keeps_answering_when_the_index_is_altered_under_it(built, capsys):
    """Issue 24, item 9: a document date that is not text gave a bare 500 over HTTP."""
    from conftest import http_get, start_server
    from kzqa.serve.server import make_server

    _, index = built
    live = LiveQA(index)
    server = start_server(make_server(live))
    address = next(server)
    try:
        manifest = index / "manifest.json"
        data = json.loads(manifest.read_text())
        data["documents"][0]["source"]["date"] = 20230101
        manifest.write_text(json.dumps(data))
        status, body = http_get(f"{address}api/ask?question=permits%20for%20demonstrations&k=2")
        assert status == 200 and body["passages"] and live.reloads == 0
        err = capsys.readouterr().err
        assert "still answering from the previous index" in err and "metadata 'date' must be text" in err
    finally:
        next(server, None)
