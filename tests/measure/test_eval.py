"""Evaluation: metrics against hand-computed values, a tiny BEIR folder, question sets."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

import kzqa
from conftest import FakeEmbedder, write
from kzqa.measure import evaluate as ev
from kzqa.measure import questions as evq
from kzqa.measure.question_set import load_questions


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
    """A run's row as ``eval_questions.run_questions`` makes it, for ids judged right by ``answers``."""
    return {"answerable": bool(answers), "right": [r in answers for r in ranked], "ranked": ranked,
            "margin": margin, "kind": kind, "latest": False, "has_latest": False, "year": False,
            "dated": False, "foreign": False, "duplicate": False}


def test_question_metrics_count_what_a_user_sees():
    rows = [
        _row(["p1"], ["p1", "p2"], 1.0),  # answered, right
        _row(["p1"], ["p2", "p1"], 1.0),  # answered, wrong first passage
        _row(["p3"], ["p3"], -1.0),  # right passage but abstained
        _row([], ["p1"], -0.5, "off-topic"),  # abstained, correctly
        _row([], ["p2"], 0.5, "uncovered"),  # answered a question it cannot answer
        _row(["p2"], ["p2"], 2.0, "follow-up"),
    ]
    m = evq.question_metrics(rows)
    assert m["hit@1"] == 0.75 and m["hit@3"] == 1.0
    assert m["mrr"] == pytest.approx((1 + 0.5 + 1 + 1) / 4)
    assert m["abstention_recall"] == 0.5  # 1 of 2 unanswerable
    assert m["abstention_precision"] == 0.5  # 1 of 2 abstentions was right
    assert m["wrongly_abstained"] == 0.25  # 1 of 4 answerable
    assert m["answer_precision"] == 0.5  # of 4 answered: right, wrong, unanswerable, right
    assert m["coverage"] == 0.75 and m["follow_ups_correct"] == 1.0
    shifted = evq.question_metrics(rows, offset=-0.75)  # a stricter rule
    assert shifted["abstention_recall"] == 1.0 and shifted["wrongly_abstained"] == 0.25


def test_logistic_regression_separates_separable_data():
    x = np.array([[0.1], [0.2], [0.3], [0.7], [0.8], [0.9]])
    y = np.array([0, 0, 0, 1, 1, 1], dtype=float)
    w = evq.fit_logistic((x - x.mean()) / x.std(), y, l2=1.0)
    z = ((x - x.mean()) / x.std()) @ w[:-1] + w[-1]
    assert (z[:3] < 0).all() and (z[3:] > 0).all()


@pytest.fixture
def beir(tmp_path):
    """Five documents (one kzqa cannot quote: left out; one whose id is not a kzqa document
    id) and four judged queries whose rankings are plain from the words they share."""
    folder = tmp_path / "tiny"
    docs = [("d1", "Press freedom", "Journalists are jailed and newspapers closed."),
            ("d2", "Assembly", "Protests need permits that are rarely granted."),
            ("d3", "Elections", "Votes are neither free nor fair, observers say."),
            ("d4", "A book", "© Joanna Moncrieff 2013. All rights reserved."),
            ("D5", "Courts", "Judges are not independent of the executive.")]
    write(folder / "corpus.jsonl", "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n"
                                           for i, t, x in docs))
    write(folder / "queries.jsonl", "".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in
                                            [("q1", "jailed journalists"),
                                             ("q2", "journalists jailed newspapers permits"),
                                             ("q3", "jailed journalists"),
                                             ("q4", "independent judges"),
                                             ("q5", "unjudged query")]))
    write(folder / "qrels" / "test.tsv", "query-id\tcorpus-id\tscore\n"
          "q1\td1\t1\nq2\td2\t1\nq3\td1\t1\nq3\td4\t1\nq4\tD5\t1\n")
    return folder


# By hand: q1 finds d1 first (1, 1, 1); q2 shares three words with d1 and one with d2, so its
# relevant d2 is second (nDCG 1/log2(3), recall 1, MRR 1/2); q3 finds d1 first but its other
# relevant document, d4, is not in the index (nDCG 1/(1 + 1/log2(3)), recall 1/2, MRR 1);
# q4 finds D5 first (1, 1, 1).
TINY = {"ndcg@10": (2 + 1 / math.log2(3) + 1 / (1 + 1 / math.log2(3))) / 4,
        "recall@100": 3.5 / 4, "mrr@10": 3.5 / 4}


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_beir_evaluation_builds_a_real_index_and_searches_it(beir, mode, monkeypatch):
    from kzqa.search.qa import QA

    searched = []
    search = QA.search
    monkeypatch.setattr(QA, "search", lambda self, q, k=10: searched.append(k) or search(self, q, k))
    report = ev.evaluate_beir(beir, kzqa.Settings(mode=mode), embedder=FakeEmbedder())
    assert searched == [100] * 4  # every judged query, through QA.search, k=100
    assert {m: report[m] for m in TINY} == {m: round(v, 4) for m, v in TINY.items()}
    assert report["queries"] == 4 and report["documents"] == 5 and report["indexed"] == 4
    assert report["left_out"] == [{"file": "d4.txt", "reason": "no quotable paragraph (only "
                                   "headings or page furniture)"}]
    index = Path(report["index"])  # a kzqa index like any other, in the cache folder
    assert index.parent.parent == Path(os.environ["KZQA_CACHE_DIR"]) / "beir"
    assert json.loads((index / "manifest.json").read_text())["settings"]["max_chars"] == 900
    qa = kzqa.load(index, embedder=FakeEmbedder())
    assert sorted(qa.documents) == ["d1", "d2", "d3", "other/5"]
    assert qa.documents["d1"].source.title == "Press freedom"
    assert report["passages"] == len(qa.passages) == 4


def test_beir_evaluation_reuses_its_index_unless_told_to_rebuild(beir):
    first = ev.evaluate_beir(beir, kzqa.Settings(), embedder=FakeEmbedder())
    assert not first["cached"] and first["build"]["embedded"] == 4
    other_search = ev.evaluate_beir(beir, kzqa.Settings(mode="bm25", fusion="rrf"),
                                    embedder=FakeEmbedder())
    assert other_search["cached"] and other_search["index"] == first["index"]
    assert other_search["settings"]["mode"] == "bm25"
    rebuilt = ev.evaluate_beir(beir, kzqa.Settings(), embedder=FakeEmbedder(), rebuild=True)
    assert not rebuilt["cached"] and rebuilt["build"]["embedded"] == 0  # vectors reused
    other_build = ev.evaluate_beir(beir, kzqa.Settings(max_chars=400), embedder=FakeEmbedder())
    assert not other_build["cached"] and other_build["index"] != first["index"]
    assert {m: other_build[m] for m in TINY} == {m: first[m] for m in TINY}


def test_beir_evaluation_from_the_command_line(beir, capsys):
    from kzqa.cli.main import main

    assert main(["eval", str(beir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ndcg@10"] == round(TINY["ndcg@10"], 4) and report["queries"] == 4
    assert main(["eval", str(beir), "--mode", "dense"]) == 0
    out = capsys.readouterr().out
    assert "1 left out" in out and "built earlier" in out and "mode dense" in out


def test_a_broken_benchmark_or_question_file_is_named(tmp_path):
    with pytest.raises(kzqa.KzqaError, match="not a BEIR folder"):
        ev.evaluate_beir(tmp_path, kzqa.Settings(), embedder=FakeEmbedder())
    bad = write(tmp_path / "q.jsonl", '{"question": "ok", "answers": []}\n{oops\n')
    with pytest.raises(kzqa.KzqaError, match="q.jsonl:2"):
        load_questions(bad)


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
    report = evq.evaluate_questions(qa, qs)
    assert set(report) >= {"tune", "heldout", "all", "sweep", "misses"}
    assert report["tune"]["hit@1"] == 1.0 and report["heldout"]["answerable"] == 1
    assert [row["offset"] for row in report["sweep"]][3] == 0.0


def test_a_calibrated_rule_survives_a_rebuild_from_python(built, tmp_path):
    """calibrate -> the rule saved in the index -> kzqa.build() keeps it (as kzqa build does),
    alongside any setting changed in the same call; a whole Settings replaces it."""
    from kzqa.storage.store import update_settings

    corpus, index = built
    qa = kzqa.load(index, embedder=FakeEmbedder())
    answerable = [("permits for public demonstrations", "limited-political-freedoms-kazakhstan#6"),
                  ("journalists censorship imprisonment", "limited-political-freedoms-kazakhstan#5"),
                  ("protests dispersed with police violence", "limited-political-freedoms-kazakhstan#6"),
                  ("journalists face imprisonment", "limited-political-freedoms-kazakhstan#5"),
                  ("public demonstrations permits rarely granted", "limited-political-freedoms-kazakhstan#6")]
    unanswerable = ["zorblat quux", "recipe for apple pie", "football world cup winners",
                    "price of bitcoin", "quantum chromodynamics lattice"]
    qs = write(tmp_path / "qs.jsonl", "".join(json.dumps(r) + "\n" for r in
                                             [{"question": q, "answers": [a], "split": "tune"}
                                              for q, a in answerable] +
                                             [{"question": q, "answers": [], "split": "tune"}
                                              for q in unanswerable]))
    rule, _ = evq.calibrate(qa, qs)
    assert rule != qa.settings.abstention
    update_settings(index, qa.settings.with_(abstention=rule))
    kzqa.build(corpus, index, embedder=FakeEmbedder(), dense_weight=0.6)
    rebuilt = kzqa.load(index, embedder=FakeEmbedder()).settings
    assert rebuilt.abstention == rule and rebuilt.dense_weight == 0.6
    kzqa.build(corpus, index, kzqa.Settings(), embedder=FakeEmbedder())
    assert kzqa.load(index, embedder=FakeEmbedder()).settings.abstention == kzqa.Settings().abstention


def test_the_bounds_report_measures_kzqa_against_its_oracles(built, tmp_path):
    """eval/bounds.py: kzqa's ranking, the edition-known and written-alone oracles and the
    abstention rule refitted on the half measured, per file and split."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bounds", Path(__file__).parents[2] / "eval" / "bounds.py")
    assert spec and spec.loader
    bounds = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bounds)
    _, index = built
    qa = kzqa.load(index, embedder=FakeEmbedder())
    doc, press = "limited-political-freedoms-kazakhstan", "Independent journalists and activists face harassment"
    rows = [{"question": "permits for public demonstrations", "kind": "undated", "latest": doc,
             "evidence": [{"doc": doc, "quote": "Kazakhstan’s laws require government permits for public demonstrations"}]},
            {"question": "And them?", "kind": "follow-up", "history": ["zorblat quux"],
             "standalone": "journalists activists harassment censorship imprisonment",
             "evidence": [{"doc": doc, "quote": press}]},
            {"question": "zorblat quux", "kind": "off-topic"},
            {"question": "recipe for apple pie", "kind": "uncovered"}]
    qs = write(tmp_path / "qs.jsonl", "".join(json.dumps({**r, "split": split}) + "\n"
                                              for split in ("tune", "heldout") for r in rows))
    report = bounds.report(qa, [qs])
    assert "qs.jsonl heldout (2 answerable)" in report and "qs.jsonl tune (2 answerable)" in report
    heldout = report.split("qs.jsonl heldout")[1].split("qs.jsonl tune")[0]
    lines = {line[:34].strip(): line[34:].strip() for line in heldout.splitlines() if line.startswith("  ")}
    assert lines["latest@1 | edition known"] == "1.000 (1/1)"
    assert lines["follow-ups | written alone"] == "1.000 (1/1)"
    assert lines["hit@10"] == "1.000 (2/2)"
    assert "off-topic 1.00" in lines["abstention | as shipped"]
    assert "need 8 or more" in lines["abstention | fitted on this half"]  # too few to refit
