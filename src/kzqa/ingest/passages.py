"""Turning a document into the passages a reader would quote.

A document is cut into blocks (paragraphs and one-line headings). Each block is then
*classified*, never edited:

- ``heading``    a one-line title or section name: it becomes the section of what follows;
- ``furniture``  page furniture of web captures (loading notices, cookie banners,
                 "Related articles", "Click here ..."), found by general patterns;
- ``caption``    a photo caption or credit line ("... Name Name / AGENCY", "Photo: ...");
- ``pullquote``  a short block that repeats a sentence of a longer body paragraph;
- ``separator``  a block with no letter or digit ("* * *");
- ``body``       everything else: these are the passages.

A PDF or web page comes with its blocks from extraction (``Document.blocks``; what was left
out is in ``Document.skipped``): a web page's headings are its ``<h1>``-``<h6>`` (the first
``<h1>`` is the ``title``, not a section), a PDF's are guessed as above plus labelled ones of
up to three lines ("a. Arbitrary Deprivation of Life ..."). Headings nest by
``heading_rank``, so a passage's section is its path ("Section 2. Respect for Civil
Liberties — a. Freedom of Expression ... — Internet Freedom"). A PDF block with no letter
(a page reference, a figure alone) is a ``separator``. Pull quotes are not looked for there:
a paragraph repeated in a report is the report's own.

A body paragraph longer than ``max_chars`` is split at sentence boundaries into windows
that do not overlap. Every passage is ``text[start:end]`` of the file, with leading and
trailing whitespace left outside the span: whitespace inside is never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kzqa.documents import Passage
from kzqa.ingest.corpus import HEADING_LIMIT, Document
from kzqa.ingest.extracted import pages_of
from kzqa.ingest.pdf_layout import capitalised
from kzqa.ingest.pull_quotes import find_pullquotes
from kzqa.ingest.sentences import sentence_spans, sentence_windows, trim
from kzqa.results import SECTION_SEPARATOR
from kzqa.settings import DEFAULT_MAX_CHARS

HEADING_MAX_CHARS = 100
# A labelled heading of plain text nests by its label's rank, below any Markdown heading (1-6).
PLAIN_RANKS = 10
HEADING_MAX_WORDS = 14
NOISE_MAX_CHARS = 300  # furniture and captions are short; longer blocks are never skipped
#   it, in block order: real documents need a handful; a document built to defeat the index
#   (8,000 short paragraphs, then 8,000 a word longer: 51 s at 0.5 MB) stops here, unmarked


@dataclass(frozen=True, slots=True)
class Block:
    start: int
    end: int
    kind: str  # heading | body | furniture | caption | pullquote | separator
    level: int = 0  # Markdown heading level (1-6); 0 for plain-text headings
    reason: str = ""


_MD_HEADING = re.compile(r"#{1,6}\s+\S")
_FURNITURE = [
    (re.compile(p, re.I), why)
    for p, why in [
        (r"^(loading|please wait)\b", "loading notice"),
        (r"\bcookies?\b.*\b(use|uses|using|accept|consent|policy|settings|preferences|experience)\b"
         r"|\b(use|uses|using|accept|accepts)\b.*\bcookies?\b", "cookie notice"),
        (r"^(related|recommended|similar|more|popular|latest) (articles?|stories|posts|reading|content|"
         r"news|videos?|from\b.*)\W*$", "related-content list"),
        (r"^(read more|see also|you (may|might) also like|most (read|popular|viewed)|trending( now)?|"
         r"share( this( article| story| page)?)?|subscribe( now| today)?|sign (up|in)|log ?in|"
         r"advertisement|sponsored( content)?|skip to (main )?content|back to top|print|e-?mail|"
         r"comments?|tags?|follow us)\W*$", "navigation or button label"),
        (r"\b(click|tap) here\b", "call to action"),
        (r"\ball rights reserved\b|^©|^copyright\s+(©\s*)?\d{4}", "copyright line"),
        (r"\b(enable|turn on) javascript\b|\byour browser\b.*\b(not supported|out of date|update)\b",
         "browser notice"),
        # "See the Department of State's Trafficking in Persons Report at https://...": where to
        # read about it, with nothing of it to quote
        (r"^see (the )?[^\n,;:]{0,150}?\b(report|website|site|page|document)\s+at\s+(https?://|www\.)\S+\s*$",
         "a pointer to another document"),
        (r"\b(subscribe|subscriber|subscription|sign in|log in)\b.*\b(to (read|continue)|full "
         r"(article|access|story))\b", "paywall notice"),
        (r"\bnewsletter\b.*\b(sign up|subscribe)\b|\b(sign up|subscribe)\b.*\bnewsletter\b",
         "newsletter prompt"),
    ]
]
_CAPTION = [
    (re.compile(p), why)
    for p, why in [
        # "... Astana, June 2011. Shamil Zhumatov / REUTERS", "... / Getty Images", "/ AP Photo"
        (r"\s/\s*[A-Z][\w.&'-]*(\s+[A-Z][\w.&'-]*){0,3}\s*$", "photo credit"),
        (r"(?i)^(photo|image|picture|photograph|illustration|credit)s?\s*(:|by\b|credit\b)",
         "photo caption"),
        (r"(?i)\((photo|image|picture|credit)s?\b[^)]*\)\s*$", "photo credit"),
    ]
]
_SENTENCE_INSIDE = re.compile(r"[.!?…][\"”’)\]]*\s+[\"“‘(\[]?[A-Z0-9]")
_WORD = re.compile(r"\w+")


def split_blocks(text: str, start: int = 0, line_paragraphs: bool = True) -> list[tuple[int, int]]:
    """Paragraph spans of ``text[start:]``, whitespace trimmed off both ends.

    Blank lines separate blocks. Inside a run of non-blank lines, each line is its own
    block when ``line_paragraphs`` is set and the run holds a line longer than a wrapped
    line would be (one paragraph per line, as in the first seed); otherwise the run is one
    hard-wrapped paragraph. Extracted text (PDF, web page) always separates paragraphs with
    a blank line, so there it is read with ``line_paragraphs=False``: its lines are wraps.
    A Markdown heading line is always a block of its own.
    """
    spans: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []  # (line start, line end without newline)

    def heading_on_top() -> bool:
        """The first line of a hard-wrapped run is a heading: heading-like, and much
        shorter than the capitalised line under it."""
        if len(run) < 2:
            return False
        first = text[run[0][0] : run[0][1]].strip()
        under = text[run[1][0] : run[1][1]].strip()
        return _looks_like_heading(first) and len(first) < 0.6 * len(under) and under[:1].isupper()

    def flush() -> None:
        if not run:
            return
        one_per_line = (line_paragraphs and len(run) > 1
                        and max(e - s for s, e in run) > HEADING_MAX_CHARS)
        group: list[tuple[int, int]] = []
        for n, (s, e) in enumerate(run):
            if one_per_line or _MD_HEADING.match(text, s) or (n == 0 and heading_on_top()):
                if group:
                    spans.append((group[0][0], group[-1][1]))
                    group = []
                spans.append((s, e))
            else:
                group.append((s, e))
        if group:
            spans.append((group[0][0], group[-1][1]))
        run.clear()

    pos = start
    n = len(text)
    while pos < n:
        nl = text.find("\n", pos)
        end = n if nl == -1 else nl
        if text[pos:end].strip():
            run.append((pos, end))
        else:
            flush()
        pos = end + 1
    flush()
    return [t for t in (trim(text, s, e) for s, e in spans) if t[0] < t[1]]


def classify(text: str, spans: list[tuple[int, int]], guess_headings: bool = True,
             pullquotes: bool = True) -> list[Block]:
    """The kind of each block (see the module notes). ``guess_headings=False`` for a web page,
    whose headings are its ``<h1>``-``<h6>``: a short list item there is not a heading.
    ``pullquotes=False`` for extracted text, whose asides are already left out: a paragraph
    repeated there is the report's own (the same sentence under two sections)."""
    blocks: list[Block] = []
    for s, e in spans:
        chunk = text[s:e]
        kind, level, reason = "body", 0, ""
        md = _MD_HEADING.match(chunk)
        if not any(ch.isalnum() for ch in chunk):
            kind, reason = "separator", "no letters or digits"
        elif md:
            kind, level = "heading", len(chunk) - len(chunk.lstrip("#"))
        elif len(chunk) <= NOISE_MAX_CHARS and (why := _match(_FURNITURE, chunk)):
            kind, reason = "furniture", why
        elif len(chunk) <= NOISE_MAX_CHARS and "\n" not in chunk and (why := _match(_CAPTION, chunk)):
            kind, reason = "caption", why
        elif guess_headings and _form_label(chunk):
            kind = "heading"
        elif guess_headings and (_looks_like_heading(chunk) or _labelled_heading(chunk)) \
                and sum(c.isdigit() for c in chunk) * 2 < sum(c.isalpha() for c in chunk):
            kind = "heading"
        blocks.append(Block(s, e, kind, level, reason))
    return _mark_pullquotes(text, blocks) if pullquotes else blocks


def document_blocks(doc: Document) -> list[Block]:
    if doc.blocks:
        blocks = _extracted_blocks(doc)
    else:
        blocks = classify(doc.text, split_blocks(doc.text, doc.body_start,
                                                 line_paragraphs=doc.extractor is None))
    return [_bounded(doc.text, b) for b in blocks]


def _bounded(text: str, block: Block) -> Block:
    """A heading is a section's name, carried by every passage under it: one longer than a
    title may be (``HEADING_LIMIT``) is read as body text, with the reason."""
    if block.kind != "heading" or block.end - block.start <= HEADING_LIMIT:
        return block
    return Block(block.start, block.end, "body", 0,
                 f"a heading of {block.end - block.start:,} characters, read as body text")


def _extracted_blocks(doc: Document) -> list[Block]:
    """The blocks of a PDF or web page as its extraction found them. A web page's headings are
    its ``<h1>``-``<h6>``; a PDF's are guessed from the text, as for plain text. A heading's
    ``level`` is its rank in the outline (``heading_rank``); a label alone ("Section 2.")
    followed by a heading is one heading with it ("Section 2. Liberty")."""
    pdf = bool(doc.pages)
    body = [(b.start, b.end) for b in doc.blocks if b.kind == "body"]
    kinds = {(b.start, b.end): b for b in classify(doc.text, body, guess_headings=pdf, pullquotes=False)}
    out: list[Block] = []
    spans = list(doc.blocks)
    i = 0
    while i < len(spans):
        span = spans[i]
        chunk = doc.text[span.start:span.end]
        block = kinds.get((span.start, span.end))
        if span.kind == "title":
            out.append(Block(span.start, span.end, "title", 0, "the document's title"))
        elif span.kind in ("heading", "body") and _DIVISION_LABEL.fullmatch(chunk.strip()) \
                and i + 1 < len(spans) and spans[i + 1].kind == "heading":
            after = spans[i + 1]
            level = min(span.level or after.level, after.level)
            name = chunk + " " + doc.text[after.start:after.end]
            out.append(Block(span.start, after.end, "heading", heading_rank(name, level)))
            i += 2
            continue
        elif span.kind == "heading" or (block is not None and block.kind == "heading"):
            end = span.end
            while (pdf and i + 1 < len(spans) and _RUNS_ON.search(doc.text[span.start:end])
                   and (spans[i + 1].kind == "heading"
                        or ((nxt := kinds.get((spans[i + 1].start, spans[i + 1].end))) is not None
                            and nxt.kind == "heading"))):  # a heading set on several lines, apart
                i += 1
                end = spans[i].end
            name = doc.text[span.start:end]
            out.append(Block(span.start, end, "heading", heading_rank(name, span.level)))
        elif span.kind == "note":
            out.append(Block(span.start, span.end, "note", 0, f"a note (p. {span.page})"))
        elif pdf and block is not None and block.kind == "body" and not any(c.isalpha() for c in chunk):
            out.append(Block(span.start, span.end, "separator", 0, "no letters (a number alone)"))
        elif block is not None:
            out.append(block)
        i += 1
    return out


# "Section 2.", "Part II", "Chapter 3:": a division's label, alone or leading its title
_DIVISION_LABEL = re.compile(r"(?i)(?:section|part|chapter|annex|appendix)\s+(?:\d+|[IVXLC]+|[A-Z])\s*[.:]?")
_DIVISION = re.compile(r"(?i)(?:section|part|chapter|annex|appendix)\s+(?:\d+|[IVXLC]+|[A-Z])\b")
_ENUMERATION = re.compile(r"\(?(?:(?:(?P<roman>[IVXLC]{2,6}|[IVX])|(?P<upper>[A-Z])|(?P<digit>\d{1,2}(?:\.\d{1,2})*)"
                          r"|(?P<lower>[a-z]))[.)]\s+\S|(?P<number>\d{1,2}(?:\.\d{1,2})*)\s+(?=[A-Z])\S)")
# A numbered heading without a full stop after its number ("1 INTRODUCTION", "4.2 Results",
# "2.1 Related Work: Lexicase Selection"): its words are capitalised, as a heading's are.


# a line of a title that ends on one of these words goes on in the next line
_RUNS_ON = re.compile(r"(?i)\b(?:and|or|of|for|to|towards?|in|on|with|the|a|an|by|from|against|"
                      r"including|regarding|at|into|under)\s*$")


def heading_rank(name: str, tag_level: int = 0) -> int:
    """A heading's place in the outline: smaller ranks contain larger ones, so a section path
    is the run of open headings of increasing rank (always 1 or more). A web page gives the
    tag level (h1-h6): rank ``2 * level + 4``, one more for a heading without a label of its
    own ("Internet Freedom" under "a. Freedom of Expression" at the same tag level), and two
    levels up for a division ("Section 2. ...": ``2 * level``, above the page's h2 summary).
    A PDF (``tag_level`` 0) ranks by label: Section/Part/Chapter, then I., A., 1., a., then
    headings in capitals, then other unlabelled headings."""
    name = " ".join(name.split())
    enum = _ENUMERATION.match(name)
    if tag_level:
        if _DIVISION.match(name):
            return 2 * tag_level
        return 2 * tag_level + (4 if enum else 5)
    if _DIVISION.match(name):
        return 2
    if enum:
        group = next((g for g in ("roman", "upper", "digit", "number", "lower") if enum[g]), "digit")
        if group in ("digit", "number"):  # "4" above "4.2" above "4.2.1", all above "a."
            return 8 + min(enum[group].count("."), 1)
        return {"roman": 4, "upper": 6, "lower": 10}[group]
    return 11 if name.upper() == name else 12


def _labelled_heading(chunk: str) -> bool:
    """A PDF heading of up to three lines that starts with its label ("a. Arbitrary Deprivation
    of Life and Other Unlawful or" / "Politically Motivated Killings"): no sentence inside, no
    full stop at the end."""
    # a note marker: "Families.3", "(Slovenia);2" (a recommendation, not a heading)
    flat = re.sub(r"(?<=[.!?”\");:,])\d{1,3}$", "", " ".join(chunk.split()))
    if sum(c.isdigit() for c in flat) * 2 >= sum(c.isalpha() for c in flat):
        return False  # a row of figures
    if chunk.count("\n") > 2 or len(flat) > 2 * HEADING_MAX_CHARS or flat[-1:] in ".,;:!?…":
        return False
    label = _DIVISION.match(flat) or _ENUMERATION.match(flat)
    if not label:
        return False
    if label.re is _ENUMERATION and label["number"] and not capitalised(flat[label.end() - 1:]):
        return False  # "12 people were detained": a figure, not a heading's number
    rest = flat[label.end() - 1:] if label.re is _ENUMERATION else flat[label.end():].lstrip(".: ")
    return (bool(rest) and rest[:1].isupper() and not _SENTENCE_INSIDE.search(rest)
            and len(flat.split()) <= 2 * HEADING_MAX_WORDS)


def make_passages(doc: Document, max_chars: int = DEFAULT_MAX_CHARS) -> list[Passage]:
    """The passages of ``doc``, in document order, each an exact slice of ``doc.text``."""
    passages: list[Passage] = []
    paragraph = 0
    plain_run: list[str] = []  # consecutive plain headings (e.g. title, then subtitle)
    md_stack: list[tuple[int, str]] = []
    last_was_heading = False
    for block in document_blocks(doc):
        chunk = doc.text[block.start : block.end]
        if block.kind == "heading":
            name = chunk.strip("#").strip() if block.level else chunk
            if doc.blocks:  # a heading of a PDF or web page: its words on one line
                name = " ".join(chunk.split())
            level = block.level
            if not level and (_DIVISION.match(name) or _ENUMERATION.match(name)):
                level = PLAIN_RANKS + heading_rank(name)  # "2.1 Interviews" under "2 METHODS"
            if level:
                md_stack = [(lv, t) for lv, t in md_stack if lv < level] + [(level, name)]
                plain_run = []
            else:
                plain_run = [*plain_run, name] if last_was_heading else [name]
            last_was_heading = True
            continue
        if block.kind != "body":
            continue
        last_was_heading = False
        paragraph += 1
        section = SECTION_SEPARATOR.join([t for _, t in md_stack] + plain_run) or None
        sentences = sentence_spans(doc.text, block.start, block.end, doc.source.language)
        windows = sentence_windows(doc.text, block.start, block.end, max_chars, doc.source.language,
                                   sentences)
        for part, (s, e) in enumerate(windows, start=1 if len(windows) > 1 else 0):
            pid = f"{doc.doc_id}#{paragraph}" + (f".{part}" if part else "")
            inside = tuple((max(a, s) - s, min(b, e) - s) for a, b in sentences if a < e and b > s)
            passages.append(Passage(pid, doc.doc_id, doc.text[s:e], s, e, paragraph, part, section,
                                    inside or ((0, e - s),), pages_of(doc.pages, s, e)))
    return passages


def _form_label(chunk: str) -> bool:
    """A section label of a form, alone on its line in capitals ("URGENT ACTION SUMMARY:",
    "BACKGROUND INFORMATION (400 WORDS + RELEVANT LINKS):")."""
    return ("\n" not in chunk and chunk.endswith(":") and chunk.upper() == chunk
            and sum(c.isalpha() for c in chunk) >= 4 and len(chunk.split()) <= HEADING_MAX_WORDS)


def _looks_like_heading(chunk: str) -> bool:
    if "\n" in chunk or len(chunk) > HEADING_MAX_CHARS or len(chunk.split()) > HEADING_MAX_WORDS:
        return False
    if chunk[0].islower() or chunk.rstrip("\"”’)]")[-1:] in ".,;:!?…":
        return False
    return not _SENTENCE_INSIDE.search(chunk)


def _mark_pullquotes(text: str, blocks: list[Block]) -> list[Block]:
    """``blocks`` with the pull quotes (and duplicated paragraphs) marked (``kzqa.ingest.pull_quotes``)."""
    out = list(blocks)
    for i, reason in find_pullquotes(text, blocks).items():
        out[i] = Block(blocks[i].start, blocks[i].end, "pullquote", 0, reason)
    return out


def _match(patterns: list[tuple[re.Pattern[str], str]], chunk: str) -> str:
    for pattern, why in patterns:
        if pattern.search(chunk):
            return why
    return ""


