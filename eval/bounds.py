#!/usr/bin/env python3
"""How far the one offline model lets kzqa go on a question set: its misses measured
against oracles that know part of the answer.

    .venv/bin/python eval/bounds.py [--index build/library/index] QUESTIONS.jsonl ...

Per question file and split (tune / heldout):

- ``hit@1 / hit@3 / hit@10``: the right passage among kzqa's first 1, 3, 10 (abstention
  aside). No re-ordering of the first ten can do better than hit@10.
- ``hit@1, follow-ups left out / written alone``: the questions that stand alone, and all of
  them with each follow-up replaced by its standalone wording (a perfect reading of the
  conversation).
- ``re-ranker``: a pairwise logistic re-ranker of the first ten over every per-passage signal
  kzqa has (fused score, the model's cosine, the best sentence's cosine, the idf-weighted
  share of the question's words in the passage and in its best sentence, the rank), fitted on
  the tune halves of all the files given: on tune, leave one question out; on held-out, fitted
  on all of tune. If it cannot beat kzqa's own order, the information to do so is not in
  these signals.
- ``latest@1 | edition known``: the search limited to the most recent edition that answers
  (an oracle that knows which edition that is). What is left between kzqa's latest@1 and
  this is deciding whether a later edition answers at all.
- ``abstention | rule fitted on this half``: the abstention rule's signals with their weights
  fitted on the very half measured (kzqa calibrate on it: a cheat), then the best cut-off:
  the fewest answerable questions abstained on while every off-topic one and at least 90% of
  the uncovered ones are. If even that misses the targets, the signals bound them.
- ``year@1 | year named``: a dated question searched in the editions of the year(s) it
  asks about only: whether the model finds the right passage once the year is certain.
- ``follow-ups | written alone``: each follow-up asked as the question a person would write
  without the conversation (its ``standalone`` field). Those still missed are retrieval
  misses, not misreadings of the conversation.

Nothing here is tuned on: it reads the index as built and the questions as written.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import kzqa
from kzqa.errors import KzqaError
from kzqa.measure.question_set import Question, load_questions
from kzqa.measure.questions import calibrate, fit_logistic, run_questions, with_overrides
from kzqa.results import Hit
from kzqa.retrieval.search_text import lexical_text
from kzqa.search.filters import Filter
from kzqa.search.qa import QA, Diagnosis

DEPTH = 10
FEATURES = ("fused", "cosine", "best sentence cosine", "coverage", "best sentence coverage", "1/rank")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", nargs="+", type=Path)
    parser.add_argument("--index", default="build/library/index")
    args = parser.parse_args()
    print(f"index {args.index}: ", end="")
    print(report(kzqa.load(args.index), args.questions))


def report(qa: QA, paths: list[Path]) -> str:
    """The bounds of every question file and split, as printed."""
    signals = Signals(qa)
    runs: dict[tuple[str, str], list[Run]] = {}
    for path in paths:
        for q in load_questions(path):
            if q.answerable:
                runs.setdefault((path.name, q.split), []).append(Run.of(qa, signals, q))
    tune = [r for (_, split), rs in runs.items() if split == "tune" for r in rs]
    weights = fit(tune)
    lines = [f"{len(qa.passages):,} passages; re-ranker weights on tune "
             + ", ".join(f"{n} {w:+.2f}" for n, w in zip(FEATURES, weights))]
    for (name, split), rs in sorted(runs.items()):
        if split == "tune":
            reranked = [r.right[int(np.argmax(r.features @ fit([o for o in tune if o is not r])))]
                        for r in rs if len(r.right)]
        else:
            reranked = [r.right[int(np.argmax(r.features @ weights))] for r in rs if len(r.right)]
        dated = [r for r in rs if r.latest_known is not None]
        alone = [r for r in rs if r.alone is not None]
        years = [r for r in rs if r.year is not None]
        rows: list[tuple[str, ...]] = [(f"hit@{k}", share([r.right[:k].any() for r in rs])) for k in (1, 3, 10)]
        rows += [
            ("hit@1, follow-ups left out", share([r.right[:1].any() for r in rs if r.alone is None])),
            ("hit@1, follow-ups written alone", share([r.right[:1].any() if r.alone is None else r.alone
                                                       for r in rs])),
            ("re-ranker hit@1", share(reranked)),
            ("latest@1", share([r.latest for r in dated])),
            ("latest@1 | edition known", share([bool(r.latest_known) for r in dated])),
            ("year@1", share([r.year for r in years])),
            ("year@1 | year named", share([r.year_known for r in years])),
            ("follow-ups right@1", share([r.right[:1].any() for r in alone])),
            ("follow-ups | written alone", share([bool(r.alone) for r in alone]))]
        path = next(p for p in paths if p.name == name)
        rows += [("abstention | as shipped", *abstention(qa, path, split, refit=False)),
                 ("abstention | fitted on this half", *abstention(qa, path, split, refit=True))]
        lines += ["", f"{name} {split} ({len(rs)} answerable)"]
        lines += [f"  {label if i == 0 else '':<32} {value}" for label, *values in rows
                  for i, value in enumerate(values)]
    return "\n".join(lines)


def abstention(qa: QA, path: Path, split: str, refit: bool) -> list[str]:
    """Uncovered and off-topic questions abstained on, answerable ones wrongly abstained on:
    with the index's rule; or with the rule refitted on this half, at the cut-off that
    abstains on every off-topic question and 90% of the uncovered ones with the fewest
    answerable ones, and at the one that abstains on the most unanswerable questions while
    wrongly abstaining on at most 5% of the answerable ones."""
    questions = [q for q in load_questions(path) if q.split == split]
    if refit:
        try:
            qa = with_overrides(qa, abstention=calibrate(qa, path, split=split)[0])
        except KzqaError as e:
            return [f"- ({e})"]
    rows = run_questions(qa, questions)
    unc = np.array([r["margin"] for r in rows if r["kind"] == "uncovered"])
    off = np.array([r["margin"] for r in rows if r["kind"] == "off-topic"])
    ans = np.array([r["margin"] for r in rows if r["answerable"]])

    def at(cut: float) -> str:
        return (f"uncovered {(unc < cut).mean():.2f}, off-topic {(off < cut).mean():.2f}, "
                f"wrongly abstained {(ans < cut).mean():.3f}")

    if not refit:
        return [at(0.0)]
    allowed = int(len(unc) * 0.1)  # uncovered questions that may be answered
    meets = max(np.max(off, initial=-np.inf), np.sort(unc)[::-1][allowed] if len(unc) else -np.inf)
    strict = float(np.nextafter(meets, np.inf))
    room = int(len(ans) * 0.05)  # answerable questions that may be abstained on
    lenient = float(np.sort(ans)[room]) if len(ans) else 0.0
    return [at(strict), at(lenient)]


def share(values: list[Any]) -> str:
    return f"{sum(map(bool, values)) / len(values):.3f} ({sum(map(bool, values))}/{len(values)})" \
        if values else "-"


class Signals:
    """Per-passage signals of a ranking, from the index as stored."""

    def __init__(self, qa: QA):
        self.qa, self.store = qa, qa.store
        self.rows = {p.id: i for i, p in enumerate(qa.passages)}

    def of(self, d: Diagnosis) -> np.ndarray:
        embedder = self.qa.embedder
        assert embedder is not None  # loaded by the diagnosis
        qvec = np.asarray(embedder.encode([d.query]), dtype=np.float32)[0]
        qvec /= max(float(np.linalg.norm(qvec)), 1e-12)
        lexical = self.store.lexical
        words = set(lexical.query_terms(d.query))
        total = sum(lexical.idf(w) for w in words) or 1.0

        def covered(terms: set[str]) -> float:
            return float(sum(lexical.idf(w) for w in words if w in terms)) / total

        out = []
        for rank, hit in enumerate(d.ranking[:DEPTH]):
            row = self.rows[hit.id]
            passage = self.store.passages[row]
            vector = np.asarray(self.store.vectors.reconstruct(row), dtype=np.float32)
            spans = passage.sentences or ((0, len(passage.text)),)
            first = int(self.store.sentence_rows[row])
            sentences = self.store.sentence_vectors[first:first + len(passage.sentences)].astype(np.float32)
            best = float((sentences @ qvec).max()) if len(passage.sentences) else float(vector @ qvec)
            source = self.store.documents[passage.doc_id].source
            cover = covered(set(lexical.all_terms(lexical_text(passage, source))))
            sentence_cover = max(covered(set(lexical.all_terms(passage.text[a:b]))) for a, b in spans)
            out.append([hit.score, float(vector @ qvec), best, cover, sentence_cover, 1 / (rank + 1)])
        return np.array(out, dtype=np.float64).reshape(-1, len(FEATURES))


class Run:
    """One question: which of kzqa's first passages are right, their signals, and the oracles."""

    def __init__(self, right: np.ndarray, features: np.ndarray, latest: bool,
                 latest_known: bool | None, alone: bool | None, year: bool | None = None,
                 year_known: bool | None = None):
        self.right, self.features = right, features
        self.latest, self.latest_known, self.alone = latest, latest_known, alone
        self.year, self.year_known = year, year_known

    @classmethod
    def of(cls, qa: QA, signals: Signals, q: Question) -> Run:
        d = qa.diagnose(q.question, k=DEPTH, history=list(q.history))
        right = np.array([is_right(qa, q, h) for h in d.ranking], dtype=bool)
        latest = known = None
        if q.latest and not q.years and q.kind != "follow-up":
            latest = bool(d.ranking) and q.is_latest(d.ranking[0].doc_id, d.ranking[0].text)
            first = qa.diagnose(q.question, k=1, filters=Filter(documents=(q.latest,))).ranking
            known = bool(first) and q.is_latest(first[0].doc_id, first[0].text)
        year = year_known = None
        if q.years and q.kind != "follow-up":
            year = bool(d.ranking) and _of_year(q, d.ranking[0]) and bool(right[0])
            only = Filter(since=min(q.years), until=max(q.years))
            first = qa.diagnose(q.question, k=1, filters=only).ranking
            year_known = bool(first) and _of_year(q, first[0]) and is_right(qa, q, first[0])
        alone = None
        if q.kind == "follow-up" and q.standalone:
            first = qa.diagnose(q.standalone, k=1).ranking
            alone = bool(first) and is_right(qa, q, first[0])
        return cls(right, signals.of(d), bool(latest), known, alone, year, year_known)


def _of_year(q: Question, hit: Hit) -> bool:
    """Whether the passage comes from an edition of a year the question asks about."""
    return bool(hit.covers) and int(str(hit.covers)[-4:]) in q.years


def is_right(qa: QA, q: Question, hit: Hit) -> bool:
    """As ``kzqa eval`` judges: the passage, or an edition it stands for, answers."""
    return q.is_right(hit.id, hit.doc_id, hit.text) or any(
        q.is_right(e.id, e.doc_id, (qa.passage(e.id) or hit).text) for e in hit.also_in)


def fit(runs: list[Run]) -> np.ndarray:
    """Weights of a pairwise logistic re-ranker: each right passage against each wrong one
    of the same question's first ten."""
    pairs: list[np.ndarray] = []
    for r in runs:
        for i in np.flatnonzero(r.right):
            for j in np.flatnonzero(~r.right):
                pairs.append(r.features[i] - r.features[j])
    if not pairs:
        return np.zeros(len(FEATURES))
    x = np.array(pairs)
    scale = np.maximum(x.std(axis=0), 1e-9)
    x = np.vstack([x, -x]) / scale
    y = np.concatenate([np.ones(len(pairs)), np.zeros(len(pairs))])
    weights: np.ndarray = fit_logistic(x, y, l2=1.0)[:-1] / scale  # intercept 0: symmetric pairs
    return weights


if __name__ == "__main__":
    main()
