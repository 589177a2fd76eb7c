"""Where a quote comes from, as data: the ``Citation`` value and its plain-text style.

A ``Citation`` is built once from a passage and its source (``Citation.of``) and every
format reads its fields: the plain-text style here (``citation_text``; ``Hit.citation()``,
the CLI and the JSON ``"citation"`` string), the Markdown of the chat page
(``render.citation_markdown``) and the JSON form (``to_dict``, a hit's ``"reference"``).
What a style shows, and in which order, is decided in one place: ``Citation.elements``.

This module imports nothing of kzqa at run time, so the result types and the renderers can
both use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "SECTION_SEPARATOR", "Citation", "Described", "Located", "citation_text", "full_title",
    "page_label", "section_beyond_title", "section_path",
]

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
    documents. ``accessed`` is the ISO date kzqa fetched the document from its URL (None for
    a document added from a file); the plain style does not show it.
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

    @property
    def full_title(self) -> str:
        return full_title(self.title, self.subtitle)

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
        section = SECTION_SEPARATOR.join(self.section_shown)
        if section:
            out.append(("section", f"section “{section}”"))
        if self.pages:
            out.append(("pages", page_label(self.pages)))
        where = f"¶ {self.paragraph}"
        if self.part:
            where += f" (part {self.part})"
        out.append(("paragraph", where))
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
    text = ", ".join(text for _, text in citation.elements()) + "."
    return f"{text} {citation.url}" if citation.url else text


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
