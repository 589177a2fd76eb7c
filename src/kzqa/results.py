"""The result shapes kzqa returns everywhere: the Python API, ``kzqa ask --json`` and HTTP.

``Answer`` holds ranked ``Hit`` objects. A ``Hit`` is one passage, quoted verbatim
(``text == source_text[start:end]`` of its file), with its source and score. Both are
frozen; ``to_dict``/``from_dict`` give the one JSON form. A hit's reference is a
``Citation`` (``Hit.cite()``), rendered by the styles in ``citation`` and ``render``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

from kzqa.citation import DEFAULT_STYLE, SECTION_SEPARATOR, Citation, citation_text, cite_as
from kzqa.documents import Passage, Source

__all__ = ["HIDDEN_CHARACTERS", "SECTION_SEPARATOR", "STRENGTHS", "STRONG_MARGIN", "Answer", "Hit",
           "Passage", "Source", "hidden_characters", "strength_of"]

# How strong an answer's match is, in words, from the calibrated abstention rule's margin
# (the log-odds that the library answers the question). "Strong" is where the right passage
# came first in at least 95% of answers at that margin and every margin above it
# (eval/README.md, "Strength labels"; the sweep in eval/NOTEBOOK.md).
STRONG_MARGIN = 4.5
STRENGTHS = {
    "strong": "Strong match",
    "partial": "Partial match: check that the passage answers your question",
    "weak": "Weak: the documents may not answer this",
}


def strength_of(margin: float | None) -> str | None:
    """``strong`` (margin >= STRONG_MARGIN), ``partial`` (answered, below that) or ``weak``
    (abstained); None when no rule decided (``QA.search``)."""
    if margin is None:
        return None
    return "strong" if margin >= STRONG_MARGIN else "partial" if margin >= 0 else "weak"

# Bidirectional controls and zero-width characters: they change how text reads (a quote
# shown backwards, "edoc-lanigiro" as "original-code") or hide in it without showing.
# Kept verbatim in the text and its offsets; flagged in the JSON and shown in the chat.
HIDDEN_CHARACTERS = ("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                     "\u200b\u200c\u200d\u2060\ufeff")
_HIDDEN = re.compile(f"[{HIDDEN_CHARACTERS}]")


def hidden_characters(*texts: str | None) -> list[str]:
    """The hidden characters in ``texts`` as code points ('U+202E'), each once, sorted."""
    found = {ch for text in texts if text for ch in _HIDDEN.findall(text)}
    return [f"U+{ord(ch):04X}" for ch in sorted(found)]


@dataclass(frozen=True, slots=True)
class Echo:
    """The same passage, or nearly (a figure or a tense changed), in another document: where
    else a quote stands, each citable (``citation(style)``, from ``reference``)."""

    id: str
    doc_id: str
    title: str
    date: str | None
    covers: str | None  # the period that document reports on ("2021")
    reference: Citation  # where that passage stands, as data

    @classmethod
    def of(cls, passage: Passage, source: Source) -> Echo:
        return cls(passage.id, passage.doc_id, source.title, source.date, source.covers,
                   Citation.of(passage, source))

    def citation(self, style: str = DEFAULT_STYLE) -> str:
        """The reference in a named style (plain by default)."""
        return cite_as(self.reference, style, self.id)

    def to_dict(self, style: str = DEFAULT_STYLE) -> dict[str, Any]:
        return {"id": self.id, "doc_id": self.doc_id, "title": self.title, "date": self.date,
                "covers": self.covers, "citation": self.citation(style),
                "reference": self.reference.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Echo:
        return cls(data["id"], data["doc_id"], data["title"], data.get("date"), data.get("covers"),
                   Citation.from_dict(data["reference"]))


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked passage with its source: what a user quotes and cites."""

    id: str
    text: str
    score: float
    doc_id: str
    file: str
    title: str
    section: str | None
    paragraph: int
    part: int
    start: int
    end: int
    subtitle: str | None = None
    author: str | None = None
    publisher: str | None = None
    date: str | None = None
    url: str | None = None
    highlights: tuple[tuple[int, int], ...] = ()  # the answering sentence(s), offsets into text
    pages: tuple[int, ...] = ()  # PDF page numbers (1-based); () for other documents
    country: str | None = None  # what the document is about (``Source.country``)
    covers: str | None = None  # the period it reports on (``Source.covers``)
    accessed: str | None = None  # when kzqa fetched it (``Source.accessed``)
    also_in: tuple[Echo, ...] = ()  # the same text in other documents (other editions), latest first

    @classmethod
    def of(cls, passage: Passage, source: Source, file: str, score: float,
           highlights: tuple[tuple[int, int], ...] = (), also_in: tuple[Echo, ...] = ()) -> Hit:
        return cls(
            id=passage.id,
            text=passage.text,
            score=float(score),
            doc_id=passage.doc_id,
            file=file,
            title=source.title,
            section=passage.section,
            paragraph=passage.paragraph,
            part=passage.part,
            start=passage.start,
            end=passage.end,
            subtitle=source.subtitle,
            author=source.author,
            publisher=source.publisher,
            date=source.date,
            url=source.url,
            highlights=highlights,
            pages=passage.pages,
            country=source.country,
            covers=source.covers,
            accessed=source.accessed,
            also_in=also_in,
        )

    def cite(self) -> Citation:
        """Where this passage comes from, as data (a hit carries both its place in the
        document and the document's description)."""
        return Citation.of(self, self)

    def citation(self) -> str:
        """A paste-ready reference in the plain style, e.g.

        Hugh Williamson, “Kazakhstan’s Human Rights Crackdown: Astana Is Moving
        Backwards”, Foreign Affairs, 2016-12-21, ¶ 4. https://www.foreignaffairs.com/…

        A passage of a PDF names its page(s) before the paragraph: "…, p. 12, ¶ 31."
        """
        return citation_text(self.cite())

    def citation_in(self, style: str) -> str:
        """The reference in a named style (``kzqa.citation.STYLES``: plain, coi, csl-json)."""
        return cite_as(self.cite(), style, self.id)

    def to_dict(self, style: str = DEFAULT_STYLE) -> dict[str, Any]:
        """The JSON form: every field, ``"citation"`` (the reference as text in ``style``,
        plain by default), ``"reference"`` (the same citation as data,
        ``Citation.to_dict``) and ``"hidden_characters"`` (bidirectional controls and
        zero-width characters in the text, title or subtitle, as ``"U+202E"``; derived, so
        ``from_dict`` ignores it)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "also_in"}
        data["also_in"] = [echo.to_dict(style) for echo in self.also_in]
        reference = self.cite()
        data["citation"] = cite_as(reference, style, self.id)
        data["reference"] = reference.to_dict()
        data["hidden_characters"] = hidden_characters(self.text, self.title, self.subtitle)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hit:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["highlights"] = tuple(tuple(h) for h in values.get("highlights", ()))
        values["pages"] = tuple(values.get("pages", ()))
        values["also_in"] = tuple(Echo.from_dict(e) for e in values.get("also_in", ()))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to one question: ranked hits, or an abstention.

    ``abstained`` is True when nothing in the corpus answers the question; ``passages``
    then still holds the nearest passages (for inspection) but a user interface must not
    present them as the answer. ``notes`` says what kzqa did that a reader should know
    (for instance that an earlier question was used as context).

    ``passages`` is empty when kzqa abstains; ``closest`` then holds the nearest passages,
    weak by definition, for a user who asks to see them (clearly marked as not an answer).
    ``margin`` is the calibrated rule's score (the log-odds that the answer is right; >= 0
    answers), ``strength`` the same in words (``strength_of``); both None for ``QA.search``.
    """

    question: str
    passages: tuple[Hit, ...]
    abstained: bool
    notes: tuple[str, ...] = field(default=())
    margin: float | None = None
    closest: tuple[Hit, ...] = ()

    @property
    def best(self) -> Hit | None:
        """The top passage, or None when kzqa abstains."""
        return None if self.abstained or not self.passages else self.passages[0]

    @property
    def strength(self) -> str | None:
        """``strong``, ``partial`` or ``weak`` (abstained); None when no rule decided."""
        return strength_of(self.margin)

    def to_dict(self, style: str = DEFAULT_STYLE) -> dict[str, Any]:
        """The JSON form; every ``"citation"`` in ``style`` (``kzqa.citation.STYLES``)."""
        return {
            "question": self.question,
            "abstained": self.abstained,
            "strength": self.strength,
            "margin": self.margin,
            "passages": [h.to_dict(style) for h in self.passages],
            "closest": [h.to_dict(style) for h in self.closest],
            "notes": list(self.notes),
            "citation_style": style,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        margin = data.get("margin")
        return cls(
            question=data["question"],
            passages=tuple(Hit.from_dict(h) for h in data["passages"]),
            abstained=bool(data["abstained"]),
            notes=tuple(data.get("notes", ())),
            margin=None if margin is None else float(margin),
            closest=tuple(Hit.from_dict(h) for h in data.get("closest", ())),
        )

