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
- lines that are not the report's text are left out of the text (listed in
  ``Extracted.skipped`` with their page and reason): running headers and footers (a line
  that recurs on ``RUNNING_SHARE`` of the pages, the page's own number aside: "Page 3 of 59",
  "GE.24-19779 3", a document symbol, a series title, wherever pypdf puts them in reading
  order), a line carrying a header's document number and no ordinary word (the job line
  "GE.24-19779 (E) 061124"), page numbers, lines mostly of private-use glyphs (a barcode),
  table-of-contents lines (dot leaders) and whole contents pages (3+ dot leaders, or entries
  each followed by its page number), and notes: from a line that starts with the next note
  number ("17 CAT/C/SVN/CO/4, para. 9.", counted from 1 through the document) after a blank
  line, to the end of the page (and on over the page break while the note list runs on);
- pages are joined with one blank line (``\\n\\n``), except where a paragraph runs on over
  the page break (the page ends on a word, comma or hyphen, without a full stop, and the
  next page does not open with a heading): there one line break joins them, so the
  paragraph is one block whose slice cites both pages. ``Extracted.pages`` records each
  page's ``(start, end)`` span in the text (a page without text gets an empty span, so page
  numbers stay right);
- ``Extracted.blocks`` are the paragraphs (runs of lines between blank lines; a labelled
  heading line such as "f. Status and Treatment ..." right after a sentence's end is a block
  of its own). Headings are told from paragraphs later (``kzqa.passages``).

HTML (lxml). The bytes are decoded with the charset they declare (byte order mark,
``<meta charset>`` or the XML declaration), else as UTF-8. The article is the page's one
``<article>`` (else ``role=main``/``<main>``, else ``<body>``). Inside it, these are skipped
(and listed in ``Extracted.skipped`` with the reason), by general rules, not by site:
``<nav>``, ``<aside>``, ``<footer>``, a ``<header>`` outside the article, ARIA landmarks of the
same kinds, hidden elements, buttons and forms, elements whose class or id names furniture
(cookie, share, breadcrumb, toc, menu, nav, tags, back-to-top, ...) and hold links or controls,
lists of 3+ links that are mostly link text (a table of contents when the links point inside
the page), and headings that are only a link ("Download Report"). Every paragraph, list item,
table row (cells joined by `` | ``) and heading kept is one block, its text as a browser shows
it (whitespace runs collapsed to one space, ``<br>`` a line break); blocks are joined with
one blank line, and ``Extracted.blocks`` gives each block's span, kind and heading level. The
first ``<h1>`` before any paragraph is the title, not a section. A page with under 250
characters of paragraphs raises :class:`ExtractionError` (a menu, a cookie notice, a script
shell).

Metadata is only what the file itself states, never a guess from its name or its host.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

__all__ = [
    "EXTRACTED_SUFFIXES", "Extracted", "ExtractionError", "Skipped", "Span", "extract", "pages_of",
    "page_label",
]

EXTRACTED_SUFFIXES = (".pdf", ".html", ".htm")
EXTRACT_RULES_VERSION = 2  # bump when a rule here changes the text or metadata of a file

# A blank line goes where two lines are further apart than this many line pitches. Lines of
# one paragraph sit 1.0 pitch apart; Word's default paragraph spacing makes ~1.6, a heading
# with space above it 1.8-2.5. Checked on fpdf2 fixtures and on a Texinfo and a DocBook manual.
PARAGRAPH_GAP = 1.4

# Loggers of the libraries, silenced while they work:
# their warnings are about the file, and a failure reaches the user as ExtractionError.
_LIBRARY_LOGGERS = ("pypdf",)

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
    blocks: tuple[Span, ...] = ()
    skipped: tuple[Skipped, ...] = ()


@dataclass(frozen=True, slots=True)
class Span:
    """One block of ``Extracted.text``: ``text[start:end]``.

    ``kind``: ``"title"`` (the page's headline), ``"heading"``, ``"body"`` (a paragraph, list
    item or table row) or ``"note"`` (a footnote or endnote of a PDF). ``level``: a web
    page's heading level (1-6); 0 where the file does not say. ``page``: for a note, the page
    it is printed on (notes are stored after the body; see the module notes)."""

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
    return f"{library} {version}; kzqa.extract {EXTRACT_RULES_VERSION}"


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
    text, spans, blocks, skipped = _lay_out_pages(texts)
    return Extracted(text, spans, metadata, _extractor("pypdf", pypdf.__version__), blocks, skipped)


# A line that repeats on this share of the pages (digits aside) is a running header or footer.
RUNNING_SHARE = 0.3
RUNNING_MAX_CHARS = 150
_DOT_LEADER = re.compile(r"(?:\.\s*){5,}\s*\d+(?:\s*[-–]\s*\d+)?\s*$|(?:\. ){4,}")
_PAGE_REF = re.compile(r"(\d{1,4})(?:\s*[-–]\s*\d{1,4})?")
_SYMBOL_NOTE = re.compile(r"\s*[*†‡]\s+\S")
_NOTE_START = re.compile(r"\s*(\d{1,3})\s+(?!\d)\S")
_SYMBOL_TOKEN = re.compile(r"(?=\S*[A-Za-z])(?=\S*\d)\S{6,}")
_ORDINARY_WORD = re.compile(r"\b[a-z]{4,}\b")


def _has_note(number: int, lines: list[str]) -> bool:
    """Whether one of ``lines`` starts note ``number``."""
    return any((m := _NOTE_START.match(x)) is not None and int(m[1]) == number for x in lines)


def _private_use(ch: str) -> bool:
    o = ord(ch)
    return 0xE000 <= o <= 0xF8FF or o >= 0xF0000 or ch == "\ufffd"


def _lay_out_pages(texts: list[str]) -> tuple[str, tuple[tuple[int, int], ...], tuple[Span, ...],
                                                tuple[Skipped, ...]]:
    """The report's body text from its pages (see the module notes): running headers and
    footers, page numbers, table-of-contents lines and junk glyphs are left out, notes are set
    apart, and a paragraph that runs on over a page break is joined with a line break."""
    pages = [t.split("\n") for t in texts]
    n = len(pages)

    def key(line: str, number: int) -> str:
        """The line, its whitespace collapsed and the page's own number (or one up to two
        less, for unnumbered front pages) as "#": "Page # of 59", "GE.24-19779 #"."""
        flat = " ".join(line.split())
        for printed in (number, number - 1, number - 2):
            new = re.sub(rf"(?<![\w.,/-]){printed}(?![\w,/-]|\.\d)", "#", flat, count=1)
            if new != flat:
                return new
        return flat

    counts: dict[str, int] = {}
    for number, lines in enumerate(pages, 1):
        for k in {key(line, number) for line in lines if line.strip()}:
            counts[k] = counts.get(k, 0) + 1
    need = max(2, -(-int(RUNNING_SHARE * n * 10) // 10)) if n >= 2 else n + 1
    running = {k for k, c in counts.items() if c >= need and len(k) <= RUNNING_MAX_CHARS
               and any(ch.isalpha() for ch in k)}
    symbols = {tok for k in running for tok in _SYMBOL_TOKEN.findall(k)}

    def symbol_line(line: str) -> bool:  # "GE.24-19779 (E) 061124": the job number of the header
        flat = " ".join(line.split())
        return (len(flat) <= 80 and not _ORDINARY_WORD.search(flat)
                and any(tok in symbols for tok in _SYMBOL_TOKEN.findall(flat)))

    def page_number(line: str, number: int) -> bool:
        return key(line, number) in ("#", "- # -", "– # –", "— # —") or bool(
            re.fullmatch(r"(?i)page #(?: of \d+)?", key(line, number)))

    skipped: list[Skipped] = []
    bodies: list[list[tuple[str, bool]]] = []  # per page: (line, blank line before it)
    expected_note, in_notes = 1, False
    note: list[str] = []
    note_page = 0

    def end_note() -> None:
        if note:
            skipped.append(Skipped("note", "\n".join(note), note_page))
            note.clear()

    for number, lines in enumerate(pages, 1):
        furniture = set()
        for i, line in enumerate(lines):
            flat = " ".join(line.split())
            if not flat:
                continue
            reason = ""
            if page_number(line, number):
                reason = "page number"
            elif key(line, number) in running or symbol_line(line):
                reason = "running header or footer"
            elif sum(map(_private_use, flat)) * 2 >= len(flat.replace(" ", "")):
                reason = "junk glyphs"
            elif _DOT_LEADER.search(flat):
                reason = "table of contents"
            if reason:
                furniture.add(i)
                skipped.append(Skipped(reason, flat, number))
        content = [i for i, line in enumerate(lines) if line.strip() and i not in furniture]
        for i in content[:2] + content[-2:]:  # a print code alone at the top or foot ("GE.24-20424 (E)")
            flat = " ".join(lines[i].split())
            if (i not in furniture and len(flat) <= 40 and not re.search(r"[a-z]{3}", flat)
                    and re.search(r"(?=\S*[A-Za-z])(?=\S*\d)\S*[.\-/]\S*\d", flat)):
                furniture.add(i)
                skipped.append(Skipped("running header or footer", flat, number))
        content = [i for i in content if i not in furniture]
        leaders = sum(1 for s in skipped if s.page == number and s.reason == "table of contents")
        refs = [int(m[1]) for i in content if (m := _PAGE_REF.fullmatch(lines[i].strip()))]
        refs = [r for r in refs if r <= n]  # page numbers of this document (not a year)
        if content and (leaders >= 3 or (len(refs) >= 3 and refs == sorted(refs)
                                         and len(refs) >= 0.25 * len(content))):
            # a page of contents (dot leaders, or entries each with its page number): all of it
            for i in content:
                furniture.add(i)
                skipped.append(Skipped("table of contents", " ".join(lines[i].split()), number))
        body: list[tuple[str, bool]] = []
        gap = in_notes
        for i, line in enumerate(lines):
            if not line.strip():
                gap = True
                continue
            if i in furniture:
                continue
            start = _NOTE_START.match(line)
            if _SYMBOL_NOTE.match(line) and gap and body:  # "* The present document is ..."
                end_note()
                in_notes, note_page = True, number
                note.append(line)
            elif start and int(start[1]) == expected_note and (gap or not body):
                end_note()
                in_notes, note_page = True, number
                expected_note += 1
                note.append(line)
            elif in_notes and start and int(start[1]) == expected_note:
                end_note()
                note_page = number
                expected_note += 1
                note.append(line)
            elif in_notes and (note or not body):
                note.append(line)
            else:
                body.append((line, gap and bool(body)))
            gap = False
        if in_notes:
            # notes run on to the next page only when it carries on with the next note
            following = pages[number] if number < n else []
            later = [x for page in pages[number:number + 2] for x in page]
            carry = _has_note(expected_note, [x for x in following if x.strip()][:4]) or (
                bool(note) and _NOTE_START.match(note[0]) is not None  # a numbered note ...
                and not re.search(r"[.!?]\W{0,2}$", note[-1].rstrip())  # ... cut off mid-sentence
                and _has_note(expected_note, later))  # ... in a list of notes that goes on
            if not carry:
                end_note()
                in_notes = False
        bodies.append(body)
    end_note()

    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    last = ""
    for body in bodies:
        if out and body:
            first = " ".join(body[0][0].split())
            # a paragraph runs on over the page break when the page ends inside a sentence
            # (on a word, a comma or a hyphen) and the next page does not open with a heading
            runs_on = (bool(re.search(r"[^\W\d]\W{0,2}$|[,;\-–—]$", last.rstrip())
                            or (last.rstrip()[-1:].isdigit() and first[:1].islower()))
                       and not re.search(r"[.!?:]\W{0,2}$", last.rstrip())
                       and not (_HEADING_LINE.fullmatch(first) or first.upper() == first))
            joint = "\n" if runs_on else "\n\n"
            out.append(joint)
            pos += len(joint)
        page = "".join(("\n\n" if gap else "\n") + line if k else line
                       for k, (line, gap) in enumerate(body))
        spans.append((pos, pos + len(page)))
        out.append(page)
        pos += len(page)
        if body:
            last = body[-1][0]
    text = "".join(out)
    return text, tuple(spans), _pdf_blocks(text), tuple(skipped)


# A line that starts a heading of its own although no wider gap sets it apart ("f. Status and
# Treatment of Internally Displaced Persons (IDPs)" right under a paragraph's last line).
_HEADING_LINE = re.compile(r"(?:(?:Section|Part|Chapter)\s+\d+\.|[a-z]\.|[IVX]{1,5}\.|[A-Z]\.)\s+[A-Z][^\n]*")


def _pdf_blocks(text: str) -> tuple[Span, ...]:
    """Paragraphs: runs of lines between blank lines; a labelled heading line after a line that
    ends a sentence is a block of its own."""
    blocks: list[Span] = []
    for m in re.finditer(r"(?:[^\n]*\S[^\n]*(?:\n|$))+", text):
        cuts = [m.start()]
        lines = list(re.finditer(r"[^\n]+", m.group()))
        for prev, line in pairwise(lines):
            flat = line.group().strip()
            if (_HEADING_LINE.fullmatch(flat) and len(flat) <= 100 and flat[-1] not in ".,;:!?"
                    and re.search(r"[.!?:]\W*$", prev.group())):
                cuts += [m.start() + line.start(), m.start() + line.end()]
        cuts.append(m.end())
        for s, e in pairwise(cuts):
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if s < e:
                blocks.append(Span(s, e, "body"))
    return tuple(blocks)


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


# ---- HTML -----------------------------------------------------------------------------

_DECLARED_CHARSET = re.compile(
    rb"""(?:<meta[^>]*?charset|<\?xml[^>]*?encoding)\s*=\s*["']?\s*([\w.:-]+)""", re.I
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


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
    import lxml
    import lxml.html

    html = _decode(data)
    with _quiet():
        try:
            tree = lxml.html.document_fromstring(html) if html.strip() else None
        except Exception as err:  # lxml failing on odd markup
            raise ExtractionError("not a readable web page (its HTML could not be parsed)") from err
    if tree is None:
        raise ExtractionError(NO_MAIN_TEXT.format(MIN_MAIN_TEXT))
    meta = _html_metadata(tree)
    walker = _Walker()
    walker.walk(_main_container(tree))
    text, blocks = _join_blocks(walker.blocks)
    if sum(e - s for s, e, kind, _ in blocks if kind == "body") < MIN_MAIN_TEXT:
        raise ExtractionError(NO_MAIN_TEXT.format(MIN_MAIN_TEXT))
    spans = tuple(Span(s, e, kind, level) for s, e, kind, level in blocks)
    return Extracted(text, (), meta, _extractor("lxml", lxml.__version__), spans,
                     tuple(walker.skipped))


def _join_blocks(pieces: list[tuple[str, str, int]]) -> tuple[str, list[tuple[int, int, str, int]]]:
    """The blocks' texts joined with one blank line, and each block's span in the result."""
    out: list[str] = []
    spans: list[tuple[int, int, str, int]] = []
    pos = 0
    for kind, text, level in pieces:
        if out:
            out.append("\n\n")
            pos += 2
        out.append(text)
        spans.append((pos, pos + len(text), kind, level))
        pos += len(text)
    return "".join(out), spans


# Elements that are never text a reader sees in the article.
_INVISIBLE = frozenset({"script", "style", "noscript", "template", "svg", "math", "iframe", "object",
                        "embed", "canvas", "head", "title", "meta", "link", "map", "video", "audio",
                        "picture", "img"})
_CONTROLS = frozenset({"button", "select", "option", "input", "textarea", "form", "label", "dialog"})
_BLOCK_LEVEL = frozenset({"p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd",
                          "blockquote", "pre", "table", "thead", "tbody", "tfoot", "tr", "figure",
                          "figcaption", "caption", "address", "details", "summary", "center", "hr",
                          "header", "footer", "nav", "aside", "fieldset", "h1", "h2", "h3", "h4",
                          "h5", "h6", "body", "html"})
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_LANDMARKS = {"nav": "navigation", "aside": "sidebar", "footer": "page footer"}
_ROLES = {"navigation": "navigation", "banner": "page header", "contentinfo": "page footer",
          "complementary": "sidebar", "search": "search form", "menu": "navigation",
          "menubar": "navigation", "dialog": "dialog", "alert": "notice"}
# class or id words that name page furniture on sites of every kind (as in Readability's list)
_FURNITURE_NAMES = re.compile(
    r"(?<![a-z])(?:cookie|consent|gdpr|breadcrumbs?|share|sharing|social|newsletter|subscribe|"
    r"related|comments?|sidebar|side|popup|modal|overlay|dialog|advert\w*|ads?|promo|sponsor\w*|"
    r"skip-?link|back-?to-?top|toc|table-?of-?contents|pagination|pager|tags?|menu|masthead)(?![a-z])"
    r"|nav(?![a-z])|(?<![a-z])nav", re.IGNORECASE)
_OVERLAY_NAMES = re.compile(r"(?i)cookie|consent|gdpr|popup|modal|overlay|dialog|advert\w*|ads?|promo|"
                            r"sponsor\w*|newsletter|subscribe")
_WS = re.compile(r"[ \t\n\r\f]+")
LINK_LIST_SHARE = 0.7  # a block of 3+ links whose text is this much link text is a menu, not prose
MIN_MAIN_TEXT = 250  # characters of body text below which a page has no article (trafilatura's minimum)


def _furniture_reason(el: Any, in_article: bool, total: int) -> str:
    """Why ``el`` and everything in it is skipped, or ``""`` to keep it. ``total``: the length
    of the article's text (a class name alone never skips half of the article: such names
    are also behaviour hooks, e.g. ``js-backtotop`` on the report's body)."""
    tag = el.tag
    if tag in _LANDMARKS:
        return _LANDMARKS[tag]
    if tag == "header" and not in_article:
        return "page header"
    role = (el.get("role") or "").lower()
    if role in _ROLES:
        return _ROLES[role]
    if el.get("hidden") is not None or (el.get("aria-hidden") or "").lower() == "true":
        return "hidden"
    if re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", el.get("style") or "", re.IGNORECASE):
        return "hidden"
    if tag in ("body", "main", "article"):
        return ""
    names = f"{el.get('class') or ''} {el.get('id') or ''}"
    match = _FURNITURE_NAMES.search(names)
    # A heading's id is a link target, not furniture; apart from overlays and notices, what a
    # class name marks as furniture is made of links or controls (a label such as
    # <p class="report-toc-section">Section 2.</p> is the report's own text).
    if (match and tag not in _HEADINGS and len(_visible(el)) < total / 2
            and (_OVERLAY_NAMES.fullmatch(match[0]) or any(
                d.tag in _CONTROLS or (d.tag == "a" and d.get("href") is not None)
                for d in el.iter() if isinstance(d.tag, str)))):
        return f"furniture ({match[0].lower()})"
    if tag in ("ul", "ol", "div", "section", "table", "p", "dl"):
        links = [a for a in el.iter("a") if a.get("href") is not None]
        if len(links) >= 3:
            text = _visible(el)
            linked = sum(len(_visible(a)) for a in links)
            if text and linked >= LINK_LIST_SHARE * len(text):
                inpage = sum(1 for a in links if (a.get("href") or "").startswith("#"))
                return "table of contents" if inpage >= 0.8 * len(links) else "list of links"
    if tag in _HEADINGS:
        links = [a for a in el.iter("a") if a.get("href") is not None]
        if links and sum(len(_visible(a)) for a in links) >= len(_visible(el)):
            return "link set as a heading"
    return ""


def _visible(el: Any) -> str:
    """The element's text as shown, whitespace collapsed (for measuring, not for storing)."""
    parts: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node.tag, str) and node.tag not in _INVISIBLE:
            parts.append(node.text or "")
            for child in node:
                visit(child)
        if node is not el:
            parts.append(node.tail or "")

    visit(el)
    return _WS.sub(" ", "".join(parts)).strip()


def _main_container(tree: Any) -> Any:
    """The page's article: its one ``<article>`` (or ``role=main``/``<main>``) holding enough text,
    else ``<body>``."""
    for path in ("//article", "//*[@role='main']", "//main"):
        found = tree.xpath(path)
        if len(found) == 1 and len(_visible(found[0])) >= MIN_MAIN_TEXT:
            return found[0]
    body = tree.find("body")
    return body if body is not None else tree


class _Walker:
    """Walks the article in document order: each paragraph, list item, table row and heading
    becomes one block of the page's text as a browser shows it (runs of spaces and line breaks
    of the source collapsed to one space, ``<br>`` a line break). Skipped elements are recorded
    with their reason."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, str, int]] = []  # (kind, text, heading level)
        self.skipped: list[Skipped] = []
        self._inline: list[str] = []
        self._seen_body = False
        self._total = 0

    def walk(self, el: Any, in_article: bool = False) -> None:
        in_article = in_article or el.tag in ("article", "main")
        self._total = len(_visible(el))
        self._element(el, in_article)
        self._flush()

    def _element(self, el: Any, in_article: bool) -> None:
        tag = el.tag
        if not isinstance(tag, str) or tag in _INVISIBLE:
            return
        reason = "form or button" if tag in _CONTROLS else _furniture_reason(el, in_article, self._total)
        if reason:
            text = _visible(el)
            if text:
                self._flush()
                self.skipped.append(Skipped(reason, text))
            return
        if tag == "br":
            self._inline.append("\n")
            return
        if tag in _HEADINGS:
            self._flush()
            text = _visible(el)
            if text:
                level = _HEADINGS[tag]
                if level == 1 and not self._seen_body:
                    self.blocks.append(("title", text, level))
                else:
                    self.blocks.append(("heading", text, level))
            return
        if tag == "tr":
            self._flush()
            cells = [_visible(c) for c in el if isinstance(c.tag, str) and c.tag in ("td", "th")]
            cells = [c for c in cells if c]
            if cells:
                self._add_body(" | ".join(cells))
            return
        if tag == "pre":
            self._flush()
            text = _tidy(el.text_content())
            if text.strip():
                self._add_body(text)
            return
        block = tag in _BLOCK_LEVEL
        if block:
            self._flush()
        self._inline.append(_WS.sub(" ", el.text or ""))
        for child in el:
            self._element(child, in_article or tag in ("article", "main"))
            self._inline.append(_WS.sub(" ", child.tail or ""))
        if block:
            self._flush()

    def _add_body(self, text: str) -> None:
        self.blocks.append(("body", text, 0))
        self._seen_body = True

    def _flush(self) -> None:
        raw = "".join(self._inline)
        self._inline = []
        lines = [_WS.sub(" ", line).strip() for line in raw.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            self._add_body(text)


def _html_language(tree: Any) -> str | None:
    """The language the page declares: ``<html lang>`` or a Content-Language meta tag."""
    declared = [tree.get("lang")] + [
        meta.get("content")
        for meta in tree.iter("meta")
        if (meta.get("http-equiv") or "").lower() == "content-language"
    ]
    return next((v.strip() for v in declared if v and _LANGUAGE_TAG.fullmatch(v.strip())), None)


def _html_metadata(tree: Any) -> dict[str, str]:
    """Title, author, publisher, date, url and language as the page states them.

    Title: the article's headline (schema.org ``headline``, ``og:title``, the first ``<h1>``,
    ``<title>``), skipping any that is the site's name or ends with it (" - Site", " | Site").
    Date: the publication date (schema.org ``datePublished``, ``article:published_time`` and
    the like), never a modification date. Publisher: schema.org ``publisher``, else
    ``og:site_name``, else the schema.org WebSite's name."""
    metas: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        value = " ".join((meta.get("content") or "").split())
        if key and value and key not in metas:
            metas[key] = value
    ld = _json_ld(tree)
    by_id = {o["@id"]: o for o in ld if isinstance(o.get("@id"), str)}

    def ld_value(key: str) -> str:
        for obj in ld:
            value = obj.get(key)
            if isinstance(value, dict):
                value = by_id.get(value.get("@id"), value) if "@id" in value else value
                value = value.get("name")
            elif isinstance(value, list):
                value = next((v.get("name") if isinstance(v, dict) else v for v in value), None)
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())
        return ""

    website = next((" ".join(str(o.get("name") or "").split()) for o in ld
                    if o.get("@type") == "WebSite"), "")
    publisher = ld_value("publisher") or metas.get("og:site_name", "") or website
    sites = {n.casefold() for n in (publisher, metas.get("og:site_name", ""), website) if n}

    def names_the_site(title: str) -> bool:
        low = title.casefold()
        return low in sites or any(re.search(r"\s[-|–—:·•]+\s*" + re.escape(n) + r"\s*$", low)
                                   for n in sites)

    title_el = tree.find(".//title")
    h1 = tree.xpath("//h1")
    candidates = [ld_value("headline"), metas.get("og:title", ""), metas.get("twitter:title", ""),
                  _visible(h1[0]) if h1 else "",
                  " ".join(title_el.text_content().split()) if title_el is not None else ""]
    title = next((c for c in candidates if c and not names_the_site(c)), "")
    dates = [ld_value("datePublished"), metas.get("article:published_time", ""),
             metas.get("citation_publication_date", ""), metas.get("dc.date.issued", ""),
             metas.get("dcterms.issued", ""), metas.get("datepublished", ""),
             *(t.get("datetime") or "" for t in tree.xpath("//time[@itemprop='datePublished' or @pubdate]"))]
    date = next((m[0].replace("/", "-") for d in dates if (m := re.match(r"\d{4}[-/]\d{2}[-/]\d{2}", d))), "")
    author = ld_value("author") or metas.get("author", "") or metas.get("article:author", "")
    if re.match(r"https?://", author):
        author = ""  # a profile address, not a name
    canonical = tree.xpath("//link[@rel='canonical']/@href")
    url = (canonical[0].strip() if canonical else "") or metas.get("og:url", "")
    found = {"title": title, "author": author, "publisher": publisher, "date": date,
             "url": url if re.match(r"https?://\S+$", url) else "", "language": _html_language(tree) or ""}
    return {k: " ".join(v.split()) for k, v in found.items() if v and v.strip()}


def _json_ld(tree: Any) -> list[dict[str, Any]]:
    """Every object of the page's schema.org JSON-LD (``@graph`` members included)."""
    import json

    out: list[dict[str, Any]] = []

    def add(value: Any) -> None:
        if isinstance(value, list):
            for v in value:
                add(v)
        elif isinstance(value, dict):
            out.append(value)
            add(value.get("@graph"))

    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            add(json.loads(script.text or ""))
        except ValueError:
            continue  # malformed JSON-LD is ignored, as search engines do
    return out
