"""Adding documents to the corpus and taking them out, with the index kept in step.

Every file is checked (read, extracted) before it is copied in: one that cannot be read is
refused with its reason and the others are added. Each command is one writer's turn
(``kzqa.storage.lock``): the check that a name is free and the copy happen together. Its corpus
moves are journaled first (``kzqa.storage.journal``): when the index cannot be rebuilt afterwards
the corpus is put back as it was, and when the command is killed the next writer finishes
or undoes the change. A removed document is moved to a new ``<corpus>/.removed/<time>/``
(hidden from the corpus), never deleted. The index is then brought up to date
(``kzqa.indexing.indexer.update_index``): a document added is read once, here, and every
unchanged passage keeps its vectors, and every unchanged PDF or web page its extracted
text, from the index being replaced (``kzqa.indexing.previous``), so the cost of an add
follows the document added, not the library it joins.
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
from kzqa.indexing.changes import CITED_FIELDS, Change, CitationGap, Cited, Incoming, MetadataUpdate
from kzqa.indexing.indexer import BuildReport, update_index
from kzqa.ingest.corpus import (
    DOCUMENT_SUFFIXES,
    METADATA_KEYS,
    SIDECAR_SUFFIX,
    DocumentProblem,
    KnownDocument,
    doc_id_for,
    document_names,
    has_front_matter,
    read_document,
    sha256_of,
    sidecar_name,
    title_from_name,
)
from kzqa.ingest.metadata import parse_metadata
from kzqa.storage import journal, store

REMOVED = ".removed"


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
            report = _change(corpus, index, moves, staging.name, embedder, progress, outcome.known)
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
        files = document_names(corpus)  # by name only: nothing is read or extracted to find them
        by_name = {doc_id_for(f): f for f in files} | {f: f for f in files}
        missing = [n for n in names if n not in by_name and n.strip("/") not in by_name]
        if missing:
            known = ", ".join(sorted(doc_id_for(f) for f in files)) or "none"
            raise KzqaError(f"no document {', '.join(map(repr, missing))} in {corpus} (documents: {known})")
        chosen = list(dict.fromkeys(by_name.get(n) or by_name[n.strip("/")] for n in names))
        if len(chosen) == len(files):
            raise KzqaError("that would leave the corpus empty; an index needs at least one document")
        where = _removed_folder(corpus)
        moves = [(rel, f"{where.relative_to(corpus).as_posix()}/{rel}") for file in chosen
                 for rel in (file, sidecar_name(file)) if (corpus / rel).is_file()]
        report = _change(corpus, index, moves, None, embedder, progress, {})
    return Change(tuple(chosen), (), where, report)


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
            embedder: Embedder | None, progress: Progress | None,
            known: dict[str, KnownDocument]) -> BuildReport:
    """Make ``moves`` in the corpus and rebuild the index, journaled: if this fails, the
    moves are undone; if it is killed, the next writer finishes or undoes it."""
    if not moves:
        return update_index(corpus, index, embedder=embedder, progress=progress, known=known)
    plan = journal.plan(corpus, moves, (scratch,) if scratch else ())
    journal.begin(index, plan)
    try:
        for src, dst in moves:
            (corpus / dst).parent.mkdir(parents=True, exist_ok=True)
            os.replace(corpus / src, corpus / dst)
        report = update_index(corpus, index, embedder=embedder, progress=progress, known=known)
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
    known: dict[str, KnownDocument] = field(default_factory=dict)  # as read here: not read again


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
    staged.known[name] = KnownDocument(doc, sha256_of(data), sha256_of(given) if given is not None else None)
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
