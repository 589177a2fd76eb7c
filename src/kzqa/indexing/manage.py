"""Adding documents to the corpus and taking them out, with the index kept in step.

Every file is checked (read, extracted) before it is copied in: one that cannot be read is
refused with its reason and the others are added. Each command is one writer's turn
(``kzqa.storage.lock``): the check that a name is free and the copy happen together. Its corpus
moves are journaled first (``kzqa.storage.journal``): when the index cannot be rebuilt afterwards
the corpus is put back as it was, and when the command is killed the next writer finishes
or undoes the change. A removed document is moved to a new ``<corpus>/.removed/<time>/``
(hidden from the corpus), never deleted. The rebuild reuses the vectors of every unchanged
passage (``kzqa.indexing.indexer.previous_vectors``), so only the new document is embedded.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kzqa.embed.embedding import Embedder
from kzqa.embed.passage_vectors import Progress
from kzqa.errors import CorpusProblem, KzqaError
from kzqa.indexing.indexer import BuildReport, build_index
from kzqa.ingest.corpus import (
    DOCUMENT_SUFFIXES,
    METADATA_KEYS,
    SIDECAR_SUFFIX,
    Document,
    DocumentProblem,
    doc_id_for,
    has_front_matter,
    parse_metadata,
    read_document,
    scan_corpus,
    sidecar_name,
    title_from_name,
)
from kzqa.results import Source
from kzqa.storage import journal, store

REMOVED = ".removed"


@dataclass(frozen=True, slots=True)
class MetadataUpdate:
    """A file already in the corpus, added again with other metadata: its sidecar was
    replaced by the metadata given, which sets the keys ``changed`` and no longer has the
    keys ``removed``."""

    file: str
    changed: tuple[str, ...]  # keys set anew or to another value (in METADATA_KEYS order)
    removed: tuple[str, ...]  # keys the corpus had and the new metadata does not

    def __str__(self) -> str:
        parts = [", ".join(self.changed)] if self.changed else []
        parts += [f"{', '.join(self.removed)} removed"] if self.removed else []
        if not parts:  # the corpus's sidecar could not be read: rewritten as given
            return f"{self.file}: its metadata rewritten"
        return f"{self.file}: its metadata changed ({'; '.join(parts)})"


@dataclass(frozen=True, slots=True)
class CitationGap:
    """A document added without a publisher or a URL (``missing``): its citations lack them."""

    file: str
    missing: tuple[str, ...]  # "publisher", "url"
    sidecar: Path  # where to write them (the file itself when it has front matter)

    def __str__(self) -> str:
        words = " and ".join("no URL" if key == "url" else f"no {key}" for key in self.missing)
        them = "them" if len(self.missing) > 1 else "it"
        where = str(self.sidecar) if self.sidecar.name.endswith(SIDECAR_SUFFIX) \
            else f"the front matter of {self.sidecar}"
        return (f"{self.file} has {words}, so its citations will lack {them}; "
                f"add {' and '.join(self.missing)} to {where} and run kzqa build")


@dataclass(frozen=True, slots=True)
class Cited:
    """How an added document will be cited: its ``source`` as kzqa read it (what the document
    says of itself, with the sidecar or the flags on top), and the fields of it that are
    ``guessed`` (a title made from the file name) or ``empty``. ``str()``: one line for the
    person adding it, with the flags that fill the gaps."""

    file: str
    source: Source
    guessed: tuple[str, ...] = ()
    empty: tuple[str, ...] = ()
    front_matter: bool = False  # its metadata is in the file: set there, not by flags

    def __str__(self) -> str:
        s = self.source
        parts = [f"“{s.title}”"] + [f"{key} {value}" for key in CITED_FIELDS[1:]
                                    if (value := getattr(s, key)) is not None]
        line = f"{self.file}: " + "; ".join(parts)
        hints = [f"{key} guessed from the file name" for key in self.guessed] + [f"no {key}" for key in self.empty]
        if hints:
            keys = (*self.guessed, *self.empty)
            how = (f"add {', '.join(keys)} to its front matter" if self.front_matter
                   else f"give {' '.join(f'--{key}' for key in keys)} to set {'them' if len(hints) > 1 else 'it'}")
            line += f" ({', '.join(hints)}: {how})"
        return line


# What a citation carries, in the order ``Cited`` shows it.
CITED_FIELDS = ("title", "author", "publisher", "date")


@dataclass(frozen=True, slots=True)
class Change:
    """What ``add`` or ``remove`` did to the corpus, and the build that followed."""

    documents: tuple[str, ...]  # corpus-relative files added or removed
    unchanged: tuple[str, ...]  # files already in the corpus, same bytes, same metadata (add)
    moved_to: Path | None  # where removed files went (remove)
    build: BuildReport
    refused: tuple[CorpusProblem, ...] = ()  # files that could not be added, with the reason
    updated: tuple[MetadataUpdate, ...] = ()  # files already in the corpus given new metadata (add)
    warnings: tuple[CitationGap, ...] = ()  # added or updated documents whose citations lack a part
    cited: tuple[Cited, ...] = ()  # added or updated documents, as they will be cited


@dataclass(frozen=True, slots=True)
class Incoming:
    """A document to add: a file, or bytes downloaded from an address."""

    origin: str  # what the user named: a file path or an address (for messages)
    name: str  # its file name in the corpus
    data: bytes | None = None  # downloaded bytes (None: read the file ``origin``)
    metadata: tuple[tuple[str, str], ...] = ()  # over what the document says of itself

    @classmethod
    def file(cls, path: Path, metadata: dict[str, str] | None = None) -> Incoming:
        return cls(str(path), Path(path).name, None, tuple((metadata or {}).items()))


def add(corpus: Path, index: Path, files: list[Path], metadata: dict[str, str] | None = None,
        *, embedder: Embedder | None = None, progress: Progress | None = None) -> Change:
    """Copy ``files`` into ``corpus`` and update ``index``. ``metadata`` (keys of
    ``kzqa.ingest.corpus.METADATA_KEYS``) is written as each file's sidecar, over what the file
    says of itself (without it, a sidecar beside the file is copied). A file already in the
    corpus with the same bytes is ``unchanged``, or, given other metadata, keeps its text and
    has its sidecar replaced (``updated``). A file that cannot be read, or clashes with a
    different file of the same name, is left out and listed in ``refused``; when no file can
    be added, or the build fails, raises ``KzqaError`` and changes nothing."""
    metadata = {k: v for k, v in (metadata or {}).items() if v not in (None, "")}
    if "title" in metadata and len(files) > 1:
        raise KzqaError("--title names one document: add the files one at a time")
    return add_documents(corpus, index, [Incoming.file(Path(f), metadata) for f in files],
                         embedder=embedder, progress=progress)


def add_documents(corpus: Path, index: Path, documents: list[Incoming], *,
                  embedder: Embedder | None = None, progress: Progress | None = None,
                  refused: list[CorpusProblem] | None = None) -> Change:
    """``add`` for documents each with metadata of its own (downloaded ones included).
    ``refused`` lists documents already found unusable (a failed download)."""
    corpus, index = Path(corpus), Path(index)
    sidecars = [_sidecar_text(dict(d.metadata)) for d in documents]
    if not corpus.is_dir():
        raise KzqaError(f"corpus folder not found: {corpus}")
    with store.writing(index, corpus):  # the name check and the move are one writer's turn
        staging = corpus / f".adding-{time.time_ns()}"
        outcome = _Staged()
        refused = list(refused or ())
        try:
            staging.mkdir()
            for document, sidecar_text in zip(documents, sidecars):
                try:
                    _stage(document, corpus, staging, sidecar_text, outcome)
                except _Refused as r:
                    refused.append(r.problem)
            if refused and not outcome.added and not outcome.updated and not outcome.unchanged:
                raise KzqaError("nothing was added:\n" + "\n".join(f"  {p}" for p in refused))
            moves: list[tuple[str, str]] = []
            for staged in sorted(staging.iterdir()):
                if (corpus / staged.name).exists():  # a sidecar replaced: the old one kept aside
                    moves.append((staged.name, f"{staging.name}/.before/{staged.name}"))
                moves.append((f"{staging.name}/{staged.name}", staged.name))
            report = _change(corpus, index, moves, staging.name, embedder, progress)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return Change(tuple(outcome.added), tuple(outcome.unchanged), None, report, tuple(refused),
                  tuple(outcome.updated), tuple(outcome.gaps), tuple(outcome.cited))


def remove(corpus: Path, index: Path, names: list[str], *, embedder: Embedder | None = None,
           progress: Progress | None = None) -> Change:
    """Take the documents ``names`` (document ids, or file names as in the corpus) out of
    ``corpus`` and update ``index``. The files (and their sidecars) are moved to
    ``<corpus>/.removed/<time>/`` (a new folder each time); when the index cannot be rebuilt
    they are put back."""
    corpus, index = Path(corpus), Path(index)
    with store.writing(index, corpus):
        scan = scan_corpus(corpus)
        by_name = {d.doc_id: d for d in scan.documents} | {d.file: d for d in scan.documents}
        missing = [n for n in names if n not in by_name and n.strip("/") not in by_name]
        if missing:
            known = ", ".join(sorted(d.doc_id for d in scan.documents)) or "none"
            raise KzqaError(f"no document {', '.join(map(repr, missing))} in {corpus} (documents: {known})")
        docs: dict[str, Document] = {}
        for n in names:
            doc = by_name.get(n) or by_name[n.strip("/")]
            docs[doc.file] = doc
        if len(docs) == len(scan.documents):
            raise KzqaError("that would leave the corpus empty; an index needs at least one document")
        where = _removed_folder(corpus)
        moves = [(rel, f"{where.relative_to(corpus).as_posix()}/{rel}") for doc in docs.values()
                 for rel in (doc.file, sidecar_name(doc.file)) if (corpus / rel).is_file()]
        report = _change(corpus, index, moves, None, embedder, progress)
    return Change(tuple(docs), (), where, report)


def _removed_folder(corpus: Path) -> Path:
    """A new folder ``.removed/<time>`` (``<time>-2``, ... when taken: nothing is overwritten)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (corpus / REMOVED).mkdir(exist_ok=True)
    for n in range(1, 1000):
        where = corpus / REMOVED / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            where.mkdir()
            return where
        except FileExistsError:
            continue
    raise KzqaError(f"cannot make a new folder in {corpus / REMOVED}: clear it out")


def _change(corpus: Path, index: Path, moves: list[tuple[str, str]], scratch: str | None,
            embedder: Embedder | None, progress: Progress | None) -> BuildReport:
    """Make ``moves`` in the corpus and rebuild the index, journaled: if this fails, the
    moves are undone; if it is killed, the next writer finishes or undoes it."""
    if not moves:
        return build_index(corpus, index, embedder=embedder, progress=progress)
    plan = journal.plan(corpus, moves, (scratch,) if scratch else ())
    journal.begin(index, plan)
    try:
        for src, dst in moves:
            (corpus / dst).parent.mkdir(parents=True, exist_ok=True)
            os.replace(corpus / src, corpus / dst)
        report = build_index(corpus, index, embedder=embedder, progress=progress)
    except BaseException:
        journal.undo(plan)
        journal.finish(index, plan)
        raise
    journal.finish(index, plan)
    return report


def _sidecar_text(metadata: dict[str, str]) -> str | None:
    """The sidecar for ``metadata``, checked as the corpus will read it (None: no metadata)."""
    metadata = {k: v for k, v in metadata.items() if v not in (None, "")}
    unknown = set(metadata) - set(METADATA_KEYS)
    if unknown:
        raise KzqaError(f"unknown metadata {', '.join(sorted(unknown))} (known: {', '.join(METADATA_KEYS)})")
    if not metadata:
        return None
    text = yaml.safe_dump(metadata, allow_unicode=True, sort_keys=False)
    try:
        parse_metadata(text, first_line=1, where="the metadata given")
    except DocumentProblem as p:
        raise KzqaError(f"the metadata given: {p.reason}") from None
    return text


@dataclass(slots=True)
class _Staged:
    """What ``_stage`` made of each document so far."""

    added: list[str] = field(default_factory=list)
    updated: list[MetadataUpdate] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    gaps: list[CitationGap] = field(default_factory=list)
    cited: list[Cited] = field(default_factory=list)


def _stage(document: Incoming, corpus: Path, staging: Path, sidecar_text: str | None,
           staged: _Staged) -> None:
    """Check ``document`` and copy it (and its sidecar) into ``staging``; ``_Refused`` if it
    cannot be added."""
    def refuse(reason: str, line: int | None = None) -> _Refused:
        return _Refused(CorpusProblem(document.origin, reason, line))

    name, file = document.name, Path(document.origin)
    if document.data is None and not file.is_file():
        raise refuse("no such file")
    if not name.lower().endswith(DOCUMENT_SUFFIXES):
        raise refuse("kzqa reads .txt, .md, .pdf and .html files")
    if name.endswith(SIDECAR_SUFFIX):
        raise refuse("a metadata file; add the document it describes instead")
    if name.startswith("."):
        raise refuse("a hidden file (its name starts with a dot), which kzqa never reads; rename it")
    data = document.data if document.data is not None else file.read_bytes()
    target = corpus / name
    sidecar = sidecar_name(name)
    beside = file.parent / sidecar  # without metadata given, a sidecar beside the file travels with it
    given = (sidecar_text.encode("utf-8") if sidecar_text is not None
             else beside.read_bytes() if document.data is None and beside.is_file() else None)
    update = None
    # a text file's own front matter holds its metadata: a sidecar beside it would be a second
    # source (refused by the corpus), and the file is kept as it is, so no date is stamped
    stamp = not (given is None and name.lower().endswith((".md", ".txt")) and has_front_matter(data))
    if not target.exists():
        given = _stamped(given, _today()) if stamp else given
    else:
        if target.read_bytes() != data:
            raise refuse(f"the corpus already has a different {name}; rename the new file, "
                         f"or take the old one out first: kzqa remove {doc_id_for(name)}")
        old = corpus / sidecar
        before = old.read_bytes() if old.is_file() else None
        if given is not None:  # new metadata keeps the date the document was first added
            given = _stamped(given, str((_metadata(before) or {}).get("accessed") or _today()))
        update = _metadata_change(name, before, given)
        if update is None:
            staged.unchanged.append(name)
            return
    (staging / name).write_bytes(data)
    if given is not None:
        (staging / sidecar).write_bytes(given)
    try:
        doc = read_document(staging / name, name, data)
    except DocumentProblem as p:
        for stale in (name, sidecar):
            (staging / stale).unlink(missing_ok=True)
        raise refuse(p.reason, p.line) from None
    missing = tuple(key for key in ("publisher", "url") if not getattr(doc.source, key))
    if missing:
        staged.gaps.append(CitationGap(name, missing, corpus / (sidecar if stamp else name)))
    guessed = ("title",) if title_from_name(name) == doc.source.title else ()
    staged.cited.append(Cited(name, doc.source, guessed,
                              tuple(key for key in CITED_FIELDS[1:] if getattr(doc.source, key) is None),
                              front_matter=not stamp))
    if update is not None:
        staged.updated.append(update)
    else:
        staged.added.append(name)


def _stamped(sidecar: bytes | None, accessed: str) -> bytes | None:
    """``sidecar`` (None: none) with an ``accessed`` date if it has none: the day kzqa added
    the document, the "[accessed DATE]" of a COI citation. A sidecar that cannot be read is
    left as it is (it is refused with its reason later)."""
    meta = _metadata(sidecar)
    if meta is None or meta.get("accessed"):
        return sidecar
    text = (sidecar or b"").decode("utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    return (text + f"accessed: {accessed}  # the date kzqa added the document\n").encode("utf-8")


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def _metadata_change(name: str, old: bytes | None, new: bytes | None) -> MetadataUpdate | None:
    """How the sidecar ``new`` (None: no metadata given) differs from ``old``, the one in the
    corpus; None when the file stays as it is (same metadata, or none given)."""
    if new is None or new == old:
        return None
    before, after = _metadata(old), _metadata(new)
    if before == after and before is not None:
        return None  # the same keys and values, written otherwise: the corpus's copy is kept
    before, after = before or {}, after or {}
    changed = tuple(k for k in METADATA_KEYS if k in after and after[k] != before.get(k))
    removed = tuple(k for k in METADATA_KEYS if k in before and k not in after)
    return MetadataUpdate(name, changed, removed)


def _metadata(sidecar: bytes | None) -> dict[str, object] | None:
    """The keys and values of a sidecar ({} for none); None when it cannot be read (any
    metadata given differs from it; a given one that cannot be read is refused later)."""
    if sidecar is None:
        return {}
    try:
        return parse_metadata(sidecar.decode("utf-8"), first_line=1, where=None)
    except (UnicodeDecodeError, DocumentProblem):
        return None


class _Refused(Exception):
    def __init__(self, problem: CorpusProblem):
        self.problem = problem
