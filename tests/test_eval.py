"""Evaluation: metrics against hand-computed values, a tiny BEIR folder, question sets."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import kzqa
from conftest import FakeEmbedder, write
from kzqa import eval as ev


def test_ndcg_recall_mrr_match_hand_computed_values():
    ranked = ["a", "b", "c", "d"]
    # DCG = 1/log2(3) + 1/log2(4); IDCG = 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3))
    assert ev.ndcg_at(ranked, {"b": 1, "c": 1}, 10) == pytest.approx(expected)
    assert ev.ndcg_at(ranked, {"a": 1}, 10) == 1.0
    assert ev.ndcg_at(ranked, {"z": 1}, 10) == 0.0
    assert ev.ndcg_at(ranked, {"d": 1}, 3) == 0.0  # below the cut-off
    # graded: gains 2 at rank 2, ideal puts it first
    assert ev.ndcg_at(ranked, {"b": 2, "a": 1}, 10) == pytest.approx(
        (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))
    assert ev.recall_at(ranked, {"b": 1, "z": 1}, 100) == 0.5
    assert ev.recall_at(ranked, {"d": 1}, 3) == 0.0
    assert ev.mrr_at(ranked, {"c": 1, "d": 1}, 10) == pytest.approx(1 / 3)
    assert ev.mrr_at(ranked, {"d": 1}, 3) == 0.0
    assert ev.hit_at(ranked, {"b"}, 1) == 0.0 and ev.hit_at(ranked, {"b"}, 3) == 1.0


def _row(answers, ranked, margin, kind="paraphrase"):
    return {"answers": answers, "ranked": ranked, "margin": margin, "kind": kind}


def test_question_metrics_count_what_a_user_sees():
    rows = [
        _row(["p1"], ["p1", "p2"], 1.0),  # answered, right
        _row(["p1"], ["p2", "p1"], 1.0),  # answered, wrong first passage
        _row(["p3"], ["p3"], -1.0),  # right passage but abstained
        _row([], ["p1"], -0.5, "off-topic"),  # abstained, correctly
        _row([], ["p2"], 0.5, "uncovered"),  # answered a question it cannot answer
        _row(["p2"], ["p2"], 2.0, "follow-up"),
    ]
    m = ev.question_metrics(rows)
    assert m["hit@1"] == 0.75 and m["hit@3"] == 1.0
    assert m["mrr"] == pytest.approx((1 + 0.5 + 1 + 1) / 4)
    assert m["abstention_recall"] == 0.5  # 1 of 2 unanswerable
    assert m["abstention_precision"] == 0.5  # 1 of 2 abstentions was right
    assert m["wrongly_abstained"] == 0.25  # 1 of 4 answerable
    assert m["answer_precision"] == 0.5  # of 4 answered: right, wrong, unanswerable, right
    assert m["coverage"] == 0.75 and m["follow_ups_correct"] == 1.0
    shifted = ev.question_metrics(rows, offset=-0.75)  # a stricter rule
    assert shifted["abstention_recall"] == 1.0 and shifted["wrongly_abstained"] == 0.25


def test_logistic_regression_separates_separable_data():
    x = np.array([[0.1], [0.2], [0.3], [0.7], [0.8], [0.9]])
    y = np.array([0, 0, 0, 1, 1, 1], dtype=float)
    w = ev._logistic((x - x.mean()) / x.std(), y, l2=1.0)
    z = ((x - x.mean()) / x.std()) @ w[:-1] + w[-1]
    assert (z[:3] < 0).all() and (z[3:] > 0).all()


@pytest.fixture
def beir(tmp_path):
    folder = tmp_path / "tiny"
    docs = [("d1", "Press freedom", "Journalists are jailed and newspapers closed."),
            ("d2", "Assembly", "Protests need permits that are rarely granted."),
            ("d3", "Elections", "Votes are neither free nor fair, observers say.")]
    write(folder / "corpus.jsonl", "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n"
                                           for i, t, x in docs))
    write(folder / "queries.jsonl", "".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in
                                            [("q1", "jailed journalists"), ("q2", "protest permits"),
                                             ("q3", "unjudged query")]))
    write(folder / "qrels" / "test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    return folder


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_beir_evaluation_runs_the_kzqa_pipeline(beir, mode, tmp_path):
    from kzqa.cache import EmbeddingCache

    cache = EmbeddingCache(tmp_path / "cache")
    report = ev.evaluate_beir(beir, kzqa.Settings(mode=mode), embedder=FakeEmbedder(), cache=cache)
    assert report["queries"] == 2 and report["documents"] == 3
    assert report["ndcg@10"] == 1.0 and report["mrr@10"] == 1.0 and report["recall@100"] == 1.0
    again = ev.evaluate_beir(beir, kzqa.Settings(mode=mode), embedder=FakeEmbedder(), cache=cache)
    assert again["from_cache"] == report["passages"] and again["embedded"] == 0


def test_a_broken_benchmark_or_question_file_is_named(tmp_path):
    with pytest.raises(kzqa.KzqaError, match="not a BEIR folder"):
        ev.evaluate_beir(tmp_path, kzqa.Settings(), embedder=FakeEmbedder())
    bad = write(tmp_path / "q.jsonl", '{"question": "ok", "answers": []}\n{oops\n')
    with pytest.raises(kzqa.KzqaError, match="q.jsonl:2"):
        ev.load_questions(bad)


def test_question_set_evaluation_reports_each_split(built, tmp_path):
    _, index = built
    qa = kzqa.load(index, embedder=FakeEmbedder())
    qs = write(tmp_path / "qs.jsonl", "".join(json.dumps(r) + "\n" for r in [
        {"question": "permits for public demonstrations", "split": "tune",
         "answers": ["limited-political-freedoms-kazakhstan#6"]},
        {"question": "journalists censorship imprisonment", "split": "heldout",
         "answers": ["limited-political-freedoms-kazakhstan#5"]},
        {"question": "zorblat quux", "split": "heldout", "answers": [], "kind": "off-topic"},
    ]))
    report = ev.evaluate_questions(qa, qs)
    assert set(report) >= {"tune", "heldout", "all", "sweep", "misses"}
    assert report["tune"]["hit@1"] == 1.0 and report["heldout"]["answerable"] == 1
    assert [row["offset"] for row in report["sweep"]][3] == 0.0
