"""What extraction gives, shared by the format readers (:mod:`kzqa.ingest.pdf_text`,
:mod:`kzqa.ingest.html_text`, :mod:`kzqa.ingest.pdf_layout`) and by what reads their result: the result
types (:class:`Extracted`, :class:`Span`, :class:`Skipped`), :class:`ExtractionError`, the
rules version, and the helpers the readers share (:func:`quiet`, :func:`tidy`,
:func:`extractor_label`, :func:`pages_of`). The entry point is :func:`kzqa.ingest.extract.extract`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = [
    "EXTRACTED_SUFFIXES", "EXTRACT_RULES_VERSION", "Extracted", "ExtractionError", "Skipped", "Span",
    "extractor_label", "pages_of", "quiet", "tidy",
]

EXTRACTED_SUFFIXES = (".pdf", ".html", ".htm")
# bump when a rule here or in kzqa.ingest.pdf_text, kzqa.ingest.pdf_layout or kzqa.ingest.html_text changes the text or
# metadata of a file
EXTRACT_RULES_VERSION = 3  # 3: PDFium; titles, dates and publishers from the first page

# Loggers of the libraries, silenced while they work:
# their warnings are about the file, and a failure reaches the user as ExtractionError.
_LIBRARY_LOGGERS = ("pypdfium2",)


@dataclass(frozen=True, slots=True)
class Extracted:
    """The text of one file, ready to be cut into passages.

    ``text``: the extracted text; passages are exact slices of it.
    ``pages``: for a PDF, the ``(start, end)`` span of page ``i + 1`` in ``text``; ``()``
    for HTML.
    ``metadata``: only keys among title, author, publisher, date (``YYYY-MM-DD``), url and
    language, and only those the file states.
    ``extractor``: library, version and this module's rules, e.g.
    ``"pypdfium2 5.15.2 (PDFium 8149); kzqa.extract 3"``.
    """

    text: str
    pages: tuple[tuple[int, int], ...]
    metadata: dict[str, str]
    extractor: str
    blocks: tuple[Span, ...] = ()
    skipped: tuple[Skipped, ...] = ()


@dataclass(frozen=True, slots=True)
class Span:
    """One block of ``Extracted.text``: ``text[start:end]``.

    ``kind``: ``"title"`` (the page's headline), ``"heading"``, ``"body"`` (a paragraph, list
    item or table row) or ``"note"`` (a footnote or endnote of a PDF). ``level``: a web
    page's heading level (1-6); 0 where the file does not say. ``page``: for a note, the page
    it is printed on (notes are stored after the body; see :mod:`kzqa.ingest.pdf_layout`)."""

    start: int
    end: int
    kind: str
    level: int = 0
    page: int = 0


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something of the file that is not in ``Extracted.text``, and why (e.g. "navigation",
    "running header", "table of contents"). ``page``: 1-based for a PDF, else 0."""

    reason: str
    text: str
    page: int = 0


class ExtractionError(Exception):
    """A file whose text cannot be extracted. ``str(e)`` is a one-line reason for a person,
    without the file name (the caller adds it)."""


def pages_of(pages: tuple[tuple[int, int], ...], start: int, end: int) -> tuple[int, ...]:
    """The 1-based numbers of the pages whose spans the slice ``[start, end)`` overlaps
    (a blank page strictly inside the slice counts, so a label reads "pp. 2–4"); ``()``
    when ``pages`` is empty (HTML) or the slice holds only the blank line between pages."""
    return tuple(n for n, (s, e) in enumerate(pages, 1) if s < end and start < e)


@contextmanager
def quiet() -> Iterator[None]:
    """Keep the libraries' logging and warnings off the user's terminal while they run."""
    loggers = [logging.getLogger(name) for name in _LIBRARY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def extractor_label(library: str, version: str) -> str:
    """``Extracted.extractor``: the library, its version and these rules' version."""
    return f"{library} {version}; kzqa.extract {EXTRACT_RULES_VERSION}"


def tidy(text: str) -> str:
    """Line endings to ``\\n``, trailing whitespace of lines removed, and blank lines at
    both ends dropped. Nothing else changes."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
