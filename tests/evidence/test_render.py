"""How answers are shown: plain text verbatim, Markdown that displays exactly the source."""

from __future__ import annotations

import html
import re

import pytest

from kzqa.citation import Citation, citation_text
from kzqa.evidence.render import (
    NO_ANSWER,
    answer_markdown,
    answer_text,
    citation_markdown,
    literal,
)
from kzqa.results import Answer, Hit


def _hit(text="A quote.", **kw) -> Hit:
    base = {"id": "d#1", "text": text, "score": 0.5, "doc_id": "d", "file": "d.txt",
            "title": "Title", "section": "Sec", "paragraph": 1, "part": 0, "start": 0,
            "end": len(text), "publisher": "Pub", "url": "https://example.org/a(b)"}
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
    assert "[https&#58;&#47;&#47;example&#46;org&#47;a&#40;b&#41;](https://example.org/a%28b%29)" in md  # the one link, from metadata


def test_markdown_abstention_offers_examples_and_no_passage():
    md = answer_markdown(Answer("q", (), True), examples=["Can people *protest*?"])
    assert NO_ANSWER in md and "Can people &#42;protest&#42;?" in md and ">" not in md


ARTICLE = Citation(author="Hugh Williamson", title="Kazakhstan’s Human Rights Crackdown",
                   subtitle="Astana Is Moving Backwards", publisher="Foreign Affairs",
                   date="2016-12-21", paragraph=4,
                   url="https://www.foreignaffairs.com/articles/asia/2016-12-21/crackdown")
PDF_PAGES = Citation(title="Assembly and Association 2023", publisher="Civic Monitor",
                     date="2023-11-07", section=("Assembly and Association 2023", "Protests"),
                     paragraph=31, part=2, pages=(2, 3), url="https://civic-monitor.example/r.pdf")
BARE = Citation(title="Untitled  notes", paragraph=2)  # n.d., no publisher, no URL
HOSTILE = Citation(author="[x](javascript:alert(1))", title="**Bold** <script>alert(1)</script>",
                   subtitle="`code` _it_", publisher="<img src=x onerror=alert(1)>",
                   date="2020", section=("# Heading", "a | b"), paragraph=1,
                   url="https://example.org/a(b)")


def _seen(markdown: str) -> tuple[str, str | None]:
    """What a reader of the Markdown sees as words (markup removed), and the link target."""
    link = re.search(r" \[[^\]]*\]\(([^)]*)\)$", markdown)
    words = markdown[: link.start()] if link else markdown
    assert "](" not in words  # one link at most, and only at the end
    return _unescape(words.replace("**", "")).replace("\xa0", " "), link and link.group(1)


def test_markdown_citation_bolds_the_title_and_links_the_full_url_once():
    assert citation_markdown(ARTICLE) == (
        "Hugh Williamson, **“Kazakhstan’s Human Rights Crackdown&#58; Astana Is Moving Backwards”**, "
        "Foreign Affairs, 2016&#45;12&#45;21, ¶ 4&#46; "
        "[https&#58;&#47;&#47;www&#46;foreignaffairs&#46;com&#47;articles&#47;asia&#47;2016&#45;12&#45;21&#47;crackdown]"
        "(https://www.foreignaffairs.com/articles/asia/2016-12-21/crackdown)")
    assert citation_markdown(BARE) == "**“Untitled &nbsp;notes”**, n&#46;d&#46;, ¶ 2&#46;"


@pytest.mark.parametrize("cited", [ARTICLE, PDF_PAGES, BARE, HOSTILE], ids=lambda c: c.title[:8])
def test_markdown_citation_shows_the_words_of_the_plain_style(cited):
    words, target = _seen(citation_markdown(cited))
    text = citation_text(cited)
    if cited.url:
        assert text == f"{words} {cited.url}" and target is not None
        assert target.replace("%28", "(").replace("%29", ")") == cited.url
    else:
        assert text == words and target is None


def test_markdown_citation_shows_markup_in_metadata_literally():
    md = citation_markdown(HOSTILE)
    assert "<" not in md and "javascript:" not in md and "`" not in md and "# " not in md
    assert md.count("**") == 2 and md.count("](") == 1
    assert "[https&#58;&#47;&#47;example&#46;org&#47;a&#40;b&#41;](https://example.org/a%28b%29)" in md


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "http://[bad"])
def test_a_url_that_is_not_a_web_address_is_shown_not_linked(url):
    md = citation_markdown(Citation(title="T", paragraph=1, url=url))
    assert "](" not in md and "<" not in md
    assert _seen(md) == (citation_text(Citation(title="T", paragraph=1, url=url)), None)


def test_where_else_a_quote_stands_is_said_under_it_in_text_and_markdown():
    from kzqa.results import Answer, Echo, Hit

    echoes = (Echo("r-2020#1", "r-2020", "2020 Report", "2021-03-01", "2020",
                   Citation(title="2020 Report", date="2021-03-01", paragraph=1)),
              Echo("r-2019#1", "r-2019", "2019 <b>Report</b>", "2020-03-01", "2019",
                   Citation(title="2019 <b>Report</b>", paragraph=1, url="https://example.org/2019")))
    hit = Hit(id="r-2021#1", text="Permits are required.", score=0.9, doc_id="r-2021", file="r-2021.txt",
              title="2021 Report", section=None, paragraph=1, part=0, start=0, end=21, covers="2021",
              also_in=echoes)
    answer = Answer("Are permits required?", (hit,), abstained=False)
    text = answer_text(answer)
    assert "Also in the 2020 and 2019 editions (same text, or nearly):" in text
    assert "  — “2020 Report”, 2021-03-01, ¶ 1." in text
    markdown = answer_markdown(answer)
    assert "<summary>Also in the 2020 and 2019 editions" in markdown
    assert "<b>" not in markdown and "&#60;b&#62;Report" in markdown  # literal, not markup
    assert "[https&#58;&#47;&#47;example&#46;org&#47;2019](https://example.org/2019)" in markdown
    assert "  — 2020 Report, 1 March 2021, ¶ 1" in answer_text(answer, style="coi")  # every style
    assert kzqa_answer_roundtrip(answer)
    single = Hit(**{**{f: getattr(hit, f) for f in hit.__slots__}, "also_in": echoes[:1]})
    assert "Also in the 2020 edition (same" in answer_text(Answer("q", (single,), False))


def test_the_chat_shows_a_pdf_paragraph_as_running_text_and_the_text_output_keeps_it_exact():
    from kzqa.results import Answer, Hit

    text = "Authorities  restricted\nfreedom of\u00a0assembly. Police\r\ndetained protesters."
    hit = Hit(id="r#1", text=text, score=0.9, doc_id="r", file="r.pdf", title="R", section=None,
              paragraph=1, part=0, start=0, end=len(text), pages=(2, 3), highlights=((0, 44),))
    answer = Answer("q", (hit,), abstained=False)
    markdown = answer_markdown(answer)
    quote = markdown.split("\n\n— ")[0]
    assert "&nbsp;" not in quote and "<br>" not in quote and "\u00a0" not in quote
    assert quote == "> <strong>Authorities restricted freedom of assembly&#46;</strong> Police detained protesters&#46;"
    assert text in answer_text(answer)  # the plain text (CLI, /chat, JSON) stays verbatim


def test_plain_text_explains_scores_out_of_order_only_when_they_are():
    """Issue 16: diversity (MMR) can place a passage above one with a higher score."""
    why = "ordered to bring in different content, not by score alone"
    reordered = Answer("q", (_hit(score=0.9), _hit(score=0.6), _hit(score=0.62)), False)
    assert answer_text(reordered).splitlines()[1] == (
        "(Passages after the first are ordered to bring in different content, not by score alone; "
        "each score is that passage's own match to the question.)")
    for scores in [(0.9, 0.62, 0.6), (0.9, 0.6, 0.6), (0.9,)]:
        assert why not in answer_text(Answer("q", tuple(_hit(score=s) for s in scores), False))


# -- issue 16: strength, closest passages, copy and pin buttons -------------------------

LAID_OUT = "Detainees\nwere  held\u00a0without charge\n for  thirty days."


def _buttons(markdown: str) -> list[tuple[str, str, str]]:
    """(class, decoded value, title) of each button in a chat reply."""
    import base64

    found = re.findall(r'<button type="button" class="(kzqa-\w+)" value="([^"]*)" title="([^"]*)">', markdown)
    return [(c, base64.b64decode(v).decode(), t) for c, v, t in found]


@pytest.mark.parametrize("margin, label", [(5.0, "Strong match"), (2.19, "Partial match"), (0.0, "Partial match")])
def test_an_answer_says_how_strong_its_match_is(margin, label):
    answer = Answer("q", (_hit(),), False, margin=margin)
    assert answer_text(answer).splitlines()[1].startswith(f"({label}")
    assert f">{literal(label)}" in answer_markdown(answer).split("\n")[0].replace("&nbsp;", " ")


def test_closest_passages_are_shown_only_on_request_and_marked_weak():
    abstained = Answer("q", (), True, margin=-0.4, closest=(_hit("Near miss."),))
    assert abstained.strength == "weak"
    assert "Near miss." not in answer_text(abstained) and "Near miss" not in answer_markdown(abstained)
    text = answer_text(abstained, closest=True)
    assert text.index(NO_ANSWER) < text.index("Closest passages (weak: not an answer") < text.index("Near miss.")
    markdown = answer_markdown(abstained, closest=True)
    assert markdown.startswith(f"**{NO_ANSWER}**") and "Closest passages (weak: not an answer" in _unescape(markdown)
    assert [c for c, _, _ in _buttons(markdown)] == ["kzqa-copy", "kzqa-copy"]  # copy, never pin


def test_copy_buttons_carry_the_quote_as_running_text_and_the_full_citation():
    hit = _hit(LAID_OUT, url="https://example.org/reports/2024/detention.pdf", pages=(3,))
    markdown = answer_markdown(Answer("Are people detained without charge?", (hit,), False), style="coi")
    (c1, both, t1), (c2, cite, t2), (c3, pin, t3) = _buttons(markdown)
    assert (c1, c2, c3) == ("kzqa-copy", "kzqa-copy", "kzqa-pin")
    assert both == f"“Detainees were held without charge for thirty days.”\n— {cite}"
    assert cite == hit.citation_in("coi") and cite.endswith("https://example.org/reports/2024/detention.pdf")
    import json

    assert json.loads(pin)["id"] == "d#1" and json.loads(pin)["question"] == "Are people detained without charge?"
    assert t1 == "Copy quote 1 with its citation" and t3 == "Pin quote 1 to your collection"
    assert LAID_OUT in answer_text(Answer("q", (hit,), False))  # the plain text stays verbatim


def kzqa_answer_roundtrip(answer) -> bool:
    """The JSON form reads back to the same answer, where-else citations included."""
    from kzqa.results import Answer

    return Answer.from_dict(answer.to_dict("coi")) == answer
