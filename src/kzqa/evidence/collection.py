"""A researcher's evidence: quotes gathered across questions, exported, and checked again.

Quotes are gathered into a collection file (``kzqa ask --collect notes.jsonl``, the chat's
pins, ``kzqa.collect``): JSON Lines, one ``Collected`` per line, the question it answered
and the whole hit (text, offsets, source). ``export`` writes a collection as

- ``markdown``: the quotes grouped by question, each as a block quote with its citation
  and a machine-readable marker of where it stands (document, character offsets);
- ``csv``: one row per quote, every field of its citation in columns of its own (a cell a
  spreadsheet would run as a formula, "=…", "+…", "-…", "@…", starts with "'");
- ``bibliography``: the documents quoted, once each, in the chosen citation style.

Every exported quote is the passage text unchanged (line breaks and spaces included) with
its offsets, so ``check`` can re-check an export (any of the three files, or the collection
itself) against an index and its source files, and name every quote that no longer matches.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kzqa.citation import DEFAULT_STYLE, Citation, check_style, cite_as, csl_item
from kzqa.documents import Passage
from kzqa.errors import KzqaError
from kzqa.results import Answer, Hit

__all__ = ["FORMATS", "Collected", "Mismatch", "append", "check", "collected",
           "export", "file_type", "from_index", "read", "read_quotes"]

FORMATS = ("markdown", "csv", "bibliography")
_FILES = {"markdown": ("kzqa-evidence.md", "text/markdown"), "csv": ("kzqa-evidence.csv", "text/csv"),
          "bibliography": ("kzqa-bibliography.txt", "text/plain")}
MARKER = re.compile(r"^<!-- kzqa quote doc=(?P<doc>\S+) start=(?P<start>\d+) end=(?P<end>\d+) -->$")
CSV_COLUMNS = ("question", "quote", "citation", "author", "publisher", "title", "date", "section",
               "pages", "paragraph", "url", "accessed", "doc_id", "file", "start", "end", "passage_id")


@dataclass(frozen=True, slots=True)
class Collected:
    """One quote a researcher kept: the question it answered and the passage itself."""

    question: str
    hit: Hit

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "passage": self.hit.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Collected:
        return cls(str(data["question"]), Hit.from_dict(dict(data["passage"])))


@dataclass(frozen=True, slots=True)
class Quote:
    """A quote as an export states it: where it says it stands, and its text."""

    number: int  # 1-based, in the order of the export
    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A quote of an export that no longer matches its source."""

    quote: Quote
    reason: str

    def __str__(self) -> str:
        q = self.quote
        return f"quote {q.number} ({q.doc_id}, characters {q.start}–{q.end}): {self.reason}"


def collected(answer: Answer) -> list[Collected]:
    """The passages of an answer as collection entries (none for an abstention)."""
    return [Collected(answer.question, hit) for hit in answer.passages]


def from_index(documents: Mapping[str, Any], passage_of: Callable[[str], Passage | None],
               wanted: Sequence[tuple[str, str]]) -> list[Collected]:
    """``(question, passage id)`` pairs as collection entries, each passage taken from the
    index (``documents``: doc_id -> ``store.DocumentRecord``; ``passage_of``: ``QA.passage``):
    what a client names is looked up, never taken on trust. ``KzqaError`` for an id the
    index does not hold."""
    out = []
    for question, passage_id in wanted:
        passage = passage_of(passage_id)
        if passage is None:
            raise KzqaError(f"no passage {str(passage_id)[:80]!r} in the index (removed, or the "
                            "index was rebuilt since it was pinned): ask again and pin it anew")
        record = documents[passage.doc_id]
        out.append(Collected(question, Hit.of(passage, record.source, record.file, 0.0)))
    return out


def append(path: Path | str, items: Iterable[Collected]) -> int:
    """Add ``items`` to the collection file ``path`` (created if missing), each line written
    whole and flushed to disk. Returns how many were added."""
    lines = "".join(json.dumps(item.to_dict(), ensure_ascii=False) + "\n" for item in items)
    if not lines:
        return 0
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise KzqaError(f"cannot write the collection {path}: {e.strerror or e}") from None
    return lines.count("\n")


def read(path: Path | str) -> list[Collected]:
    """The entries of the collection file ``path``; ``KzqaError`` naming the line of any
    entry that cannot be read."""
    out = []
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        try:
            out.append(Collected.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise KzqaError(f"{path}, line {number}: not a kzqa collection entry "
                            "(one JSON object per line, as kzqa ask --collect writes)") from None
    return out


def export(items: Sequence[Collected], fmt: str, style: str = DEFAULT_STYLE) -> str:
    """``items`` as a ``markdown``, ``csv`` or ``bibliography`` document, citations in
    ``style`` (``kzqa.citation.STYLES``)."""
    style = check_style(style)
    if fmt == "markdown":
        return _markdown(items, style)
    if fmt == "csv":
        return _csv(items, style)
    if fmt == "bibliography":
        return _bibliography(items, style)
    raise KzqaError(f"unknown export format {str(fmt)[:40]!r}: choose {', '.join(FORMATS)}")


def file_type(fmt: str, style: str) -> tuple[str, str]:
    """(file name, media type) of an export: what a download is saved as."""
    if fmt == "bibliography" and style == "csl-json":
        return "kzqa-bibliography.json", "application/json"
    return _FILES[fmt]


def _markdown(items: Sequence[Collected], style: str) -> str:
    out = ["# Evidence collected with kzqa", "",
           "Each quote is verbatim, with the document and the characters it stands at "
           "(the `kzqa quote` marker): `kzqa verify` re-checks this file against the sources.", ""]
    for question, group in _by_question(items):
        out += [f"## {_one_line(question)}", ""]
        for hit in group:
            out.append(f"<!-- kzqa quote doc={hit.doc_id} start={hit.start} end={hit.end} -->")
            out += [f"> {line}" if line else ">" for line in hit.text.split("\n")]
            out += ["", f"— {hit.citation_in(style)}", ""]
    return "\n".join(out)


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, CSV injection):
# such a cell is written with a "'" before it, which spreadsheets show as text and hide;
# ``kzqa verify`` takes it off again (``_unguarded``), so the quote it checks is the one written.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _guarded(cell: object) -> object:
    """A CSV cell a spreadsheet will not run: text starting with a formula character (or
    with "'" and one) gets a "'" before it; other values are as they are."""
    if isinstance(cell, str) and (cell.startswith(_FORMULA_STARTS)
                                  or (cell.startswith("'") and cell[1:].startswith(_FORMULA_STARTS))):
        return "'" + cell
    return cell


def _unguarded(cell: str) -> str:
    """The text ``_guarded`` was given."""
    if cell.startswith("'") and (cell[1:].startswith(_FORMULA_STARTS)
                                 or (cell[1:2] == "'" and cell[2:].startswith(_FORMULA_STARTS))):
        return cell[1:]
    return cell


def _csv(items: Sequence[Collected], style: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        hit, cited = item.hit, item.hit.cite()
        writer.writerow([_guarded(cell) for cell in (
            item.question, hit.text, hit.citation_in(style), cited.author or "", cited.publisher or "",
            cited.full_title, cited.date or "", " — ".join(cited.section_shown),
            " ".join(map(str, cited.pages)), cited.paragraph, cited.url or "", cited.accessed or "",
            hit.doc_id, hit.file, hit.start, hit.end, hit.id,
        )])
    return buffer.getvalue()


def _bibliography(items: Sequence[Collected], style: str) -> str:
    documents: dict[str, Citation] = {}
    for item in items:
        documents.setdefault(item.hit.doc_id, item.hit.cite().of_document())
    ordered = sorted(documents.items(), key=lambda d: (d[1].full_title.casefold(), d[1].date or ""))
    if style == "csl-json":
        return json.dumps([csl_item(c, doc_id) for doc_id, c in ordered], ensure_ascii=False,
                          indent=2) + "\n"
    return "".join(cite_as(c, style) + "\n" for _, c in ordered)


def _by_question(items: Sequence[Collected]) -> list[tuple[str, list[Hit]]]:
    groups: dict[str, list[Hit]] = {}
    for item in items:
        groups.setdefault(item.question, []).append(item.hit)
    return list(groups.items())


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no question)"


# -- checking an export again ---------------------------------------------------------

def read_quotes(path: Path | str) -> list[Quote]:
    """The quotes an export states (a collection ``.jsonl``, an exported ``.csv`` or ``.md``),
    in order; ``KzqaError`` if the file is none of these."""
    name = str(path).lower()
    if not name.endswith((".jsonl", ".csv", ".md", ".markdown")):
        raise KzqaError(f"{path}: kzqa verify checks a collection (.jsonl) or an export (.md, .csv)")
    if name.endswith(".jsonl"):
        quotes = [Quote(n, c.hit.doc_id, c.hit.start, c.hit.end, c.hit.text)
                  for n, c in enumerate(read(path), start=1)]
    elif name.endswith(".csv"):
        quotes = _csv_quotes(path, "\n".join(_lines(path)))
    else:
        quotes = _markdown_quotes("\n".join(_lines(path)))
    if not quotes:
        raise KzqaError(f"{path}: no quotes to check (kzqa export and kzqa ask --collect write "
                        "files that hold them)")
    return quotes


def _csv_quotes(path: Path | str, text: str) -> list[Quote]:
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    out = []
    for n, row in enumerate(rows, start=1):
        try:
            out.append(Quote(n, _unguarded(row["doc_id"]), int(row["start"]), int(row["end"]),
                             _unguarded(row["quote"])))
        except (KeyError, TypeError, ValueError):
            raise KzqaError(f"{path}, row {n}: not a kzqa export (columns doc_id, start, end and "
                            "quote are needed)") from None
    return out


def _markdown_quotes(text: str) -> list[Quote]:
    lines = text.split("\n")
    out: list[Quote] = []
    for i, line in enumerate(lines):
        marker = MARKER.match(line.removesuffix("\r"))
        if not marker:
            continue
        crlf = line.endswith("\r")  # the file was saved with Windows line ends since
        body = []
        for quoted in lines[i + 1:]:
            quoted = quoted.removesuffix("\r") if crlf else quoted
            if quoted != ">" and not quoted.startswith("> "):
                break
            body.append(quoted[2:])
        out.append(Quote(len(out) + 1, marker["doc"], int(marker["start"]), int(marker["end"]),
                         "\n".join(body)))
    return out


def check(quotes: Sequence[Quote], sources: Mapping[str, str]) -> list[Mismatch]:
    """The quotes that are not their source's text at their offsets (``sources``: the text
    of each document of the index, as ``kzqa.storage.store.source_texts`` gives)."""
    problems = []
    for quote in quotes:
        source = sources.get(quote.doc_id)
        if source is None:
            problems.append(Mismatch(quote, "the document is not in the index"))
            continue
        actual = source[quote.start:quote.end] if 0 <= quote.start <= quote.end <= len(source) else None
        if actual is None:
            problems.append(Mismatch(quote, f"the offsets lie outside the document "
                                            f"({len(source):,} characters)"))
        elif actual != quote.text:
            problems.append(Mismatch(quote, _difference(quote.text, actual)))
    return problems


def _difference(quoted: str, actual: str) -> str:
    at = next((i for i, (a, b) in enumerate(zip(quoted, actual, strict=False)) if a != b),
              min(len(quoted), len(actual)))
    lead = max(0, at - 10)  # a few characters before, to find the place by
    said, is_ = quoted[lead:at + 12], actual[lead:at + 12]
    return (f"differs from the source at character {at + 1}: the export has {said!r}, "
            f"the source {is_!r}")


def _lines(path: Path | str) -> list[str]:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return f.read().split("\n")
    except FileNotFoundError:
        raise KzqaError(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise KzqaError(f"{path} is not UTF-8 text") from None
    except OSError as e:
        raise KzqaError(f"cannot read {path}: {e.strerror or e}") from None
