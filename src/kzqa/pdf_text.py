"""Text out of PDF files (pypdf, plain text mode), for :func:`kzqa.extract.extract`.

The words are exactly what pypdf extracts page by page; the only changes are to whitespace
between and around lines. Here, page by page:

- a blank line is put between two lines where the vertical gap between their baselines is
  more than ``PARAGRAPH_GAP`` times the page's usual line pitch (the lower quartile of
  its downward line-to-line gaps), so paragraphs and headings set apart on the page stay
  apart; pypdf's own line breaks are all kept, and a page whose line positions pypdf does
  not report consistently keeps its text as pypdf gave it;
- ``\\r\\n`` and ``\\r`` become ``\\n``;
- whitespace at the end of every line is removed.

The pages are then laid out as one text by :mod:`kzqa.pdf_layout` (which leaves out running
headers and footers, page numbers, contents and notes, and joins the pages; see there).

Metadata is only what the file's document information states: title, author and the
creation date.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from .extract import Extracted, ExtractionError, extractor_label, quiet, tidy
from .pdf_layout import lay_out_pages

# A blank line goes where two lines are further apart than this many line pitches. Lines of
# one paragraph sit 1.0 pitch apart; Word's default paragraph spacing makes ~1.6, a heading
# with space above it 1.8-2.5. Checked on fpdf2 fixtures and on a Texinfo and a DocBook manual.
PARAGRAPH_GAP = 1.4

ENCRYPTED = "an encrypted PDF: save an unencrypted copy and add that"
SCANNED = "a scanned PDF with no text layer: run OCR on it first (e.g. ocrmypdf) and add the result"
DAMAGED = "not a readable PDF (damaged or truncated)"


def extract_pdf(data: bytes) -> Extracted:
    """The text, pages, blocks, skipped lines and metadata of a PDF's bytes (see the module
    notes)."""
    import pypdf

    with quiet():
        try:
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted:  # even with an empty password: never decrypt
                raise ExtractionError(ENCRYPTED)
            texts = [tidy(_page_text(page)) for page in reader.pages]
            metadata = _pdf_metadata(reader)
        except ExtractionError:
            raise
        except Exception as err:  # pypdf raises many types on malformed input
            raise ExtractionError(DAMAGED) from err
    if not any(t.strip() for t in texts):
        raise ExtractionError(SCANNED if texts else DAMAGED)  # no pages at all: not a real PDF
    text, spans, blocks, skipped = lay_out_pages(texts)
    return Extracted(text, spans, metadata, extractor_label("pypdf", pypdf.__version__), blocks, skipped)


def _page_text(page: Any) -> str:
    """pypdf's text of one page, with a blank line where a wide vertical gap separates two
    lines (see ``PARAGRAPH_GAP``)."""
    pieces: list[tuple[str, float | None]] = []  # pypdf's output in order, with baselines

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        y = None
        if text.strip() and cm is not None and tm is not None:
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]  # y of the text matrix times the CTM
        pieces.append((text, y))

    raw = str(page.extract_text(visitor_text=visit))
    if "".join(text for text, _ in pieces) != raw:
        return raw  # the positions do not line up with the text: keep pypdf's text as it is
    lines: list[tuple[str, float | None]] = [("", None)]  # each line and its first baseline
    for text, y in pieces:
        for i, part in enumerate(text.split("\n")):
            if i:
                lines.append(("", None))
            line, line_y = lines[-1]
            lines[-1] = (line + part, y if line_y is None and part.strip() else line_y)
    # how far each line sits below the one before it (None: unknown, or not below)
    drops = [
        a - b if a is not None and b is not None and a > b else None
        for (_, a), (_, b) in zip(lines, lines[1:])
    ]
    known = sorted(d for d in drops if d is not None)
    pitch = known[len(known) // 4] if known else 0.0
    out = [lines[0][0]]
    for (line, _), drop in zip(lines[1:], drops):
        out.append(("\n\n" if drop is not None and drop > PARAGRAPH_GAP * pitch else "\n") + line)
    return "".join(out)


def _pdf_metadata(reader: Any) -> dict[str, str]:
    info = reader.metadata
    if info is None:
        return {}
    found: dict[str, str] = {}
    readers: tuple[tuple[str, Callable[[], Any]], ...] = (("title", lambda: info.title),
                                                          ("author", lambda: info.author))
    for key, read in readers:
        try:
            value = " ".join(str(read() or "").split())
        except Exception:  # a malformed entry is skipped, not fatal
            continue
        if value:
            found[key] = value
    try:
        created = info.creation_date
    except Exception:  # an unparseable CreationDate
        created = None
    if created is not None:
        found["date"] = created.date().isoformat()
    return found

