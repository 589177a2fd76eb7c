"""Text out of PDF files (PDFium, through pypdfium2), for :func:`kzqa.ingest.extract.extract`.

Why PDFium: it places the characters of a line by their positions on the page, so a word
whose glyphs the file sets with individual offsets comes out whole ("Kazakhstan", where
pypdf read "K azakhstan"; measured in ``bench/pdf_extractors.py`` and bench/README.md). The words
are exactly the characters PDFium reads, page by page; what changes is only this:

- PDFium's ``\\r\\n`` line breaks become ``\\n``; where PDFium marks a hyphen it found at the
  end of a line (U+FFFE, or U+0002), the text has that hyphen ("-") and the line break the
  page shows there (nothing is joined: "well-" / "being" stay two lines, as printed);
- control characters other than line breaks and tabs are skipped, and whitespace at the end
  of every line is removed;
- a blank line is put between two lines where the vertical gap between their baselines is
  more than ``PARAGRAPH_GAP`` times the page's usual line pitch (the lower quartile of its
  downward line-to-line gaps), or where the type size changes by more than
  ``SIZE_CHANGE`` (a heading set in larger type right above its text, a note in smaller
  type right under it), so paragraphs, headings and notes set apart on the page stay apart.

Every line also carries its type size (the median effective size of its characters: the
font size times the text matrix' scale), which tells the body's type from notes in smaller
type (:mod:`kzqa.ingest.pdf_layout`) and the title on the first page (:mod:`kzqa.ingest.pdf_metadata`).

The pages are then laid out as one text by :mod:`kzqa.ingest.pdf_layout` (which leaves out running
headers and footers, page numbers, contents and notes, and joins the pages; see there).
"""

from __future__ import annotations

import ctypes
import itertools
import math
import re
from dataclasses import dataclass
from typing import Any

from kzqa.ingest.extracted import Extracted, ExtractionError, extractor_label, quiet
from kzqa.ingest.pdf_layout import PageLine, lay_out_pages
from kzqa.ingest.pdf_metadata import page_title, pdf_metadata

# A blank line goes where two baselines are further apart than this many line pitches. Lines
# of one paragraph sit 1.0 pitch apart (baselines, so a descender or a raised mark does not
# move them); Word's paragraph spacing makes 1.35 (the 2010 UN report: 4 pt after 12 pt
# lines) to ~1.6, a heading with space above it 1.8-2.5. 1.4 (pypdf's text positions) left
# the UN reports' paragraphs run together.
PARAGRAPH_GAP = 1.25
# A line of type this many points high needs this many times its size from the line above
# (set solid lines of 14 pt type sit ~1.07-1.2 x 14 pt apart, so a title in large type is not
# split where the page's body lines are 12 pt apart).
LINE_PITCH = 1.2
# ... and where the type size of two lines differs by more than this share (body 10 pt,
# heading 14 pt, note 9 pt or less); a bold or italic word inside a line does not change it.
SIZE_CHANGE = 0.15
# A gap between two letters' font boxes wider than this share of the type size is a word
# space. Measured on 13 PDFs (library and held-out tuning documents, /tmp/gaps2.py in the
# notes): letters of a word sit < 0.07 em apart, kerning and glyph offsets included (the
# UN reports' kerning: up to 0.06); the spaces a file sets by moving the pen: 0.187-0.2 em
# (Nicaragua), 0.10-0.18 em (a QuarkXPress book's justified lines: "Thelatest", 0.155).
# Gaps of 0.1+ em also stand before dot leaders and in LaTeX formulas, where a space is
# harmless. A pen move under 0.07 em ("ofmy", 0.04) cannot be told from kerning. Measured
# from the line's usual gap between letters, so letter-spaced type (a statute's citations
# tracked 0.1 em: "m o d i f i é") is not cut into letters.
SPACE_GAP = 0.1
# A line indented this many ems from the line above, which ends a sentence, opens a paragraph.
INDENT = 0.8
# Characters of a line whose type size is read (its median); more only cost time.
SIZE_SAMPLE = 7

ENCRYPTED = "an encrypted PDF: save an unencrypted copy and add that"
SCANNED = "a scanned PDF with no text layer: run OCR on it first (e.g. ocrmypdf) and add the result"
DAMAGED = "not a readable PDF (damaged or truncated)"

_LINE_END_HYPHENS = ("\ufffe", "\x02")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class _RawLine:
    """One line of PDFium's text, with where it sits (PDF units, y up the page; None where
    unknown) and its type size (median and largest of its sampled characters; 0: unknown)."""

    text: str
    y: float | None = None  # the baseline of its first character
    x0: float = 0.0  # the left of its first character
    x1: float = 0.0  # the right of its last character
    size: float = 0.0
    peak: float = 0.0


def extract_pdf(data: bytes) -> Extracted:
    """The text, pages, blocks, skipped lines and metadata of a PDF's bytes (see the module
    notes)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    with quiet():
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as err:
            raise ExtractionError(ENCRYPTED if err.err_code == pdfium_c.FPDF_ERR_PASSWORD else DAMAGED) from err
        except Exception as err:
            raise ExtractionError(DAMAGED) from err
        try:
            if pdfium_c.FPDF_GetSecurityHandlerRevision(pdf.raw) != -1:
                raise ExtractionError(ENCRYPTED)  # even with an empty password: never decrypt
            pages = [_page_lines(pdf, i) for i in range(len(pdf))]
            info = pdf.get_metadata_dict(skip_empty=True)
        except ExtractionError:
            raise
        except Exception as err:  # PDFium reports damage in many ways
            raise ExtractionError(DAMAGED) from err
        finally:
            pdf.close()
    if not any(line.text.strip() for page in pages for line in page):
        raise ExtractionError(SCANNED if pages else DAMAGED)  # no pages at all: not a real PDF
    title = page_title(pages)
    text, spans, blocks, skipped = lay_out_pages(pages, title.lines)
    metadata = pdf_metadata(info, pages, title)
    return Extracted(text, spans, metadata, label(), blocks, skipped)


def label() -> str:
    """What extracted a PDF's text here: the library, its version and kzqa's rules."""
    import pypdfium2

    version = f"{pypdfium2.version.PYPDFIUM_INFO.version} (PDFium {pypdfium2.version.PDFIUM_INFO.build})"
    return extractor_label("pypdfium2", version)


def _page_lines(pdf: Any, index: int) -> list[PageLine]:
    """The lines of one page, with a blank line's mark where the page sets them apart (see
    ``PARAGRAPH_GAP`` and ``SIZE_CHANGE``)."""
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            raw = _raw_lines(textpage)
        finally:
            textpage.close()
    finally:
        page.close()
    return _with_gaps(raw)


def _raw_lines(textpage: Any) -> list[_RawLine]:
    """PDFium's text of a page, line by line, each line with its position and type size when
    PDFium's character indices line up with its text (else without: no gaps are guessed).
    Pieces PDFium reads as lines of their own though they stand on one line of the page (a
    note mark raised above the line, the words after it) are one line again
    (:func:`_same_line`)."""
    import pypdfium2.raw as pdfium_c

    text = str(textpage.get_text_range())
    # PDFium counts UTF-16 units: a character beyond the BMP (math italic "𝑣") takes two
    index = list(itertools.accumulate((2 if ord(ch) > 0xFFFF else 1 for ch in text), initial=0))
    aligned = index[-1] == textpage.count_chars()
    lines: list[_RawLine] = []
    chars: list[str] = []
    seen: list[tuple[int, int]] = []  # the line's non-space characters: (PDFium's index, index in text)

    at: dict[int, int] = {}  # a character's index in PDFium's text -> its place in ``chars``

    def end_line() -> None:
        if aligned and seen:
            sample = seen[:SIZE_SAMPLE] + seen[-2:]
            sizes = [_char_size(textpage, pdfium_c, i) for i, _ in sample]
            for i in reversed(_missing_spaces(textpage, seen, _median(sizes))):
                chars.insert(at[i], " ")
        line = _RawLine(_CONTROL.sub("", "".join(chars)).rstrip())
        if aligned and seen:
            left = textpage.get_charbox(seen[0][0])[0]
            right = textpage.get_charbox(seen[-1][0])[2]
            baseline = _origin_y(textpage, pdfium_c, seen[0][0])
            line = _RawLine(line.text, float(baseline), float(left), float(right), _median(sizes), max(sizes))
        if lines and _same_line(lines[-1], line):
            before = lines[-1]
            raised = line.size < 0.85 * before.size and line.y is not None and before.y is not None \
                and line.y > before.y
            joint = "" if raised or not before.text or not line.text.strip() else " "
            lines[-1] = _RawLine(before.text + joint + line.text.strip(), before.y, before.x0, line.x1,
                                 before.size, max(before.peak, line.peak))
        else:
            lines.append(line)
        chars.clear()
        seen.clear()
        at.clear()

    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\r" or ch == "\n":
            end_line()
            i += 2 if text.startswith("\r\n", i) else 1
            continue
        if ch in _LINE_END_HYPHENS:
            chars.append("-")
            end_line()
        else:
            at[index[i]] = len(chars)
            chars.append(ch)
            if not ch.isspace() and ch.isprintable():
                seen.append((index[i], i))
        i += 1
    end_line()
    return lines


def _missing_spaces(textpage: Any, seen: list[tuple[int, int]], size: float) -> list[int]:
    """The characters of a line before which the page leaves a word space that PDFium's text
    has no space for (a file that moves the pen instead of setting a space: "reports" |
    "that"): the gap between their font boxes is wider than the line's usual gap between two
    letters (0 in most type; the tracking of letter-spaced type) by ``SPACE_GAP`` of the type
    size."""
    if size <= 0:
        return []
    gaps: list[tuple[int, float]] = []  # (PDFium's index of the character after the gap, gap)
    previous: tuple[int, float, float] | None = None  # place in the text, right edge, bottom
    for i, pos in seen:
        left, bottom, right, _ = textpage.get_charbox(i, loose=True)
        if previous is not None and previous[0] == pos - 1 and abs(bottom - previous[2]) < 0.3 * size:
            gaps.append((i, left - previous[1]))
        previous = (pos, right, bottom)
    if not gaps:
        return []
    usual = max(0.0, _median([g for _, g in gaps]))
    return [i for i, g in gaps if g - usual > SPACE_GAP * size]


def _same_line(before: _RawLine, line: _RawLine) -> bool:
    """Whether ``line`` stands on the same line of the page as ``before``, right after it: its
    baseline within half a line of it (a raised note mark, or the words after one)."""
    if before.y is None or line.y is None or not before.text.strip() or not line.text.strip():
        return False
    size = max(before.size, line.size, 1.0)
    return abs(line.y - before.y) < 0.5 * size and line.x0 >= before.x1 - 0.5


def _char_size(textpage: Any, pdfium_c: Any, i: int) -> float:
    """The effective type size of character ``i``: its font size times the scale of its text
    matrix (a file may set 1-unit type scaled up by the matrix)."""
    size = float(pdfium_c.FPDFText_GetFontSize(textpage.raw, i))
    matrix = pdfium_c.FS_MATRIX()
    if pdfium_c.FPDFText_GetMatrix(textpage.raw, i, ctypes.byref(matrix)):
        size *= math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c))
    return round(size, 1)


def _origin_y(textpage: Any, pdfium_c: Any, i: int) -> float:
    """The baseline of character ``i`` (its origin), not its box: "(" and "y" reach below it."""
    x, y = ctypes.c_double(), ctypes.c_double()
    pdfium_c.FPDFText_GetCharOrigin(textpage.raw, i, ctypes.byref(x), ctypes.byref(y))
    return float(y.value)


def _median(values: list[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2] if values else 0.0


def _indented(before: _RawLine, line: _RawLine) -> bool:
    """A paragraph that opens with an indent, with no space above it: the line stands
    ``INDENT`` or more to the right of the line before (in the same column, right under it),
    which ends a sentence."""
    if before.y is None or line.y is None or not 0 < before.y - line.y < 2 * before.size:
        return False
    shift = line.x0 - before.x0
    return INDENT * before.size <= shift <= 4 * before.size and bool(re.search(r"[.!?:][\"”’)]?$", before.text))


def _with_gaps(raw: list[_RawLine]) -> list[PageLine]:
    """The page's lines, each marked with whether a blank line comes before it."""
    drops = [  # how far each line sits below the one before it (None: unknown, or not below)
        a.y - b.y if a.y is not None and b.y is not None and a.y > b.y else None
        for a, b in zip(raw, raw[1:])
    ]
    known = sorted(d for d in drops if d is not None)
    pitch = known[len(known) // 4] if known else 0.0
    out: list[PageLine] = []
    for k, line in enumerate(raw):
        gap = False
        if k and out and line.text.strip():
            before = next((x for x in reversed(raw[:k]) if x.text.strip()), None)
            drop = drops[k - 1]
            usual = max([pitch] + [LINE_PITCH * x.size for x in (line, before) if x is not None])
            indent = before is not None and before.size > 0 and _indented(before, line)
            gap = indent or (drop is not None and drop > PARAGRAPH_GAP * usual) or (
                before is not None and before.size > 0 and line.size > 0
                and abs(line.size - before.size) > SIZE_CHANGE * max(line.size, before.size))
        out.append(PageLine(line.text, gap, line.size, line.peak))
    return out
