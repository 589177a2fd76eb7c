"""Echoes across editions: the same paragraph, or nearly (a figure or a tense changed),
in several documents is one group; different paragraphs on one topic are not."""

from __future__ import annotations

import numpy as np

from kzqa.retrieval.editions import echo_groups
from kzqa.retrieval.ranking import Ranked
from kzqa.search.preference import asks_when, supersede

BASE = ("The law requires organizers of public assemblies to obtain a permit from local "
        "authorities ten days in advance, and the authorities denied permits to opposition "
        "groups and detained participants of unsanctioned rallies in Almaty and Astana.")
FIGURE = BASE.replace("ten days", "five days")
TENSE = BASE.replace("requires", "required")
OTHER = ("Authorities used the law on peaceful assemblies to restrict gatherings; human rights "
         "groups reported that police detained dozens of protesters after rallies in Almaty.")


def test_the_same_paragraph_in_three_editions_is_one_group_and_a_different_one_is_not():
    groups = echo_groups([BASE, FIGURE, TENSE, OTHER, BASE], ["2017", "2018", "2019", "2019", "2018"])
    assert groups[0] == groups[1] == groups[2] == groups[4] == 0
    assert groups[3] == 3


def test_passages_of_one_document_are_never_grouped_and_short_ones_stay_alone():
    heading = "Section 2. Respect for Civil Liberties"
    groups = echo_groups([BASE, BASE, heading, heading], ["2019", "2019", "2018", "2019"])
    assert list(groups) == [0, 1, 2, 3]


def test_groups_are_the_same_in_every_run_and_scale_linearly():
    rng = np.random.default_rng(0)
    vocabulary = [f"w{i}" for i in range(3000)]
    texts = [" ".join(rng.choice(vocabulary, 60)) for _ in range(3000)]
    docs = [str(i % 9) for i in range(3000)]
    first = echo_groups(texts + texts[:10], docs + ["x"] * 10)
    assert list(first[3000:]) == list(range(10))  # each copy joins its original
    assert (first[:3000] == np.arange(3000)).all()  # random paragraphs: no false echoes
    assert (echo_groups(texts + texts[:10], docs + ["x"] * 10) == first).all()


def _unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_the_first_passage_gives_way_to_a_later_editions_rewrite_of_it_and_to_nothing_else():
    q = _unit(1, 0, 0)
    old = _unit(1, 0.3, 0)  # 2019: the paragraph
    rewrite = _unit(1, 0.4, 0.05)  # 2023: the same paragraph in the past tense
    other = _unit(0.9, -0.6, 0.3)  # 2024: another paragraph on the topic
    foreign = _unit(1, 0.35, 0)  # 2024, another publisher
    rows = np.array([0, 1, 2, 3])
    fused = Ranked(rows, np.array([1.0, 0.9, 0.8, 0.7], dtype=np.float32), 0.0)
    years = np.array([2019.0, 2024.0, 2023.0, 2024.0])
    series = np.array([0, 0, 0, 1])
    vectors = np.vstack([old, other, rewrite, foreign])
    moved = supersede(fused, vectors, q, years, series, similar=0.9, margin=0.05)
    assert moved.rows.tolist() == [2, 0, 1, 3] and moved.scores[0] == 1.0
    # too far from the question, or too unlike the first passage: nothing moves
    assert supersede(fused, vectors, q, years, series, 0.9, 0.0).rows.tolist() == [0, 1, 2, 3]
    assert supersede(fused, vectors, q, years, series, 0.9999, 0.05).rows.tolist() == [0, 1, 2, 3]
    # the rewrite scores 0.2 below the first on the fused score (it lacks the question's words)
    assert supersede(fused, vectors, q, years, series, 0.9, 0.05, score_margin=0.1).rows.tolist() == [0, 1, 2, 3]
    assert supersede(fused, vectors, q, years, series, 0.9, 0.05, score_margin=0.2).rows.tolist() == [2, 0, 1, 3]
    # a passage of no known year is never replaced
    unknown = np.array([np.nan, 2024.0, 2023.0, 2024.0])
    assert supersede(fused, vectors, q, unknown, series, 0.9, 0.05).rows.tolist() == [0, 1, 2, 3]


def test_a_question_asking_when_something_happened_does_not_prefer_the_latest_edition():
    assert asks_when("When was criminal liability for libel abolished?")
    assert asks_when("  when did the law change?")
    assert not asks_when("What happened when Nazarbayev resigned?")
    assert not asks_when("Whenever protesters gather, are they detained?")


def test_echo_groups_are_found_once_and_a_damaged_cache_file_is_found_again(tmp_path):
    """Issue 26: every serving process had found the groups again at start-up."""
    import numpy as np

    from kzqa.retrieval.echo_cache import cached_echo_groups, echo_key
    from kzqa.retrieval.editions import echo_groups

    texts = ["The police detained dozens of peaceful protesters in Almaty and fined the organisers of the rally.",
             "The police detained dozens of peaceful protesters in Almaty and fined the organizers of the rally.",
             "Courts rarely acquitted defendants, and the judiciary was not independent of the executive."]
    docs = ["r2022", "r2023", "r2023"]
    expected = echo_groups(texts, docs)
    assert list(expected) == [0, 0, 2]
    assert list(cached_echo_groups(texts, docs, tmp_path)) == [0, 0, 2]
    path = tmp_path / "echoes" / f"{echo_key(texts, docs)}.npy"
    assert path.is_file()
    np.save(path, np.array([0, 2, 2], dtype=np.int64))  # a group pointing forward: does not fit
    assert list(cached_echo_groups(texts, docs, tmp_path)) == [0, 0, 2]
    path.write_bytes(b"not an array")
    assert list(cached_echo_groups(texts, docs, tmp_path)) == [0, 0, 2]
    assert echo_key(texts, docs) != echo_key(texts, ["r2022", "r2023", "r2024"])
