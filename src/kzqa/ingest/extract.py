"""Text out of PDF and HTML files: bytes in, :class:`Extracted` out.

Passages are later cut as exact slices of ``Extracted.text``, so this module decides what
the text *is*; nothing downstream edits it. Extraction is deterministic: the same bytes
give the same result, whatever the clock or the machine. ``Extracted.extractor`` names the
library and version and this module's rules, so an index can tell when that may change.

The rules of each kind of file are in its own module, and described there:
:mod:`kzqa.ingest.pdf_text` (PDF, with PDFium; its pages laid out by :mod:`kzqa.ingest.pdf_layout`, its
first page read for its title by :mod:`kzqa.ingest.pdf_metadata`) and
:mod:`kzqa.ingest.html_text` (web pages, with lxml).
This module holds the entry point, :func:`extract`, which picks one by the file's suffix;
what they share (the result types, :class:`ExtractionError`, the rules version and the
helpers) is in :mod:`kzqa.ingest.extracted`, which they import: no import goes back up here.

Metadata is only what the file itself states, never a guess from its name or its host.
"""

from __future__ import annotations

from pathlib import Path

from kzqa.ingest import html_text, pdf_text
from kzqa.ingest.extracted import EXTRACT_RULES_VERSION, EXTRACTED_SUFFIXES, Extracted, ExtractionError, pages_of

__all__ = [
    "EXTRACTED_SUFFIXES", "EXTRACT_RULES_VERSION", "Extracted", "ExtractionError", "extract", "extractor_of",
    "pages_of",
]


def extract(path: Path, data: bytes) -> Extracted:
    """Extract the text of ``data``, the bytes of the file ``path`` (only its suffix is used,
    case-insensitively). Raises :class:`ExtractionError`, and no other exception, for any
    file that cannot be extracted."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return pdf_text.extract_pdf(data)
    if suffix in (".html", ".htm"):
        return html_text.extract_html(data)
    raise ExtractionError(f"not a file type this extracts ({', '.join(EXTRACTED_SUFFIXES)})")


def extractor_of(name: str) -> str | None:
    """The ``Extracted.extractor`` that :func:`extract` would give the file ``name`` (by its
    suffix) here and now; None for a file it does not extract. Text extracted under the same
    label from the same bytes is the same text."""
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf":
        return pdf_text.label()
    if suffix in (".html", ".htm"):
        return html_text.label()
    return None
