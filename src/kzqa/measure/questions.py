"""Measuring kzqa on its own question sets (``kzqa.measure.question_set``), and fitting its
abstention rule on them.

``evaluate_questions`` reports, per split (tune / heldout) and per kind of question:
hit@1, hit@3 and MRR (the right passage among the first ones), latest@1 (the first
passage comes from the most recent document that answers), year@1 (a question about a
dated event answered from that year's edition), abstention precision and recall,
wrongly-abstained rate, follow-ups answered right, answers quoting a document about
another country, and answers that show one text twice. ``calibrate`` fits the rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from kzqa.errors import KzqaError
from kzqa.measure.question_set import Question, load_questions
from kzqa.results import Hit, strength_of
from kzqa.retrieval.editions import repeats, shingles
from kzqa.search.qa import QA
from kzqa.settings import Abstention

OTHER_COUNTRY_KINDS = ("other-country",)  # questions that ask about another country on purpose


def run_questions(qa: QA, questions: list[Question], k: int = 10) -> list[dict[str, Any]]:
    """Ask every question; what each answer was, judged against what was expected."""
    texts = {p.id: p.text for p in qa.passages}
    home = qa.settings.country
    rows = []
    for q in questions:
        d = qa.diagnose(q.question, k=k, history=list(q.history))
        right = [q.is_right(h.id, h.doc_id, h.text) or any(
            q.is_right(e.id, e.doc_id, texts.get(e.id, "")) for e in h.also_in) for h in d.ranking]
        first = d.ranking[0] if d.ranking else None
        shown = d.ranking[:3]
        rows.append({
            "id": q.id, "split": q.split, "kind": q.kind, "question": q.question,
            # a question answered only by documents this library lacks is one it cannot answer
            "answerable": q.answerable and (not q.evidence or any(e.doc in qa.documents for e in q.evidence)),
            "right": right, "ranked": [h.id for h in d.ranking],
            "expected": list(q.answers) + [f"{e.doc}: “{e.quote}”" for e in q.evidence],
            "latest": bool(first and q.latest and q.is_latest(first.doc_id, first.text)),
            "has_latest": bool(q.latest) and not q.years,
            "year": bool(first and right[0] and first.covers and int(first.covers[-4:]) in q.years),
            "dated": bool(q.years) and q.answerable,
            "foreign": any(_foreign(h, home) for h in shown) and q.kind not in OTHER_COUNTRY_KINDS,
            "duplicate": _has_duplicate(shown),
            "superseded": bool(first and q.is_superseded(first.doc_id, first.text)),
            "strength": d.answer.strength,
            "abstained": d.answer.abstained, "signals": d.signals, "margin": d.margin,
            "follow_up": d.follow_up,
        })
    return rows


def _foreign(hit: Hit, home: str | None) -> bool:
    """A passage from a document about another country than the bot's."""
    countries = [c.strip() for c in (hit.country or "").split(";") if c.strip()]
    return bool(home and countries and home not in countries)


def _has_duplicate(hits: tuple[Hit, ...]) -> bool:
    grams = [shingles(h.text) for h in hits]
    return any(repeats(a, b) for i, a in enumerate(grams) for b in grams[i + 1:])


def question_metrics(rows: list[dict[str, Any]], offset: float = 0.0) -> dict[str, Any]:
    """Metrics of a run; ``offset`` shifts the abstention rule (for the sweep)."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]

    def abstains(r: dict[str, Any]) -> bool:
        return bool(r["margin"] + offset < 0)

    def good(r: dict[str, Any]) -> bool:
        return bool(r["right"]) and bool(r["right"][0])

    answered = [r for r in rows if not abstains(r)]
    out: dict[str, Any] = {
        "questions": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "hit@1": _mean(good(r) for r in answerable),
        "hit@3": _mean(any(r["right"][:3]) for r in answerable),
        "mrr": _mean(next((1 / (i + 1) for i, ok in enumerate(r["right"][:10]) if ok), 0.0)
                     for r in answerable),
        "latest@1": _mean(r["latest"] for r in answerable if r["has_latest"]),
        "year@1": _mean(r["year"] for r in answerable if r["dated"]),
        "abstention_recall": _mean(abstains(r) for r in unanswerable),
        "abstention_precision": _mean(not r["answerable"] for r in rows if abstains(r)),
        "wrongly_abstained": _mean(abstains(r) for r in answerable),
        "answer_precision": _mean(good(r) for r in answered),
        "coverage": _mean(not abstains(r) for r in answerable),
        "foreign_answers": sum(1 for r in answered if r["foreign"]),
        "duplicate_answers": sum(1 for r in answered if r["duplicate"]),
        "superseded_first": sum(1 for r in answered if r.get("superseded")),
        # how often an answer of each strength has the right passage first (unanswerable
        # questions answered count as wrong): what "Strong match" has measured
        "strong_precision": _mean(good(r) for r in answered if _strength(r, offset) == "strong"),
        "strong_answers": sum(1 for r in answered if _strength(r, offset) == "strong"),
        "partial_precision": _mean(good(r) for r in answered if _strength(r, offset) == "partial"),
    }
    follow = [r for r in answerable if r["kind"] == "follow-up"]
    if follow:
        out["follow_ups_correct"] = _mean(good(r) and not abstains(r) for r in follow)
    return out


def _strength(row: dict[str, Any], offset: float) -> str | None:
    return strength_of(row["margin"] + offset)


def evaluate_questions(qa: QA, path: Path) -> dict[str, Any]:
    """The report of ``kzqa eval QUESTIONS.jsonl``: metrics per split and kind, a sweep of
    the abstention rule, and every miss."""
    rows = run_questions(qa, load_questions(path))
    splits = sorted({r["split"] for r in rows})
    report: dict[str, Any] = {"questions": str(path), "settings": qa.settings.to_dict(),
                              "abstention": qa.settings.abstention.to_dict()}
    for split in [*splits, "all"] if len(splits) > 1 else splits:
        mine = rows if split == "all" else [r for r in rows if r["split"] == split]
        report[split] = question_metrics(mine)
        report[split]["by_kind"] = {
            kind: {"n": len(rs), "hit@1": _mean(bool(r["right"] and r["right"][0]) for r in rs if r["answerable"]),
                   "abstained": _mean(r["margin"] < 0 for r in rs)}
            for kind in sorted({r["kind"] for r in mine})
            for rs in [[r for r in mine if r["kind"] == kind]]
        }
    report["sweep"] = [{"offset": o, **{m: question_metrics(rows, o)[m] for m in
                                        ("answer_precision", "coverage", "abstention_recall")}}
                       for o in (-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0)]
    report["misses"] = [r for r in rows if (r["answerable"] and (not r["right"] or not r["right"][0]
                                                                 or r["margin"] < 0))
                        or (not r["answerable"] and r["margin"] >= 0)]
    return report


# The signals the fitted rule uses (which ones, and what each added: eval/NOTEBOOK.md,
# CALIBRATION_SIGNALS).
CALIBRATION_SIGNALS = ("focus", "coverage", "lift", "unknown")


def calibrate(qa: QA, path: Path | Sequence[Path], split: str = "tune",
              signals: tuple[str, ...] = CALIBRATION_SIGNALS) -> tuple[Abstention, dict[str, Any]]:
    """Fit the abstention rule on ``split`` of one or more question sets: logistic regression
    of "the corpus answers this question" on the signals, then the cut-off that makes the
    fewest mistakes on that split, answering an unanswerable question counting twice an
    abstention (silence beats a wrong answer). Whether the *first* passage is the right one
    is the ranking's job: the signals cannot see it, and fitting on it made the rule abstain
    on questions it answered well."""
    paths = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
    questions = [q for p in paths for q in load_questions(p)]
    rows = [r for r in run_questions(qa, questions) if r["split"] == split]
    names = ", ".join(p.name for p in paths)
    if len(rows) < 8:
        raise KzqaError(f"{names}: only {len(rows)} questions in split '{split}'; need 8 or more")
    x = np.array([[r["signals"][s] for s in signals] for r in rows], dtype=np.float64)
    y = np.array([bool(r["answerable"]) for r in rows], dtype=np.float64)
    if y.min() == y.max():
        raise KzqaError(f"{names}: split '{split}' needs both answerable and unanswerable questions")
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    w = fit_logistic((x - mean) / std, y, l2=1.0)
    weights = w[:-1] / std
    bias = w[-1] - float(weights @ mean)
    z = x @ weights + bias

    def cost(t: float) -> int:
        return int(2 * np.sum((z >= t) & (y == 0)) + np.sum((z < t) & (y == 1)))

    order = np.sort(z)
    cuts = np.concatenate([[order[0] - 1], (order[:-1] + order[1:]) / 2, [order[-1] + 1]])
    gaps = np.concatenate([[1.0], np.diff(order), [1.0]])
    best = min(range(len(cuts)), key=lambda i: (cost(float(cuts[i])), -gaps[i]))
    rule = Abstention({s: round(float(v), 4) for s, v in zip(signals, weights)},
                      round(float(bias - cuts[best]), 4),
                      {"questions": names, "split": split, "passages": len(qa.passages),
                       "documents": len(qa.documents)})
    return rule, {"split": split, "questions": len(rows), "mistakes": cost(float(cuts[best]))}


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 50) -> np.ndarray:
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
    """The same loaded index searched with other search settings (no rebuild needed:
    every index holds both the dense and the BM25 side)."""
    store = replace(qa.store, settings=qa.settings.with_(**changes))
    return QA(store, qa.embedder)


def _mean(values: Any) -> float | None:
    values = [float(v) for v in values]
    return round(sum(values) / len(values), 4) if values else None


__all__ = ["calibrate", "evaluate_questions", "question_metrics", "run_questions", "with_overrides"]
