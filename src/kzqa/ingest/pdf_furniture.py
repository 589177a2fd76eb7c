"""What on a PDF's page is not the report's text (for :mod:`kzqa.ingest.pdf_layout`), line by
line, each with the reason it is left out: running headers and footers (a line that recurs
on ``RUNNING_SHARE`` of the pages, its page number aside, or carries their document number
and no ordinary word), page numbers, lines mostly of private-use glyphs (a barcode), a print
code alone at the top or foot of a page, dot leaders and whole contents pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

# A line that repeats on this share of the pages (digits aside) is a running header or footer.
RUNNING_SHARE = 0.3


RUNNING_MAX_CHARS = 150


_PAGE_REF = re.compile(r"(\d{1,4})(?:\s*[-–]\s*\d{1,4})?")


# a contents entry with its page number at the end, without dot leaders ("III. Admissions, FY 2023 56",
# "Kazakhstan/192")
_ENTRY_PAGE_REF = re.compile(r"(?<=[^\W\d_]|[,)])(?: (?:\S+ )?|/)(\d{1,3})(?:[-–]\d{1,3})?$")


_SYMBOL_TOKEN = re.compile(r"(?=\S*[A-Za-z])(?=\S*\d)\S{6,}")


_ORDINARY_WORD = re.compile(r"\b[a-z]{4,}\b")


def _page_key(line: str, number: int) -> str:
    """The line, its whitespace collapsed and the page's own number (or one up to two
    less, for unnumbered front pages) as "#": "Page # of 59", "GE.24-19779 #"."""
    flat = " ".join(line.split())
    for printed in (number, number - 1, number - 2):
        new = re.sub(rf"(?<![\w.,/-]){printed}(?![\w,/-]|\.\d)", "#", flat, count=1)
        if new != flat:
            return new
    return flat


def _is_page_number(line: str, number: int) -> bool:
    """Whether the line is page ``number``'s own number ("3", "- 3 -", "Page 3 of 59")."""
    return _page_key(line, number) in ("#", "- # -", "– # –", "— # —") or bool(
        re.fullmatch(r"(?i)page #(?: of \d+)?", _page_key(line, number)))


@dataclass(frozen=True, slots=True)
class Running:
    """The running headers and footers of a document: ``keys``, the lines (as
    :func:`_page_key` gives them) that recur on ``RUNNING_SHARE`` of the pages, and
    ``symbols``, the document numbers they carry ("GE.24-19779")."""

    keys: frozenset[str]
    symbols: frozenset[str]

    @classmethod
    def of(cls, pages: list[list[str]]) -> Running:
        """Decides which lines recur: a line (page number aside) on at least ``RUNNING_SHARE``
        of the pages, and on two at least, not too long and not without letters."""
        n = len(pages)
        counts: dict[str, int] = {}
        for number, lines in enumerate(pages, 1):
            for k in {_page_key(line, number) for line in lines if line.strip()}:
                counts[k] = counts.get(k, 0) + 1
        need = max(2, -(-int(RUNNING_SHARE * n * 10) // 10)) if n >= 2 else n + 1
        running = {k for k, c in counts.items() if c >= need and len(k) <= RUNNING_MAX_CHARS
                   and any(ch.isalpha() for ch in k)}
        symbols = {tok for k in running for tok in _SYMBOL_TOKEN.findall(k)}
        return cls(frozenset(running), frozenset(symbols))

    def holds(self, line: str, number: int) -> bool:
        """Whether the line of page ``number`` is a running header or footer: one of the
        recurring lines, or a line carrying their document number and no ordinary word
        ("GE.24-19779 (E) 061124": the job number of the header)."""
        if _page_key(line, number) in self.keys:
            return True
        flat = " ".join(line.split())
        return (len(flat) <= 80 and not _ORDINARY_WORD.search(flat)
                and any(tok in self.symbols for tok in _SYMBOL_TOKEN.findall(flat)))


_PAGE_REF_CHARS = frozenset("0123456789–-—ivxlcIVXLC ")


def _dot_leader(flat: str) -> bool:
    """Whether a line is a contents entry: a run of five dots or more (spaced or not, or
    ellipses), with nothing after it but page references ("1–4 3", "24", "xii"). Linear in the
    line: no pattern is searched from every dot."""
    end = len(flat)
    while end and flat[end - 1] in _PAGE_REF_CHARS:
        end -= 1
    dots, k = 0, end
    while k and flat[k - 1] in ". …\u2024":
        dots += 3 if flat[k - 1] == "…" else flat[k - 1] != " "
        k -= 1
    return dots >= 5


def _private_use(ch: str) -> bool:
    o = ord(ch)
    return 0xE000 <= o <= 0xF8FF or o >= 0xF0000 or ch == "\ufffd"


def page_furniture(lines: list[str], number: int, n: int, running: Running) -> dict[int, str]:
    """The lines of page ``number`` (of ``n``) that are not the report's text, by index, each
    with the reason it is skipped, in the order they are found: first line by line
    (:func:`_line_reason`), then a print code alone at the top or foot of the page
    (:func:`_print_codes`), then, on a contents page (:func:`_is_contents_page`), all the rest."""
    furniture: dict[int, str] = {}
    for i, line in enumerate(lines):
        if " ".join(line.split()):
            reason = _line_reason(line, number, running)
            if reason:
                furniture[i] = reason
    furniture.update(_print_codes(lines, furniture))
    content = [i for i, line in enumerate(lines) if line.strip() and i not in furniture]
    leaders = sum(1 for reason in furniture.values() if reason == "table of contents")
    if _is_contents_page(lines, content, leaders, n):
        # a page of contents (dot leaders, or entries each with its page number): from its first
        # entry to its last, with the lines set right above it, no blank line between (the heading
        # "Contents", "Paragraphs Page", the first lines of an entry whose number ends a later line);
        # the text after the contents on the same page is the document's
        entries = [i for i, reason in furniture.items() if reason == "table of contents"] + [
            i for i in content if _PAGE_REF.fullmatch(lines[i].strip()) or _ENTRY_PAGE_REF.search(lines[i].strip())]
        lo, hi = min(entries), max(entries)
        while lo > 0 and lines[lo - 1].strip() and len(lines[lo - 1].split()) <= 12 \
                and not re.search(r"[.!?]$", lines[lo - 1].strip()):
            lo -= 1
        furniture.update({i: "table of contents" for i in content if lo <= i <= hi})
    return furniture


def _line_reason(line: str, number: int, running: Running) -> str:
    """Why a line of page ``number`` is left out on its own: "page number", "running header or
    footer", "junk glyphs" (mostly private-use glyphs: a barcode) or "table of contents" (a
    dot leader); ``""`` to keep it."""
    flat = " ".join(line.split())
    if _is_page_number(line, number):
        return "page number"
    if running.holds(line, number):
        return "running header or footer"
    if sum(map(_private_use, flat)) * 2 >= len(flat.replace(" ", "")):
        return "junk glyphs"
    if _dot_leader(flat):
        return "table of contents"
    return ""


def _print_codes(lines: list[str], furniture: dict[int, str]) -> dict[int, str]:
    """Among the first two and the last two lines of the page not already ``furniture``, a
    print code alone on its line ("GE.24-20424 (E)"): a running header or footer."""
    content = [i for i, line in enumerate(lines) if line.strip() and i not in furniture]
    codes: dict[int, str] = {}
    for i in content[:2] + content[-2:]:
        flat = " ".join(lines[i].split())
        if (i not in codes and len(flat) <= 40 and not re.search(r"[a-z]{3}", flat)
                and re.search(r"(?=\S*[A-Za-z])(?=\S*\d)\S*[.\-/]\S*\d", flat)):
            codes[i] = "running header or footer"
    return codes


def _is_contents_page(lines: list[str], content: list[int], leaders: int, n: int) -> bool:
    """Whether a page whose remaining lines are ``content`` is a table of contents: 3+ dot
    leaders, or 3+ page numbers of this document (of ``n`` pages), alone on a line or ending an
    entry, in order (nine in ten of them), making up a quarter of its lines at least."""
    refs = [int(m[1]) for i in content if (m := _PAGE_REF.fullmatch(lines[i].strip())
                                            or _ENTRY_PAGE_REF.search(lines[i].strip()))]
    refs = [r for r in refs if r <= n]  # page numbers of this document (not a year)
    rising = sum(a <= b for a, b in pairwise(refs))  # "Part 2" amid "Afghanistan/55" breaks the order once
    return bool(content) and (leaders >= 3 or (len(refs) >= 3 and rising >= 0.9 * (len(refs) - 1)
                                               and len(refs) >= 0.25 * len(content)))


__all__ = ["RUNNING_MAX_CHARS", "RUNNING_SHARE", "Running", "page_furniture"]
