"""Text out of PDF and HTML files: bytes in, :class:`Extracted` out.

Passages are later cut as exact slices of ``Extracted.text``, so this module decides what
the text *is*; nothing downstream edits it. Extraction is deterministic: the same bytes
give the same result, whatever the clock or the machine. ``Extracted.extractor`` names the
library and version and this module's rules, so an index can tell when that may change.

PDF (pypdf, plain text mode). The words are exactly what pypdf extracts page by page; the
only changes are to whitespace between and around lines:

- a blank line is put between two lines where the vertical gap between their baselines is
  more than ``PARAGRAPH_GAP`` times the page's usual line pitch (the lower quartile of
  its downward line-to-line gaps), so paragraphs and headings set apart on the page stay
  apart; pypdf's own line breaks are all kept, and a page whose line positions pypdf does
  not report consistently keeps its text as pypdf gave it;
- ``\\r\\n`` and ``\\r`` become ``\\n``;
- whitespace at the end of every line is removed;
- blank lines at the start and end of each page are removed;
- pages are joined with one blank line (``\\n\\n``), so no paragraph spans two pages, and
  ``Extracted.pages`` records each page's ``(start, end)`` span in the text (a page
  without text gets an empty span, so page numbers stay right).

HTML (trafilatura). The bytes are decoded with the charset they declare (byte order mark,
``<meta charset>`` or the XML declaration), else as UTF-8. trafilatura finds the main text
(no navigation, cookie notices, sidebars, footers or reader comments); each block it keeps
(paragraph, heading, list, quote, table) is rendered with trafilatura's own plain-text
output (list items start with ``- `` and table cells are separated by `` | `` as it writes
them), trailing whitespace of lines removed, and blocks are joined with one blank line. A
page with less main text than trafilatura's own minimum (250 characters) raises
:class:`ExtractionError`: what is left then is a menu, a cookie notice or a script shell.

Metadata is only what the file itself states, never a guess from its name or its host.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "EXTRACTED_SUFFIXES", "Extracted", "ExtractionError", "extract", "pages_of", "page_label",
]

EXTRACTED_SUFFIXES = (".pdf", ".html", ".htm")
RULES_VERSION = 1  # bump when a rule here changes the text or metadata of a file

# A blank line goes where two lines are further apart than this many line pitches. Lines of
# one paragraph sit 1.0 pitch apart; Word's default paragraph spacing makes ~1.6, a heading
# with space above it 1.8-2.5. Checked on fpdf2 fixtures and on a Texinfo and a DocBook manual.
PARAGRAPH_GAP = 1.4

# Loggers of pypdf, trafilatura and the libraries it calls, silenced while they work:
# their warnings are about the file, and a failure reaches the user as ExtractionError.
_LIBRARY_LOGGERS = ("pypdf", "trafilatura", "htmldate", "courlan", "justext", "readability")

ENCRYPTED = "an encrypted PDF: save an unencrypted copy and add that"
SCANNED = "a scanned PDF with no text layer: run OCR on it first (e.g. ocrmypdf) and add the result"
DAMAGED = "not a readable PDF (damaged or truncated)"
NO_MAIN_TEXT = (
    "no main text found in this web page"
    " (under {} characters once navigation and boilerplate are removed)"
)


@dataclass(frozen=True, slots=True)
class Extracted:
    """The text of one file, ready to be cut into passages.

    ``text``: the extracted text; passages are exact slices of it.
    ``pages``: for a PDF, the ``(start, end)`` span of page ``i + 1`` in ``text``; ``()``
    for HTML.
    ``metadata``: only keys among title, author, publisher, date (``YYYY-MM-DD``), url and
    language, and only those the file states.
    ``extractor``: library, version and this module's rules, e.g.
    ``"pypdf 7.1.0; kzqa.extract 1"``.
    """

    text: str
    pages: tuple[tuple[int, int], ...]
    metadata: dict[str, str]
    extractor: str


class ExtractionError(Exception):
    """A file whose text cannot be extracted. ``str(e)`` is a one-line reason for a person,
    without the file name (the caller adds it)."""


def extract(path: Path, data: bytes) -> Extracted:
    """Extract the text of ``data``, the bytes of the file ``path`` (only its suffix is used,
    case-insensitively). Raises :class:`ExtractionError`, and no other exception, for any
    file that cannot be extracted."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _extract_pdf(data)
    if suffix in (".html", ".htm"):
        return _extract_html(data)
    raise ExtractionError(f"not a file type this extracts ({', '.join(EXTRACTED_SUFFIXES)})")


def pages_of(pages: tuple[tuple[int, int], ...], start: int, end: int) -> tuple[int, ...]:
    """The 1-based numbers of the pages whose spans the slice ``[start, end)`` overlaps
    (a blank page strictly inside the slice counts, so a label reads "pp. 2–4"); ``()``
    when ``pages`` is empty (HTML) or the slice holds only the blank line between pages."""
    return tuple(n for n, (s, e) in enumerate(pages, 1) if s < end and start < e)


def page_label(numbers: tuple[int, ...]) -> str:
    """A citation's page label: ``""``, ``"p. 12"``, ``"pp. 12–13"`` for a run of
    consecutive pages, ``"pp. 3, 5"`` otherwise."""
    ns = sorted(set(numbers))
    if not ns:
        return ""
    if len(ns) == 1:
        return f"p. {ns[0]}"
    if ns == list(range(ns[0], ns[-1] + 1)):
        return f"pp. {ns[0]}\u2013{ns[-1]}"
    return "pp. " + ", ".join(map(str, ns))


@contextmanager
def _quiet() -> Iterator[None]:
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


def _extractor(library: str, version: str) -> str:
    return f"{library} {version}; kzqa.extract {RULES_VERSION}"


def _tidy(text: str) -> str:
    """Line endings to ``\\n``, trailing whitespace of lines removed, and blank lines at
    both ends dropped. Nothing else changes."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


# ---- PDF ------------------------------------------------------------------------------


def _extract_pdf(data: bytes) -> Extracted:
    import pypdf

    with _quiet():
        try:
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted:  # even with an empty password: never decrypt
                raise ExtractionError(ENCRYPTED)
            texts = [_tidy(_page_text(page)) for page in reader.pages]
            metadata = _pdf_metadata(reader)
        except ExtractionError:
            raise
        except Exception as err:  # pypdf raises many types on malformed input
            raise ExtractionError(DAMAGED) from err
    if not any(t.strip() for t in texts):
        raise ExtractionError(SCANNED if texts else DAMAGED)  # no pages at all: not a real PDF
    spans, pos = [], 0
    for t in texts:
        spans.append((pos, pos + len(t)))
        pos += len(t) + 2
    return Extracted("\n\n".join(texts), tuple(spans), metadata, _extractor("pypdf", pypdf.__version__))


def _page_text(page: Any) -> str:
    """pypdf's text of one page, with a blank line where a wide vertical gap separates two
    lines (see ``PARAGRAPH_GAP``)."""
    pieces: list[tuple[str, float | None]] = []  # pypdf's output in order, with baselines

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        y = None
        if text.strip() and cm is not None and tm is not None:
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]  # y of the text matrix times the CTM
        pieces.append((text, y))

    raw = page.extract_text(visitor_text=visit)
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
    for key, read in (("title", lambda: info.title), ("author", lambda: info.author)):
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


# ---- HTML -----------------------------------------------------------------------------

_DECLARED_CHARSET = re.compile(
    rb"""(?:<meta[^>]*?charset|<\?xml[^>]*?encoding)\s*=\s*["']?\s*([\w.:-]+)""", re.I
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
_SITE_FROM_URL = re.compile(r"https?://(?:www\.|w[0-9]+\.)?([^/]+)")  # trafilatura's fallback
# Dates only from what the page states as its date (meta tags, <time>, JSON-LD, the URL), not
# guessed from the running text, and no check against today's date, which would change results.
_DATE_PARAMS = {"original_date": True, "extensive_search": False, "max_date": "9999-12-31"}


def _decode(data: bytes) -> str:
    """The page's text: by its byte order mark, else its declared charset, else UTF-8."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if encoding is None:
        match = _DECLARED_CHARSET.search(data[:4096])
        try:
            encoding = codecs.lookup(match[1].decode("ascii")).name if match else "utf-8"
        except LookupError:  # an unknown label is ignored, as browsers do
            encoding = "utf-8"
        if encoding in ("iso8859-1", "ascii"):
            encoding = "cp1252"  # what browsers read for these labels
        elif encoding.startswith("utf-16"):
            encoding = "utf-8"  # a page that declares UTF-16 in ASCII is not UTF-16
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise ExtractionError(
            f"its bytes are not valid {encoding}:"
            " save the page as UTF-8 (or declare its charset) and add it again"
        ) from None


def _extract_html(data: bytes) -> Extracted:
    import trafilatura
    from trafilatura.settings import DEFAULT_CONFIG
    from trafilatura.xml import xmltotxt

    html = _decode(data)
    with _quiet():
        try:
            tree = trafilatura.load_html(html) if html.strip() else None
            language = _html_language(tree) if tree is not None else None
            doc = (
                trafilatura.bare_extraction(
                    tree,
                    include_comments=False,
                    include_images=False,
                    include_links=False,
                    include_formatting=False,
                    with_metadata=True,
                    date_extraction_params=_DATE_PARAMS,
                )
                if tree is not None
                else None
            )
            blocks = [xmltotxt(block, False) for block in doc.body] if doc is not None else []
        except Exception as err:  # lxml or trafilatura failing on odd markup
            raise ExtractionError("not a readable web page (its HTML could not be parsed)") from err
    text = "\n\n".join(t for t in map(_tidy, blocks) if t.strip())
    # trafilatura's own measure of a text too short to be a page's main text (250 characters):
    # below it, what it returns is what was left over (a cookie notice, a menu, a <noscript>)
    min_size = DEFAULT_CONFIG.getint("DEFAULT", "MIN_EXTRACTED_SIZE")
    if len(text) < min_size:
        raise ExtractionError(NO_MAIN_TEXT.format(min_size))
    metadata = _html_metadata(doc, language)
    return Extracted(text, (), metadata, _extractor("trafilatura", trafilatura.__version__))


def _html_language(tree: Any) -> str | None:
    """The language the page declares: ``<html lang>`` or a Content-Language meta tag."""
    declared = [tree.get("lang")] + [
        meta.get("content")
        for meta in tree.iter("meta")
        if (meta.get("http-equiv") or "").lower() == "content-language"
    ]
    return next((v.strip() for v in declared if v and _LANGUAGE_TAG.fullmatch(v.strip())), None)


def _html_metadata(doc: Any, language: str | None) -> dict[str, str]:
    found = {
        "title": doc.title,
        "author": doc.author,
        "publisher": doc.sitename,
        "date": doc.date,
        "url": doc.url,
        "language": language,
    }
    site = _SITE_FROM_URL.match(doc.url or "")
    if site and (doc.sitename or "").lower() == site[1].lower():
        del found["publisher"]  # trafilatura's stand-in from the URL's host, not a stated publisher
    return {k: " ".join(v.split()) for k, v in found.items() if v and v.strip()}
