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
                            row i = line i of the passages file (``kzqa.retrieval.dense``);
- ``sentences-<gen>.npy``   float16 embeddings of every passage's sentences, in order
                            (``kzqa.embed.passage_vectors``; for highlights);
- ``texts-<gen>.jsonl``     the extracted text of every PDF and web page (one JSON line per
                            document, with its page spans): their passages are slices of it;
- ``bm25-<gen>/``           the BM25 index (bm25s: .npy arrays and JSON, no pickle).

``<gen>`` is a hash of the content. A write puts the new data files beside the old ones
and then replaces ``manifest.json`` in one atomic rename: a write killed at any point
leaves the previous manifest pointing at the previous, complete files. The files of the
generation before stay until the next write, so a reader that read the previous manifest
still finds them; a reader slower than two writes finds a file gone and reads again.

Writers take turns (``kzqa.storage.lock``) in a folder of the store's own files only
(``kzqa.storage.index_folder``); a killed ``add``/``remove`` is finished or undone by the next
writer (``kzqa.storage.journal``); loading checks every passage against its source (``kzqa.storage.verify``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from kzqa._version import __version__
from kzqa.documents import Passage, Source
from kzqa.errors import IndexCorrupt, IndexMismatch, IndexMissing, IndexStale, KzqaError
from kzqa.files import atomic_write, fsync_dir
from kzqa.settings import PASSAGE_RULES_VERSION, Settings
from kzqa.storage import journal, lock
from kzqa.storage.index_folder import (
    INDEX_FORMAT,
    MANIFEST,
    claim,
    manifest_names,
    recorded,
    sweep,
    write_record,
)
from kzqa.storage.paths import build_command, default_corpus_dir
from kzqa.storage.records import DocumentRecord, ExtractedText, Generation, StoredIndex
from kzqa.storage.verify import check_fresh, check_passages, read_checked, read_files, source_texts

FORMAT = INDEX_FORMAT
FORMAT_VERSION = 2
READS = 5  # a reader whose generation a writer replaced mid-read reads the new one, up to this often


@contextmanager
def writing(index: Path, corpus: Path) -> Iterator[None]:
    """Be the one writer of ``index`` (waiting for another): the folder is claimed as the
    store's (or refused), and a change a killed writer left journaled is finished or undone."""
    index = Path(index)
    claim(index, corpus, record=False)  # refuse a foreign folder before putting a lock file in it
    with lock.writer(index) as first:
        claim(index, corpus)
        if first:
            journal.recover(index, _recorded_corpus(index), corpus)
        yield


def _recorded_corpus(index: Path) -> dict[str, str] | None:
    """The corpus files (and their sha256) the index in ``index`` records, if it can be read."""
    try:
        files = (read_manifest(index) or {})["corpus"]["files"]
    except (KeyError, TypeError):
        return None
    return files if isinstance(files, dict) else None


def write(index: Path, gen: Generation) -> None:
    """Write ``gen`` into ``index`` atomically: data files first, under content-hashed
    names, then ``manifest.json`` by one rename; then the files of the generation before
    the previous one go (and nothing the store did not write)."""
    index = Path(index)
    with writing(index, gen.corpus):
        data_files = _data_files(gen)
        tag = _tag(data_files, gen)
        names = {"passages": f"passages-{tag}.jsonl", "vectors": f"vectors-{tag}.faiss",
                 "sentences": f"sentences-{tag}.npy", "texts": f"texts-{tag}.jsonl"}
        bm25_dir = f"bm25-{tag}"
        new = set(names.values()) | {bm25_dir}
        previous = _current_names(index)
        try:
            write_record(index, recorded(index) | new)  # recorded before written: a kill leaves them ours
            for key, data in data_files.items():
                atomic_write(index / names[key], data)
            _write_folder(index / bm25_dir, gen.bm25)
            manifest = _manifest(index, gen, {k: entry(names[k], d) for k, d in data_files.items()},
                                 [entry(f"{bm25_dir}/{n}", gen.bm25[n]) for n in sorted(gen.bm25)])
            atomic_write(index / MANIFEST, (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode())
        except OSError as e:
            raise KzqaError(f"cannot write the index to {index}: {e.strerror}. "
                            "The previous index, if any, is unchanged.") from None
        fsync_dir(index)
        sweep(index, new | previous)


def _tag(data_files: dict[str, bytes | memoryview], gen: Generation) -> str:
    digest = hashlib.sha256()
    for part in data_files.values():
        digest.update(part)
    for name, data in sorted(gen.bm25.items()):
        digest.update(name.encode())
        digest.update(data)
    digest.update(json.dumps(gen.settings.to_dict(), sort_keys=True).encode())
    return digest.hexdigest()[:12]


def _current_names(index: Path) -> set[str]:
    """The data files the manifest in ``index`` lists (kept one write longer for readers)."""
    manifest = read_manifest(index)
    try:
        return manifest_names(manifest) & recorded(index) if manifest else set()
    except (KeyError, TypeError, AttributeError, IndexCorrupt):
        return set()


def _data_files(gen: Generation) -> dict[str, bytes | memoryview]:
    passages = b"".join((json.dumps(asdict(p), ensure_ascii=False) + "\n").encode() for p in gen.passages)
    buf = io.BytesIO()
    np.save(buf, np.asarray(gen.sentence_vectors, dtype=np.float16), allow_pickle=False)
    texts = b"".join((json.dumps(asdict(t), ensure_ascii=False) + "\n").encode() for t in gen.texts)
    return {"passages": passages, "vectors": gen.vectors, "sentences": buf.getbuffer(), "texts": texts}


def _write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """A folder that appears whole or not at all. The same generation's folder is kept, but
    a file in it that was altered is written again (atomically): rebuilding repairs it."""
    if folder.is_dir():
        for name, data in files.items():
            try:
                same = (folder / name).read_bytes() == data
            except OSError:
                same = False
            if not same:
                atomic_write(folder / name, data)
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


def read_manifest(index: Path) -> dict[str, Any] | None:
    """The manifest of the index at ``index``, or None when there is none or it cannot be read."""
    try:
        data = json.loads((Path(index) / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load(index: Path, *, check_corpus: bool = True) -> StoredIndex:
    """Read and check an index. Raises a ``KzqaError`` that says how to fix what is wrong:
    missing, corrupt, built another way, or stale against its corpus. Every passage is
    compared with its source (``kzqa.storage.verify``); with ``check_corpus=False`` the passages of
    .txt/.md documents cannot be, and ``unchecked`` names those documents."""
    index = Path(index)
    for attempt in range(READS):
        seen = _stamp(index)
        try:
            return _load_once(index, check_corpus)
        except (IndexCorrupt, IndexStale):
            if attempt == READS - 1 or _stamp(index) == seen:
                raise  # not a writer replacing the generation while it was read: real damage
    raise AssertionError("unreachable")


def source_texts_of(stored: StoredIndex) -> dict[str, str]:
    """The text each document of ``stored`` is quoted from (its file, or the stored extracted
    text of a PDF or web page), read again and checked against the manifest: what a quote
    kept elsewhere (an export) is compared with."""
    return source_texts({k: (r.file, bool(r.extractor)) for k, r in stored.documents.items()},
                        _stored_texts(stored), stored.corpus, True, None)


def extracted_texts_of(stored: StoredIndex) -> dict[str, ExtractedText]:
    """The stored extracted text of each PDF and web page of ``stored`` (by doc_id), read
    again and checked against the manifest: what a later build may take instead of
    extracting an unchanged file again."""
    out: dict[str, ExtractedText] = {}
    for line in (_stored_texts(stored) or b"").decode("utf-8").splitlines():
        row = json.loads(line)
        out[row["doc_id"]] = ExtractedText(str(row["doc_id"]), str(row["extractor"]),
                                           [(int(s), int(e)) for s, e in row["pages"]], str(row["text"]))
    return out


def _stored_texts(stored: StoredIndex) -> bytes | None:
    """The bytes of ``stored``'s extracted-texts file, checked against its manifest entry
    (None: the index has none)."""
    texts = (read_manifest(stored.path) or {}).get("files", {}).get("texts")
    rebuild = f"Rebuild it with: {build_command(stored.corpus, stored.path)}"
    return read_checked(stored.path, texts, rebuild) if texts else None


def _stamp(index: Path) -> tuple[tuple[int, int, int] | None, ...]:
    """What changes when a writer replaces the manifest or the journal."""
    out: list[tuple[int, int, int] | None] = []
    for path in (index / MANIFEST, index / journal.JOURNAL):
        try:
            st = path.stat()
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:  # none (yet, or any more)
            out.append(None)
    return tuple(out)


def _load_once(index: Path, check_corpus: bool) -> StoredIndex:
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
            RuntimeError, OSError) as e:
        raise IndexCorrupt(f"the index at {index} is damaged ({type(e).__name__}: {e}). {rebuild}") from None


def _load(index: Path, manifest: dict[str, Any], corpus: Path, rebuild: str,
          check_corpus: bool) -> StoredIndex:
    from kzqa.retrieval.ranking import Lexical

    _check_format(index, manifest, rebuild)
    settings = Settings.from_dict(manifest["settings"])
    if settings.rules_version != PASSAGE_RULES_VERSION:
        raise IndexMismatch(f"the index at {index} was cut into passages by the rules of version "
                            f"{settings.rules_version}; this kzqa ({__version__}) cuts by version "
                            f"{PASSAGE_RULES_VERSION}. {rebuild}")
    data = read_files(index, manifest["files"], rebuild)
    passages = tuple(_passage(json.loads(line)) for line in data["passages"].decode("utf-8").splitlines())
    documents = {
        d["doc_id"]: DocumentRecord(d["doc_id"], d["file"], _source(d["source"], index, rebuild),
                                    d["passages"], d.get("extractor"), int(d.get("pages", 0)))
        for d in manifest["documents"]
    }
    pending = journal.read(index) if check_corpus else None
    if check_corpus:
        check_fresh(index, corpus, manifest["corpus"]["files"], pending, rebuild)
    sources = source_texts({k: (r.file, bool(r.extractor)) for k, r in documents.items()},
                           data.get("texts"), corpus, check_corpus, pending)
    unchecked = check_passages(passages, {k: r.file for k, r in documents.items()}, sources,
                               str(index), rebuild)
    dimension = int(manifest["model"]["dimension"])
    vectors, sentence_vectors, starts, centroid = _dense(index, data, passages, dimension,
                                                         manifest["centroid"], rebuild)
    lexical = Lexical.load(index / manifest["files"]["bm25"][0]["name"].split("/")[0])
    if lexical.size != len(passages) or (problem := lexical.problem()):
        why = problem if lexical.size == len(passages) else f"{lexical.size} rows for {len(passages)} passages"
        raise IndexCorrupt(f"the BM25 index at {index} does not fit its passages ({why}). {rebuild}")
    return StoredIndex(index, corpus, settings, dimension, documents, passages, vectors, lexical,
                       sentence_vectors, starts, centroid, dict(manifest["model"]), unchecked)


def _source(fields: object, index: Path, rebuild: str) -> Source:
    """A document's source as its manifest records it, each field checked as a corpus file's
    metadata is (text, a real date, ...): a value of another type would fail on first use."""
    from kzqa.ingest.metadata import METADATA_KEYS, value_problem

    if not isinstance(fields, dict):
        raise IndexCorrupt(f"the index at {index} is damaged (a document's source is not a mapping). {rebuild}")
    for key, val in fields.items():
        problem = (f"unknown field '{key}'" if key not in METADATA_KEYS
                   else "no title" if key == "title" and not (isinstance(val, str) and val)
                   else value_problem(key, val))
        if problem:
            raise IndexCorrupt(f"the index at {index} is damaged (the source of a document: {problem}). "
                               f"{rebuild}")
    return Source(**fields)


def _dense(index: Path, data: dict[str, bytes], passages: tuple[Passage, ...], dimension: int,
           centroid_list: list[float], rebuild: str) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
    """The FAISS index, sentence vectors, first sentence row of each passage and centroid,
    checked to fit the passages."""
    import faiss

    vectors = faiss.deserialize_index(np.frombuffer(data["vectors"], dtype=np.uint8))
    if vectors.ntotal != len(passages) or vectors.d != dimension:
        raise IndexCorrupt(f"the index at {index} has {vectors.ntotal} vectors of dimension "
                           f"{vectors.d} for {len(passages)} passages of dimension {dimension}. {rebuild}")
    sentence_vectors = np.load(io.BytesIO(data["sentences"]), allow_pickle=False)
    centroid = np.asarray(centroid_list, dtype=np.float32)
    counts = np.array([len(p.sentences) for p in passages], dtype=np.int64)
    if sentence_vectors.shape != (int(counts.sum()), dimension) or centroid.shape != (dimension,):
        raise IndexCorrupt(f"the sentence vectors or centroid of the index at {index} do not fit "
                           f"its passages. {rebuild}")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return vectors, sentence_vectors, starts, centroid


def _check_format(index: Path, manifest: dict[str, Any], rebuild: str) -> None:
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(f"{index} holds index format {manifest.get('format')!r} version "
                            f"{manifest.get('format_version')!r}; this kzqa ({__version__}) reads "
                            f"{FORMAT!r} version {FORMAT_VERSION}. {rebuild}")


def update_settings(index: Path, settings: Settings) -> None:
    """Replace the settings in an index's manifest (atomically, as its one writer), e.g. a
    recalibrated abstention rule. Settings that change what is stored need a rebuild instead."""
    manifest_path = Path(index) / MANIFEST
    with lock.writer(Path(index)):
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


def entry(name: str, data: bytes | memoryview) -> dict[str, Any]:
    """A data file's line in the manifest: name, size and sha256."""
    return {"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


__all__ = ["MANIFEST", "DocumentRecord", "ExtractedText", "Generation", "StoredIndex", "load",
           "extracted_texts_of", "read_manifest", "source_texts_of", "update_settings",
           "write", "writing"]
