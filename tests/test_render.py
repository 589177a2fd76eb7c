"""How answers are shown: plain text verbatim, Markdown that displays exactly the source."""

from __future__ import annotations

import html
import re

import pytest

from kzqa.render import NO_ANSWER, answer_markdown, answer_text, literal
from kzqa.results import Answer, Hit


def _hit(text="A quote.", **kw) -> Hit:
    base = dict(id="d#1", text=text, score=0.5, doc_id="d", file="d.txt", title="Title",
                section="Sec", paragraph=1, part=0, start=0, end=len(text), publisher="Pub",
                url="https://example.org/a(b)")
    return Hit(**{**base, **kw})


def _unescape(markdown: str) -> str:
    return html.unescape(markdown.replace("<br>", "\n"))


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "**bold** _it_ `code`",
    "[link](https://evil.example) https://bare.example www.example.com", "# not a heading",
    "1. not a list", "- not a list", "> not a quote", "$$x^2$$", "a  two-space\ttab",
    "line one\r\nline two\nline three", "U .S. “quotes” — dashes", "back\\slash | pipe ~strike~",
])
def test_literal_markdown_shows_exactly_the_text(text):
    md = literal(text)
    assert _unescape(md).replace("\xa0", " ") == text.replace("\r\n", "\n")
    bare = re.sub(r"&#\d+;|&nbsp;|<br>", "", md)
    assert not re.search(r"[<>*_`\[\]()#|~$\\&]", bare)  # no live syntax left
    assert "http://" not in md and "https://" not in md and "www." not in md  # no autolinks


def test_plain_text_keeps_the_quote_verbatim():
    hit = _hit("  odd  spacing **kept** ")
    out = answer_text(Answer("q", (hit,), False))
    assert "\n  odd  spacing **kept** \n" in out and hit.citation() in out
    assert answer_text(Answer("q", (), True)).endswith(NO_ANSWER)


def test_markdown_reply_quotes_the_best_and_folds_the_rest():
    answer = Answer("q", (_hit("Best <b>one</b>."), _hit("Second."), _hit("Third.")), False)
    md = answer_markdown(answer)
    assert md.startswith("> Best &#60;b&#62;one&#60;&#47;b&#62;&#46;")
    assert "<details><summary>2 more supporting passages</summary>" in md
    assert md.count("\n> ") == 2 and md.rstrip().endswith("</details>")
    assert "[example&#46;org ↗](https://example.org/a%28b%29)" in md  # the one link, from metadata


def test_markdown_abstention_offers_examples_and_no_passage():
    md = answer_markdown(Answer("q", (), True), examples=["Can people *protest*?"])
    assert NO_ANSWER in md and "Can people &#42;protest&#42;?" in md and ">" not in md
