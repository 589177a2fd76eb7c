"""Text out of web pages (lxml), for :func:`kzqa.ingest.extract.extract`.

The bytes are decoded with the charset they declare (byte order mark,
``<meta charset>`` or the XML declaration), else as UTF-8. The article is the page's one
``<article>`` (else ``role=main``/``<main>``, else ``<body>``). Inside it, these are skipped
(and listed in ``Extracted.skipped`` with the reason), by general rules, not by site:
``<nav>``, ``<aside>``, ``<footer>``, a ``<header>`` outside the article, ARIA landmarks of the
same kinds, hidden elements, buttons and forms, elements whose class or id names furniture
(cookie, share, breadcrumb, toc, menu, nav, tags, back-to-top, ...) and hold links or controls,
lists of 3+ links that are mostly link text (a table of contents when the links point inside
the page), and headings that are only a link ("Download Report"). Every paragraph, list item,
table row (cells joined by `` | ``; a row whose cells hold headings, paragraphs or lists lays
out the page, and its cells are walked as blocks) and heading kept is one block (a field's
label alone, "Geographic coordinates:", with the block of its value under it), its text as a browser shows
it (whitespace runs collapsed to one space, ``<br>`` a line break); blocks are joined with
one blank line, and ``Extracted.blocks`` gives each block's span, kind and heading level. The
first ``<h1>`` before any paragraph is the title, not a section. A page with under 250
characters of paragraphs raises :class:`ExtractionError` (a menu, a cookie notice, a script
shell).

Metadata is only what the page itself states (meta tags, JSON-LD,
``<title>``, ``<h1>``), never a guess from its address or its host.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from kzqa.ingest.extracted import Extracted, ExtractionError, Skipped, Span, extractor_label, quiet, tidy
from kzqa.ingest.html_metadata import page_metadata
from kzqa.ingest.html_tree import INVISIBLE, WHITESPACE, visible

NO_MAIN_TEXT = (
    "no main text found in this web page"
    " (under {} characters once navigation and boilerplate are removed)"
)

_DECLARED_CHARSET = re.compile(
    rb"""(?:<meta[^>]*?charset|<\?xml[^>]*?encoding)\s*=\s*["']?\s*([\w.:-]+)""", re.I
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


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


def extract_html(data: bytes) -> Extracted:
    """The text, blocks, skipped parts and metadata of a web page's bytes (see the module
    notes)."""
    import lxml.html

    html = _decode(data)
    with quiet():
        try:
            tree = lxml.html.document_fromstring(html) if html.strip() else None
        except Exception as err:  # lxml failing on odd markup
            raise ExtractionError("not a readable web page (its HTML could not be parsed)") from err
    if tree is None:
        raise ExtractionError(NO_MAIN_TEXT.format(MIN_MAIN_TEXT))
    meta = page_metadata(tree)
    walker = _Walker()
    walker.walk(_main_container(tree))
    text, blocks = _join_blocks(walker.blocks)
    if sum(e - s for s, e, kind, _ in blocks if kind == "body") < MIN_MAIN_TEXT:
        raise ExtractionError(NO_MAIN_TEXT.format(MIN_MAIN_TEXT))
    spans = tuple(Span(s, e, kind, level) for s, e, kind, level in blocks)
    return Extracted(text, (), meta, label(), spans, tuple(walker.skipped))


def label() -> str:
    """What extracted a web page's text here: the library, its version and kzqa's rules."""
    import lxml

    return extractor_label("lxml", lxml.__version__)


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
    # hidden from a sighted reader: the hidden attribute or CSS; aria-hidden hides only from
    # screen readers (a tooltip's "Geographic coordinates:" label is on the screen)
    # ... but not a collapsed section holding half of the article or more: a reader opens it
    # ("EXPAND ALL" over a country's fields set display:none until clicked)
    hidden = el.get("hidden") is not None or re.search(r"display\s*:\s*none|visibility\s*:\s*hidden",
                                                       el.get("style") or "", re.IGNORECASE)
    if hidden and len(visible(el)) < total / 2:
        return "hidden"
    if tag in ("body", "main", "article"):
        return ""
    names = f"{el.get('class') or ''} {el.get('id') or ''}"
    match = _FURNITURE_NAMES.search(names)
    # A heading's id is a link target, not furniture; apart from overlays and notices, what a
    # class name marks as furniture is made of links or controls (a label such as
    # <p class="report-toc-section">Section 2.</p> is the report's own text).
    if (match and tag not in _HEADINGS and len(visible(el)) < total / 2
            and (_OVERLAY_NAMES.fullmatch(match[0]) or any(
                d.tag in _CONTROLS or (d.tag == "a" and d.get("href") is not None)
                for d in el.iter() if isinstance(d.tag, str)))):
        return f"furniture ({match[0].lower()})"
    if tag in ("ul", "ol", "div", "section", "table", "p", "dl"):
        links = [a for a in el.iter("a") if a.get("href") is not None]
        if len(links) >= 3:
            text = visible(el)
            linked = sum(len(visible(a)) for a in links)
            if text and linked >= LINK_LIST_SHARE * len(text):
                inpage = sum(1 for a in links if (a.get("href") or "").startswith("#"))
                return "table of contents" if inpage >= 0.8 * len(links) else "list of links"
    if tag in _HEADINGS:
        links = [a for a in el.iter("a") if a.get("href") is not None]
        if links and sum(len(visible(a)) for a in links) >= len(visible(el)):
            return "link set as a heading"
    return ""


def _main_container(tree: Any) -> Any:
    """The page's article: its one ``<article>`` (or ``role=main``/``<main>``) holding enough text,
    else ``<body>``."""
    for path in ("//article", "//*[@role='main']", "//main"):
        found = tree.xpath(path)
        if len(found) == 1 and len(visible(found[0])) >= MIN_MAIN_TEXT:
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
        self._total = len(visible(el))
        self._element(el, in_article)
        self._flush()

    def _element(self, el: Any, in_article: bool) -> None:
        tag = el.tag
        if not isinstance(tag, str) or tag in INVISIBLE:
            return
        reason = "form or button" if tag in _CONTROLS else _furniture_reason(el, in_article, self._total)
        if reason:
            text = visible(el)
            if text:
                self._flush()
                self.skipped.append(Skipped(reason, text))
            return
        if tag == "br":
            self._inline.append("\n")
            return
        if tag in _HEADINGS:
            self._flush()
            text = visible(el)
            if text:
                level = _HEADINGS[tag]
                if level == 1 and not self._seen_body:
                    self.blocks.append(("title", text, level))
                else:
                    self.blocks.append(("heading", text, level))
            return
        if tag == "tr" and not _layout_row(el):
            self._flush()
            cells = [visible(c) for c in el if isinstance(c.tag, str) and c.tag in ("td", "th")]
            cells = [c for c in cells if c]
            if cells:
                self._add_body(" | ".join(cells))
            return
        if tag == "pre":
            self._flush()
            text = tidy(el.text_content())
            if text.strip():
                self._add_body(text)
            return
        block = tag in _BLOCK_LEVEL
        if block:
            self._flush()
        self._inline.append(WHITESPACE.sub(" ", el.text or ""))
        for child in el:
            self._element(child, in_article or tag in ("article", "main"))
            self._inline.append(WHITESPACE.sub(" ", child.tail or ""))
        if block:
            self._flush()

    def _add_body(self, text: str) -> None:
        """A body block; after a field's label alone ("Geographic coordinates:"), the value
        goes with its label, on the next line: quoted alone, "50 50 N, 4 00 E" says nothing."""
        if self.blocks and self.blocks[-1][0] == "body" and _FIELD_LABEL.fullmatch(self.blocks[-1][1]):
            self.blocks[-1] = ("body", self.blocks[-1][1] + "\n" + text, 0)
        else:
            self.blocks.append(("body", text, 0))
        self._seen_body = True

    def _flush(self) -> None:
        raw = "".join(self._inline)
        self._inline = []
        lines = [WHITESPACE.sub(" ", line).strip() for line in raw.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            self._add_body(text)


# A field's label alone in its block: a few words and a colon, no sentence.
_FIELD_LABEL = re.compile(r"[^\W\d_][^.!?:\n]{0,58}:")
_STRUCTURE = frozenset({"p", "div", "ul", "ol", "dl", "table", "blockquote", "section", "article",
                        *_HEADINGS})


def _layout_row(tr: Any) -> bool:
    """A table row that lays out a page rather than holding a row of data: a cell holds a
    heading, or paragraphs, lists or divisions of its own (an old page set in one big table,
    as the 2015 World Factbook's). Its cells are walked as the page's blocks."""
    return any(isinstance(d.tag, str) and d.tag in _STRUCTURE
               for cell in tr if isinstance(cell.tag, str) and cell.tag in ("td", "th")
               for d in cell.iterdescendants())


