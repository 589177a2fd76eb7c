"""Reading the corpus folder: documents, their text and what is known of their source.

A document is a ``.txt`` or ``.md`` file, a PDF or a saved web page (``.html``/``.htm``).
What is known of its source (title, subtitle, author, publisher, date, url, language)
comes from a sidecar ``NAME.meta.yaml`` beside ``NAME.txt``, or from YAML front matter at
the top of a text file; both are optional. PDFs and web pages give their text and their
own metadata through ``kzqa.ingest.extract`` (deterministic); a sidecar overrides that metadata
key by key. The text is kept exactly as read (or as extracted): passages are slices of it.

Every file that cannot be used is reported as a ``CorpusProblem`` naming the file (and the
line where that helps); no file is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kzqa.errors import CorpusProblem
from kzqa.ingest.extracted import Skipped, Span
from kzqa.results import Source

HEADING_LIMIT = 300  # the longest heading (or title from one) kept as such; longer is body text

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
EXTRACTED_SUFFIXES = (".pdf", ".html", ".htm")  # read through kzqa.ingest.extract
DOCUMENT_SUFFIXES = TEXT_SUFFIXES + EXTRACTED_SUFFIXES
SIDECAR_SUFFIX = ".meta.yaml"
METADATA_KEYS = ("title", "subtitle", "author", "publisher", "date", "url", "language",
                 "country", "covers", "accessed")
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # ~30,000 passages, ~3 h to embed here: split larger files
MAX_EXTRACTED_FILE_BYTES = 200 * 1024 * 1024  # a PDF is mostly images and fonts; its text is checked too

MAX_METADATA_CHARS = 500  # a title or author is a line, a few hundred characters at most; a 2 MB
#                         title took 88 s and 2.5 GB to build and is copied into every hit's JSON
MAX_METADATA_TEXT = 20_000  # ten keys of 500 characters with room to spare; PyYAML (pure Python
#                           here) parses ~0.1 MB/s, so a MB of front matter is refused unparsed
MAX_METADATA_DEPTH = 8  # a value is text or a list of text (depth 2); deeper is never metadata,
#                        and 500 levels of '[' (1 KB) overflow PyYAML's recursive composer

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.S)


@dataclass(frozen=True, slots=True)
class Document:
    """One corpus file: its full text as read (or extracted), where the body starts, and
    its source. For a PDF, ``pages`` holds each page's ``(start, end)`` span in ``text``."""

    doc_id: str
    file: str  # path relative to the corpus folder, with forward slashes
    text: str  # the whole file decoded, or the extracted text; passages are slices of this
    body_start: int  # first character after front matter / byte-order mark
    source: Source
    pages: tuple[tuple[int, int], ...] = ()
    extractor: str | None = None  # set when ``text`` was extracted (PDF, HTML): by what
    blocks: tuple[Span, ...] = ()  # extracted text: its paragraphs, headings and notes
    skipped: tuple[Skipped, ...] = ()  # extracted text: what extraction left out, and why


@dataclass(frozen=True, slots=True)
class CorpusScan:
    """The result of reading a corpus folder."""

    documents: tuple[Document, ...]
    problems: tuple[CorpusProblem, ...]
    ignored: tuple[str, ...]  # files of a type kzqa does not read (reported, not errors)
    hashes: dict[str, str]  # relative path -> sha256 of every file that counts


def corpus_files(folder: Path) -> list[Path]:
    """Every visible file under ``folder``, sorted, hidden files and folders left out."""
    out = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file():
            out.append(path)
    return sorted(out, key=lambda p: p.relative_to(folder).as_posix())


def scan_corpus(folder: Path) -> CorpusScan:
    """Read every document in ``folder``. Bad files become problems, never exceptions."""
    folder = Path(folder)
    if not folder.is_dir():
        problem = CorpusProblem(str(folder), "no such folder")
        return CorpusScan((), (problem,), (), {})
    documents: list[Document] = []
    problems: list[CorpusProblem] = []
    ignored: list[str] = []
    hashes: dict[str, str] = {}
    ids: dict[str, str] = {}
    seen_text: dict[str, str] = {}  # sha256 -> first file with that text
    files = corpus_files(folder)
    names = {p.relative_to(folder).as_posix() for p in files}
    root = folder.resolve()
    for path in files:
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            problems.append(CorpusProblem(rel, "a link to a file outside the corpus folder; "
                                          "copy the file into the corpus instead"))
            continue
        data = path.read_bytes()
        if rel.endswith(SIDECAR_SUFFIX):
            hashes[rel] = _sha256(data)
            stem = rel[: -len(SIDECAR_SUFFIX)]
            if not any(stem + s in names for s in DOCUMENT_SUFFIXES):
                problems.append(CorpusProblem(rel, "metadata file with no document beside it "
                                              f"(expected {stem}.txt, .md, .pdf or .html)"))
            continue
        if not rel.lower().endswith(DOCUMENT_SUFFIXES):
            ignored.append(rel)
            continue
        hashes[rel] = _sha256(data)
        limit = MAX_EXTRACTED_FILE_BYTES if rel.lower().endswith(EXTRACTED_SUFFIXES) else MAX_DOCUMENT_BYTES
        if len(data) > limit:
            problems.append(CorpusProblem(rel, f"too large ({len(data) / 2**20:.0f} MB; the limit is "
                                          f"{limit // 2**20} MB): split it into parts"))
            continue
        if hashes[rel] in seen_text:
            problems.append(CorpusProblem(rel, f"the same text as {seen_text[hashes[rel]]}; "
                                          "remove one copy"))
            continue
        seen_text[hashes[rel]] = rel
        try:
            doc = read_document(path, rel, data)
        except SidecarProblem as p:
            problems.append(CorpusProblem(p.file, p.reason, p.line))
            continue
        except DocumentProblem as p:
            problems.append(CorpusProblem(rel, p.reason, p.line))
            continue
        if doc.doc_id in ids:
            problems.append(CorpusProblem(rel, f"same document id '{doc.doc_id}' as "
                                          f"{ids[doc.doc_id]}; rename one of them"))
            continue
        ids[doc.doc_id] = rel
        documents.append(doc)
    return CorpusScan(tuple(documents), tuple(problems), tuple(ignored), hashes)


def corpus_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file that ``scan_corpus`` would read (documents and sidecars)."""
    out = {}
    for path in corpus_files(Path(folder)):
        rel = path.relative_to(folder).as_posix()
        if rel.endswith(SIDECAR_SUFFIX) or rel.lower().endswith(DOCUMENT_SUFFIXES):
            out[rel] = _sha256(path.read_bytes())
    return out


def doc_id_for(rel: str) -> str:
    """A stable, readable id from a relative path: 'Reports/HRW 2016.txt' -> 'reports/hrw-2016'."""
    stem = rel.rsplit(".", 1)[0]
    parts = [re.sub(r"[\W_]+", "-", part.casefold()).strip("-") or "doc" for part in stem.split("/")]
    return "/".join(parts)


def read_document(path: Path, rel: str, data: bytes | None = None) -> Document:
    data = path.read_bytes() if data is None else data
    if rel.lower().endswith(EXTRACTED_SUFFIXES):
        return _read_extracted(path, rel, data)
    if b"\x00" in data:
        raise DocumentProblem("binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DocumentProblem(f"not UTF-8 text (byte 0x{data[e.start]:02x} cannot be decoded); "
                       "re-save the file as UTF-8", line) from None
    body_start = 1 if text.startswith("\ufeff") else 0
    meta: dict[str, object] = {}
    fm = _FRONT_MATTER.match(text, body_start)
    if fm:
        meta = parse_metadata(fm.group(1) or "", first_line=2, where=None)
        body_start = fm.end()
    if not text[body_start:].strip():
        raise DocumentProblem("empty file (no text to quote)" if not fm else "no text after the front matter")
    sidecar = path.with_name(sidecar_name(path.name))
    if sidecar.is_file():
        if fm:
            raise DocumentProblem(f"metadata given twice: front matter and {sidecar_name(rel)}; keep one")
        meta = _read_sidecar(sidecar, rel)
    title = meta.get("title") or _title_from_text(text, body_start) or title_from_name(rel)
    return Document(doc_id_for(rel), rel, text, body_start, _source(meta, str(title)))


def _read_extracted(path: Path, rel: str, data: bytes) -> Document:
    """A PDF or web page: its extracted text, its own metadata, then the sidecar's on top."""
    from kzqa.ingest.extract import ExtractionError, extract

    try:
        got = extract(path, data)
    except ExtractionError as e:
        raise DocumentProblem(str(e)) from None
    except Exception as e:  # a bug or a library failing on this file: one line, not a traceback
        first = " ".join(str(e).split("\n", 1)[0].split())[:200]
        raise DocumentProblem(f"could not be read ({type(e).__name__}: {first}); please report this file") from None
    if len(got.text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise DocumentProblem(f"its text is over {MAX_DOCUMENT_BYTES // 2**20} MB: split it into parts")
    meta: dict[str, object] = dict(got.metadata)
    sidecar = path.with_name(sidecar_name(path.name))
    if sidecar.is_file():
        meta.update({k: v for k, v in _read_sidecar(sidecar, rel).items() if v not in (None, "")})
    title = meta.get("title") or title_from_name(rel)
    return Document(doc_id_for(rel), rel, got.text, 0, _source(meta, str(title)), got.pages,
                    got.extractor, got.blocks, got.skipped)


def sidecar_name(name: str) -> str:
    """The metadata file that goes with a document: 'a/report.pdf' -> 'a/report.meta.yaml'."""
    return name.rsplit(".", 1)[0] + SIDECAR_SUFFIX


def _read_sidecar(sidecar: Path, rel: str) -> dict[str, object]:
    side_rel = sidecar_name(rel)
    try:
        side_text = sidecar.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise SidecarProblem(side_rel, "not UTF-8 text; re-save the file as UTF-8") from None
    return parse_metadata(side_text, first_line=1, where=side_rel)


def _source(meta: dict[str, object], title: str) -> Source:
    for key, value in [("title", title), *meta.items()]:
        if too_long := _too_long(key, value):
            raise DocumentProblem(too_long)
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


def has_front_matter(data: bytes) -> bool:
    """Whether a text file opens with front matter (its metadata, kept in the file)."""
    return _FRONT_MATTER.match(data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")) is not None


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
    if too_long := _too_long(key, val):
        return too_long
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


def _too_long(key: str, value: object) -> str | None:
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


def _title_from_text(text: str, start: int) -> str | None:
    r"""A Markdown level-1 heading on the first line is the title: what
    ``re.match(r"#\s+(.+?)\s*#*\s*$", first)`` gives, in linear time (that regex backtracks
    cubically: '# a', 3,000 spaces, 'b' took 69 s)."""
    first = text[start:].lstrip("\r\n").split("\n", 1)[0]
    if not first.startswith("#"):
        return None
    rest = first[1:]
    lead = len(rest) - len(rest.lstrip())  # the '\s+' (str.isspace is re's Unicode '\s')
    if lead == 0:
        return None
    if lead == len(rest):  # nothing but spaces: '\s+' gives its last one to '(.+?)'
        return rest[-1] if lead >= 2 else None
    end = len(rest.rstrip().rstrip("#").rstrip())  # where the closing '\s*#*\s*' begins
    title = rest[lead:max(lead + 1, end)]
    return title if len(title) <= HEADING_LIMIT else None  # body text (passages._bounded)


def title_from_name(rel: str) -> str:
    """The title kzqa gives a document that states none: its file name in words."""
    stem = rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else rel


def _opt(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
