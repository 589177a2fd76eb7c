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

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kzqa.documents import Source
from kzqa.errors import CorpusProblem
from kzqa.ingest.extracted import Skipped, Span
from kzqa.ingest.metadata import (
    METADATA_KEYS,
    SIDECAR_SUFFIX,
    DocumentProblem,
    SidecarProblem,
    parse_metadata,
    read_sidecar,
    sidecar_name,
    source_of,
)

HEADING_LIMIT = 300  # the longest heading (or title from one) kept as such; longer is body text

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
EXTRACTED_SUFFIXES = (".pdf", ".html", ".htm")  # read through kzqa.ingest.extract
DOCUMENT_SUFFIXES = TEXT_SUFFIXES + EXTRACTED_SUFFIXES
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # ~30,000 passages, ~3 h to embed here: split larger files
MAX_EXTRACTED_FILE_BYTES = 200 * 1024 * 1024  # a PDF is mostly images and fonts; its text is checked too

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


@dataclass(frozen=True, slots=True)
class KnownDocument:
    """A document already read (by an add that checked it, or by the build of the index being
    replaced), with the sha256 of the file and of its sidecar (None: none) it was read from.
    A scan takes it instead of reading the file again only while both still have those bytes:
    what a document is depends on nothing else."""

    document: Document
    sha256: str
    sidecar_sha256: str | None


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


def scan_corpus(folder: Path, known: Mapping[str, KnownDocument] | None = None) -> CorpusScan:
    """Read every document in ``folder``. Bad files become problems, never exceptions.
    ``known`` (by corpus-relative file) are documents already read: one whose file and
    sidecar still have the bytes it was read from is taken as it is, not read again."""
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
            hashes[rel] = sha256_of(data)
            stem = rel[: -len(SIDECAR_SUFFIX)]
            if not any(stem + s in names for s in DOCUMENT_SUFFIXES):
                problems.append(CorpusProblem(rel, "metadata file with no document beside it "
                                              f"(expected {stem}.txt, .md, .pdf or .html)"))
            continue
        if not rel.lower().endswith(DOCUMENT_SUFFIXES):
            ignored.append(rel)
            continue
        hashes[rel] = sha256_of(data)
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
            doc = _known(known or {}, rel, path, hashes[rel]) or read_document(path, rel, data)
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


def _known(known: Mapping[str, KnownDocument], rel: str, path: Path, sha256: str) -> Document | None:
    """The document ``known`` holds for ``rel`` if it was read from these very bytes."""
    got = known.get(rel)
    if got is None or got.sha256 != sha256 or got.document.file != rel:
        return None
    sidecar = path.with_name(sidecar_name(path.name))
    on_disk = sha256_of(sidecar.read_bytes()) if sidecar.is_file() else None
    return got.document if on_disk == got.sidecar_sha256 else None


def document_names(folder: Path) -> list[str]:
    """The corpus-relative names of the files ``scan_corpus`` would read as documents (by
    name alone: none is read)."""
    names = [p.relative_to(folder).as_posix() for p in corpus_files(Path(folder))]
    return [n for n in names if not n.endswith(SIDECAR_SUFFIX) and n.lower().endswith(DOCUMENT_SUFFIXES)]


def corpus_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file that ``scan_corpus`` would read (documents and sidecars)."""
    out = {}
    for path in corpus_files(Path(folder)):
        rel = path.relative_to(folder).as_posix()
        if rel.endswith(SIDECAR_SUFFIX) or rel.lower().endswith(DOCUMENT_SUFFIXES):
            out[rel] = sha256_of(path.read_bytes())
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
        meta = read_sidecar(sidecar, rel)
    title = meta.get("title") or _title_from_text(text, body_start) or title_from_name(rel)
    return Document(doc_id_for(rel), rel, text, body_start, source_of(meta, str(title)))


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
        meta.update({k: v for k, v in read_sidecar(sidecar, rel).items() if v not in (None, "")})
    title = meta.get("title") or title_from_name(rel)
    return Document(doc_id_for(rel), rel, got.text, 0, source_of(meta, str(title)), got.pages,
                    got.extractor, got.blocks, got.skipped)


def has_front_matter(data: bytes) -> bool:
    """Whether a text file opens with front matter (its metadata, kept in the file)."""
    return _FRONT_MATTER.match(data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")) is not None


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


def sha256_of(data: bytes) -> str:
    """The sha256 (hex) by which the corpus knows a file's bytes."""
    return hashlib.sha256(data).hexdigest()


__all__ = [
    "DOCUMENT_SUFFIXES", "EXTRACTED_SUFFIXES", "HEADING_LIMIT", "METADATA_KEYS", "SIDECAR_SUFFIX",
    "CorpusScan", "Document", "DocumentProblem", "KnownDocument", "corpus_files", "corpus_hashes", "doc_id_for",
    "document_names", "has_front_matter", "read_document", "scan_corpus", "sha256_of", "sidecar_name",
    "title_from_name",
]
