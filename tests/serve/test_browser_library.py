"""The chat page over a library of report editions, in a real browser: every quote shows
its date, a paragraph the editions repeat is shown once with the others named, and the
filters choose the edition. The documents are the real state.gov pages of
../shared/library; the model is the fake one (this is about the page, not the ranking)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from playwright.sync_api import expect
from test_browser import ask, copied, open_page, shown_citation

import kzqa
from conftest import LIBRARY, FakeEmbedder, http_get, start_server, write
from kzqa.citation import long_date

pytestmark = [pytest.mark.browser]

DOMAINS = "suspend or revoke registration as punishment for placing computer databases or servers"
QUESTION = "Can authorities revoke the registration of a domain for placing servers outside the country?"


@pytest.fixture(scope="module")
def library_server(tmp_path_factory):
    """(address, index folder) of a server over the three editions (fake model)."""
    if not LIBRARY.is_dir():
        pytest.skip(f"the real documents are not at {LIBRARY} (../shared/library)")
    from kzqa.embed.embedding import substitute
    from kzqa.ingest.catalogue import CATALOGUE

    tmp = tmp_path_factory.mktemp("library")
    shipped = yaml.safe_load((CATALOGUE / "usdos-kazakhstan.yaml").read_text(encoding="utf-8"))
    shipped["documents"] = [d for d in shipped["documents"] if d["metadata"]["covers"] in ("2021", "2022", "2023")]
    three = write(tmp / "three-editions.yaml", yaml.safe_dump(shipped, allow_unicode=True))
    corpus, index = tmp / "corpus", tmp / "index"
    corpus.mkdir()
    with substitute(lambda name: FakeEmbedder()):
        kzqa.add([], corpus, index, collection=str(three), source=LIBRARY / "usdos-kazakhstan")
        qa = kzqa.load(index).warm_up()
    from kzqa.serve.server import make_server

    for url in start_server(make_server(qa)):
        yield url, index


@pytest.fixture
def page(browser, library_server, request):
    yield from open_page(browser, library_server[0], request, height=1200)


def test_a_repeated_paragraph_shows_once_from_the_latest_edition_with_its_date_and_the_others(page):
    reply = ask(page, QUESTION)
    shown = reply.locator("blockquote").first.inner_text()
    assert DOMAINS in shown, shown
    text = reply.inner_text()
    assert "2023 Country Reports on Human Rights Practices: Kazakhstan" in text and "2024-04-22" in text
    summary = reply.locator("summary", has_text="Also in the 2022 and 2021 editions").first
    summary.click()
    assert "2022 Country Reports on Human Rights Practices: Kazakhstan" in reply.inner_text()
    assert reply.inner_text().count(DOMAINS) == 1  # the echo is named, not quoted again


def test_the_filters_choose_the_edition(page):
    page.click("#kzqa-filters")
    page.click("#kzqa-until input")
    page.get_by_role("option", name="2021", exact=True).click()
    reply = ask(page, QUESTION)
    text = reply.inner_text()
    assert DOMAINS in text and "2021 Country Reports on Human Rights Practices: Kazakhstan" in text
    assert "2022-04-12" in text and "2023 Country Reports" not in text.split("Also in")[0]


# -- the researcher's workflow over the library (issue 16) ---------------------------------

INTERFERENCE = ("Is illegal interference by members of public associations in the activities of the government "
                "punished?")  # 2023: two paragraphs, one line break
PRETRIAL = "Was abuse prominent in pretrial facilities and interrogation rooms in 2022?"  # "\xa0 " runs
THREE = (QUESTION, "Are elections free and fair?", "Was torture used by police in prisons in 2022?")


def answer_of(url: str, question: str, style: str = "plain") -> dict:
    """The same server's answer as JSON (what its chat shows, as data)."""
    status, body = http_get(f"{url}api/ask?style={style}&question={quote(question)}")
    assert status == 200, body
    return body


def source_slice(index, passage: dict) -> str:
    """The characters the passage says it quotes, read from the source text again."""
    from kzqa.storage import store

    return store.source_texts_of(store.load(index))[passage["doc_id"]][passage["start"]:passage["end"]]


@pytest.mark.parametrize("question, layout", [(INTERFERENCE, "\n"), (PRETRIAL, "\xa0 ")],
                         ids=["line-break", "no-break-space"])
def test_a_copied_state_gov_quote_is_its_source_slice_in_single_spaces_with_the_full_url(
        page, library_server, question, layout):
    url, index = library_server
    reply = ask(page, question)
    top = answer_of(url, question)["passages"][0]
    text = source_slice(index, top)
    assert text == top["text"] and layout in text, text  # the page's layout, to be flattened
    flat = " ".join(text.split())
    assert reply.locator("blockquote").first.inner_text().strip() == flat
    citation = shown_citation(reply)
    assert top["url"].startswith("https://www.state.gov/reports/") and citation.endswith(top["url"])
    assert citation == top["citation"]
    assert copied(page, reply.locator("button.kzqa-copy").first) == f"“{flat}”\n— {citation}"


def _quoted_under_headings(markdown: str) -> dict[str, list[str]]:
    """{question heading: [each block quote's text, its "> " prefixes removed]}."""
    out: dict[str, list[str]] = {}
    heading, block = None, None
    for line in markdown.split("\n") + [""]:
        if line.startswith("## "):
            heading = line[3:]
            out[heading] = []
        elif line == ">" or line.startswith("> "):
            block = (block or []) + [line[2:]]
        elif block is not None:
            out[heading].append("\n".join(block))
            block = None
    return out


def test_four_quotes_pinned_from_three_questions_export_verbatim_and_verify_against_the_index(
        page, library_server, tmp_path):
    url, index = library_server
    replies = [ask(page, q) for q in THREE]
    answers = [answer_of(url, q, "coi") for q in THREE]
    replies[2].locator("summary", has_text="more supporting").click()  # its second quote: 2022's
    pins = [replies[0].locator("button.kzqa-pin").nth(0), replies[1].locator("button.kzqa-pin").nth(0),
            replies[2].locator("button.kzqa-pin").nth(0), replies[2].locator("button.kzqa-pin").nth(1)]
    pinned = [(THREE[0], answers[0]["passages"][0]), (THREE[1], answers[1]["passages"][0]),
              (THREE[2], answers[2]["passages"][0]), (THREE[2], answers[2]["passages"][1])]
    for button in pins:
        button.click()
        expect(button).to_have_text("Pinned ✓")
    count = page.locator("#kzqa-collection-count")
    expect(count).to_have_text("4 quotes pinned.")
    assert page.locator("#kzqa-collection-list li").count() == 4

    page.locator("#kzqa-style").get_by_text("COI (with the date accessed)").click()
    files = {}
    for fmt, name in (("markdown", "kzqa-evidence.md"), ("csv", "kzqa-evidence.csv"),
                      ("bibliography", "kzqa-bibliography.txt")):
        with page.expect_download() as download:
            page.click(f"#kzqa-export-{fmt}")
        assert download.value.suggested_filename == name
        files[fmt] = tmp_path / name
        download.value.save_as(files[fmt])
        expect(page.locator("#kzqa-collection-status")).to_have_text(f"Saved {name} (4 quotes, coi citations).")

    markdown = files["markdown"].read_text(encoding="utf-8")
    assert _quoted_under_headings(markdown) == {q: [p["text"] for q2, p in pinned if q2 == q] for q in THREE}
    for _, passage in pinned:
        assert f"\n— {passage['citation']}\n" in markdown  # COI: …, URL [accessed the day it was added]
        assert passage["citation"].endswith(f", {passage['url']} [accessed {long_date(passage['accessed'])}]")
    with files["csv"].open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["quote"] for r in rows] == [p["text"] for _, p in pinned]
    assert [r["question"] for r in rows] == [q for q, _ in pinned]
    assert [r["url"] for r in rows] == [p["url"] for _, p in pinned]
    documents = {p["doc_id"]: p for _, p in pinned}
    assert len(documents) == 2  # four quotes from two editions
    entries = files["bibliography"].read_text(encoding="utf-8").splitlines()
    assert len(entries) == len(documents) and len(set(entries)) == len(entries), entries
    for passage in documents.values():
        assert sum(passage["title"] in e and f"{passage['url']} [accessed " in e for e in entries) == 1
    page.locator("#kzqa-style").get_by_text("CSL-JSON (reference managers)").click()
    with page.expect_download() as download:
        page.click("#kzqa-export-bibliography")
    assert download.value.suggested_filename == "kzqa-bibliography.json"
    items = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))  # what a reference manager imports
    assert sorted((i["title"], i["URL"]) for i in items) == sorted((p["title"], p["url"]) for p in documents.values())

    assert kzqa.verify_export(files["markdown"], index) == ([], 4)
    assert kzqa.verify_export(files["csv"], index) == ([], 4)
    lines = markdown.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("> ") and len(line) > 12)
    lines[at] = lines[at][:12] + ("X" if lines[at][12] != "X" else "Y") + lines[at][13:]
    altered = tmp_path / "altered.md"
    altered.write_text("\n".join(lines), encoding="utf-8")
    mismatches, checked = kzqa.verify_export(altered, index)
    assert checked == 4 and len(mismatches) == 1 and mismatches[0].quote.number == 1, mismatches

    page.reload()
    page.wait_for_selector("#kzqa-question textarea", timeout=30_000)
    expect(count).to_have_text("4 quotes pinned.")  # kept in the browser across a reload
    items = page.locator("#kzqa-collection-list li")
    second = items.nth(1).inner_text()
    page.get_by_role("button", name="Unpin quote 2").click()
    expect(count).to_have_text("3 quotes pinned.")
    assert items.count() == 3 and second not in [i.inner_text() for i in items.all()]


def test_the_page_says_it_answers_from_the_seeds_while_the_library_is_built_then_from_the_library(
        browser, request, monkeypatch, tmp_path):
    """The Space's first start, in a real browser: the seed articles at once with the
    build's progress on the page, then the library, its sources and filters, without a
    reload."""
    import runpy

    if not LIBRARY.is_dir():
        pytest.skip(f"the real documents are not at {LIBRARY} (../shared/library): no mirror to serve")
    from loopback import LibraryMirror

    handler = type("Slow", (LibraryMirror,), {"missing": set(), "changed": set(), "delay": 0.4})
    import http.server
    import threading

    mirror = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=mirror.serve_forever, daemon=True).start()
    monkeypatch.delenv("KZQA_INDEX")
    monkeypatch.setenv("KZQA_LIBRARY_MIRROR", f"http://127.0.0.1:{mirror.server_address[1]}")
    monkeypatch.setenv("KZQA_FETCH_ALLOW", f"127.0.0.1:{mirror.server_address[1]}")
    app = runpy.run_path(str(Path(__file__).parents[2] / "app.py"), run_name="space_app")["create_app"](FakeEmbedder())
    try:
        for url in start_server(app):
            for page in open_page(browser, url, request, height=1200):
                status = page.locator("#kzqa-library-status")
                expect(status).to_contain_text("Answering from the two seed articles while the Kazakhstan library is built")
                sources = page.locator("#kzqa-sources")
                expect(sources).not_to_contain_text("2024 Country Reports")
                expect(status).to_contain_text("Answering from the Kazakhstan library (13 documents)", timeout=240_000)
                expect(sources).to_contain_text("2024 Country Reports on Human Rights Practices: Kazakhstan")
                expect(sources).to_contain_text("A/HRC/28/10")
                reply = ask(page, "What did the Universal Periodic Review recommend in 2014?")
                assert "A/HRC/28/10" in reply.inner_text() or "Country Reports" in reply.inner_text()
            break
    finally:
        mirror.shutdown()
