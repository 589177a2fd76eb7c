"""Measuring retrieval quality: BEIR benchmarks and kzqa's own question sets.

- ``evaluate_beir``: nDCG@10, Recall@100, MRR@10, build time and median query latency on a
  BEIR folder, through a real index built by ``kzqa.build`` (``kzqa.beir``) and searched by
  ``QA.search``, the ranking ``ask()`` answers from (a document scores as its best passage).
- ``evaluate_questions``: hit@1, hit@3, MRR, abstention precision/recall, wrongly-abstained
  rate, per split (tune / heldout) and per kind, with a sweep of the abstention rule.
- ``calibrate``: fit the abstention rule on the tuning split.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InvalidQuestion, KzqaError
from .settings import Abstention, Settings

if TYPE_CHECKING:
    from .embedding import Embedder
    from .passage_vectors import Progress
    from .search import QA

# -- metrics (each checked by hand in tests/test_eval.py) ---------------------------------


def ndcg_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], relevant: dict[str, int] | set[str], k: int = 100) -> float:
    rel = set(relevant)
    return len(rel & set(ranked[:k])) / len(rel) if rel else 0.0


def mrr_at(ranked: Sequence[str], relevant: dict[str, int] | set[str], k: int = 10) -> float:
    for i, d in enumerate(ranked[:k]):
        if d in relevant:
            return 1.0 / (i + 1)
    return 0.0


def hit_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return 1.0 if relevant & set(ranked[:k]) else 0.0


# -- BEIR ---------------------------------------------------------------------------------


def evaluate_beir(folder: Path, settings: Settings, embedder: Embedder | None = None, *,
                  rebuild: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """nDCG@10, Recall@100 and MRR@10 of ``QA.search`` (k=100, as ``ask`` ranks) on the
    BEIR folder ``folder``, over the index ``kzqa.build`` makes of its corpus
    (``kzqa.beir.beir_index``). A document ranks where its best passage does."""
    from .beir import beir_index, load_beir
    from .search import MAX_K

    data = load_beir(folder)
    built = beir_index(folder, data, settings, embedder, rebuild=rebuild, progress=progress)
    qa = built.qa.warm_up()
    per_query: list[tuple[float, float, float]] = []
    latencies, refused = [], 0
    for qid, text in data.queries.items():
        started = time.perf_counter()
        try:
            hits = qa.search(text, k=MAX_K).passages
        except InvalidQuestion:  # empty or over-long: nothing found
            hits, refused = (), refused + 1
        latencies.append(time.perf_counter() - started)
        ranked = list(dict.fromkeys(built.beir_ids[h.doc_id] for h in hits))  # best passage first
        rel = data.qrels[qid]
        per_query.append((ndcg_at(ranked, rel, 10), recall_at(ranked, rel, 100), mrr_at(ranked, rel, 10)))
    means = np.mean(np.array(per_query).reshape(-1, 3), axis=0) if per_query else np.zeros(3)
    return {
        "benchmark": data.name, "documents": len(data.documents), "indexed": len(built.beir_ids),
        "left_out": [{"file": p.path, "reason": p.reason} for p in built.left_out],
        "passages": len(qa.passages), "queries": len(per_query), "refused_queries": refused,
        **{m: round(float(v), 4) for m, v in zip(("ndcg@10", "recall@100", "mrr@10"), means)},
        "index": str(built.folder / "index"), "cached": built.cached, "build": built.build,
        "median_query_ms": round(1000 * statistics.median(latencies), 2) if latencies else None,
        "settings": _retrieval_settings(qa.settings),
    }


def _retrieval_settings(s: Settings) -> dict[str, Any]:
    keys = ("model", "mode", "fusion", "dense_weight", "rrf_k", "depth",
            "bm25_k1", "bm25_b", "max_chars", "mmr_lambda")
    return {k: getattr(s, k) for k in keys}


# -- own question sets --------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]  # passage ids; empty = the corpus does not answer it
    history: tuple[str, ...]
    split: str
    kind: str


def load_questions(path: Path) -> list[Question]:
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(Question(str(row.get("id", n)), row["question"], tuple(row.get("answers", ())),
                                tuple(row.get("history", ())), row.get("split", "all"),
                                row.get("kind", "answerable" if row.get("answers") else "no-answer")))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise KzqaError(f"{path}:{n}: not a question line ({e}); expected "
                            '{"question": ..., "answers": [passage ids], "history": [...]}') from None
    if not out:
        raise KzqaError(f"{path}: no questions")
    return out


def run_questions(qa: QA, questions: list[Question], k: int = 10) -> list[dict[str, Any]]:
    rows = []
    for q in questions:
        d = qa.diagnose(q.question, k=k, history=list(q.history))
        rows.append({"id": q.id, "split": q.split, "kind": q.kind, "question": q.question,
                     "answers": list(q.answers), "ranked": [h.id for h in d.ranking],
                     "abstained": d.answer.abstained, "signals": d.signals, "margin": d.margin,
                     "follow_up": d.follow_up})
    return rows


def question_metrics(rows: list[dict[str, Any]], offset: float = 0.0) -> dict[str, Any]:
    """Metrics of a run; ``offset`` shifts the abstention rule (for the sweep)."""
    answerable = [r for r in rows if r["answers"]]
    unanswerable = [r for r in rows if not r["answers"]]

    def abstains(r: dict[str, Any]) -> bool:
        return bool(r["margin"] + offset < 0)

    def good(r: dict[str, Any]) -> bool:
        return bool(r["ranked"]) and r["ranked"][0] in r["answers"]

    answered = [r for r in rows if not abstains(r)]
    abstained = [r for r in rows if abstains(r)]
    out = {
        "questions": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "hit@1": _mean(hit_at(r["ranked"], set(r["answers"]), 1) for r in answerable),
        "hit@3": _mean(hit_at(r["ranked"], set(r["answers"]), 3) for r in answerable),
        "mrr": _mean(mrr_at(r["ranked"], set(r["answers"]), 10) for r in answerable),
        "abstention_recall": _mean(abstains(r) for r in unanswerable),
        "abstention_precision": _mean(not r["answers"] for r in abstained),
        "wrongly_abstained": _mean(abstains(r) for r in answerable),
        "answer_precision": _mean(good(r) for r in answered),
        "coverage": _mean(not abstains(r) for r in answerable),
    }
    follow = [r for r in answerable if r["kind"] == "follow-up"]
    if follow:
        out["follow_ups_correct"] = _mean(good(r) and not abstains(r) for r in follow)
    return out


def evaluate_questions(qa: QA, path: Path) -> dict[str, Any]:
    rows = run_questions(qa, load_questions(path))
    splits = sorted({r["split"] for r in rows})
    report: dict[str, Any] = {"questions": str(path), "settings": _retrieval_settings(qa.settings),
                              "abstention": qa.settings.abstention.to_dict()}
    for split in [*splits, "all"] if len(splits) > 1 else splits:
        mine = rows if split == "all" else [r for r in rows if r["split"] == split]
        report[split] = question_metrics(mine)
        report[split]["by_kind"] = {
            kind: {"n": len(rs), "hit@1": _mean(bool(r["ranked"]) and r["ranked"][0] in r["answers"]
                                                for r in rs if r["answers"]),
                   "abstained": _mean(r["margin"] < 0 for r in rs)}
            for kind in sorted({r["kind"] for r in mine})
            for rs in [[r for r in mine if r["kind"] == kind]]
        }
    report["sweep"] = [{"offset": o, **{m: question_metrics(rows, o)[m] for m in
                                        ("answer_precision", "coverage", "abstention_recall")}}
                       for o in (-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0)]
    report["misses"] = [r for r in rows if (r["answers"] and (not r["ranked"] or r["ranked"][0] not in r["answers"]
                                                              or r["margin"] < 0))
                        or (not r["answers"] and r["margin"] >= 0)]
    return report


# -- calibration --------------------------------------------------------------------------


# The signals the fitted rule uses. Measured on the shipped corpus (README, "Abstention"):
# with all four, the rule fitted on the tuning half wrongly abstained on 11-19% of the
# held-out answerable questions; with these two, 7%, at the same abstention recall.
CALIBRATION_SIGNALS = ("focus", "coverage")


def calibrate(qa: QA, path: Path, split: str = "tune") -> tuple[Abstention, dict[str, Any]]:
    """Fit the abstention rule on ``split``: logistic regression of "the corpus answers this
    question" on the signals, then the cut-off that makes the fewest mistakes on that split,
    answering an unanswerable question counting twice an abstention (silence beats a wrong
    answer). Whether the *first* passage is the right one is the ranking's job: the signals
    cannot see it, and fitting on it made the rule abstain on questions it answered well."""
    rows = [r for r in run_questions(qa, load_questions(path)) if r["split"] == split]
    if len(rows) < 8:
        raise KzqaError(f"{path}: only {len(rows)} questions in split '{split}'; need 8 or more")
    x = np.array([[r["signals"][s] for s in CALIBRATION_SIGNALS] for r in rows], dtype=np.float64)
    y = np.array([bool(r["answers"]) for r in rows], dtype=np.float64)
    if y.min() == y.max():
        raise KzqaError(f"{path}: split '{split}' needs both answerable and unanswerable questions")
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    w = _logistic((x - mean) / std, y, l2=1.0)
    weights = w[:-1] / std
    bias = w[-1] - float(weights @ mean)
    z = x @ weights + bias

    def cost(t: float) -> int:
        return int(2 * np.sum((z >= t) & (y == 0)) + np.sum((z < t) & (y == 1)))

    order = np.sort(z)
    cuts = np.concatenate([[order[0] - 1], (order[:-1] + order[1:]) / 2, [order[-1] + 1]])
    gaps = np.concatenate([[1.0], np.diff(order), [1.0]])
    best = min(range(len(cuts)), key=lambda i: (cost(float(cuts[i])), -gaps[i]))
    rule = Abstention({s: round(float(v), 4) for s, v in zip(CALIBRATION_SIGNALS, weights)},
                      round(float(bias - cuts[best]), 4))
    return rule, {"split": split, "questions": len(rows), "mistakes": cost(float(cuts[best]))}


def _logistic(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 50) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method; returns weights + intercept."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.eye(xb.shape[1]) * l2
    reg[-1, -1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + reg @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def with_overrides(qa: QA, **changes: Any) -> QA:
    """The same loaded index searched with other retrieval settings (no rebuild needed:
    every index holds both the dense and the BM25 side)."""
    from .search import QA

    store = replace(qa.store, settings=qa.settings.with_(**changes))
    return QA(store, qa._embedder)


def _mean(values: Iterable[float]) -> float | None:
    numbers = [float(v) for v in values]
    return round(sum(numbers) / len(numbers), 4) if numbers else None
