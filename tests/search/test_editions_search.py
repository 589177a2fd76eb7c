"""A library of editions with the fake model: the right country, the right year, the latest
edition, each repeated paragraph once with where else it stands, and filters."""

from __future__ import annotations

import pytest

import kzqa
from conftest import FAKE_SETTINGS, FakeEmbedder, write
from kzqa.citation import coi_text

PERMITS = ("The law requires organizers of public assemblies to obtain a permit from local "
           "authorities {days} days in advance, and authorities denied permits to opposition groups "
           "and detained participants of unsanctioned rallies.")
PRESS = ("Journalists who criticized officials faced criminal defamation charges, and several "
         "independent journalists were jailed during {year} for their reporting.")
NICARAGUA = ("Journalists who criticized officials in Nicaragua faced criminal charges; several "
             "independent journalists were jailed or exiled and stripped of their nationality.")


@pytest.fixture
def library(tmp_path):
    corpus = tmp_path / "corpus"
    for year, days in ((2019, "ten"), (2020, "ten"), (2021, "five")):
        write(corpus / f"report-{year}.txt",
              f"Report {year}\n\n{PERMITS.format(days=days)}\n\n{PRESS.format(year=year)}\n")
        write(corpus / f"report-{year}.meta.yaml",
              f"title: {year} Report\npublisher: Department of Reports\ndate: {year + 1}-03-01\n"
              f"covers: {year}\ncountry: Kazakhstan\n")
    write(corpus / "nicaragua.txt", f"Nicaragua\n\n{NICARAGUA}\n")
    write(corpus / "nicaragua.meta.yaml", "title: Nicaragua Report\npublisher: Other Office\n"
                                          "date: 2024-04-22\ncovers: 2023\ncountry: Nicaragua\n")
    index = tmp_path / "index"
    kzqa.build(corpus, index, FAKE_SETTINGS, embedder=FakeEmbedder())
    return kzqa.load(index, embedder=FakeEmbedder())


def test_a_paragraph_repeated_by_editions_is_shown_once_from_the_latest_with_the_others_named(library):
    answer = library.ask("Do organizers of public assemblies need a permit from the authorities?", k=3)
    best = answer.passages[0]
    assert best.doc_id == "report-2021" and "five days" in best.text
    assert [e.doc_id for e in best.also_in] == ["report-2020", "report-2019"]
    assert all("¶" in e.citation() and e.title in e.citation() for e in best.also_in)
    assert all(e.citation("coi") == coi_text(e.reference) for e in best.also_in)  # every style
    texts = [" ".join(h.text.split()) for h in answer.passages]
    assert len(set(texts)) == len(texts)  # no text twice in one answer
    assert best.to_dict()["also_in"][0]["covers"] == "2020"
    assert kzqa.Hit.from_dict(best.to_dict()) == best


def test_a_question_naming_a_year_is_answered_from_that_years_edition(library):
    answer = library.ask("Were independent journalists jailed in 2019 for their reporting?", k=1)
    assert answer.passages[0].doc_id == "report-2019"
    undated = library.ask("Were independent journalists jailed for their reporting?", k=1)
    assert undated.passages[0].doc_id == "report-2021"


def test_the_country_a_question_names_decides_the_documents(library):
    kazakh = library.ask("Were independent journalists jailed for criticizing officials?", k=5)
    assert all(h.doc_id != "nicaragua" for h in kazakh.passages)
    nica = library.ask("Were independent journalists jailed in Nicaragua?", k=5)
    assert nica.passages[0].doc_id == "nicaragua" and {h.doc_id for h in nica.passages} == {"nicaragua"}


def test_filters_keep_to_documents_publishers_and_years(library):
    def docs(**kw):
        found = library.search("journalists jailed permits assemblies", k=10, filters=kzqa.Filter.of(**kw))
        return {h.doc_id for h in found.passages}

    assert docs(documents=["report-2020"]) == {"report-2020"}
    assert docs(publishers=["other office"]) == {"nicaragua"}
    assert docs(since=2020, until=2020) == {"report-2020"}
    assert docs(since=2020) == {"report-2020", "report-2021"}
    assert docs(countries=["Nicaragua"]) == {"nicaragua"}
    assert library.ask("journalists jailed", filters=kzqa.Filter.of(documents=["none-such"])).abstained
    with pytest.raises(kzqa.KzqaError, match="since .* is after until"):
        kzqa.Filter.of(since=2021, until=2019)


def test_a_follow_up_that_names_only_a_year_or_a_country_is_read_with_the_question_before(library):
    earlier = ["Were independent journalists jailed for their reporting?"]
    year = library.diagnose("And in 2019?", history=earlier)
    assert year.follow_up and year.answer.passages[0].doc_id == "report-2019"
    country = library.diagnose("And in Nicaragua?", history=earlier)
    assert country.follow_up and {h.doc_id for h in country.answer.passages} == {"nicaragua"}
    alone = library.diagnose("And in 2019?")  # no conversation: searched as it is
    assert not alone.follow_up and alone.query == "And in 2019?"


def test_the_country_or_year_a_follow_up_names_replaces_the_one_asked_before(library):
    country = library.diagnose("And in Kazakhstan?", history=["Were journalists jailed in Nicaragua?"])
    assert country.follow_up and "Nicaragua" not in country.query and "journalists" in country.query
    assert all(h.doc_id != "nicaragua" for h in country.answer.passages)
    year = library.diagnose("And in 2020?", history=["Were journalists jailed in 2019?"])
    assert year.follow_up and "2019" not in year.query and year.answer.passages[0].doc_id == "report-2020"
