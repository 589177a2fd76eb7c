"""The text of a PDF laid out from its pages' texts (as :mod:`kzqa.ingest.pdf_text` reads them).

- lines that are not the report's text are left out of the text (listed in
  ``Extracted.skipped`` with their page and reason): running headers and footers (a line
  that recurs on ``RUNNING_SHARE`` of the pages, the page's own number aside: "Page 3 of 59",
  "GE.24-19779 3", a document symbol, a series title, wherever PDFium puts them in reading
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
  of its own). Headings are told from paragraphs later (``kzqa.ingest.passages``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from kzqa.ingest.extracted import Skipped, Span
from kzqa.ingest.pdf_furniture import Running, page_furniture

# A line in type under this share of the body's is set smaller (a note: 9 pt under 10 pt).
SMALLER_TYPE = 0.95
_SYMBOL_NOTE = re.compile(r"\s*[*†‡]\s+\S")
_NOTE_START = re.compile(r"\s*(\d{1,3})\s+(?!\d)\S")

# A line that starts a heading of its own although no wider gap sets it apart ("f. Status and
# Treatment of Internally Displaced Persons (IDPs)" right under a paragraph's last line).
_HEADING_LINE = re.compile(r"(?:(?:Section|Part|Chapter)\s+\d+\.|[a-z]\.|[IVX]{1,5}\.|[A-Z]\.|\d{1,2}(?:\.\d{1,2})*\.?)"
                           r"\s+[A-Z][^\n]*")
_NUMBERED = re.compile(r"\d{1,2}(?:\.\d{1,2})*\.?\s")


@dataclass(frozen=True, slots=True)
class PageLine:
    """One line of a PDF page as :mod:`kzqa.ingest.pdf_text` reads it: its text, whether the page
    sets it apart from the line before (a blank line goes there), and its type size (the
    median and the largest of its characters'; 0: unknown)."""

    text: str
    gap: bool = False
    size: float = 0.0
    peak: float = 0.0


def lay_out_pages(page_lines: Sequence[Sequence[PageLine]], title: Sequence[PageLine] = ()) -> tuple[
        str, tuple[tuple[int, int], ...], tuple[Span, ...], tuple[Skipped, ...]]:
    """The report's body text from its pages (see the module notes): running headers and
    footers, page numbers, table-of-contents lines and junk glyphs are left out, notes are set
    apart, and a paragraph that runs on over a page break is joined with a line break.

    Each page in turn: its furniture lines are found (:func:`page_furniture`) and recorded as
    skipped, then its other lines are split into body and notes (:class:`_Notes`, whose state
    runs on from page to page); last, the pages' bodies are joined (:func:`_join_pages`).
    ``title``: the lines of the first page that are the document's title (a block of them is
    a ``"title"`` span, not a heading)."""
    laid = [_with_blank_lines(lines) for lines in page_lines]
    pages = [[line.text for line in lines] for lines in laid]
    running = Running.of(pages)
    skipped: list[Skipped] = []
    notes = _Notes(skipped, _body_size([_BodyLine(x.text, False, x.size, 0) for page in laid for x in page]))
    bodies: list[list[_BodyLine]] = []  # per page
    for number, lines in enumerate(pages, 1):
        furniture = page_furniture(lines, number, len(pages), running)
        skipped.extend(Skipped(reason, " ".join(lines[i].split()), number) for i, reason in furniture.items())
        bodies.append(notes.body_of(laid[number - 1], number, furniture, {id(x) for x in title}))
        notes.end_page(pages, number)
    notes.end_note()
    body_size = _body_size([line for body in bodies for line in body])
    text, spans, placed = _join_pages(bodies, body_size)
    return text, spans, _pdf_blocks(text, placed, body_size), tuple(skipped)


@dataclass(frozen=True, slots=True)
class _BodyLine:
    """A line of a page's body: its text, whether a blank line comes before it, its type size
    and the page it is on."""

    text: str
    gap: bool
    size: float
    page: int
    title: bool = False


def _with_blank_lines(lines: Sequence[PageLine]) -> list[PageLine]:
    """A page's lines, with an empty line where a line is set apart, and none at either end."""
    out: list[PageLine] = []
    for line in lines:
        if line.gap and out:
            out.append(PageLine(""))
        out.append(line)
    while out and not out[-1].text.strip():
        out.pop()
    while out and not out[0].text.strip():
        out.pop(0)
    return out


def _body_size(lines: list[_BodyLine]) -> float:
    """The type size most of the body's characters are set in (0: unknown)."""
    chars: dict[float, int] = {}
    for line in lines:
        if line.size:
            chars[round(line.size)] = chars.get(round(line.size), 0) + len(line.text)
    return float(max(chars, key=lambda k: chars[k])) if chars else 0.0


def capitalised(words: str) -> bool:
    """Most words of four letters or more begin with a capital (a heading, not a sentence)."""
    long = re.findall(r"[^\W\d_]{4,}", words)
    return bool(long) and sum(w[0].isupper() for w in long) * 3 >= 2 * len(long)


def _has_note(number: int, lines: list[str]) -> bool:
    """Whether one of ``lines`` starts note ``number``."""
    return any((m := _NOTE_START.match(x)) is not None and int(m[1]) == number for x in lines)


class _Notes:
    """Sets the notes apart from the body, page after page. A note starts at a line that
    starts the next note number (counted from 1 through the document) after a blank line, or
    with a symbol ("* The present document is ..."), and runs to the end of the page, and on
    over the page break while the list of notes goes on. Where type sizes are known, a line in
    larger type than the body's starts no note ("1 INTRODUCTION"), and a line in the body's type
    after a note in smaller type ends the notes (the body goes on in the next column). Each
    note is recorded in ``skipped`` (its page: the page where it starts) when it ends."""

    def __init__(self, skipped: list[Skipped], body_size: float = 0.0) -> None:
        self.skipped = skipped
        self.body_size = body_size
        self.note_small = False  # whether the note being read is set in type smaller than the body's
        self.expected = 1  # the number the next note will have
        self.in_notes = False  # whether the notes of the page (or the page before) have begun
        self.note: list[str] = []  # the lines of the note being read
        self.note_page = 0

    def end_note(self) -> None:
        """Records the note being read, if any."""
        if self.note:
            self.skipped.append(Skipped("note", "\n".join(self.note), self.note_page))
            self.note.clear()

    def body_of(self, lines: list[PageLine], number: int, furniture: dict[int, str],
                title: set[int]) -> list[_BodyLine]:
        """The body lines of page ``number``, its ``furniture`` left out and its notes set
        apart."""
        body: list[_BodyLine] = []
        gap = self.in_notes
        for i, line in enumerate(lines):
            if not line.text.strip():
                gap = True
                continue
            if i in furniture:
                continue
            body_type = bool(self.body_size and line.size and line.size >= SMALLER_TYPE * self.body_size)
            if body_type and self.note and self.note_small:
                # a line in the body's type after notes in smaller type: the notes have ended and
                # the body goes on (the next column, or the text a page sets under its notes)
                self.end_note()
                self.in_notes = False
            larger = bool(self.body_size and line.size > 1.05 * self.body_size)  # "1 INTRODUCTION"
            if larger and not self.note or not self._takes(line.text, number, gap, bool(body), line.size):
                body.append(_BodyLine(line.text, gap and bool(body), line.size, number, id(line) in title))
            gap = False
        return body

    def _takes(self, line: str, number: int, gap: bool, body: bool, size: float = 0.0) -> bool:
        """Whether the line (of page ``number``, after a blank line if ``gap``, after body lines
        of the page if ``body``) belongs to the notes: it starts a note, or carries one on."""
        start = _NOTE_START.match(line)
        if _SYMBOL_NOTE.match(line) and gap and body:  # "* The present document is ..."
            self.end_note()
            self.in_notes, self.note_page = True, number
        elif start and int(start[1]) == self.expected and (gap or not body):
            self.end_note()
            self.in_notes, self.note_page = True, number
            self.expected += 1
        elif self.in_notes and start and int(start[1]) == self.expected:
            self.end_note()
            self.note_page = number
            self.expected += 1
        elif not (self.in_notes and (self.note or not body)):
            return False
        if not self.note:
            self.note_small = bool(self.body_size and size and size < SMALLER_TYPE * self.body_size)
        self.note.append(line)
        return True

    def end_page(self, pages: list[list[str]], number: int) -> None:
        """At the end of page ``number``: the notes run on to the next page only when it
        carries on with the next note (among its first four lines, or, for a numbered note cut
        off mid-sentence, anywhere on the next two pages); else the note ends here."""
        if not self.in_notes:
            return
        n = len(pages)
        following = pages[number] if number < n else []
        later = [x for page in pages[number:number + 2] for x in page]
        note = self.note
        carry = _has_note(self.expected, [x for x in following if x.strip()][:4]) or (
            bool(note) and _NOTE_START.match(note[0]) is not None  # a numbered note ...
            and not re.search(r"[.!?]\W{0,2}$", note[-1].rstrip())  # ... cut off mid-sentence
            and _has_note(self.expected, later))  # ... in a list of notes that goes on
        if not carry:
            self.end_note()
            self.in_notes = False


def _join_pages(bodies: list[list[_BodyLine]], body_size: float) -> tuple[
        str, tuple[tuple[int, int], ...], list[tuple[int, int, _BodyLine]]]:
    """The pages' body lines joined into the text, each page's span in it, and each line's
    span and type size: lines with a line break (two where a blank line comes before), pages
    with a blank line, or with one line break where a paragraph runs on over the page break
    (:func:`_runs_on`; never from a line in larger type than the body's, nor into a line in
    other type)."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    placed: list[tuple[int, int, _BodyLine]] = []
    pos = 0
    last: _BodyLine | None = None
    for body in bodies:
        start = pos
        for k, line in enumerate(body):
            if k:
                joint = "\n\n" if line.gap else "\n"
            elif last is not None:
                same_type = (not (last.size and line.size) or abs(last.size - line.size) <= 0.15 * max(
                    last.size, line.size)) and not (body_size and last.size >= HEADING_SIZE_RATIO * body_size)
                joint = "\n" if same_type and _runs_on(last.text, " ".join(line.text.split())) else "\n\n"
            else:
                joint = ""
            out.append(joint)
            pos += len(joint)
            if not k:
                start = pos
            placed.append((pos, pos + len(line.text), line))
            out.append(line.text)
            pos += len(line.text)
        spans.append((start, pos) if body else (pos, pos))
        if body:
            last = body[-1]
    return "".join(out), tuple(spans), placed


def _runs_on(last: str, first: str) -> bool:
    """Whether a paragraph runs on over the page break from the line ``last`` to the line
    ``first``: the page ends inside a sentence (on a word, a comma or a hyphen) and the next
    page does not open with a heading."""
    return (bool(re.search(r"[^\W\d]\W{0,2}$|[,;\-–—]$", last.rstrip())
                 or (last.rstrip()[-1:].isdigit() and first[:1].islower()))
            and not re.search(r"[.!?:]\W{0,2}$", last.rstrip())
            and not (_HEADING_LINE.fullmatch(first) or first.upper() == first))


# A block whose lines are all in type this much larger than the body's is a heading; this
# much smaller, and opening with a note mark ("1Dates and times are ...", "* The present
# document ..."), a note.
HEADING_SIZE_RATIO = 1.15
NOTE_SIZE_RATIO = 0.9
_NOTE_MARK_START = re.compile(r"\s*(?:\d{1,3}(?=\s*[^\W\d_])|[*†‡§])")


def _pdf_blocks(text: str, placed: Sequence[tuple[int, int, _BodyLine]] = (),
                body_size: float = 0.0) -> tuple[Span, ...]:
    """Paragraphs: runs of lines between blank lines; a labelled heading line after a line that
    ends a sentence is a block of its own. A block of at most three lines all set in type
    larger than the body's is a heading; one in smaller type that opens with a note mark, a
    note (:data:`HEADING_SIZE_RATIO`, :data:`NOTE_SIZE_RATIO`). A block of the title's lines
    is the title."""
    blocks = _paragraphs(text)
    if not placed:
        return blocks
    starts = [p[0] for p in placed]
    out: list[Span] = []
    for block in blocks:
        k = bisect.bisect_right(starts, block.start) - 1
        lines = []
        while 0 <= k < len(placed) and placed[k][0] < block.end:
            if placed[k][1] > block.start:
                lines.append(placed[k][2])
            k += 1
        sizes = [line.size for line in lines if line.size] if body_size else []
        chunk = text[block.start:block.end]
        if lines and all(line.title for line in lines):
            out.append(Span(block.start, block.end, "title"))
        elif sizes and min(sizes) >= HEADING_SIZE_RATIO * body_size and len(sizes) <= 3 \
                and len(chunk) <= 300 and any(ch.isalpha() for ch in chunk):
            out.append(Span(block.start, block.end, "heading"))
        elif sizes and max(sizes) <= NOTE_SIZE_RATIO * body_size and _NOTE_MARK_START.match(chunk):
            out.append(Span(block.start, block.end, "note", page=lines[0].page))
        else:
            out.append(block)
    return tuple(out)


def _paragraphs(text: str) -> tuple[Span, ...]:
    """Paragraphs: runs of lines between blank lines; a labelled heading line after a line that
    ends a sentence, or after another heading line ("1 INTRODUCTION" / "2 PRELIMINARIES"), is a
    block of its own."""
    blocks: list[Span] = []
    for m in re.finditer(r"(?:[^\n]*\S[^\n]*(?:\n|$))+", text):
        cuts = [m.start()]
        lines = list(re.finditer(r"[^\n]+", m.group()))
        for prev, line in pairwise(lines):
            flat = line.group().strip()
            before = prev.group().strip()
            after_heading = bool(_HEADING_LINE.fullmatch(before) and capitalised(before) and len(before) <= 100)
            if (_HEADING_LINE.fullmatch(flat) and len(flat) <= 100 and flat[-1] not in ".,;:!?"
                    and (re.search(r"[.!?:]\W*$", before) or after_heading)
                    and (not _NUMBERED.match(flat) or capitalised(flat))):
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
