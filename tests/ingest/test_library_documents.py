"""The real documents researchers use (../shared/library/, read in place, never copied):
nine state.gov pages of the Kazakhstan report and four PDF reports. Each is read the way
`kzqa add` reads it; the expectations per document are in the one table below."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from conftest import ROOT
from kzqa.cli.main import main
from kzqa.documents import Passage
from kzqa.ingest.corpus import Document, read_document
from kzqa.ingest.passages import document_blocks, make_passages
from kzqa.results import SECTION_SEPARATOR

LIBRARY = ROOT.parent / "shared" / "library"
pytestmark = pytest.mark.skipif(not LIBRARY.is_dir(), reason=f"the document library {LIBRARY} is not here")

STATE = "United States Department of State"
UN_HRC = "United Nations, Human Rights Council"
S2A = "Section 2. Respect for Civil Liberties — a. Freedom of Expression, Including for Members of the Press and Other Media"


@dataclass(frozen=True)
class Expected:
    file: str
    title: str
    publisher: str | None
    date: str | None  # None: the file states no publication date, and none is invented
    sections: tuple[str, ...]  # section paths that must occur (separator: results.SECTION_SEPARATOR)


def _hrr(year: int, date: str | None, *sections: str) -> Expected:
    return Expected(f"usdos-kazakhstan/usdos-hrr-{year}-kazakhstan.html",
                    f"{year} Country Reports on Human Rights Practices: Kazakhstan", STATE, date, sections)


S1_OLD = "Section 1. Respect for the Integrity of the Person, Including Freedom from:"
S2_OLD = "Section 2. Respect for Civil Liberties, Including:"
S7 = "Section 7. Worker Rights"
EXPECTED = [
    _hrr(2016, "2017-03-03", "EXECUTIVE SUMMARY", f"{S1_OLD} — b. Disappearance",
         f"{S2_OLD} — a. Freedom of Speech and Press — INTERNET FREEDOM", f"{S7} — e. Acceptable Conditions of Work"),
    _hrr(2017, "2018-04-20", f"{S1_OLD} — b. Disappearance", f"{S7} — e. Acceptable Conditions of Work"),
    _hrr(2018, "2019-03-13", f"{S1_OLD} — b. Disappearance", f"{S7} — e. Acceptable Conditions of Work"),
    _hrr(2019, "2020-03-02", f"{S2_OLD} — a. Freedom of Expression, Including for the Press — Internet Freedom",
         f"{S7} — e. Acceptable Conditions of Work"),
    _hrr(2020, "2021-02-25", f"{S1_OLD} — b. Disappearance", f"{S7} — e. Acceptable Conditions of Work"),
    _hrr(2021, "2022-03-02", "Section 1. Respect for the Integrity of the Person — b. Disappearance",
         f"{S7} — e. Acceptable Conditions of Work"),
    _hrr(2022, "2023-02-22", "EXECUTIVE SUMMARY",
         "Section 1. Respect for the Integrity of the Person — b. Disappearance",
         "Section 1. Respect for the Integrity of the Person — e. Denial of Fair Public Trial — Trial Procedures",
         f"{S2A} — Internet Freedom",
         "Section 2. Respect for Civil Liberties — g. Stateless Persons",
         "Section 3. Freedom to Participate in the Political Process — Elections and Political Participation",
         "Section 4. Corruption and Lack of Transparency in Government",
         "Section 5. Governmental Posture Towards International and Nongovernmental Investigation of "
         "Alleged Abuses of Human Rights",
         "Section 6. Discrimination and Societal Abuses — Women",
         f"{S7} — a. Freedom of Association and the Right to Collective Bargaining"),
    _hrr(2023, "2024-04-17", S2A, f"{S2A} — Internet Freedom", "Section 4. Corruption in Government"),
    _hrr(2024, None, "EXECUTIVE SUMMARY", "Section 1. Life — a. Extrajudicial Killings",
         "Section 2. Liberty — a. Freedom of the Press — Physical Attacks, Imprisonment, and Pressure",
         "Section 3. Security of the Person — e. Instances of Transnational Repression"),
    # PDFs: title, publisher and date as the first page prints them (kzqa.ingest.pdf_metadata). The
    # file's creation date is not the document's: Nicaragua (2024-01-29) and the refugee
    # report (2024-09-05) print no date of their own, so none is given; the UN documents
    # print their distribution date ("Distr.: General" / "7 November 2024"). The refugee
    # report's cover sets its title in the body's type: the file name stands in, as for any
    # file (a sidecar or the catalogue gives the real one).
    Expected("pdf/usdos-hrr-2023-nicaragua.pdf", "Nicaragua 2023 Human Rights Report", None, None,
             ("Executive Summary",
              ("Section 1. Respect for the Integrity of the Person — a. Arbitrary Deprivation of Life and "
               "Other Unlawful or Politically Motivated Killings"),
              ("Section 2. Respect for Civil Liberties — a. Freedom of Expression, Including for Members of "
               "the Press and Other Media — Internet Freedom"),
              ("Section 5. Governmental Posture Towards International and Nongovernmental Monitoring and "
               "Investigation of Alleged Abuses of Human Rights"),
              "Section 7. Worker Rights — e. Acceptable Conditions of Work")),
    Expected("pdf/usdos-refugee-admissions-fy2025.pdf", "Usdos refugee admissions fy2025", None, None,
             ("INTRODUCTION", "REGIONAL REFUGEE ADMISSIONS — Europe and Central Asia",
              "ADMISSIONS PROCEDURES — Priority 2 (P-2) – Group Referrals")),
    Expected("pdf/upr-svn-2024-ohchr-compilation.pdf",
             "Slovenia: Compilation of information prepared by the Office of the United Nations High Commissioner"
             " for Human Rights (A/HRC/WG.6/48/SVN/2)", UN_HRC, "2024-11-07",
             ("I. Background",
              "III. National human rights framework — Institutional infrastructure and policy measures",
              ("IV. Promotion and protection of human rights — B. Rights of specific persons or groups — "
               "6. Migrants, refugees and asylum-seekers"))),
    Expected("pdf/upr-svn-2024-stakeholder-summary.pdf",
             "Summary of stakeholders’ submissions on Slovenia (A/HRC/WG.6/48/SVN/3)", UN_HRC, "2024-11-06",
             ("I. Background",
              ("III. Information provided by other stakeholders — B. National human rights framework — "
               "Institutional infrastructure and policy measures"),
              ("III. Information provided by other stakeholders — C. Promotion and protection of human rights"
               " — 2. Rights of specific persons or groups — Women"))),
]
IDS = [Path(e.file).stem for e in EXPECTED]

# What must never be quoted: site furniture of the pages, running heads of the PDFs.
FURNITURE = re.compile(
    r"Back to Top|View report by|Build a Custom Report|Download Report|In this section /|White House"
    r"|Country Reports on Human Rights Practices for 2023|United States Department of State •"
    r"|Page \d+ of \d+|GE\.24-\d{5}|A/HRC/WG\.6/48/SVN/[23]\s*$|\.{5,}", re.MULTILINE)
PAGE_NUMBER_LINE = re.compile(r"^\s*(?:Page\s+)?\d{1,3}(?:\s+of\s+\d+)?\s*$", re.MULTILINE | re.IGNORECASE)


@cache
def _read(file: str) -> tuple[Document, tuple[Passage, ...]]:
    path = LIBRARY / file
    doc = read_document(path, path.name)
    return doc, tuple(make_passages(doc))


@pytest.mark.parametrize("expected", EXPECTED, ids=IDS)
def test_title_publisher_and_date_are_what_the_document_states(expected):
    doc, _ = _read(expected.file)
    assert (doc.source.title, doc.source.publisher, doc.source.date) == (
        expected.title, expected.publisher, expected.date)


@pytest.mark.parametrize("expected", EXPECTED, ids=IDS)
def test_the_sections_are_the_documents_headings(expected):
    _, passages = _read(expected.file)
    sections = {p.section for p in passages}
    for path in expected.sections:
        assert path in sections, path
    for section in sections - {None}:
        assert not PAGE_NUMBER_LINE.search(section), section
        assert not FURNITURE.search(section), section


@pytest.mark.parametrize("expected", EXPECTED, ids=IDS)
def test_no_passage_quotes_furniture_and_every_passage_is_a_slice(expected):
    doc, passages = _read(expected.file)
    assert len(passages) > 50
    for p in passages:
        assert p.text == doc.text[p.start:p.end], p.id
        assert not FURNITURE.search(p.text), (p.id, FURNITURE.search(p.text))
        assert not PAGE_NUMBER_LINE.search(p.text), p.id
        assert not re.search("[\ue000-\uf8ff]", p.text), p.id


@pytest.mark.parametrize("expected", EXPECTED[:9], ids=IDS[:9])
def test_each_paragraph_of_a_web_page_is_its_own_block(expected):
    doc, passages = _read(expected.file)
    reasons = {s.reason for s in doc.skipped}
    assert {"navigation", "page footer"} <= reasons
    assert "menu" not in doc.text[:2000].casefold()
    # windows only where a single paragraph is too long, never across paragraphs
    assert sum(p.part > 0 for p in passages) < len(passages) / 4
    for p in passages:
        assert "\n\n" not in p.text


def test_the_false_information_paragraph_is_one_whole_passage_with_its_section():
    _, passages = _read("usdos-kazakhstan/usdos-hrr-2023-kazakhstan.html")
    [hit] = [p for p in passages if "liability for dissemination of false information" in p.text]
    assert hit.part == 0
    assert hit.text.startswith("Libel/Slander Laws: There was no criminal liability")
    assert hit.text.endswith("including on investigation of corruption cases.")
    assert hit.section == S2A


@pytest.mark.parametrize(("before", "after", "pages"), [
    ("seize land and natural resources from autonomous", "Indigenous territories.", (3, 4)),
    ("prison authorities committed forced", None, (4, 5)),
    ("degrading treatment by police and prison guards during visits,", "including strip searches", (6, 7)),
])
def test_nicaragua_paragraphs_over_a_page_break_come_back_whole_with_both_pages(before, after, pages):
    _, passages = _read("pdf/usdos-hrr-2023-nicaragua.pdf")
    [hit] = [p for p in passages if before in p.text]
    assert hit.pages == pages and hit.part == 0
    if after:
        assert after in hit.text
    assert not FURNITURE.search(hit.text)


def test_a_window_of_a_long_paragraph_over_a_page_break_cites_both_pages():
    _, passages = _read("pdf/usdos-hrr-2023-nicaragua.pdf")
    [hit] = [p for p in passages if "unreasonable restrictions on\npolitical participation" in p.text]
    assert hit.pages == (1, 2) and hit.section == "Executive Summary"


def test_pdf_notes_and_running_heads_are_set_apart_not_quoted():
    doc, passages = _read("pdf/upr-svn-2024-ohchr-compilation.pdf")
    notes = [s for s in doc.skipped if s.reason == "note"]
    assert len(notes) == 99 and notes[0].page == 10
    assert notes[3].text.strip().startswith("4 A/HRC/52/33/Add.2, para. 7.")
    assert not any(p.text.lstrip().startswith(("4 A/HRC", "16 Ibid")) for p in passages)
    stakeholders, _ = _read("pdf/upr-svn-2024-stakeholder-summary.pdf")
    numbered = [s for s in stakeholders.skipped if s.reason == "note" and s.text.split()[0].isdigit()]
    assert len(numbered) == 124
    assert any(s.text.lstrip().startswith("* The present document") for s in stakeholders.skipped)


def test_pages_of_contents_are_skipped():
    doc, passages = _read("pdf/usdos-refugee-admissions-fy2025.pdf")
    assert sum(s.reason == "table of contents" for s in doc.skipped) >= 20
    assert not any(p.section and "LIST OF TABLES" in p.section for p in passages)
    assert not any("Table of Contents" == p.text for p in passages)


def test_kzqa_passages_shows_sections_and_no_furniture(capsys):
    code = main(["passages", str(LIBRARY / "usdos-kazakhstan/usdos-hrr-2023-kazakhstan.html")])
    out, err = capsys.readouterr()
    assert code == 0 and not err
    assert re.search(r"\] heading\n    Section 2\.\n\nRespect for Civil Liberties\n", out)
    assert re.search(r"\] heading\n    Internet Freedom\n", out)
    for shown in re.findall(r"^\[\d+:\d+\] body -> .*\n    (.*)$", out, re.MULTILINE):
        assert not FURNITURE.search(shown), shown
    assert "HomeReports" not in out and "Back to Top" not in out


def test_blocks_a_reader_sees_are_all_accounted_for():
    """Every block is a passage, a heading, the title or skipped with a reason."""
    for e in EXPECTED:
        doc, passages = _read(e.file)
        starts = {p.start for p in passages}
        for block in document_blocks(doc):
            if block.kind == "body":
                assert block.start in starts
            else:
                assert block.kind in ("heading", "title", "separator", "furniture", "caption", "note")
        assert SECTION_SEPARATOR in " ".join(p.section or "" for p in passages)
