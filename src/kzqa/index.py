"""The index on disk: building it from a corpus, writing it atomically, loading and checking it.

An index folder holds plain files anyone can inspect (no pickle anywhere):

- ``manifest.json``         format version, kzqa version, model, dimension, settings, the
                            documents with their sources, the sha256 of every corpus file,
                            and the name, size and sha256 of the two data files below;
- ``passages-<gen>.jsonl``  one passage per line: id, doc_id, text, start, end, ...;
- ``vectors-<gen>.faiss``   a FAISS inner-product index of the normalised embeddings,
                            row i = line i of the passages file.

``<gen>`` is a hash of the content. A build writes the new data files beside the old ones
and then replaces ``manifest.json`` in one atomic rename: a build killed at any point
leaves the previous manifest pointing at the previous, complete files.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .corpus import Document, corpus_hashes, scan_corpus
from . import embedding
from .embedding import Embedder
from .errors import (CorpusError, CorpusProblem, IndexCorrupt, IndexMismatch, IndexMissing,
                     IndexStale, KzqaError)
from .passages import make_passages
from .paths import build_command
from .results import Passage, Source, _section_beyond_title
from .settings import Settings

FORMAT = "kzqa-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    doc_id: str
    file: str
    source: Source
    passages: int


@dataclass(frozen=True)
class StoredIndex:
    """An index read from disk and checked: ready to search."""

    path: Path
    corpus: Path
    settings: Settings
    dimension: int
    documents: dict[str, DocumentRecord]
    passages: tuple[Passage, ...]
    vectors: Any  # faiss.Index
    manifest: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class BuildReport:
    index: Path
    documents: int
    passages: int
    skipped: tuple[CorpusProblem, ...]  # bad files left out (only with skip_invalid)
    ignored: tuple[str, ...]  # files of other types, not read
    seconds: float


def embed_text(passage: Passage, source: Source, with_context: bool) -> str:
    """What the model sees for a passage: title and section ahead of the text (context
    only; the quoted text is the passage alone). Whitespace is collapsed here, and only
    here, because the model does not care about it."""
    text = " ".join(passage.text.split())
    if not with_context:
        return text
    section = _section_beyond_title(passage.section, source.title, source.subtitle)
    head = source.full_title + (f" — {section}" if section else "")
    return f"{head}\n{text}"


def build_index(corpus: Path, index: Path, settings: Settings | None = None,
                embedder: Embedder | None = None, *, skip_invalid: bool = False,
                progress: Progress | None = None) -> BuildReport:
    """Build the index of ``corpus`` into ``index``. Nothing is written unless the whole
    build succeeds; the previous index stays usable throughout."""
    import faiss

    started = time.perf_counter()
    corpus, index = Path(corpus), Path(index)
    settings = settings or Settings()
    if not corpus.is_dir():
        raise KzqaError(f"corpus folder not found: {corpus}")
    scan = scan_corpus(corpus)
    if scan.problems and not skip_invalid:
        raise CorpusError(scan.problems, hint="Nothing was written; the previous index is unchanged. "
                          "Fix or remove these files, or pass --skip-invalid to index the others.")
    if not scan.documents:
        raise KzqaError(f"no documents to index in {corpus} (kzqa reads .txt and .md files)")
    passages: list[Passage] = []
    records: dict[str, DocumentRecord] = {}
    texts: list[str] = []
    for doc in scan.documents:
        mine = make_passages(doc, settings.max_chars)
        if not mine:
            raise CorpusError([CorpusProblem(doc.file, "no quotable paragraph (only headings or "
                                             "page furniture)")])
        passages += mine
        texts += [embed_text(p, doc.source, settings.embed_context) for p in mine]
        records[doc.doc_id] = DocumentRecord(doc.doc_id, doc.file, doc.source, len(mine))
    embedder = embedder or embedding.make_embedder(settings.model)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("embedding", done, len(texts))

    if progress:
        progress("embedding", 0, len(texts))
    vectors = embedder.encode(texts, progress=step)
    if vectors.shape != (len(texts), embedder.dimension):
        raise KzqaError(f"model '{settings.model}' returned vectors of shape {vectors.shape}, "
                        f"expected ({len(texts)}, {embedder.dimension})")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    faiss.normalize_L2(vectors)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    _write(index, corpus, settings, vectors.shape[1], records, passages, scan.hashes, flat)
    return BuildReport(index, len(records), len(passages), scan.problems if skip_invalid else (),
                       scan.ignored, time.perf_counter() - started)


def load_index(index: Path, *, check_corpus: bool = True) -> StoredIndex:
    """Read and check an index. Raises a ``KzqaError`` that says how to fix what is wrong:
    missing, corrupt, built another way, or stale against its corpus."""
    import faiss

    index = Path(index)
    manifest_path = index / MANIFEST
    rebuild = f"Build it with: {build_command(_guess_corpus(index), index)}"
    if not manifest_path.is_file():
        raise IndexMissing(f"no index at {index} ({MANIFEST} not found). {rebuild}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        corpus = (index / manifest["corpus"]["path"]).resolve()
        rebuild = f"Rebuild it with: {build_command(corpus, index)}"
        if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            raise IndexMismatch(f"{index} holds index format {manifest.get('format')!r} version "
                                f"{manifest.get('format_version')!r}; this kzqa ({__version__}) reads "
                                f"{FORMAT!r} version {FORMAT_VERSION}. {rebuild}")
        settings = Settings.from_dict(manifest["settings"])
        dimension = int(manifest["model"]["dimension"])
        files = manifest["files"]
        passages_bytes = _read_checked(index, files["passages"], rebuild)
        vector_bytes = _read_checked(index, files["vectors"], rebuild)
        passages = tuple(Passage(**json.loads(line)) for line in passages_bytes.decode("utf-8").splitlines())
        documents = {
            d["doc_id"]: DocumentRecord(d["doc_id"], d["file"], Source(**d["source"]), d["passages"])
            for d in manifest["documents"]
        }
    except KzqaError:
        raise
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise IndexCorrupt(f"the index at {index} is damaged ({type(e).__name__}: {e}). {rebuild}") from None
    vectors = faiss.deserialize_index(np.frombuffer(vector_bytes, dtype=np.uint8))
    if vectors.ntotal != len(passages) or vectors.d != dimension:
        raise IndexCorrupt(f"the index at {index} has {vectors.ntotal} vectors of dimension "
                           f"{vectors.d} for {len(passages)} passages of dimension {dimension}. {rebuild}")
    if check_corpus:
        _check_fresh(index, corpus, manifest["corpus"]["files"], rebuild)
    return StoredIndex(index, corpus, settings, dimension, documents, passages, vectors, manifest)


def stale_files(corpus: Path, recorded: dict[str, str]) -> list[str]:
    """What changed in ``corpus`` since the index recorded its files, one line each."""
    now = corpus_hashes(corpus)
    out = [f"changed: {f}" for f in sorted(recorded) if f in now and now[f] != recorded[f]]
    out += [f"added: {f}" for f in sorted(set(now) - set(recorded))]
    out += [f"removed: {f}" for f in sorted(set(recorded) - set(now))]
    return out


def _check_fresh(index: Path, corpus: Path, recorded: dict[str, str], rebuild: str) -> None:
    if not corpus.is_dir():
        raise IndexStale(f"the corpus the index at {index} was built from ({corpus}) is not there, "
                         f"so kzqa cannot check that the index matches it. {rebuild}")
    changes = stale_files(corpus, recorded)
    if changes:
        shown = "; ".join(changes[:5]) + (f"; and {len(changes) - 5} more" if len(changes) > 5 else "")
        raise IndexStale(f"the corpus changed since the index was built ({shown}). {rebuild}")


def _write(index: Path, corpus: Path, settings: Settings, dimension: int,
           records: dict[str, DocumentRecord], passages: list[Passage],
           corpus_files: dict[str, str], flat: Any) -> None:
    import faiss

    try:
        index.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise KzqaError(f"cannot create the index folder {index}: {e.strerror}") from None
    passages_bytes = "".join(json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in passages).encode()
    vector_bytes = faiss.serialize_index(flat).tobytes()
    gen = hashlib.sha256(passages_bytes + vector_bytes).hexdigest()[:12]
    names = {"passages": f"passages-{gen}.jsonl", "vectors": f"vectors-{gen}.faiss"}
    try:
        corpus_rel = os.path.relpath(corpus.resolve(), index.resolve())
    except ValueError:  # another drive on Windows
        corpus_rel = str(corpus.resolve())
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kzqa_version": __version__,
        "model": {"name": settings.model, "dimension": dimension},
        "index_type": "flat-ip",
        "count": len(passages),
        "settings": settings.to_dict(),
        "corpus": {"path": Path(corpus_rel).as_posix(), "files": corpus_files},
        "documents": [
            {"doc_id": r.doc_id, "file": r.file, "passages": r.passages, "source": asdict(r.source)}
            for r in records.values()
        ],
        "files": {
            key: {"name": names[key], "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for key, data in (("passages", passages_bytes), ("vectors", vector_bytes))
        },
    }
    try:
        _atomic_write(index / names["passages"], passages_bytes)
        _atomic_write(index / names["vectors"], vector_bytes)
        manifest_bytes = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
        _atomic_write(index / MANIFEST, manifest_bytes)  # the commit point
    except OSError as e:
        raise KzqaError(f"cannot write the index to {index}: {e.strerror}. "
                        "The previous index, if any, is unchanged.") from None
    _fsync_dir(index)
    for old in index.iterdir():  # files of earlier builds, and leftovers of killed ones
        stale = (old.name.startswith(("passages-", "vectors-")) and old.name not in names.values()) \
            or ".tmp-" in old.name
        if stale and old.is_file():
            old.unlink(missing_ok=True)


def _read_checked(index: Path, entry: dict[str, Any], rebuild: str) -> bytes:
    path = index / entry["name"]
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise IndexCorrupt(f"index file {path} is missing. {rebuild}") from None
    if len(data) != entry["bytes"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise IndexCorrupt(f"index file {path} is truncated or altered (its size or sha256 differs "
                           f"from the manifest). {rebuild}")
    return data


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _guess_corpus(index: Path) -> Path:
    from .paths import default_corpus_dir

    return default_corpus_dir()


__all__ = ["BuildReport", "DocumentRecord", "StoredIndex", "build_index", "embed_text",
           "load_index", "stale_files", "Document"]
