"""The citation as data: one value built from a passage and its source, the plain-text style
a user pastes, and the JSON form (``"citation"`` and ``"reference"`` of every hit)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from kzqa.citation import (
    Citation,
    check_style,
    citation_text,
    cite_as,
    coi_text,
    csl_item,
    long_date,
    page_label,
    section_beyond_title,
)
from kzqa.documents import Passage, Source
from kzqa.errors import KzqaError
from kzqa.results import Answer, Hit

FOREIGN_AFFAIRS = Source(
    title="Kazakhstan’s Human Rights Crackdown", subtitle="Astana Is Moving Backwards",
    author="Hugh Williamson", publisher="Foreign Affairs", date="2016-12-21",
    url="https://www.foreignaffairs.com/articles/asia/2016-12-21/kazakhstan-s-human-rights-crackdown")
REPORT = Source(title="Assembly and Association 2023", publisher="Civic Monitor", date="2023-11-07",
                url="https://civic-monitor.example/kz-2023.pdf")


def _passage(paragraph: int = 4, section: str | None = None, part: int = 0,
             pages: tuple[int, ...] = ()) -> Passage:
    return Passage(id="d#p", doc_id="d", text="A quote.", start=10, end=18, paragraph=paragraph,
                   part=part, section=section, pages=pages)


def _hit(passage: Passage, source: Source) -> Hit:
    return Hit.of(passage, source, file="d.html", score=0.75, highlights=((0, 8),))


def test_web_article_names_author_title_publisher_date_paragraph_and_url():
    cited = Citation.of(_passage(), FOREIGN_AFFAIRS)
    assert citation_text(cited) == (
        "Hugh Williamson, “Kazakhstan’s Human Rights Crackdown: Astana Is Moving Backwards”, "
        "Foreign Affairs, 2016-12-21, ¶ 4. "
        "https://www.foreignaffairs.com/articles/asia/2016-12-21/kazakhstan-s-human-rights-crackdown")


def test_a_hit_gives_the_same_citation_as_its_passage_and_source():
    passage = _passage(section="Elections", part=2, pages=(3,))
    hit = _hit(passage, REPORT)
    assert hit.cite() == Citation.of(passage, REPORT)
    assert hit.citation() == citation_text(hit.cite())


@pytest.mark.parametrize("pages, where", [
    ((12,), "p. 12, ¶ 31."),
    ((2, 3), "pp. 2–3, ¶ 31."),
    ((3, 5), "pp. 3, 5, ¶ 31."),
])
def test_a_pdf_passage_names_its_pages_before_the_paragraph(pages, where):
    text = citation_text(Citation.of(_passage(paragraph=31, pages=pages), REPORT))
    assert text == ("“Assembly and Association 2023”, Civic Monitor, 2023-11-07, "
                    f"{where} https://civic-monitor.example/kz-2023.pdf")


def test_a_long_paragraph_names_the_part_quoted():
    assert citation_text(Citation.of(_passage(paragraph=7, part=2), Source(title="T"))) == (
        "“T”, n.d., ¶ 7 (part 2).")


def test_the_section_is_shown_only_beyond_the_title():
    source = Source(title="Kazakhstan's Human Rights Crackdown", subtitle="Astana Is Moving Backwards")
    path = "Kazakhstan’s human rights CRACKDOWN — Astana is moving backwards — Elections — Observers"
    cited = Citation.of(_passage(section=path), source)
    assert cited.section == ("Kazakhstan’s human rights CRACKDOWN", "Astana is moving backwards",
                             "Elections", "Observers")  # the data keeps the whole path
    assert ", section “Elections — Observers”, ¶ 4." in citation_text(cited)
    only_title = Citation.of(_passage(section="Kazakhstan's Human Rights Crackdown"), source)
    assert "section" not in citation_text(only_title)
    assert section_beyond_title(path, source.title, source.subtitle) == "Elections — Observers"
    assert section_beyond_title(None, "T", None) is None


def test_missing_fields_read_n_d_and_leave_no_gaps():
    assert citation_text(Citation.of(_passage(paragraph=2), Source(title="Untitled notes"))) == (
        "“Untitled notes”, n.d., ¶ 2.")
    no_publisher = Source(title="Report", author="A. Author", date="2020", url="https://x.example/r")
    assert citation_text(Citation.of(_passage(paragraph=1), no_publisher)) == (
        "A. Author, “Report”, 2020, ¶ 1. https://x.example/r")
    no_url = Source(title="Report", publisher="Pub", date="2020-05")
    assert citation_text(Citation.of(_passage(paragraph=1), no_url)) == "“Report”, Pub, 2020-05, ¶ 1."


@pytest.mark.parametrize("numbers, label", [
    ((), ""), ((4,), "p. 4"), ((4, 4), "p. 4"), ((5, 4), "pp. 4–5"), ((2, 3, 4), "pp. 2–4"),
    ((1, 3), "pp. 1, 3"),
])
def test_page_label(numbers, label):
    assert page_label(numbers) == label


def test_citation_round_trips_through_json():
    cited = Citation.of(_passage(section="Part I — Elections", part=1, pages=(2, 3)), FOREIGN_AFFAIRS)
    cited = dataclasses.replace(cited, accessed="2026-11-27")
    data = json.loads(json.dumps(cited.to_dict()))
    assert data == {
        "author": "Hugh Williamson", "title": "Kazakhstan’s Human Rights Crackdown",
        "subtitle": "Astana Is Moving Backwards", "publisher": "Foreign Affairs",
        "date": "2016-12-21", "section": ["Part I", "Elections"], "paragraph": 4, "part": 1,
        "pages": [2, 3], "url": FOREIGN_AFFAIRS.url, "accessed": "2026-11-27",
    }
    assert Citation.from_dict(data) == cited
    with pytest.raises(dataclasses.FrozenInstanceError):
        cited.title = "edited"  # type: ignore[misc]


def test_a_hit_in_json_carries_the_citation_string_and_the_reference():
    hit = _hit(_passage(section="Elections", pages=(2,)), REPORT)
    data = json.loads(json.dumps(Answer("q", (hit,), False).to_dict()))["passages"][0]
    assert data["citation"] == ("“Assembly and Association 2023”, Civic Monitor, 2023-11-07, "
                                "section “Elections”, p. 2, ¶ 4. https://civic-monitor.example/kz-2023.pdf")
    assert Citation.from_dict(data["reference"]) == hit.cite()
    assert data["reference"]["section"] == ["Elections"] and data["reference"]["pages"] == [2]
    assert Hit.from_dict(data) == hit


# -- named styles: plain, COI, CSL-JSON ---------------------------------------------------

STATE = Source(title="2023 Country Reports on Human Rights Practices: Kazakhstan",
               author="Bureau of Democracy, Human Rights, and Labor",
               publisher="U.S. Department of State", date="2024-04-22",
               url="https://www.state.gov/reports/2023-country-reports-on-human-rights-practices/kazakhstan/",
               accessed="2026-11-20")


def test_coi_style_names_who_title_date_place_url_and_the_date_accessed():
    cited = Citation.of(_passage(paragraph=62, section="Section 2 — a. Freedom of Expression"), STATE)
    assert coi_text(cited) == (
        "Bureau of Democracy, Human Rights, and Labor, U.S. Department of State: 2023 Country Reports "
        "on Human Rights Practices: Kazakhstan, 22 April 2024, section “Section 2 — a. Freedom of "
        "Expression”, ¶ 62, https://www.state.gov/reports/2023-country-reports-on-human-rights-practices/"
        "kazakhstan/ [accessed 20 November 2026]")
    pdf = Citation.of(_passage(paragraph=31, pages=(2, 3)), REPORT)
    assert coi_text(pdf) == ("Civic Monitor: Assembly and Association 2023, 7 November 2023, pp. 2–3, ¶ 31, "
                             "https://civic-monitor.example/kz-2023.pdf")  # no access date recorded: none shown
    assert coi_text(Citation.of(_passage(), Source(title="T"))) == "T, n.d., ¶ 4"


def test_csl_json_item_is_what_reference_managers_import():
    cited = Citation.of(_passage(paragraph=31, part=2, pages=(2, 3), section="Findings"), REPORT)
    assert csl_item(cited, "d#p") == {
        "id": "d#p", "type": "report", "title": "Assembly and Association 2023",
        "publisher": "Civic Monitor", "issued": {"date-parts": [[2023, 11, 7]]},
        "URL": "https://civic-monitor.example/kz-2023.pdf", "section": "Findings", "page": "2-3",
        "note": "¶ 31 (part 2)"}
    item = json.loads(cite_as(Citation.of(_passage(), STATE), "csl-json", "x"))
    assert item["type"] == "webpage" and item["accessed"] == {"date-parts": [[2026, 11, 20]]}
    assert item["author"] == [{"literal": "Bureau of Democracy, Human Rights, and Labor"}]


@pytest.mark.parametrize("iso, shown", [("2024-04-22", "22 April 2024"), ("2024-04", "April 2024"),
                                        ("2024", "2024"), ("2024-13", "2024-13"), ("soon", "soon")])
def test_dates_are_written_out_as_coi_citations_write_them(iso, shown):
    assert long_date(iso) == shown


def test_every_surface_gets_the_style_asked_for_and_an_unknown_one_is_refused():
    hit = _hit(_passage(), STATE)
    assert hit.to_dict()["citation"] == hit.citation()  # plain by default
    assert hit.to_dict("coi")["citation"] == coi_text(hit.cite())
    assert Answer("q", (hit,), False).to_dict("coi")["passages"][0]["citation"].endswith(
        "[accessed 20 November 2026]")
    assert check_style(None) == "plain"
    with pytest.raises(KzqaError, match="unknown citation style 'apa': choose plain, coi or csl-json"):
        hit.citation_in("apa")


def test_a_bibliography_entry_is_the_document_without_the_place_in_it():
    whole = Citation.of(_passage(paragraph=9, section="Elections", pages=(4,)), REPORT).of_document()
    assert citation_text(whole) == ("“Assembly and Association 2023”, Civic Monitor, 2023-11-07. "
                                    "https://civic-monitor.example/kz-2023.pdf")
    assert citation_text(Citation.of(_passage(), Source(title="T")).of_document()) == "“T”, n.d."
