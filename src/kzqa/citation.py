"""Where a quote comes from, as data: the ``Citation`` value and its named styles.

A ``Citation`` is built once from a passage and its source (``Citation.of``) and every
format reads its fields. The styles (``STYLES``, rendered by ``cite_as``), each in one place:

- ``plain``: a paste-ready line (``citation_text``; what ``Hit.citation()``, the CLI and the
  JSON ``"citation"`` give by default); the chat's Markdown (``render.citation_markdown``)
  shows the same elements, decided by ``Citation.elements``;
- ``coi``: the form country-of-origin research asks for (``coi_text``): publisher/author,
  title, date, section/page/¶, URL and "[accessed DATE]", the date kzqa fetched or added
  the document;
- ``csl-json``: CSL-JSON, which reference managers (Zotero, Mendeley, pandoc) import
  (``csl_item``).

The JSON form of the data itself is ``to_dict`` (a hit's ``"reference"``).

This module imports nothing of kzqa at run time, so the result types and the renderers can
both use it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from kzqa.errors import KzqaError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "DEFAULT_STYLE", "SECTION_SEPARATOR", "STYLES", "Citation", "Described", "Located",
    "check_style", "citation_text", "cite_as", "coi_text", "csl_item", "full_title", "long_date",
    "page_label", "section_beyond_title", "section_path",
]

STYLES = ("plain", "coi", "csl-json")  # the named citation styles, in the order offered
DEFAULT_STYLE = "plain"

SECTION_SEPARATOR = " — "  # joins the headings of a passage's section path into one string


class Described(Protocol):
    """What a citation needs to know of a document (a ``Source``, or a ``Hit``)."""

    @property
    def title(self) -> str: ...
    @property
    def subtitle(self) -> str | None: ...
    @property
    def author(self) -> str | None: ...
    @property
    def publisher(self) -> str | None: ...
    @property
    def date(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def accessed(self) -> str | None: ...


class Located(Protocol):
    """Where in the document the quote is (a ``Passage``, or a ``Hit``)."""

    @property
    def section(self) -> str | None: ...
    @property
    def paragraph(self) -> int: ...
    @property
    def part(self) -> int: ...
    @property
    def pages(self) -> tuple[int, ...]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    """A reference to one passage. Every field but ``title`` and ``paragraph`` may be
    missing (None, or ``()`` for the tuples).

    ``section`` is the passage's full heading path, outermost first (headings that only
    repeat the title are kept here and left out when shown). ``paragraph`` counts body
    paragraphs from 1; ``part`` numbers the windows of a paragraph too long to embed whole
    (0 = the whole paragraph). ``pages`` are 1-based PDF page numbers, ``()`` for other
    documents. ``accessed`` is the ISO date kzqa fetched the document from its URL or added
    it from a file (None when not recorded); the plain style does not show it, the COI
    style does. A citation of a whole document (a bibliography entry, ``of_document``) has
    ``paragraph`` 0 and no section or pages.
    """

    author: str | None = None
    title: str
    subtitle: str | None = None
    publisher: str | None = None
    date: str | None = None  # ISO 8601 as given (YYYY, YYYY-MM or YYYY-MM-DD)
    section: tuple[str, ...] = ()
    paragraph: int
    part: int = 0
    pages: tuple[int, ...] = ()
    url: str | None = None
    accessed: str | None = None

    @classmethod
    def of(cls, passage: Located, source: Described) -> Citation:
        """The citation of ``passage`` (a ``Passage`` or ``Hit``) in ``source`` (a
        ``Source`` or the same ``Hit``)."""
        return cls(
            title=source.title,
            subtitle=source.subtitle,
            author=source.author,
            publisher=source.publisher,
            date=source.date,
            url=source.url,
            accessed=source.accessed,
            section=section_path(passage.section),
            paragraph=passage.paragraph,
            part=passage.part,
            pages=tuple(passage.pages),
        )

    def of_document(self) -> Citation:
        """The citation of the whole document this passage is in: a bibliography entry."""
        return replace(self, section=(), paragraph=0, part=0, pages=())

    @property
    def full_title(self) -> str:
        return full_title(self.title, self.subtitle)

    def locator(self) -> list[str]:
        """Where in the document: the section shown, the page(s), the paragraph (and part)."""
        out = []
        section = SECTION_SEPARATOR.join(self.section_shown)
        if section:
            out.append(f"section “{section}”")
        if self.pages:
            out.append(page_label(self.pages))
        if self.paragraph:
            out.append(f"¶ {self.paragraph}" + (f" (part {self.part})" if self.part else ""))
        return out

    @property
    def section_shown(self) -> tuple[str, ...]:
        """The headings of the section path that do not only repeat the title or subtitle."""
        return _beyond_title(self.section, self.title, self.subtitle)

    def elements(self) -> tuple[tuple[str, str], ...]:
        """The comma-separated elements of the plain style, in order, each named by what
        it is: ``author``, ``title`` (in curly quotes), ``publisher``, ``date`` (``n.d.``
        when unknown), ``section``, ``pages``, ``paragraph``. The URL follows them."""
        out: list[tuple[str, str]] = []
        if self.author:
            out.append(("author", self.author))
        out.append(("title", f"“{self.full_title}”"))
        if self.publisher:
            out.append(("publisher", self.publisher))
        out.append(("date", self.date or "n.d."))
        kinds = {"s": "section", "p": "pages", "¶": "paragraph"}
        out += [(kinds[text[0]], text) for text in self.locator()]
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: every field, tuples as lists."""
        return {
            "author": self.author,
            "title": self.title,
            "subtitle": self.subtitle,
            "publisher": self.publisher,
            "date": self.date,
            "section": list(self.section),
            "paragraph": self.paragraph,
            "part": self.part,
            "pages": list(self.pages),
            "url": self.url,
            "accessed": self.accessed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Citation:
        return cls(
            title=data["title"],
            paragraph=int(data["paragraph"]),
            subtitle=data.get("subtitle"),
            author=data.get("author"),
            publisher=data.get("publisher"),
            date=data.get("date"),
            section=tuple(data.get("section") or ()),
            part=int(data.get("part") or 0),
            pages=tuple(data.get("pages") or ()),
            url=data.get("url"),
            accessed=data.get("accessed"),
        )


def citation_text(citation: Citation) -> str:
    """The plain-text style: a paste-ready reference, e.g.

    Hugh Williamson, “Kazakhstan’s Human Rights Crackdown: Astana Is Moving Backwards”,
    Foreign Affairs, 2016-12-21, ¶ 4. https://www.foreignaffairs.com/…

    A passage of a PDF names its page(s) before the paragraph: "…, p. 12, ¶ 31."
    """
    text = ", ".join(text for _, text in citation.elements())
    text += "" if text.endswith(".") else "."  # "n.d." ends a document's entry
    return f"{text} {citation.url}" if citation.url else text


def coi_text(citation: Citation) -> str:
    """The COI style (after Refworld's "Cite as" and ACCORD's source references): who
    (author, publisher), title, date, section / page / ¶, URL and the access date, e.g.

    United States Department of State: 2023 Country Reports on Human Rights Practices:
    Kazakhstan, 23 April 2024, section “Section 2. … — a. Freedom of Expression …”, ¶ 62,
    https://www.state.gov/reports/… [accessed 27 November 2026]
    """
    who = ", ".join(x for x in (citation.author, citation.publisher) if x)
    head = f"{who}: {citation.full_title}" if who else citation.full_title
    parts = [head, long_date(citation.date) if citation.date else "n.d.", *citation.locator()]
    if citation.url:
        parts.append(citation.url)
    text = ", ".join(parts)
    if citation.accessed:
        text += f" [accessed {long_date(citation.accessed)}]"
    return text


def csl_item(citation: Citation, item_id: str) -> dict[str, Any]:
    """The citation as a CSL-JSON item (reference managers import a list of these). The
    place in the document goes in ``section``, ``page`` and ``note`` (the paragraph)."""
    item: dict[str, Any] = {
        "id": item_id,
        "type": "report" if citation.pages else "webpage" if citation.url else "document",
        "title": citation.full_title,
    }
    if citation.author:
        item["author"] = [{"literal": citation.author}]
    if citation.publisher:
        item["publisher"] = citation.publisher
    if citation.date:
        item["issued"] = {"date-parts": [_date_parts(citation.date)]}
    if citation.url:
        item["URL"] = citation.url
    if citation.accessed:
        item["accessed"] = {"date-parts": [_date_parts(citation.accessed)]}
    if citation.section_shown:
        item["section"] = SECTION_SEPARATOR.join(citation.section_shown)
    if citation.pages:
        item["page"] = page_label(citation.pages).split(" ", 1)[1].replace("\u2013", "-")
    if citation.paragraph:
        item["note"] = f"¶ {citation.paragraph}" + (f" (part {citation.part})" if citation.part else "")
    return item


def check_style(style: str | None) -> str:
    """``style`` if it is a known citation style (None: the default); ``KzqaError`` if not."""
    if style is None or style == "":
        return DEFAULT_STYLE
    if style not in STYLES:
        raise KzqaError(f"unknown citation style {str(style)[:40]!r}: choose "
                        f"{', '.join(STYLES[:-1])} or {STYLES[-1]}")
    return style


def cite_as(citation: Citation, style: str, item_id: str = "") -> str:
    """``citation`` as text in ``style`` (``csl-json``: the item as one line of JSON)."""
    style = check_style(style)
    if style == "coi":
        return coi_text(citation)
    if style == "csl-json":
        return json.dumps(csl_item(citation, item_id or _slug(citation)), ensure_ascii=False)
    return citation_text(citation)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def long_date(iso: str) -> str:
    """An ISO date (YYYY, YYYY-MM or YYYY-MM-DD) as "17 April 2024", "April 2024" or "2024";
    anything else as given."""
    parts = _date_parts(iso)
    if not parts or not 1 <= (parts + [1])[1] <= 12:
        return iso
    if len(parts) == 1:
        return str(parts[0])
    month = f"{_MONTHS[parts[1] - 1]} {parts[0]}"
    return f"{parts[2]} {month}" if len(parts) == 3 else month


def _date_parts(iso: str) -> list[int]:
    match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", iso.strip())
    return [int(g) for g in match.groups() if g] if match else []


def _slug(citation: Citation) -> str:
    words = re.findall(r"\w+", f"{citation.publisher or citation.author or ''} {citation.title}")
    return "-".join(words[:8]).casefold() + (f"-{citation.date[:4]}" if citation.date else "")


def full_title(title: str, subtitle: str | None) -> str:
    """``"Title: Subtitle"``, or the title alone."""
    return f"{title}: {subtitle}" if subtitle else title


def page_label(numbers: Sequence[int]) -> str:
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


def section_path(section: str | None) -> tuple[str, ...]:
    """A passage's ``section`` string as its headings, outermost first."""
    return tuple(section.split(SECTION_SEPARATOR)) if section else ()


def section_beyond_title(section: str | None, title: str, subtitle: str | None) -> str | None:
    """The section path without the pieces that only repeat the title or subtitle."""
    shown = _beyond_title(section_path(section), title, subtitle)
    return SECTION_SEPARATOR.join(shown) or None


def _beyond_title(headings: tuple[str, ...], title: str,
                  subtitle: str | None) -> tuple[str, ...]:
    def norm(s: str) -> str:
        return " ".join(s.replace("’", "'").casefold().split())

    titles = {norm(title)} | ({norm(subtitle)} if subtitle else set())
    return tuple(h for h in headings if norm(h) not in titles)
