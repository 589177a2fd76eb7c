"""The Python API: one frozen result shape, citations, abstention, follow-ups, bad input."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

import kzqa
from conftest import FakeEmbedder


@pytest.fixture
def qa(built):
    return kzqa.load(built[1], embedder=FakeEmbedder())


def test_import_kzqa_does_not_load_torch_faiss_or_the_model():
    code = ("import sys, kzqa; heavy = [m for m in ('torch', 'sentence_transformers', 'faiss', "
            "'transformers') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_answers_are_frozen_and_round_trip_through_json(qa):
    answer = qa.ask("Opposition leaders are harassed, jailed on fabricated charges", k=2)
    assert not answer.abstained and len(answer.passages) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.passages[0].text = "edited"
    data = json.loads(json.dumps(answer.to_dict()))
    assert kzqa.Answer.from_dict(data) == answer
    assert data["passages"][0]["citation"] == answer.passages[0].citation()
    assert set(data["passages"][0]) >= {"text", "score", "doc_id", "title", "section", "paragraph",
                                        "start", "end", "url", "publisher", "author", "date", "citation"}


def test_citations_name_the_source_and_where_in_it(qa):
    hr = qa.search("Although Kazakhstan holds regular elections they are neither free nor fair").passages[0]
    assert hr.citation() == (
        "“Limited Political Freedoms Encourage Citizens to Flee Kazakhstan”, thehuman-rights.com, "
        "n.d., section “Elections Without Choice”, ¶ 4. "
        "https://thehuman-rights.com/limited_political_freedoms_encourage_citizens_to_flee_kazakhstan")
    fa = qa.search("President-elect Donald Trump miracle independence day celebrations").passages[0]
    assert fa.citation() == (
        "Hugh Williamson, “Kazakhstan’s Human Rights Crackdown: Astana Is Moving Backwards”, "
        "Foreign Affairs, 2016-12-21, ¶ 1. "
        "https://www.foreignaffairs.com/articles/asia/2016-12-21/kazakhstan-s-human-rights-crackdown")


def test_a_question_nothing_answers_gets_an_abstention_and_no_passage(qa):
    answer = qa.ask("zzqx wobble frumious bandersnatch")
    assert answer.abstained and answer.passages == () and answer.best is None
    raw = qa.search("zzqx wobble frumious bandersnatch", k=4)
    assert not raw.abstained and len(raw.passages) == 4  # search never abstains


def test_a_follow_up_is_read_with_the_earlier_question(qa):
    earlier = ["Do independent journalists and activists face harassment, censorship and imprisonment?"]
    alone = qa.ask("And what about them?")
    assert alone.abstained
    follow = qa.ask("And what about them?", history=earlier)
    assert not follow.abstained
    assert follow.passages[0].section == "Suppression of Free Speech"
    assert "earlier question" in follow.notes[0]
    fresh = qa.ask("permits for public demonstrations", history=earlier)
    assert fresh.passages[0].section == "Crackdowns on Peaceful Assembly" and not fresh.notes


def test_a_new_unrelated_question_is_not_dragged_back_to_the_earlier_topic(qa):
    earlier = ["Do independent journalists and activists face harassment, censorship and imprisonment?"]
    answer = qa.ask("zorblat quux recipe", history=earlier)
    assert answer.abstained and answer.passages == ()


@pytest.mark.parametrize("question, expected", [
    ("And what about the press?", True), ("Are they labelled as anything?", True),
    ("What about NGOs?", True), ("Why?", True), ("pasta recipe", False),
    ("What is the population of Kazakhstan?", False),
    ("Is there any evidence that the government of Kazakhstan tortures detained journalists", False),
    ("Who came after him?", True), ("Who is Tokayev?", False),
])
def test_follow_up_detection(question, expected):
    from kzqa.search.question import looks_like_follow_up

    assert looks_like_follow_up(question) is expected


@pytest.mark.parametrize("bad", ["", "   \n\t", "\x00\x01", 42, None])
def test_empty_or_non_text_questions_are_refused_clearly(qa, bad):
    with pytest.raises(kzqa.InvalidQuestion):
        qa.ask(bad)


def test_over_long_questions_and_bad_k_are_refused_clearly(qa):
    with pytest.raises(kzqa.InvalidQuestion, match="limit is 2,000"):
        qa.ask("elections " * 500)
    for k in (0, -1, 101, 2.5, True):
        with pytest.raises(kzqa.InvalidQuestion, match="k must be"):
            qa.ask("elections", k=k)


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=st.text(max_size=300), history=st.lists(st.text(max_size=50), max_size=3))
def test_ask_answers_or_refuses_clearly_for_any_string(qa, question, history):
    try:
        answer = qa.ask(question, k=3, history=history)
    except kzqa.InvalidQuestion:
        assert not question.strip() or len(question) > 2000 or not question.translate(
            {c: None for c in [*range(32), 0x7f]}).strip()
        return
    assert isinstance(answer, kzqa.Answer) and answer.abstained == (answer.passages == ())
