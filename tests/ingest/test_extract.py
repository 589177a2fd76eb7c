"""extract.py: the text a reader will be quoted from PDF and HTML files, its pages and the
metadata the files state. Fixtures are made on the fly (fixtures_docs.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pypdfium2
import pytest
from fpdf import FPDF

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
from kzqa.ingest.extract import (
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
    assert report.extractor.startswith(f"pypdfium2 {pypdfium2.version.PYPDFIUM_INFO.version} (PDFium ")


def test_page_spans_are_ordered_apart_and_hold_exactly_the_words_written_on_each_page(report):
    for i, (start, end) in enumerate(report.pages):
        assert 0 <= start <= end <= len(report.text)
        if i:
            assert report.text[report.pages[i - 1][1] : start] == "\n\n"  # no paragraph spans pages
        # not a word is invented, dropped, split or changed: only whitespace between them
        assert report.text[start:end].split() == " ".join(REPORT_PAGES[i]).split()
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


def test_document_information_counts_only_where_the_first_page_prints_it(report):
    # the fixture's pages print neither its Info author nor any "2023": the typist's name and
    # the day the file was saved are not cited; a title that is no file name or placeholder is
    assert report.metadata == {"title": "Civic Space Report 2023"}
    printed = [["Civic Space Report 2023", "Written by Dana Nurpeisova for the monitor."], *REPORT_PAGES[1:]]
    doc = extract(PDF, pdf_bytes(printed, title="Civic Space Report 2023", author="Dana Nurpeisova"))
    assert doc.metadata == {"title": "Civic Space Report 2023", "author": "Dana Nurpeisova", "date": "2023-11-07"}


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
from kzqa.ingest.extract import ExtractionError, extract
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


# ---- What a PDF says of itself, and how its pages are laid out (kzqa.ingest.pdf_metadata) -------


def _styled_pdf(info_title: str = "Microsoft Word - A_HRC_99_1_final -2.doc", info_author: str = "jdoe") -> bytes:
    """A report as a word processor makes one: a masthead, a title in larger type, a contents
    page with dot leaders, numbered headings, a footnote in small type, and document
    information naming the Word file and the typist's login."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(dt.datetime(2031, 5, 4, tzinfo=dt.UTC))  # the day the file was saved
    pdf.set_title(info_title)
    pdf.set_author(info_author)
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 8, "United Nations A/HRC/99/1", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, "Distr.: General", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, "23 March 2030", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 6, "Human Rights Council", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font("Helvetica", size=16)
    pdf.cell(0, 8, "Report of the Working Group on Civic Space", new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, "Contents", new_x="LMARGIN", new_y="NEXT")
    for entry in ("Introduction", "I. Summary of the proceedings", "II. Conclusions and/or recommendations"):
        pdf.cell(0, 6, entry + " " + "." * 60 + " 1-4 3", new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    for heading, body in (("1 INTRODUCTION", "Peaceful assemblies were dispersed in every region of the country."),
                          ("4.2 Results", "Observers counted forty detentions after the march in the capital.")):
        pdf.set_font("Helvetica", "B", size=12)
        pdf.cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 5, body)
        pdf.ln(4)
    pdf.set_y(-40)
    pdf.set_font("Helvetica", size=7)
    pdf.cell(0, 4, "1Dates and times are in local time.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_a_pdf_is_cited_by_what_its_first_page_prints_not_by_its_file_information():
    meta = extract(PDF, _styled_pdf()).metadata
    # not "Microsoft Word - A_HRC_99_1_final -2.doc", not the login "jdoe", not the save date
    assert meta == {"title": "Report of the Working Group on Civic Space (A/HRC/99/1)",
                    "publisher": "United Nations, Human Rights Council", "date": "2030-03-23"}


@pytest.mark.parametrize("junk", ["Microsoft Word - report.doc", "default", "Untitled", "draft_v2_final", "x.pdf"])
def test_junk_file_information_gives_no_title(junk):
    doc = extract(PDF, pdf_bytes(REPORT_PAGES, title=junk, author="default"))
    assert "title" not in doc.metadata and "author" not in doc.metadata


def test_contents_pages_numbered_headings_and_small_type_notes_are_told_apart():
    from kzqa.ingest.corpus import read_document
    from kzqa.ingest.passages import make_passages

    doc = extract(PDF, _styled_pdf())
    assert "....." not in doc.text and "Contents" not in doc.text  # the contents page is skipped ...
    assert sum(s.reason == "table of contents" for s in doc.skipped) >= 3  # ... with its reason
    assert [doc.text[b.start:b.end] for b in doc.blocks if b.kind == "note"] == ["1Dates and times are in local time."]
    assert [doc.text[b.start:b.end] for b in doc.blocks if b.kind == "title"] == [
        "Report of the Working Group on Civic Space"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "styled.pdf"
        path.write_bytes(_styled_pdf())
        passages = make_passages(read_document(path, path.name))
    sections = {p.text.split()[0]: p.section for p in passages}
    assert sections["Peaceful"] == "1 INTRODUCTION"
    assert sections["Observers"] == "1 INTRODUCTION — 4.2 Results"
    assert not any("Dates and times" in p.text for p in passages)


def test_a_word_space_the_file_sets_by_moving_the_pen_is_a_space():
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(pdf.get_string_width("There were numerous reports"), 6, "There were numerous reports")
    pdf.set_x(pdf.get_x() + 2.2)  # ~0.2 em: the space is a move, not a character
    pdf.cell(0, 6, "that the police detained them.", new_x="LMARGIN", new_y="NEXT")
    assert "numerous reports that the police" in extract(PDF, bytes(pdf.output())).text


def test_a_visible_label_marked_aria_hidden_is_kept_and_a_skip_link_is_no_title():
    page = """<html><head><title>Kazakhstan - The World Factbook</title></head><body>
    <h1><a href="#main">Main Content</a></h1><main id="main">
    <p><span aria-hidden="true">Geographic coordinates:</span> 48 00 N, 68 00 E, a location in Central Asia
    between Russia and China, far from any ocean, as the country's geography section explains at length.</p>
    <p>Kazakhstan is the largest landlocked country in the world, with steppe, desert and mountains across
    its territory, and a long border with Russia in the north and west, described here in some detail.</p>
    <p style="display:none">Hidden text that no reader sees.</p></main></body></html>"""
    doc = extract(HTML, page.encode())
    assert "Geographic coordinates: 48 00 N" in " ".join(doc.text.split())
    assert "Hidden text" not in doc.text
    assert doc.metadata["title"] == "Kazakhstan - The World Factbook"


@pytest.mark.parametrize(("printed", "iso"), [
    ("Distr.: General 23 March 2010", "2010-03-23"), ("First published March 20, 2013 in London", "2013-03-20"),
    ("GECCO '23, July 15–19, 2023, Lisbon", "2023-07"), ("November 2024", "2024-11"),
    ("issued 2024-11-07", "2024-11-07"), ("30 February 2023", ""), ("Resolution 5/1 of 2007", ""),
])
def test_printed_dates_are_read_as_a_citation_gives_them(printed, iso):
    from kzqa.ingest.printed_dates import date_in

    assert date_in(printed) == iso


def test_a_web_page_dated_and_published_in_a_definition_list_and_never_by_its_update():
    page = """<html><head><title>Council of Europe promoting human rights protection - GOV.UK</title></head><body>
    <dl><dt>From:</dt><dd><a href="/fco">Foreign &amp; Commonwealth Office</a> and <a href="/x">a delegation</a></dd>
    <dt>Last updated:</dt><dd><abbr class="date" title="2019-01-02T10:00:00+00:00">2 January 2019</abbr></dd>
    <dt>First published:</dt><dd><abbr class="date" title="2013-03-20T19:38:53+00:00">20 March 2013</abbr></dd></dl>
    <main><h1>Council of Europe promoting human rights protection</h1>
    <p>The United Kingdom works with the Council of Europe to protect human rights, democracy and the rule of law
    across its 47 member states, and supports reform of the European Court of Human Rights.</p>
    <p>The court's backlog fell after the Brighton Declaration, which the United Kingdom negotiated as chair of
    the Committee of Ministers in 2012, and member states agreed on new admissibility criteria.</p></main></body></html>"""
    meta = extract(HTML, page.encode()).metadata
    assert (meta["date"], meta["publisher"]) == ("2013-03-20", "Foreign & Commonwealth Office")


def test_a_title_set_in_small_capitals_is_cited_in_readable_case_and_its_subtitle_follows_a_colon():
    from kzqa.ingest.pdf_layout import PageLine
    from kzqa.ingest.pdf_metadata import page_title

    small_caps = [PageLine("AmNesTy INTerNATIoNAl reporT 2011", False, 20, 20),
                  PageLine("THe sTATe oF THe world’s HumAN rIgHTs", False, 20, 20),
                  *[PageLine("Body text of the report, set in its usual type.", True, 10, 10)] * 5]
    assert page_title([small_caps]).text == "Amnesty International Report 2011 The State Of The World’s Human Rights"
    paper = [PageLine("On the Art and Science of Explainable Machine Learning:", False, 17.2, 17.2),
             PageLine("Techniques, Recommendations, and Responsibilities", True, 14.3, 14.3),
             PageLine("Patrick Hall", True, 12, 12),
             *[PageLine("This text discusses several popular explanatory methods.", True, 9, 9)] * 5]
    assert page_title([paper]).text == ("On the Art and Science of Explainable Machine Learning: Techniques, "
                                        "Recommendations, and Responsibilities")


def test_a_contents_page_of_entries_with_slashed_page_numbers_is_skipped():
    from kzqa.ingest.pdf_layout import PageLine, lay_out_pages

    countries = ("Afghanistan/55", "Albania/58", "Algeria/60", "Angola/62", "Argentina/65", "Armenia/66",
                 "Australia/67", "Austria/68", "Azerbaijan/69", "Bahrain/71", "Kazakhstan/192", "Kenya/194")
    contents = [PageLine(x) for x in ("Part 1", "regional overviews", "Africa/1", "Americas/11", "Part 2",
                                      "Country entries", *countries)]
    body = [PageLine("Kazakhstan. The authorities continued to restrict freedom of expression and assembly.")]
    text, _, _, skipped = lay_out_pages([contents, *[body] * 200])
    assert "Afghanistan/55" not in text and sum(s.reason == "table of contents" for s in skipped) == 18
