"""What a document's metadata may say, and reading it: the keys, their limits, the YAML of a
sidecar (``NAME.meta.yaml``) or of front matter, checked value by value into a ``Source``.

A value kzqa cannot use is refused with the reason (and the line), never cut short or
guessed: a citation is only as good as the fields it is made of.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from kzqa.documents import Source

SIDECAR_SUFFIX = ".meta.yaml"
METADATA_KEYS = ("title", "subtitle", "author", "publisher", "date", "url", "language",
                 "country", "covers", "accessed")
MAX_METADATA_CHARS = 500  # a title or author is a line, a few hundred characters at most; a 2 MB
#                         title took 88 s and 2.5 GB to build and is copied into every hit's JSON
MAX_METADATA_TEXT = 20_000  # ten keys of 500 characters with room to spare; PyYAML (pure Python
#                           here) parses ~0.1 MB/s, so a MB of front matter is refused unparsed
MAX_METADATA_DEPTH = 8  # a value is text or a list of text (depth 2); deeper is never metadata,
#                        and 500 levels of '[' (1 KB) overflow PyYAML's recursive composer


def sidecar_name(name: str) -> str:
    """The metadata file that goes with a document: 'a/report.pdf' -> 'a/report.meta.yaml'."""
    return name.rsplit(".", 1)[0] + SIDECAR_SUFFIX


class DocumentProblem(Exception):
    """A document that cannot be read, and why (with the line, when one is to blame): the
    corpus scan turns it into a ``CorpusProblem`` naming the file."""

    def __init__(self, reason: str, line: int | None = None):
        self.reason, self.line = reason, line


class SidecarProblem(DocumentProblem):
    """A problem in a document's metadata file (``file``), not in the document."""

    def __init__(self, file: str, reason: str, line: int | None = None):
        super().__init__(reason, line)
        self.file = file


def read_sidecar(sidecar: Path, rel: str) -> dict[str, object]:
    side_rel = sidecar_name(rel)
    try:
        side_text = sidecar.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise SidecarProblem(side_rel, "not UTF-8 text; re-save the file as UTF-8") from None
    return parse_metadata(side_text, first_line=1, where=side_rel)


def source_of(meta: dict[str, object], title: str) -> Source:
    for key, value in [("title", title), *meta.items()]:
        if reason := too_long(key, value):
            raise DocumentProblem(reason)
    return Source(
        title=title,
        subtitle=_opt(meta.get("subtitle")),
        author=_opt(meta.get("author")),
        publisher=_opt(meta.get("publisher")),
        date=_opt(meta.get("date")),
        url=_opt(meta.get("url")),
        language=str(meta.get("language") or "en"),
        country=_opt(meta.get("country")),
        covers=_opt(meta.get("covers")),
        accessed=_opt(meta.get("accessed")),
    )


def parse_metadata(text: str, first_line: int, where: str | None) -> dict[str, object]:
    """Parse and check a metadata mapping. Line numbers count from ``first_line``."""

    def fail(reason: str, line: int | None) -> DocumentProblem:
        return SidecarProblem(where, reason, line) if where else DocumentProblem(reason, line)

    if len(text) > MAX_METADATA_TEXT:
        raise fail(f"metadata is {len(text):,} characters long; the limit is {MAX_METADATA_TEXT:,}", first_line)
    too_deep = f"metadata nested too deeply (over {MAX_METADATA_DEPTH} levels of lists or mappings)"
    try:
        _check_depth(text, too_deep, first_line, fail)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        value = yaml.load(text, Loader=_MetadataLoader)  # noqa: S506 - a SafeLoader, dates kept as text
    except RecursionError:  # the depth check should make this unreachable; kept as the backstop
        raise fail(too_deep, None) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = first_line + mark.line if mark is not None else None
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise fail(f"malformed metadata (YAML: {problem})", line) from None
    if value is None:
        return {}
    if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
        raise fail("malformed metadata: expected 'key: value' lines", first_line)
    key_lines = {k.value: first_line + k.start_mark.line for k, _ in node.value}
    meta: dict[str, object] = {}
    for key, val in value.items():
        line = key_lines.get(str(key))
        if key not in METADATA_KEYS:
            raise fail(f"unknown metadata key '{key}' (known: {', '.join(METADATA_KEYS)})", line)
        if isinstance(val, (dt.date, dt.datetime)):
            val = val.isoformat()[:10]
        elif key == "author" and isinstance(val, list) and all(isinstance(a, str) for a in val):
            val = ", ".join(val)
        elif key == "country" and isinstance(val, list) and all(isinstance(a, str) for a in val):
            val = "; ".join(val)
        elif isinstance(val, int) and key in ("date", "covers"):
            val = str(val)
        if key in ("date", "accessed") and isinstance(val, str) and _TIMESTAMP.fullmatch(val.strip()):
            val = val.strip()[:10]  # a time of day after the date: the date
        if problem := value_problem(str(key), val.strip() if isinstance(val, str) else val):
            raise fail(problem, line)
        meta[key] = val.strip() if isinstance(val, str) else val
    return meta


def value_problem(key: str, val: object) -> str | None:
    """Why ``val`` cannot be the metadata field ``key`` (None if it can): what a corpus file
    may state, and what an index read back may hold."""
    if val is not None and not isinstance(val, str):
        return f"metadata '{key}' must be text, not {type(val).__name__}"
    if reason := too_long(key, val):
        return reason
    if key in ("date", "accessed") and val and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", val):
        return f"metadata '{key}' must be YYYY, YYYY-MM or YYYY-MM-DD, not '{val}'"
    if key in ("date", "accessed") and val and (reason := _not_a_day(val)):
        return f"metadata '{key}' is not a real date: {val} ({reason})"
    if key == "covers" and val and not re.fullmatch(r"\d{4}(–\d{4}|-\d{4})?", val):
        return f"metadata 'covers' must be a year (YYYY) or years (YYYY-YYYY), not '{val}'"
    if key == "url" and val and not re.match(r"https?://\S+\Z", val):
        return f"metadata 'url' must be an http(s) address, not '{val}'"
    return None


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML itself keeps the
    last silently: which one was meant?)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' given twice; keep one", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


class _MetadataLoader(UniqueKeyLoader):
    """YAML's safe loader with dates left as the text written: a mistyped ``2023-02-30``
    is then named by its field (``parse_metadata``) instead of failing inside YAML."""


def _timestamp_as_text(loader: _MetadataLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


_MetadataLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Tt ]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?"
                        r"\s*(?:Z|[-+]\d{1,2}(?::?\d{2})?)?)")


def _not_a_day(value: str) -> str:
    """Why ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` names no real day or month ("" if it does)."""
    year, *rest = (int(part) for part in value.split("-"))
    if rest and not 1 <= rest[0] <= 12:
        return "there is no month " + str(rest[0])
    if len(rest) == 2:
        try:
            dt.date(year, rest[0], rest[1])
        except ValueError as e:
            return str(e)
    return ""


def too_long(key: str, value: object) -> str | None:
    """Why a metadata value over ``MAX_METADATA_CHARS`` is refused (never cut short silently)."""
    if isinstance(value, str) and len(value) > MAX_METADATA_CHARS:
        return f"metadata '{key}' is {len(value):,} characters long; the limit is {MAX_METADATA_CHARS}"
    return None


def _check_depth(text: str, reason: str, first_line: int,
                 fail: Callable[[str, int | None], DocumentProblem]) -> None:
    """Refuse nesting deeper than ``MAX_METADATA_DEPTH`` before anything recursive runs:
    PyYAML's parser is a loop over events (linear, no recursion); only its composer and
    constructor recurse, once per level."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_METADATA_DEPTH:
                mark = event.start_mark
                raise fail(reason, first_line + mark.line if mark is not None else None)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def _opt(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
