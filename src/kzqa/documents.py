"""What the corpus is made of, as every stage sees it: a document's ``Source`` (what is known
of it, for its citation) and its ``Passage`` objects (the spans of its text that can be
quoted, each an exact slice with its offsets). Frozen; the answers built from them are in
``kzqa.results``."""

from __future__ import annotations

from dataclasses import dataclass

from kzqa.citation import full_title


@dataclass(frozen=True, slots=True)
class Source:
    """What is known of a document. Every field but ``title`` may be missing (None)."""

    title: str
    subtitle: str | None = None
    author: str | None = None
    publisher: str | None = None
    date: str | None = None  # ISO 8601 as given (YYYY, YYYY-MM or YYYY-MM-DD)
    url: str | None = None
    language: str = "en"
    country: str | None = None  # the country (or countries, "; "-separated) it is about
    covers: str | None = None  # the period it reports on: "2023" (a report year) or "2019-2022"
    accessed: str | None = None  # the date kzqa fetched it (documents added by address)

    @property
    def full_title(self) -> str:
        return full_title(self.title, self.subtitle)

    @property
    def year(self) -> int | None:
        """The year the document speaks for: the last year it covers, else the year of its
        date; None when neither is known."""
        if self.covers:
            return int(self.covers[-4:])  # checked when read: YYYY or YYYY-YYYY
        return int(self.date[:4]) if self.date else None


@dataclass(frozen=True, slots=True)
class Passage:
    """A quotable span of one corpus file: ``text == file_text[start:end]``, where for a PDF
    or web page ``file_text`` is the document's extracted text (stored with the index).

    ``paragraph`` counts the document's body paragraphs from 1 (headings, captions and
    page furniture are not counted). A paragraph too long to embed whole is split at
    sentence boundaries; ``part`` numbers those windows from 1 (0 = the whole paragraph).
    """

    id: str
    doc_id: str
    text: str
    start: int
    end: int
    paragraph: int
    part: int = 0
    section: str | None = None
    sentences: tuple[tuple[int, int], ...] = ()  # sentence spans, offsets into ``text``
    pages: tuple[int, ...] = ()  # PDF page numbers the passage is on (1-based)


__all__ = ["Passage", "Source"]
