"""The index on disk: its format, written atomically, loaded and verified.

Both sides use this module: the build hands it a finished ``Generation`` to write; the
query side loads a ``StoredIndex`` from it. It builds nothing (no model, no FAISS training,
no BM25 indexing): it stores and checks bytes.

An index folder holds plain files anyone can inspect (no pickle anywhere):

- ``manifest.json``         format version, kzqa version, model, dimension, settings, the
                            documents with their sources, the sha256 of every corpus file,
                            and the name, size and sha256 of every data file below;
- ``passages-<gen>.jsonl``  one passage per line: id, doc_id, text, start, end, ...;
- ``vectors-<gen>.faiss``   a FAISS inner-product index of the normalised embeddings,
                            row i = line i of the passages file (``kzqa.dense``);
- ``sentences-<gen>.npy``   float16 embeddings of every passage's sentences, in order
                            (``kzqa.passage_vectors``; for highlights);
- ``texts-<gen>.jsonl``     the extracted text of every PDF and web page (one JSON line per
                            document, with its page spans): their passages are slices of it;
- ``bm25-<gen>/``           the BM25 index (bm25s: .npy arrays and JSON, no pickle).

``<gen>`` is a hash of the content. A write puts the new data files beside the old ones
and then replaces ``manifest.json`` in one atomic rename: a write killed at any point
leaves the previous manifest pointing at the previous, complete files.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .corpus import corpus_hashes
from .errors import IndexCorrupt, IndexMismatch, IndexMissing, IndexStale, KzqaError
from .paths import build_command, default_corpus_dir
from .results import Passage, Source
from .settings import PASSAGE_RULES_VERSION, Settings

FORMAT = "kzqa-index"
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
DATA_PREFIXES = ("passages-", "vectors-", "sentences-", "texts-", "bm25-")


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    doc_id: str
    file: str
    source: Source
    passages: int
    extractor: str | None = None  # PDF / web page: what extracted its text
    pages: int = 0  # PDF: number of pages


@dataclass(frozen=True, slots=True)
class ExtractedText:
    """The stored text of a PDF or web page: its passages are slices of ``text``."""

    doc_id: str
    extractor: str
    pages: list[tuple[int, int]]
    text: str


@dataclass(frozen=True)
class Generation:
    """Everything a build made, ready to be written: the store only serialises and checks."""

    corpus: Path
    corpus_files: dict[str, str]  # corpus-relative file -> sha256
    settings: Settings
    model: dict[str, Any]  # name, dimension, key, sentences
    documents: list[DocumentRecord]
    passages: list[Passage]
    vectors: bytes | memoryview  # a serialised FAISS index
    vector_index: dict[str, Any]  # how it was built (``kzqa.dense.describe``)
    sentence_vectors: np.ndarray  # float16
    centroid: np.ndarray
    texts: list[ExtractedText]
    bm25: dict[str, bytes]  # file name -> bytes of the saved BM25 index


@dataclass(frozen=True)
class StoredIndex:
    """An index read from disk and checked: ready to search."""

    path: Path
    corpus: Path
    settings: Settings
    dimension: int
    documents: dict[str, DocumentRecord]
    passages: tuple[Passage, ...]
    vectors: Any  # faiss.Index (faiss ships no type information)
    lexical: Any = field(repr=False)  # retrieval.Lexical
    sentence_vectors: np.ndarray = field(repr=False)  # float16
    sentence_rows: np.ndarray = field(repr=False)  # first sentence row of each passage
    centroid: np.ndarray = field(repr=False)
    model: dict[str, Any] = field(repr=False)  # as recorded at build time


def write(index: Path, gen: Generation) -> None:
    """Write ``gen`` into ``index`` atomically: data files first, under content-hashed
    names, then ``manifest.json`` by one rename; then the files of earlier generations go."""
    index = Path(index)
    try:
        index.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise KzqaError(f"cannot create the index folder {index}: {e.strerror}") from None
    data_files = _data_files(gen)
    digest = hashlib.sha256()
    for part in data_files.values():
        digest.update(part)
    for name, data in sorted(gen.bm25.items()):
        digest.update(name.encode())
        digest.update(data)
    digest.update(json.dumps(gen.settings.to_dict(), sort_keys=True).encode())
    tag = digest.hexdigest()[:12]
    names = {"passages": f"passages-{tag}.jsonl", "vectors": f"vectors-{tag}.faiss",
             "sentences": f"sentences-{tag}.npy", "texts": f"texts-{tag}.jsonl"}
    bm25_dir = f"bm25-{tag}"
    try:
        for key, data in data_files.items():
            atomic_write(index / names[key], data)
        _write_folder(index / bm25_dir, gen.bm25)
        manifest = _manifest(index, gen, {key: entry(names[key], data) for key, data in data_files.items()},
                             [entry(f"{bm25_dir}/{n}", gen.bm25[n]) for n in sorted(gen.bm25)])
        atomic_write(index / MANIFEST, (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode())
    except OSError as e:
        raise KzqaError(f"cannot write the index to {index}: {e.strerror}. "
                        "The previous index, if any, is unchanged.") from None
    fsync_dir(index)
    _remove_earlier(index, set(names.values()) | {bm25_dir})


def _data_files(gen: Generation) -> dict[str, bytes | memoryview]:
    passages = b"".join((json.dumps(asdict(p), ensure_ascii=False) + "\n").encode() for p in gen.passages)
    buf = io.BytesIO()
    np.save(buf, np.asarray(gen.sentence_vectors, dtype=np.float16), allow_pickle=False)
    texts = b"".join((json.dumps(asdict(t), ensure_ascii=False) + "\n").encode() for t in gen.texts)
    return {"passages": passages, "vectors": gen.vectors, "sentences": buf.getbuffer(), "texts": texts}


def _write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """A folder that appears whole or not at all (same generation = same content: kept)."""
    if folder.is_dir():
        return
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for name, data in files.items():
        atomic_write(tmp / name, data)
    os.replace(tmp, folder)


def _manifest(index: Path, gen: Generation, files: dict[str, dict[str, Any]],
              bm25: list[dict[str, Any]]) -> dict[str, Any]:
    try:
        corpus_rel = os.path.relpath(gen.corpus.resolve(), index.resolve())
    except ValueError:  # another drive on Windows
        corpus_rel = str(gen.corpus.resolve())
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kzqa_version": __version__,
        "model": gen.model,
        "vector_index": gen.vector_index,
        "count": len(gen.passages),
        "settings": gen.settings.to_dict(),
        "corpus": {"path": Path(corpus_rel).as_posix(), "files": gen.corpus_files},
        "documents": [
            {"doc_id": r.doc_id, "file": r.file, "passages": r.passages, "source": asdict(r.source),
             **({"extractor": r.extractor, "pages": r.pages} if r.extractor else {})}
            for r in gen.documents
        ],
        "files": {**files, "bm25": bm25},
        "centroid": [round(float(x), 7) for x in gen.centroid],
    }


def _remove_earlier(index: Path, keep: set[str]) -> None:
    """Delete the data files of earlier generations and leftovers of killed writes."""
    for old in index.iterdir():
        earlier = old.name.startswith(DATA_PREFIXES) and old.name not in keep
        if earlier or ".tmp-" in old.name:
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)


def read_manifest(index: Path) -> dict[str, Any] | None:
    """The manifest of the index at ``index``, or None when there is none or it cannot be read."""
    try:
        data = json.loads((Path(index) / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load(index: Path, *, check_corpus: bool = True) -> StoredIndex:
    """Read and check an index. Raises a ``KzqaError`` that says how to fix what is wrong:
    missing, corrupt, built another way, or stale against its corpus."""
    index = Path(index)
    if not (index / MANIFEST).is_file():
        rebuild = f"Build it with: {build_command(default_corpus_dir(), index)}"
        raise IndexMissing(f"no index at {index} ({MANIFEST} not found). {rebuild}")
    rebuild = f"Rebuild it with: {build_command(default_corpus_dir(), index)}"
    try:
        manifest = json.loads((index / MANIFEST).read_text(encoding="utf-8"))
        corpus = (index / manifest["corpus"]["path"]).resolve()
        rebuild = f"Rebuild it with: {build_command(corpus, index)}"
        return _load(index, manifest, corpus, rebuild, check_corpus)
    except KzqaError:
        raise
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, IndexError, AttributeError,
            RuntimeError) as e:
        raise IndexCorrupt(f"the index at {index} is damaged ({type(e).__name__}: {e}). {rebuild}") from None


def _load(index: Path, manifest: dict[str, Any], corpus: Path, rebuild: str,
          check_corpus: bool) -> StoredIndex:
    import faiss

    from .retrieval import Lexical

    _check_format(index, manifest, rebuild)
    settings = Settings.from_dict(manifest["settings"])
    if settings.rules_version != PASSAGE_RULES_VERSION:
        raise IndexMismatch(f"the index at {index} was cut into passages by the rules of version "
                            f"{settings.rules_version}; this kzqa ({__version__}) cuts by version "
                            f"{PASSAGE_RULES_VERSION}. {rebuild}")
    dimension = int(manifest["model"]["dimension"])
    files = manifest["files"]
    passages_bytes = read_checked(index, files["passages"], rebuild)
    vector_bytes = read_checked(index, files["vectors"], rebuild)
    sentence_bytes = read_checked(index, files["sentences"], rebuild)
    if "texts" in files:  # checked, not parsed: searching never needs the extracted texts
        read_checked(index, files["texts"], rebuild)
    if not files["bm25"]:
        raise IndexCorrupt(f"the index at {index} lists no BM25 files. {rebuild}")
    for item in files["bm25"]:
        read_checked(index, item, rebuild)
    passages = tuple(_passage(json.loads(line)) for line in passages_bytes.decode("utf-8").splitlines())
    sentence_vectors = np.load(io.BytesIO(sentence_bytes), allow_pickle=False)
    centroid = np.asarray(manifest["centroid"], dtype=np.float32)
    documents = {
        d["doc_id"]: DocumentRecord(d["doc_id"], d["file"], Source(**d["source"]), d["passages"],
                                    d.get("extractor"), int(d.get("pages", 0)))
        for d in manifest["documents"]
    }
    unknown = {p.doc_id for p in passages} - documents.keys()
    if unknown:
        raise IndexCorrupt(f"the index at {index} has passages of documents it does not list "
                           f"({', '.join(sorted(unknown)[:3])}). {rebuild}")
    vectors = faiss.deserialize_index(np.frombuffer(vector_bytes, dtype=np.uint8))
    if vectors.ntotal != len(passages) or vectors.d != dimension:
        raise IndexCorrupt(f"the index at {index} has {vectors.ntotal} vectors of dimension "
                           f"{vectors.d} for {len(passages)} passages of dimension {dimension}. {rebuild}")
    counts = np.array([len(p.sentences) for p in passages], dtype=np.int64)
    if sentence_vectors.shape != (int(counts.sum()), dimension) or centroid.shape != (dimension,):
        raise IndexCorrupt(f"the sentence vectors or centroid of the index at {index} do not fit "
                           f"its passages. {rebuild}")
    if check_corpus:
        _check_fresh(index, corpus, manifest["corpus"]["files"], rebuild)
    lexical = Lexical.load(index / files["bm25"][0]["name"].split("/")[0])
    if lexical.size != len(passages):
        raise IndexCorrupt(f"the BM25 index at {index} does not fit its passages. {rebuild}")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return StoredIndex(index, corpus, settings, dimension, documents, passages, vectors, lexical,
                       sentence_vectors, starts, centroid, dict(manifest["model"]))


def _check_format(index: Path, manifest: dict[str, Any], rebuild: str) -> None:
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(f"{index} holds index format {manifest.get('format')!r} version "
                            f"{manifest.get('format_version')!r}; this kzqa ({__version__}) reads "
                            f"{FORMAT!r} version {FORMAT_VERSION}. {rebuild}")


def update_settings(index: Path, settings: Settings) -> None:
    """Replace the settings in an index's manifest (atomically), e.g. a recalibrated
    abstention rule. Settings that change what is stored need a rebuild instead."""
    manifest_path = Path(index) / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    old = Settings.from_dict(manifest["settings"])
    stored = ("model", "max_chars", "embed_context", "rules_version", "bm25_k1", "bm25_b")
    if any(getattr(old, k) != getattr(settings, k) for k in stored):
        raise KzqaError("these settings change what the index stores; rebuild it with kzqa build")
    manifest["settings"] = settings.to_dict()
    atomic_write(manifest_path, (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode())


def _passage(row: dict[str, Any]) -> Passage:
    row["sentences"] = tuple(tuple(span) for span in row.get("sentences", ()))
    row["pages"] = tuple(row.get("pages", ()))
    return Passage(**row)


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


def entry(name: str, data: bytes | memoryview) -> dict[str, Any]:
    """A data file's line in the manifest: name, size and sha256."""
    return {"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def read_checked(index: Path, item: dict[str, Any], rebuild: str) -> bytes:
    """The bytes of a data file, checked against its manifest entry."""
    path = index / item["name"]
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise IndexCorrupt(f"index file {path} is missing. {rebuild}") from None
    if len(data) != item["bytes"] or hashlib.sha256(data).hexdigest() != item["sha256"]:
        raise IndexCorrupt(f"index file {path} is truncated or altered (its size or sha256 differs "
                           f"from the manifest). {rebuild}")
    return data


def atomic_write(path: Path, data: bytes | memoryview) -> None:
    """Write ``data`` to ``path`` through a temporary file, fsync'd, then one rename."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def fsync_dir(path: Path) -> None:
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


__all__ = ["DocumentRecord", "ExtractedText", "Generation", "MANIFEST", "StoredIndex", "load",
           "read_manifest", "stale_files", "update_settings", "write"]
