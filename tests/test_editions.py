"""Echoes across editions: the same paragraph, or nearly (a figure or a tense changed),
in several documents is one group; different paragraphs on one topic are not."""

from __future__ import annotations

import numpy as np

from kzqa.editions import echo_groups

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
