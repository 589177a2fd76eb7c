"""A question before it is searched: checked and cleaned (``clean_question``, ``check_k``),
told apart as a follow-up that leans on the conversation (``looks_like_follow_up``), and with
the words every passage has masked for the abstention signal (``mask_ubiquitous``)."""

from __future__ import annotations

import re

from kzqa.errors import InvalidQuestion
from kzqa.retrieval.ranking import Lexical

MAX_QUESTION_CHARS = 2000


MAX_K = 100


UBIQUITOUS_DF = 0.3  # words in more than this share of passages say nothing about the topic


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_WORDS = re.compile(r"\w+|\W+")


def mask_ubiquitous(text: str, lexical: Lexical, share: float = UBIQUITOUS_DF) -> str:
    """``text`` without the words that occur in more than ``share`` of the passages."""
    kept = []
    for piece in _WORDS.findall(text):  # stopwords and 1-letter words are not in the index: df 0
        ubiquitous = piece[0].isalnum() and lexical.doc_freq(lexical.stem(piece)) > share
        kept.append("" if ubiquitous else piece)
    return re.sub(r"\s+", " ", "".join(kept)).strip()


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


def usable(earlier: object) -> str | None:
    """An earlier question as searched, or None when it cannot be one."""
    try:
        return clean_question(earlier)
    except InvalidQuestion:
        return None


def check_k(k: int) -> int:
    """``k``, if it is a whole number of passages kzqa returns (1 to ``MAX_K``)."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InvalidQuestion(f"k must be a whole number from 1 to {MAX_K}, not {k!r}")
    return k


__all__ = ["FOLLOW_UP_MAX_WORDS", "MAX_K", "MAX_QUESTION_CHARS", "UBIQUITOUS_DF", "check_k", "clean_question",
           "looks_like_follow_up", "mask_ubiquitous", "usable"]
