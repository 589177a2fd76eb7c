"""The words people ask with, mapped to the words the reports answer in (``vocabulary.yaml``,
data with its sources): "defamation" to "libel" and "slander", "homosexuality" to "LGBTQI+"
and "same-sex", "jail" to "imprisonment" and "detention".

A question's search terms are expanded by it: the BM25 query gets the reported words of
each asked word it holds, the model reads them after the question, and the abstention
signals count an asked word as present where
one of its reported words is (``QA._coverage``). Only words the index holds are added, so
the list is harmless on a library that never uses them. Quotes are never touched: this
changes what is searched for, not what is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kzqa.retrieval.ranking import Lexical


@dataclass(frozen=True, slots=True)
class Entry:
    asked: tuple[str, ...]
    reported: tuple[str, ...]
    source: str


@cache
def entries() -> tuple[Entry, ...]:
    """The shipped vocabulary, as written."""
    import yaml

    data: Any = yaml.safe_load(resources.files("kzqa.search").joinpath("vocabulary.yaml").read_text("utf-8"))
    return tuple(Entry(tuple(map(str, e["asked"])), tuple(map(str, e["reported"])), str(e["source"]))
                 for e in data["entries"])


class Expansion:
    """The vocabulary in an index's terms: each asked word's stem, to the stems of its
    reported words that the index holds."""

    def __init__(self, lexical: Lexical):
        self.terms: dict[str, tuple[str, ...]] = {}
        self.words: dict[str, tuple[str, ...]] = {}  # asked stem -> reported words as written
        for entry in entries():
            reported = [t for phrase in entry.reported for t in lexical.all_terms(phrase)]
            known = tuple(dict.fromkeys(t for t in lexical.known(reported)))
            for word in entry.asked:
                stem = lexical.stem(word)
                mine = tuple(t for t in known if t != stem)
                if mine:
                    self.terms[stem] = tuple(dict.fromkeys(self.terms.get(stem, ()) + mine))
                    self.words[stem] = tuple(dict.fromkeys(self.words.get(stem, ()) + entry.reported))

    def of(self, words: list[str]) -> dict[str, tuple[str, ...]]:
        """The question's words that the vocabulary knows, each with the terms it adds."""
        return {w: self.terms[w] for w in dict.fromkeys(words) if w in self.terms}

    def text(self, question: str, words: list[str]) -> str:
        """The question as the model reads it: with the reported words of the asked words it
        holds, in brackets ("Is defamation a crime? (libel, slander, criminal, ...)"); the
        question alone when it holds none. Measured on the tuning halves (eval/NOTEBOOK.md, 2026-12-07)."""
        said = list(dict.fromkeys(r for w in dict.fromkeys(words) for r in self.words.get(w, ())))
        return f"{question} ({', '.join(said)})" if said else question

    def added(self, words: list[str]) -> list[str]:
        """The terms to search for besides ``words``: every reported word of theirs that is not
        already among them."""
        have = set(words)
        return list(dict.fromkeys(t for extra in self.of(words).values() for t in extra if t not in have))


__all__ = ["Entry", "Expansion", "entries"]
