"""Ranking passages: BM25 and dense scores, their fusion, and diversity (MMR).

Pure functions over arrays plus a thin ``Lexical`` wrapper of bm25s, so the same code ranks
the kzqa index and a BEIR benchmark (``kzqa eval``). Each retriever hands over its best
``depth`` rows only (``Ranked``), and fusion works on those: its cost does not grow with the
index (at a million passages, fusing full score arrays took 16.5 ms of a ~46 ms answer).
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default token pattern


@functools.cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN  # what bm25s.tokenize(stopwords="en") drops

    return frozenset(STOPWORDS_EN)


# The words of asking, which bm25s's 33 stopwords keep: a question's "why", "could" and "you"
# are not its topic, yet counted as rare words of it ("why" stems to "whi", in no passage).
# Dropped from questions only; passages are indexed as before.
QUESTION_WORDS = frozenset("""
what which who whom whose when where why how whether
can could may might must shall should would will do does did done doing have has had having
been being am i me my mine we us our ours you your yours he him his she her hers its them
theirs any anyone anybody anything some someone somebody something every each all other
ever also still really actually just even else too very much many
today now nowadays currently presently anymore
""".split())  # the last line: asking about the present ("... today?"), which preference.asks_now reads
_MARKS = re.compile(r"[\u0300-\u036f]")  # combining accents, after NFKD


@functools.cache
def _question_stopwords() -> frozenset[str]:
    return _stopwords() | QUESTION_WORDS


def _words(text: str, stopwords: frozenset[str]) -> list[str]:
    """The lower-cased words of ``text`` as bm25s splits them, ``stopwords`` left out."""
    return [w for w in _TOKEN.findall(text.lower()) if w not in stopwords]

@dataclass(frozen=True)
class Ranked:
    """A retriever's best rows, best first, with their scores. ``low`` is the score that
    min-max fusion scales to 0: the last row's, or 0 when fewer rows than asked for scored at
    all (the rest of the top ``depth`` would have scored 0)."""

    rows: np.ndarray
    scores: np.ndarray
    low: float

    @classmethod
    def of(cls, scores: np.ndarray, depth: int) -> Ranked:
        """The best ``depth`` of a full score array (ties by row)."""
        rows = top_rows(scores, depth)
        return cls(rows, scores[rows], float(scores[rows[-1]]) if len(rows) else 0.0)

    @property
    def best(self) -> float:
        return float(self.scores[0]) if len(self.scores) else 0.0


def _in_word_order(tokens: Any) -> Any:
    """``tokens`` (``bm25s.tokenization.Tokenized``) with the words numbered in sorted order.
    bm25s numbers stemmed words in the order of a Python set, which changes with each
    process's string-hash salt: the same corpus gave other BM25 files (and another index
    generation) on every build. The scores do not depend on the numbering."""
    from bm25s.tokenization import Tokenized

    words = sorted(tokens.vocab)
    number = {word: i for i, word in enumerate(words)}
    renumber = np.empty(len(words), dtype=np.int64)
    for word, old in tokens.vocab.items():
        renumber[old] = number[word]
    ids = [renumber[np.asarray(doc, dtype=np.int64)].tolist() for doc in tokens.ids]
    return Tokenized(ids=ids, vocab=number)


class Lexical:
    """BM25 (bm25s, Lucene variant) over stemmed English words (Snowball), stopwords removed."""

    def __init__(self, bm25: Any, stemmer: Any):  # bm25s.BM25, Stemmer.Stemmer (untyped)
        self.bm25, self.stemmer = bm25, stemmer
        self._df: np.ndarray | None = None
        self._sorted: list[str] | None = None

    @staticmethod
    def _stemmer() -> Any:
        import Stemmer

        return Stemmer.Stemmer("english")

    @classmethod
    def build(cls, texts: list[str], k1: float, b: float) -> Lexical:
        import bm25s

        stemmer = cls._stemmer()
        tokens = _in_word_order(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False))
        bm25 = bm25s.BM25(k1=k1, b=b)
        bm25.index(tokens, show_progress=False)
        return cls(bm25, stemmer)

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder), show_progress=False)  # .npy + JSON, allow_pickle=False

    @classmethod
    def load(cls, folder: Path) -> Lexical:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0), cls._stemmer())

    def terms(self, text: str) -> list[str]:
        """The stemmed content words of ``text`` that the index knows."""
        return self.known(self.all_terms(text))

    def known(self, words: list[str]) -> list[str]:
        """``words`` (from ``all_terms``) that the index knows."""
        return [t for t in words if t in self.bm25.vocab_dict]

    def stem(self, word: str) -> str:
        """One word as the index stores it (lower case, Snowball stem), without tokenizing."""
        return str(self.stemmer.stemWord(word.lower()))

    def all_terms(self, text: str) -> list[str]:
        """The stemmed content words of ``text``, stopwords removed, known or not: the same
        words ``bm25s.tokenize(stopwords="en")`` gives (tested), without its per-call set-up,
        which cost more than the search itself for a one-line question."""
        words = _words(text, _stopwords())
        return self.stemmer.stemWords(words) if words else []

    def query_terms(self, question: str) -> list[str]:
        """The stemmed words of a question to search for: ``all_terms`` without the words of
        asking (``QUESTION_WORDS``), each word the index does not know replaced by one it
        does when the difference is only spelling: accents ("cafés" -> "cafes") or a
        shorter form of the same word ("LGBT" -> "lgbtqi", the only indexed word that starts
        with it; four letters or more, the most frequent if several)."""
        words = _words(question, _question_stopwords())
        return [self._known_form(w, t) for w, t in zip(words, self.stemmer.stemWords(words))]

    def _known_form(self, word: str, term: str) -> str:
        vocab = self.bm25.vocab_dict
        if term in vocab:
            return term
        plain = _MARKS.sub("", unicodedata.normalize("NFKD", word))
        if plain != word and (folded := self.stem(plain)) in vocab:
            return folded
        if len(term) >= 4:
            longer = self._vocabulary()
            i = bisect.bisect_left(longer, term)
            found = []
            while i < len(longer) and longer[i].startswith(term):
                found.append(longer[i])
                i += 1
            if found:
                return max(found, key=lambda t: (self.doc_freq(t), t))
        return term

    def _vocabulary(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self.bm25.vocab_dict)
        return self._sorted

    def problem(self) -> str | None:
        """What is wrong with the stored arrays (None when they fit together): each term's
        rows are ``indices[indptr[t]:indptr[t + 1]]`` with scores ``data[...]``."""
        scores = self.bm25.scores
        data, indices, indptr = (np.asarray(scores.get(k)) for k in ("data", "indices", "indptr"))
        if any(a.ndim != 1 for a in (data, indices, indptr)):
            return "an array is not one-dimensional"
        if data.dtype.kind != "f" or indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
            return "an array of the wrong type"
        if len(data) != len(indices) or not len(indptr) or indptr[0] != 0 or indptr[-1] != len(data) \
                or bool(np.any(np.diff(indptr) < 0)):
            return "its term offsets do not fit its rows"
        if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= self.size):
            return "a row beyond the passages"
        ids = [i for t, i in self.bm25.vocab_dict.items() if t]
        if any(not isinstance(i, int) or not 0 <= i < len(indptr) - 1 for i in ids):
            return "a term beyond its offsets"
        if not np.all(np.isfinite(data)):
            return "a score that is not a number"
        return None

    @property
    def size(self) -> int:
        """The number of passages indexed."""
        return int(self.bm25.scores["num_docs"])

    def scores(self, terms: list[str]) -> np.ndarray:
        n = self.size
        if not terms:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(terms), dtype=np.float32)

    def top(self, terms: list[str], depth: int, allowed: np.ndarray | None = None) -> Ranked:
        """The ``depth`` best-scoring passages that contain any of ``terms`` (a passage with
        none of them is no BM25 result), among the ``allowed`` rows (None: all)."""
        scores = self.scores(terms)
        if allowed is not None:
            scores = np.where(allowed, scores, np.float32(0.0))
        hits = np.flatnonzero(scores)
        best = hits[top_rows(scores[hits], depth)]
        low = float(scores[best[-1]]) if len(best) == min(depth, len(scores)) and len(best) else 0.0
        return Ranked(best, scores[best], low)

    def doc_freq(self, term: str) -> float:
        """Share of passages that contain ``term``."""
        if self._df is None:
            indptr = np.asarray(self.bm25.scores["indptr"])
            self._df = np.diff(indptr) / max(self.size, 1)
        tid = self.bm25.vocab_dict.get(term)
        return float(self._df[tid]) if tid is not None else 0.0

    def idf(self, term: str) -> float:
        """How rare ``term`` is, as BM25 weighs it: ``log(1 + (n - df + 0.5) / (df + 0.5))``."""
        n = max(self.size, 1)
        df = self.doc_freq(term) * n
        return math.log(1 + (n - df + 0.5) / (df + 0.5))


def fuse(dense: Ranked, sparse: Ranked, mode: str, fusion: str, weight: float,
         rrf_k: int) -> Ranked:
    """The candidates of both retrievers, best first. ``weight`` is the dense share (convex)
    or the dense weight (RRF).

    convex: ``weight * d + (1 - weight) * s``, each retriever's scores min-max normalised over
    its own candidates (a row the other did not return gets 0 from it); rrf: ``w / (rrf_k +
    rank)``. Ties go to the lower row.
    """
    if mode == "dense":
        return dense
    if mode == "bm25":
        return sparse
    rows = np.union1d(dense.rows, sparse.rows)
    fused = np.zeros(len(rows), dtype=np.float64)
    for side, w in ((dense, weight), (sparse, 1.0 - weight)):
        if not len(side.rows):
            continue
        at = np.searchsorted(rows, side.rows)
        if fusion == "rrf":
            fused[at] += w / (rrf_k + 1 + np.arange(len(side.rows)))
        else:
            hi, lo = float(side.scores[0]), side.low
            if hi > lo:
                fused[at] += w * (side.scores - lo) / (hi - lo)
            elif hi > 0:
                fused[at] += w
    order = np.lexsort((rows, -fused))
    return Ranked(rows[order], fused[order], float(fused[order[-1]]) if len(order) else 0.0)


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first, ties broken by row (stable)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]


def mmr(rows: np.ndarray, relevance: np.ndarray, vectors: np.ndarray, k: int,
        lam: float) -> np.ndarray:
    """Maximal marginal relevance: the first row stays first; each next one trades
    relevance (min-max scaled) against similarity to those already chosen."""
    if len(rows) <= 1 or lam >= 1.0:
        return rows[:k]
    rel = relevance.astype(np.float64)
    span = rel.max() - rel.min()
    rel = (rel - rel.min()) / span if span > 0 else np.ones_like(rel)
    sims = (vectors @ vectors.T).astype(np.float64)
    closest = sims[0].copy()  # each row's highest similarity to a chosen row
    open_ = np.ones(len(rows), dtype=bool)
    open_[0] = False
    chosen = [0]
    while open_.any() and len(chosen) < k:
        value = np.where(open_, lam * rel - (1 - lam) * closest, -np.inf)
        best = int(np.argmax(value))  # ties: the better-ranked row, as rows come best first
        chosen.append(best)
        open_[best] = False
        closest = np.maximum(closest, sims[best])
    return rows[chosen]
