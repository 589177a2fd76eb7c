"""What a PDF says of itself: the title, date, publisher and author a citation can carry.

A PDF's document information (its Info dictionary) is written by the software that made the
file, not by its author: a Word file name as the title ("Microsoft Word - report_final.doc"),
a placeholder ("default", "Untitled"), the typist's login as the author, the day the file was
saved as the date. So the first page comes first, read as a reader reads it:

- **title**: the largest type on the first page that is larger than the body's type (the
  size most lines of the document are set in) and holds three words at least (a masthead's
  "General Assembly" or "United Nations A/HRC/28/10" is not a title); lines of that size set
  one under the other are one title, a wider gap between them reads as ": " ("Report of the
  Working Group on the Universal Periodic Review" / "Kazakhstan"); a note mark at its end
  ("Review*") is left out. A document symbol on the first page ("A/HRC/14/10") follows the
  title in parentheses, as a citation gives it;
- **date**: the date printed next to the distribution line ("Distr.: General" / "23 March
  2010") or after "Date:", "Published", "Issued", else the first date printed on the first
  page (day, month and year; or month and year, kept as ``YYYY-MM``);
- **publisher**: for a document with a symbol, the organisation the masthead names before it
  ("United Nations") and the body named above the title ("Human Rights Council");
- the Info fields are used only where the page says nothing and the field is not junk: a
  title of three words or more that is no file name or placeholder; an author that looks
  like a name (two words or more, no login, no software); the creation date only when its
  year is printed on the first two pages (else the date is left empty: a wrong date in a
  citation is worse than none).

Nothing here is read from the file's name or address, and no rule names a publisher.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from kzqa.ingest.pdf_layout import PageLine, capitalised
from kzqa.ingest.printed_dates import date_in, days_in

# A title's type is at least this much larger than the body's.
TITLE_SIZE_RATIO = 1.15
TITLE_MIN_WORDS = 3
TITLE_MAX_CHARS = 300
COVER_WORDS = 8  # a first page with fewer words is a cover: the title is read from the next

_DATE_LINE = re.compile(r"(?i)\b(distr\.?|date[d:]|published|issued|released)\b")
# A document symbol: an organ's letters, then two parts or more, split by "/" ("A/HRC/14/10",
# "CCPR/C/KAZ/CO/2", "E/C.12/KAZ/CO/2", "DP/DCP/KAZ/4").
_SYMBOL = re.compile(r"(?<![\w/])(?P<symbol>[A-Z]{1,8}(?:/[A-Z0-9][A-Za-z0-9.()-]*){2,})(?![\w/])")
# A body named above a title ("Human Rights Council", "Committee against Torture",
# "Executive Board of ..."): a short line with one of these words.
_BODY = re.compile(r"(?i)\b(Council|Committee|Commission|Assembly|Board|Conference|Office|Secretariat|"
                   r"Court|Tribunal|Parliament|Agency|Programme|Fund)\b")
_JUNK_TITLE = re.compile(
    r"(?i)^(microsoft\s+\w+\s*-|untitled|default|document\d*|new document|slide \d+|title)\b"
    r"|\.(docx?|pdf|rtf|odt|indd|qxd|tex|dvi|ps|pptx?|xlsx?|wpd|pages)\s*$"
    r"|^[\w.-]*_[\w.-]*$|^\S+$")
_JUNK_AUTHOR = re.compile(r"(?i)@|\d|^(default|user|admin|administrator|owner|author|unknown|anonymous|"
                          r"microsoft|adobe|windows user|licensed user)\b")
# A heading's label ("II. Scope ...", "A. Presentation ...", "1 INTRODUCTION", "4.2 Results"):
# a section, not the document's title.
_LABEL = re.compile(r"(?:[IVXLC]+|[A-Z])[.)]\s|\d{1,2}(?:\.\d{1,2})*[.)]?\s")
_TITLE_LABEL = re.compile(r"(?i)(?:^|\s)title\s*:\s*(?P<title>\S.*)$")
_COPYRIGHT = re.compile(r"(?:©|\(c\)|Copyright ©?)\s*(?:(?P<year>(?:19|20)\d{2})\s+(?P<holder>[A-Z].{2,80})"
                        r"|(?P<holder2>[A-Z][^©\d]{2,80}?)\s+(?P<year2>(?:19|20)\d{2})\b)")
# a word whose letters go from lower case back to capitals ("AmNesTy", "reporT", "oF")
_GARBLED = re.compile(r"\b[^\W\d_]*[a-z][^\W\d_]*[A-Z][^\W\d_]*\b")
_NOTE_MARK = re.compile(r"[\s*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰]+$")


@dataclass(frozen=True, slots=True)
class PageTitle:
    """The title the first page prints: its ``lines`` (a block of them is the title, not a
    passage) and its ``text`` as a citation gives it; empty where the page prints none that
    can be told."""

    lines: tuple[PageLine, ...] = ()
    text: str = ""


def page_title(pages: Sequence[Sequence[PageLine]]) -> PageTitle:
    """The title of the first page (see the module notes): set in the largest type above the
    body's; else a line labelled as the title ("TITLE: Honduras: Armed attack ..."); else, in
    a document with a symbol (whose masthead says it is one), the first line of the first page
    in the body's type that reads as a title (:func:`_plain_title`)."""
    first = _first_page(pages)
    group = _title_group(first, _body_size(pages))
    text = _joined(group)
    if group and len(text) <= TITLE_MAX_CHARS:
        return PageTitle(tuple(group), text)
    for line in first:
        m = _TITLE_LABEL.search(_flat(line.text))
        if m and _words(m["title"]) >= TITLE_MIN_WORDS and len(m["title"]) <= TITLE_MAX_CHARS:
            return PageTitle((line,), m["title"].strip())
    return _plain_title(first) if _symbol(pages) else PageTitle()


def _first_page(pages: Sequence[Sequence[PageLine]]) -> list[PageLine]:
    """The lines of the first page that prints words (``COVER_WORDS`` or more): a cover whose
    title is a picture ("ISBN: 978-92-2-126242-8" alone) gives way to the title page after it,
    up to the third page."""
    for page in pages[:3]:
        lines = [line for line in page if line.text.strip()]
        if _words(" ".join(line.text for line in lines)) >= COVER_WORDS:
            return lines
    return [line for line in (pages[0] if pages else ()) if line.text.strip()]


def pdf_metadata(info: dict[str, str], pages: Sequence[Sequence[PageLine]], printed: PageTitle) -> dict[str, str]:
    """The metadata of a PDF (see the module notes): keys among title, author, publisher and
    date, only those read with confidence. ``printed``: :func:`page_title`."""
    first = _first_page(pages)
    first_text = " ".join(_flat(line.text) for line in first)
    found: dict[str, str] = {}
    symbol = _symbol(pages)
    title = printed.text or _info_title(info.get("Title", ""))
    if title:
        found["title"] = f"{title} ({symbol})" if symbol and symbol not in title else title
    author = _printed_by(_info_author(info.get("Author", "")), first_text)
    if author:
        found["author"] = author
    holder, year = _copyright(first)
    publisher = _publisher(first, symbol, title) or holder
    if publisher:
        found["publisher"] = publisher
    date = _printed_date(first) or year or _info_date(info.get("CreationDate", ""), pages)
    if date:
        found["date"] = date
    return found


def _printed_by(value: str, page: str) -> str:
    """``value`` (the Info author) if the first page prints it: two thirds of its words of
    three letters or more are on the page; else ``""`` (the typist's name, not the author's)."""
    words = re.findall(r"[^\W\d_]{3,}", value.casefold())
    on_page = set(re.findall(r"[^\W\d_]{3,}", page.casefold()))
    return value if words and sum(w in on_page for w in words) * 3 >= 2 * len(words) else ""


def _plain_title(lines: list[PageLine]) -> PageTitle:
    """A title set in the body's type: the first line of the first page, before its first
    paragraph, that reads as a title (three to 25 words, capitalised as a title is, not all in
    capitals as a masthead is, no date, symbol, label or full stop), with a name set apart
    on the line under it ("Report of the Working Group on the Universal Periodic Review" /
    "Uzbekistan")."""
    for k, line in enumerate(lines):
        flat = _NOTE_MARK.sub("", _flat(line.text))
        if _paragraph_line(flat):
            break
        if not (TITLE_MIN_WORDS <= _words(flat) <= 25 and capitalised(flat) and flat.upper() != flat
                and not _SYMBOL.search(flat) and not _DATE_LINE.search(flat) and not date_in(flat)
                and ":" not in flat and not flat.endswith(".") and not _LABEL.match(flat)
                and not any(0xE000 <= ord(ch) <= 0xF8FF for ch in flat)):
            continue
        group = [line]
        under = lines[k + 1] if k + 1 < len(lines) else None
        if under is not None and under.gap and 1 <= len(under.text.split()) <= 3 and capitalised(under.text) \
                and not _paragraph_line(_flat(under.text)) and not date_in(under.text):
            group.append(under)
        return PageTitle(tuple(group), _joined(group))
    return PageTitle()


def _paragraph_line(flat: str) -> bool:
    """A line of a paragraph: a numbered paragraph's first line, or a line of twelve words or
    more."""
    return bool(re.match(r"\d{1,3}\.\s", flat)) or len(flat.split()) >= 12


def _copyright(lines: list[PageLine]) -> tuple[str, str]:
    """The holder and year of a copyright line of the first page ("© 2023 Association for
    Computing Machinery."; "© Amnesty International 2011"): the holder publishes, the year
    dates the document where nothing else does. ``("", "")`` where there is none, or the
    holder is the authors ("held by the owner/author(s)")."""
    for line in lines:
        flat = _flat(line.text)
        m = _COPYRIGHT.search(flat)
        if not m:
            continue
        holder = re.split(r"[.;]\s|\.$|\s+All rights reserved", m["holder"] or m["holder2"] or "", maxsplit=1)[0]
        holder = holder.strip(" ,.")
        if re.search(r"(?i)\b(held by|owner|author|copyright)\b", holder) or _words(holder) < 1:
            holder = ""
        return holder, m["year"] or m["year2"] or ""
    return "", ""


def _flat(text: str) -> str:
    return " ".join(text.split())


def _body_size(pages: Sequence[Sequence[PageLine]]) -> float:
    """The type size most lines of the document are set in (0: unknown)."""
    sizes = Counter(round(line.size) for page in pages for line in page if line.text.strip() and line.size)
    return float(sizes.most_common(1)[0][0]) if sizes else 0.0


def _words(text: str) -> int:
    return len(re.findall(r"(?<![\w/])[^\W\d_]{2,}(?![\w/])", text))


def _title_group(lines: list[PageLine], body: float) -> list[PageLine]:
    """The lines of the title set in the largest type of the first page (see the module
    notes)."""
    if not body:
        return []
    groups: list[list[PageLine]] = []
    for line in lines:
        if line.peak < TITLE_SIZE_RATIO * body or not any(ch.isalpha() for ch in line.text) or \
                any(0xE000 <= ord(ch) <= 0xF8FF for ch in line.text) or _SYMBOL.search(line.text) \
                or _DATE_LINE.search(line.text) or _LABEL.match(_flat(line.text)):
            groups.append([])  # not a title's line, and the end of the one above ("I. Introduction")
            continue
        if groups and groups[-1] and abs(groups[-1][-1].peak - line.peak) <= 0.05 * line.peak:
            groups[-1].append(line)
        else:
            groups.append([line])
    groups = [g for g in groups if g and not _masthead_organ(lines, g) and not _organisation(g)]
    for k, group in enumerate(groups):  # a title of one or two words, or ending in ":", and its subtitle under it
        short = _words(_joined(group)) < TITLE_MIN_WORDS or _flat(group[-1].text).endswith(":")
        if short and k + 1 < len(groups) and groups[k + 1][0] is _next_line(lines, group[-1]):
            groups[k] = [*group, *groups[k + 1]]
    groups = [g for g in groups if _words(_joined(g)) >= TITLE_MIN_WORDS]
    if not groups:
        return []
    return max(groups, key=lambda g: g[0].peak)  # the first of the largest


def _masthead_organ(lines: list[PageLine], group: list[PageLine]) -> bool:
    """A masthead's organ, set large between the document symbol and the distribution line
    ("United Nations DP/FPA/2025/7" / "Executive Board of the United Nations ..." / "Distr.:
    General"): the publisher, not the title."""
    k = next(i for i, x in enumerate(lines) if x is group[0])
    before = lines[k - 1].text if k else ""
    after = _next_line(lines, group[-1])
    return bool(_SYMBOL.search(before)) and after is not None and bool(_DATE_LINE.search(after.text))


def _organisation(group: list[PageLine]) -> bool:
    """A line that only names an organisation ("United Nations Population Fund", "Human Rights
    Council"): a few words ending in a body's name, above the title."""
    text = _NOTE_MARK.sub("", " ".join(_flat(x.text) for x in group))
    return len(group) == 1 and len(text.split()) <= 8 and bool(re.search(_BODY.pattern + r"\W*$", text))


def _next_line(lines: list[PageLine], line: PageLine) -> PageLine | None:
    k = next(i for i, x in enumerate(lines) if x is line)
    return lines[k + 1] if k + 1 < len(lines) else None


def _joined(group: list[PageLine]) -> str:
    """The lines of a title as one: a wider gap or a change of type between two reads as ": "."""
    title = ""
    for k, line in enumerate(group):
        part = _NOTE_MARK.sub("", _flat(line.text))
        if not part:
            continue
        apart = k and (line.gap or abs(line.peak - group[k - 1].peak) > 0.05 * line.peak)
        joint = ": " if apart and not title.endswith((":", "-", "–")) else " "
        title = part if not title else title + joint + part
    return _recased(_NOTE_MARK.sub("", title).strip(" :"))


def _recased(title: str) -> str:
    """A title set in small capitals reads in mixed case from the text layer ("AmNesTy
    INTerNATIoNAl reporT 2011"): where three words or more (two in five) mix cases so, each word is given
    an initial capital ("Amnesty International Report 2011"). A citation's title is data, not
    a quote; the passages keep the text layer's letters."""
    garbled, words = len(_GARBLED.findall(title)), len(re.findall(r"[^\W\d_]+", title))
    if garbled < 3 or garbled < 0.4 * words:  # "iPhone", "McAllen": a name's own capitals
        return title
    return re.sub(r"[^\W\d_]+(?:[’'][^\W\d_]+)?", lambda m: m[0][:1].upper() + m[0][1:].lower(), title)


def _info_title(value: str) -> str:
    title = _flat(value)
    if not title or _JUNK_TITLE.search(title) or _words(title) < TITLE_MIN_WORDS or len(title) > TITLE_MAX_CHARS:
        return ""
    return title


def _info_author(value: str) -> str:
    author = _flat(value)
    if not author or _JUNK_AUTHOR.search(author) or len(author.split()) < 2 or len(author) > 200:
        return ""
    return author


def _symbol(pages: Sequence[Sequence[PageLine]]) -> str:
    """The document symbol printed on the first page, if any: of several, the one printed on
    the most pages (the running header's, not one a note cites)."""
    found = [m["symbol"].rstrip(".") for line in (pages[0] if pages else ())
             for m in _SYMBOL.finditer(line.text) if not re.search(r"https?:|www\.", line.text)]
    if not found:
        return ""
    counts = {s: sum(any(s in line.text for line in page) for page in pages) for s in dict.fromkeys(found)}
    return max(counts, key=lambda s: counts[s])


def _publisher(lines: list[PageLine], symbol: str, title: str) -> str:
    """For a document with a symbol: "Organisation, Body" (see the module notes)."""
    if not symbol:
        return ""
    org = ""
    for line in lines:
        flat = _flat(line.text)
        if symbol in flat:
            org = flat.split(symbol)[0].strip(" ,:")
            break
    body = ""
    head = title.split(":")[0].split(" (")[0] if title else ""
    for line in lines:
        flat = _flat(line.text)
        if head and flat.startswith(head[:30]):
            break
        flat = re.split(r"\s+Distr\b", flat)[0]
        if (_BODY.search(flat) and len(flat.split()) <= 12 and symbol not in flat and flat[:1].isupper()
                and not _DATE_LINE.search(flat) and not re.search(r"[\d.,;:]$", flat)):
            body = flat
    return ", ".join(dict.fromkeys(p for p in (org, body) if p))


def _printed_date(lines: list[PageLine]) -> str:
    """The date the first page prints of the document (see the module notes)."""
    texts = [_flat(line.text) for line in lines]
    for k, text in enumerate(texts):
        if _DATE_LINE.search(text):
            for candidate in (text, *texts[k + 1:k + 3]):
                if date := date_in(candidate):
                    return date
    for text in texts:
        if date := date_in(text):
            return date
    return ""


def _info_date(value: str, pages: Sequence[Sequence[PageLine]]) -> str:
    """The Info creation date (``D:YYYYMMDD...``), only when its year is printed on the first
    two pages."""
    m = re.match(r"D:(\d{4})(\d{2})?(\d{2})?", value.strip())
    if not m:
        return ""
    year, month, day = m[1], m[2], m[3]
    printed = " ".join(line.text for page in pages[:2] for line in page)
    if not re.search(rf"(?<!\d){year}(?!\d)", printed):
        return ""
    if month and day and 1 <= int(month) <= 12 and 1 <= int(day) <= days_in(int(year), int(month)):
        return f"{year}-{month}-{day}"
    return year
