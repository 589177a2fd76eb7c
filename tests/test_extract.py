"""extract.py: the text a reader will be quoted from PDF and HTML files, its pages and the
metadata the files state. Fixtures are made on the fly (fixtures_docs.py)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest

from conftest import ROOT
from fixtures_docs import (
    ARTICLE_HTML,
    ARTICLE_PARAGRAPHS,
    BARE_HTML,
    BOILERPLATE,
    NO_CONTENT_HTML,
    REPORT_PAGES,
    encrypted_pdf_bytes,
    pdf_bytes,
    scanned_pdf_bytes,
)
from kzqa.citation import page_label
from kzqa.extract import (
    EXTRACTED_SUFFIXES,
    Extracted,
    ExtractionError,
    extract,
    pages_of,
)

PDF = Path("report.pdf")
HTML = Path("article.html")


def _span(text: str, sentence: str) -> tuple[int, int]:
    start = text.index(sentence)
    assert text.find(sentence, start + 1) == -1, "each fixture sentence occurs once"
    return start, start + len(sentence)


# ---- PDF -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report() -> Extracted:
    return extract(PDF, pdf_bytes(REPORT_PAGES, title="Civic Space Report 2023", author="Dana Nurpeisova"))


def test_every_sentence_is_found_on_its_own_page(report):
    assert len(report.pages) == 3
    for number, paragraphs in enumerate(REPORT_PAGES, 1):
        for paragraph in paragraphs:
            # fpdf2 wraps long paragraphs: the words are all there, line breaks may differ
            first_words = " ".join(paragraph.split()[:6])
            start, end = _span(report.text, first_words)
            assert pages_of(report.pages, start, end) == (number,)
    assert report.extractor.startswith(f"pypdf {pypdf.__version__}")


def test_page_spans_are_ordered_apart_and_hold_exactly_the_words_pypdf_reads(report):
    reader = pypdf.PdfReader(io.BytesIO(pdf_bytes(REPORT_PAGES)))
    for i, (start, end) in enumerate(report.pages):
        assert 0 <= start <= end <= len(report.text)
        if i:
            assert report.text[report.pages[i - 1][1] : start] == "\n\n"  # no paragraph spans pages
        # not a word is invented, dropped or changed: only whitespace between them
        assert report.text[start:end].split() == reader.pages[i].extract_text().split()
    assert report.pages[0][0] == 0 and report.pages[-1][1] == len(report.text)


def test_paragraphs_separated_by_space_on_the_page_are_separated_by_a_blank_line(report):
    page_one = report.text[slice(*report.pages[0])]
    blocks = page_one.split("\n\n")
    assert [" ".join(b.split()) for b in blocks] == REPORT_PAGES[0]
    assert "\n" in blocks[1]  # a wrapped paragraph keeps its line breaks, without a blank line
    assert all(line == line.rstrip() for line in report.text.split("\n"))


def test_a_blank_page_keeps_the_page_numbers_after_it_right():
    pages = [REPORT_PAGES[0], [], REPORT_PAGES[2]]
    doc = extract(PDF, pdf_bytes(pages))
    assert len(doc.pages) == 3 and doc.pages[1][0] == doc.pages[1][1]
    start, end = _span(doc.text, "Journalists covering protests")
    assert pages_of(doc.pages, start, end) == (3,)


def test_a_slice_across_a_page_break_cites_both_pages(report):
    start = report.text.index("refused in 2022")
    end = report.text.index("Independent trade unions") + 10
    assert pages_of(report.pages, start, end) == (1, 2)
    assert page_label(pages_of(report.pages, start, end)) == "pp. 1\u20132"


def test_pdf_metadata_comes_from_the_document_information(report):
    assert report.metadata == {"title": "Civic Space Report 2023", "author": "Dana Nurpeisova", "date": "2023-11-07"}


def test_a_pdf_without_metadata_gets_none_invented():
    doc = extract(PDF, pdf_bytes(REPORT_PAGES, created=None))
    assert doc.metadata == {}
    assert "Freedom of Assembly in Kazakhstan" in doc.text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (scanned_pdf_bytes(), "OCR"),
        (encrypted_pdf_bytes(), "encrypted"),  # opens in any viewer, still refused: never decrypted
        (encrypted_pdf_bytes("s3cret"), "encrypted"),
        (pdf_bytes(REPORT_PAGES)[:1500], "damaged or truncated"),
        (pdf_bytes(REPORT_PAGES)[:-40], "damaged or truncated"),
        (b"<html>not a pdf at all</html>", "damaged or truncated"),
        (b"", "damaged or truncated"),
    ],
    ids=["scanned", "encrypted-empty-password", "encrypted", "truncated", "no-trailer", "html-bytes", "empty"],
)
def test_unreadable_pdfs_raise_extraction_error_with_a_reason_and_no_noise(data, reason, caplog):
    with pytest.raises(ExtractionError) as raised:
        extract(Path("Report.PDF"), data)
    message = str(raised.value)
    assert reason in message and "\n" not in message and "Report" not in message
    assert not caplog.records  # no library warnings logged on the way


def test_scanned_pdf_message_says_what_to_do():
    with pytest.raises(ExtractionError, match=r"scanned PDF with no text layer: run OCR"):
        extract(PDF, scanned_pdf_bytes())


# ---- HTML ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def article() -> Extracted:
    return extract(HTML, ARTICLE_HTML.encode())


def test_the_article_is_kept_and_the_page_furniture_is_not(article):
    for paragraph in ARTICLE_PARAGRAPHS:
        assert paragraph in article.text
    for furniture in BOILERPLATE:
        assert furniture not in article.text
    assert article.pages == ()
    assert article.extractor.startswith("lxml ")


def test_article_paragraphs_are_separated_by_blank_lines(article):
    blocks = article.text.split("\n\n")
    assert blocks == ["Parliament tightens the law on peaceful assemblies", *ARTICLE_PARAGRAPHS]
    assert pages_of(article.pages, 0, 10) == () and page_label(()) == ""


def test_web_page_metadata_comes_from_its_meta_tags(article):
    assert article.metadata == {
        "title": "Parliament tightens the law on peaceful assemblies",  # og:title
        "author": "Aigerim Sadykova",
        "date": "2024-05-17",  # article:published_time
        "url": "https://steppe-monitor.example/news/assembly-law",  # rel=canonical
        "publisher": "Steppe Monitor",  # og:site_name
        "language": "en",  # <html lang>
    }


def test_a_web_page_without_metadata_gets_none_invented():
    doc = extract(HTML, BARE_HTML.encode())
    assert doc.metadata == {}  # not even a date from the copyright line
    assert ARTICLE_PARAGRAPHS[1] in doc.text


def test_the_publisher_is_never_made_up_from_the_address():
    page = BARE_HTML.replace("<html>", '<html><head><link rel="canonical" href="https://www.example.org/a"></head>')
    assert extract(HTML, page.encode()).metadata == {"url": "https://www.example.org/a"}


@pytest.mark.parametrize(
    "page",
    [
        NO_CONTENT_HTML,
        "<html><head><script src='/app.js'></script></head><body><noscript>You need to enable "
        "JavaScript to run this app.</noscript><div id='root'></div></body></html>",
        "<html><body></body></html>",
        "",
    ],
    ids=["furniture-only", "script-shell", "empty-body", "empty-file"],
)
def test_a_web_page_without_main_text_raises(page, caplog):
    with pytest.raises(ExtractionError, match="^no main text found in this web page"):
        extract(Path("page.htm"), page.encode())
    assert not caplog.records


def test_declared_charsets_are_honoured_and_undecodable_bytes_raise():
    paragraph = "Закон о мирных собраниях требует уведомлять акимат за пять рабочих дней до проведения митинга. " * 4
    page = f'<html><head><meta charset="windows-1251"></head><body><article><p>{paragraph}</p></article></body></html>'
    assert paragraph.strip() in extract(HTML, page.encode("cp1251")).text
    assert paragraph.strip() in extract(HTML, b"\xef\xbb\xbf" + page.replace("windows-1251", "utf-8").encode()).text
    with pytest.raises(ExtractionError, match="not valid utf-8"):
        extract(HTML, page.replace('<meta charset="windows-1251">', "").encode("cp1251"))


def test_other_suffixes_are_refused_and_suffixes_are_case_insensitive():
    assert EXTRACTED_SUFFIXES == (".pdf", ".html", ".htm")
    with pytest.raises(ExtractionError):
        extract(Path("notes.docx"), b"PK\x03\x04")
    assert extract(Path("ARTICLE.HTM"), ARTICLE_HTML.encode()).text.startswith("Parliament")


# ---- determinism -----------------------------------------------------------------------

_DUMP = """
import json, sys
from pathlib import Path
from kzqa.extract import ExtractionError, extract
out = {}
for name in sys.argv[1:]:
    path = Path(name)
    try:
        e = extract(path, path.read_bytes())
        out[path.name] = [e.text, [list(p) for p in e.pages], e.metadata, e.extractor]
    except ExtractionError as err:
        out[path.name] = str(err)
print(json.dumps(out))
"""


def test_the_same_bytes_give_the_same_result_in_process_and_in_a_fresh_quiet_interpreter(tmp_path):
    files = {
        "report.pdf": pdf_bytes(REPORT_PAGES, title="Civic Space Report 2023", author="Dana Nurpeisova"),
        "article.html": ARTICLE_HTML.encode(),
        "truncated.pdf": pdf_bytes(REPORT_PAGES)[:1500],
        "empty.html": NO_CONTENT_HTML.encode(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    here = {}
    for name, data in files.items():
        try:
            first, second = extract(Path(name), data), extract(Path(name), data)
            assert first == second
            here[name] = [first.text, [list(p) for p in first.pages], first.metadata, first.extractor]
        except ExtractionError as err:
            here[name] = str(err)
    # another hash seed and time zone; nothing may reach the user's terminal but the result
    env = {**os.environ, "PYTHONHASHSEED": "12345", "TZ": "Pacific/Kiritimati"}
    run = subprocess.run(
        [sys.executable, "-c", _DUMP, *(str(tmp_path / n) for n in files)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60, check=True,
    )
    assert run.stderr == ""
    assert json.loads(run.stdout) == here


# ---- page labels -----------------------------------------------------------------------


def test_pages_of_edges():
    pages = ((0, 10), (12, 20), (22, 22), (24, 30))
    assert pages_of(pages, 0, 10) == (1,)
    assert pages_of(pages, 9, 13) == (1, 2)
    assert pages_of(pages, 10, 12) == ()  # only the blank line between pages
    assert pages_of(pages, 15, 26) == (2, 3, 4)  # a blank page inside the slice: pp. 2–4
    assert pages_of(pages, 22, 26) == (4,) and pages_of(pages, 15, 22) == (2,)
    assert pages_of((), 0, 5) == ()


# ---- structure: general rules on pages and PDFs of any site ---------------------------


def test_a_web_page_is_its_paragraphs_list_items_and_headings_without_its_furniture():
    from fixtures_docs import REPORT_HTML

    got = extract(HTML, REPORT_HTML.encode())
    blocks = [(b.kind, b.level, got.text[b.start:b.end]) for b in got.blocks]
    assert blocks == [
        ("title", 1, "Annual Report 2023: Assembly in Central Asia"),
        ("heading", 2, "Part 1."),
        ("heading", 2, "Assembly"),
        ("heading", 3, "a. Notification"),
        ("body", 0, "Organisers must notify the authorities ten working days in advance, and rallies are "
                    "allowed only in places the authorities list."),
        ("heading", 3, "Enforcement"),
        ("body", 0, "Police fined organisers of unnotified pickets;\ncourts upheld every fine that was "
                    "appealed in 2023."),
        ("body", 0, "Eleven activists were detained before the March rally."),
        ("body", 0, "Two journalists were fined for covering it."),
        ("heading", 2, "Part 2. Association"),
        ("body", 0, "Registration of a public association took up to four months in the regions, and "
                    "longer in the capital."),
    ]
    assert got.text == "\n\n".join(text for _, _, text in blocks)
    reasons = {s.reason for s in got.skipped}
    assert {"table of contents", "furniture (share)", "furniture (back-to-top)"} <= reasons
    for word in ("Facebook", "Back to top", "Home", "Privacy"):
        assert word not in got.text


def test_web_page_title_is_the_headline_date_the_publication_and_publisher_the_organisation():
    from fixtures_docs import REPORT_HTML

    meta = extract(HTML, REPORT_HTML.encode()).metadata
    # <title> and og:title carry the site's name: the <h1> is the headline
    assert meta["title"] == "Annual Report 2023: Assembly in Central Asia"
    assert meta["date"] == "2024-02-01"  # datePublished, not dateModified or modified_time
    assert meta["publisher"] == "Rights Watchers e.V."  # schema.org publisher, by its @id
    no_date = REPORT_HTML.replace('"datePublished": "2024-02-01T09:00:00+00:00", ', "")
    assert "date" not in extract(HTML, no_date.encode()).metadata  # none invented


def test_pdf_running_heads_and_page_numbers_are_left_out_and_a_paragraph_runs_on_over_the_break():
    from fixtures_docs import RUNNING_PAGES

    got = extract(PDF, pdf_bytes(RUNNING_PAGES))
    assert "Civic Monitor Quarterly" not in got.text and "Page 2 of 3" not in got.text
    start = got.text.index("Organisers of a rally")
    end = got.text.index("alone with a poster.") + len("alone with a poster.")
    assert "\n\n" not in got.text[start:end]  # one paragraph over the page break
    assert pages_of(got.pages, start, end) == (1, 2)
    assert any(b.start == start and b.end == end for b in got.blocks)
    notes = [s for s in got.skipped if s.reason == "note"]
    assert [n.text.split()[0] for n in notes] == ["1", "2"] and notes[0].page == 3
    assert "Interview with an observer" not in got.text
    assert {(s.reason, s.page) for s in got.skipped if s.text.startswith("Page")} == {
        ("page number", 1), ("page number", 2), ("page number", 3)}
