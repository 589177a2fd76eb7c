"""Searching an index and answering questions with its passages, never with new text."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from . import embedding
from .embedding import Embedder
from .errors import IndexMismatch, InvalidQuestion
from .index import StoredIndex
from .results import Answer, Hit

MAX_QUESTION_CHARS = 2000
MAX_K = 100
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class QA:
    """A loaded index, ready to answer. Get one with ``kzqa.load()``.

    The model loads on the first question (or on ``warm_up()``), not before.
    """

    def __init__(self, store: StoredIndex, embedder: Embedder | None = None):
        self.store = store
        self.settings = store.settings
        self._embedder = embedder
        self._checked = False

    @property
    def documents(self):
        return self.store.documents

    @property
    def passages(self):
        return self.store.passages

    def warm_up(self) -> QA:
        """Load the model now (otherwise it loads on the first question)."""
        embedder = self._get_embedder()
        if not self._checked:
            if embedder.dimension != self.store.dimension:
                raise IndexMismatch(
                    f"the model '{self.settings.model}' gives {embedder.dimension}-dimensional "
                    f"vectors but the index at {self.store.path} holds {self.store.dimension}-"
                    "dimensional ones; rebuild the index with this model")
            self._checked = True
        return self

    def search(self, query: str, k: int = 10) -> Answer:
        """The raw ranking of the ``k`` nearest passages, best first. Never abstains."""
        query = clean_question(query)
        return Answer(query, tuple(self._rank(query, _check_k(k))), abstained=False)

    def ask(self, question: str, k: int = 3, history: Sequence[str] = ()) -> Answer:
        """Answer with up to ``k`` passages, or abstain (``answer.abstained``, no passages)
        when no passage reaches the index's ``min_score``.

        ``history`` holds the earlier questions of the conversation, oldest first. When the
        question alone finds nothing and reads like a follow-up ("And what about the press?",
        "Are they jailed?"), it is read together with the last one; a self-contained new
        question is never pulled back to the earlier topic.
        """
        question = clean_question(question)
        k = _check_k(k)
        hits = self._rank(question, k)
        if self._answers(hits):
            return Answer(question, tuple(hits), abstained=False)
        earlier = [clean_question(h) for h in history if isinstance(h, str) and h.strip()]
        if earlier and looks_like_follow_up(question):
            hits = self._rank(f"{earlier[-1]} {question}", k)
            if self._answers(hits):
                note = f"Read as a follow-up to the earlier question “{earlier[-1]}”."
                return Answer(question, tuple(hits), abstained=False, notes=(note,))
        return Answer(question, (), abstained=True)

    def _answers(self, hits: list[Hit]) -> bool:
        return bool(hits) and hits[0].score >= self.settings.min_score

    def _rank(self, text: str, k: int) -> list[Hit]:
        self.warm_up()
        vector = self._get_embedder().encode([text])
        vector = np.ascontiguousarray(vector, dtype=np.float32)
        k = min(k, len(self.store.passages))
        scores, rows = self.store.vectors.search(vector, k)
        hits = []
        for score, row in zip(scores[0], rows[0]):
            if row < 0:
                continue
            passage = self.store.passages[row]
            record = self.store.documents[passage.doc_id]
            hits.append(Hit.of(passage, record.source, record.file, round(float(score), 6)))
        return hits

    def _get_embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = embedding.make_embedder(self.settings.model)
        return self._embedder


_FOLLOW_UP_START = re.compile(r"^(and|but|also|so|then|what about|how about|and what|what of|"
                              r"why|how come|is that|are they|were they|was it|is it|did they|"
                              r"do they|does it)\b", re.I)
_ANAPHORA = re.compile(r"\b(they|them|their|theirs|it|its|this|that|these|those|he|him|his|she|"
                       r"her|there|such|same|above|former|latter)\b", re.I)
FOLLOW_UP_MAX_WORDS = 8


def looks_like_follow_up(question: str) -> bool:
    """A short question that leans on the conversation: it opens like a continuation
    ("And what about the press?") or points back with a pronoun ("Are they labelled?")."""
    words = question.split()
    if not words or len(words) > FOLLOW_UP_MAX_WORDS:
        return False
    return bool(_FOLLOW_UP_START.search(question) or _ANAPHORA.search(question))


def clean_question(question: object) -> str:
    """The question as searched: control characters become spaces, ends are trimmed.
    Raises ``InvalidQuestion`` for an empty or over-long question."""
    if not isinstance(question, str):
        raise InvalidQuestion(f"a question must be text, not {type(question).__name__}")
    text = question.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"
    text = _CONTROL.sub(" ", text).strip()
    if not text:
        raise InvalidQuestion("the question is empty: ask something about political freedoms "
                              "or human rights in Kazakhstan")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"the question is {len(text):,} characters long; the limit is "
                              f"{MAX_QUESTION_CHARS:,}. Ask a shorter question.")
    return text


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InvalidQuestion(f"k must be a whole number from 1 to {MAX_K}, not {k!r}")
    return k
