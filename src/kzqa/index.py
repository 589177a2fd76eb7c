"""The index on disk: building it from a corpus, writing it atomically, loading and checking it.

An index folder holds plain files anyone can inspect (no pickle anywhere):

- ``manifest.json``         format version, kzqa version, model, dimension, settings, the
                            documents with their sources, the sha256 of every corpus file,
                            and the name, size and sha256 of the two data files below;
- ``passages-<gen>.jsonl``  one passage per line: id, doc_id, text, start, end, ...;
- ``vectors-<gen>.faiss``   a FAISS inner-product index of the normalised embeddings,
                            row i = line i of the passages file: exact up to 50,000
                            passages, HNSW above (``kzqa.vectors``; the manifest's
                            ``vector_index`` says which);
- ``sentences-<gen>.npy``   float16 embeddings of every passage's sentences, in order,
                            pooled from the passage's forward pass (``kzqa.vectorize``;
                            for highlights, with no model call at query time);
- ``texts-<gen>.jsonl``     the extracted text of every PDF and web page (one JSON line per
                            document, with its page spans): their passages are slices of it;
- ``bm25-<gen>/``           the BM25 index (bm25s: .npy arrays and JSON, no pickle).

``<gen>`` is a hash of the content. A build writes the new data files beside the old ones
and then replaces ``manifest.json`` in one atomic rename: a build killed at any point
leaves the previous manifest pointing at the previous, complete files.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .cache import EmbeddingCache, model_key, text_key
from .corpus import Document, corpus_hashes, scan_corpus
from . import embedding
from .embedding import Embedder
from .errors import (CorpusError, CorpusProblem, IndexCorrupt, IndexMismatch, IndexMissing,
                     IndexStale, KzqaError)
from .passages import make_passages
from .paths import build_command, default_corpus_dir
from .results import Passage, Source
from .citation import section_beyond_title as _section_beyond_title
from .settings import Settings
from . import vectors as vector_index
from .vectors import DenseSearch
from .vectorize import SENTENCE_VECTORS, Reuse, collapsed_spans, encode_passages, span_key

FORMAT = "kzqa-index"
FORMAT_VERSION = 2
MANIFEST = "manifest.json"

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    doc_id: str
    file: str
    source: Source
    passages: int
    extractor: str | None = None  # PDF / web page: what extracted its text
    pages: int = 0  # PDF: number of pages


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
    lexical: Any = field(default=None, repr=False)  # retrieval.Lexical
    sentence_vectors: np.ndarray | None = field(default=None, repr=False)  # float16
    sentence_rows: np.ndarray | None = field(default=None, repr=False)  # first row per passage
    centroid: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class BuildReport:
    index: Path
    documents: int
    passages: int
    skipped: tuple[CorpusProblem, ...]  # bad files left out (only with skip_invalid)
    ignored: tuple[str, ...]  # files of other types, not read
    seconds: float
    embedded: int = 0  # passages the model ran on in this build (their sentences with them)
    reused: int = 0  # passages whose vectors came from the previous index or the cache


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


def lexical_text(passage: Passage, source: Source, paragraph: str | None = None) -> str:
    """What BM25 indexes for a passage: its title and section words, then the whole
    paragraph it belongs to (a sentence window scores on its paragraph's words; measured
    on SciFact: nDCG@10 0.734 against 0.729 with the window's words only)."""
    section = _section_beyond_title(passage.section, source.title, source.subtitle)
    return " ".join(filter(None, (source.full_title, section, paragraph or passage.text)))


def paragraph_texts(passages: list[Passage], text_of: dict[str, str]) -> list[str]:
    """For each passage, the text of its whole paragraph (the span from its first window's
    start to its last window's end) in ``text_of[doc_id]``."""
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for p in passages:
        s, e = spans.get((p.doc_id, p.paragraph), (p.start, p.end))
        spans[(p.doc_id, p.paragraph)] = (min(s, p.start), max(e, p.end))
    out = []
    for p in passages:
        s, e = spans[(p.doc_id, p.paragraph)]
        out.append(text_of[p.doc_id][s:e] if p.part else p.text)
    return out


def embed_text_spans(passage: Passage, source: Source, with_context: bool
                     ) -> tuple[str, list[tuple[int, int]]]:
    """``embed_text`` and where each of the passage's sentences lies in it."""
    text = embed_text(passage, source, with_context)
    body = len(" ".join(passage.text.split()))
    return text, collapsed_spans(passage.text, passage.sentences, len(text) - body)


def build_index(corpus: Path, index: Path, settings: Settings | None = None,
                embedder: Embedder | None = None, *, skip_invalid: bool = False,
                progress: Progress | None = None) -> BuildReport:
    """Build the index of ``corpus`` into ``index``. Nothing is written unless the whole
    build succeeds; the previous index stays usable throughout."""
    import faiss

    started = time.perf_counter()
    corpus, index = Path(corpus), Path(index)
    settings = settings or previous_settings(index)
    if not corpus.is_dir():
        raise KzqaError(f"corpus folder not found: {corpus}")
    scan = scan_corpus(corpus)
    if scan.problems and not skip_invalid:
        raise CorpusError(scan.problems, hint="Nothing was written; the previous index is unchanged. "
                          "Fix or remove these files, or pass --skip-invalid to index the others.")
    if not scan.documents:
        raise KzqaError(f"no documents to index in {corpus} (kzqa reads .txt, .md, .pdf and .html files)")
    passages: list[Passage] = []
    records: dict[str, DocumentRecord] = {}
    texts: list[str] = []
    spans: list[list[tuple[int, int]]] = []
    for doc in scan.documents:
        mine = make_passages(doc, settings.max_chars)
        if not mine:
            raise CorpusError([CorpusProblem(doc.file, "no quotable paragraph (only headings or "
                                             "page furniture)")])
        passages += mine
        for p in mine:
            text, where = embed_text_spans(p, doc.source, settings.embed_context)
            texts.append(text)
            spans.append(where)
        records[doc.doc_id] = DocumentRecord(doc.doc_id, doc.file, doc.source, len(mine),
                                             doc.extractor, len(doc.pages))
    embedder = embedder or embedding.make_embedder(settings.model)
    paragraphs = paragraph_texts(passages, {d.doc_id: d.text for d in scan.documents})
    lexical = [lexical_text(p, records[p.doc_id].source, para) for p, para in zip(passages, paragraphs)]
    made = encode_passages(embedder, texts, spans, progress, EmbeddingCache(),
                           reuse=previous_vectors(index, embedder))
    extracted = [d for d in scan.documents if d.extractor]
    _write(index, corpus, settings, made.passages, made.sentences, records, passages, scan.hashes,
           lexical, extracted, model_key(embedder))
    return BuildReport(index, len(records), len(passages), scan.problems if skip_invalid else (),
                       scan.ignored, time.perf_counter() - started, made.embedded, made.reused)


def previous_vectors(index: Path, embedder: Embedder) -> Reuse:
    """The vectors of every passage and sentence of the index at ``index``, if it was
    built with this model and reads back intact; otherwise none. What an unchanged
    document needs is then taken from the index it already has, exactly as stored (sentence
    vectors are float16 there and stay the same float16 values), so adding one document
    embeds that document only, with or without an embedding cache."""
    try:
        old = load_index(index, check_corpus=False)
        if old.manifest["model"].get("key") != model_key(embedder):
            return Reuse()
        pooled = old.manifest["model"].get("sentences") == SENTENCE_VECTORS
        vectors = DenseSearch(old.vectors).rows(np.arange(len(old.passages)))
    except (KzqaError, OSError, ValueError, KeyError, TypeError, RuntimeError):
        return Reuse()
    out = Reuse()
    context = old.settings.embed_context
    for row, passage in enumerate(old.passages):
        text, spans = embed_text_spans(passage, old.documents[passage.doc_id].source, context)
        out.passages[text_key(text)] = vectors[row]
        first = int(old.sentence_rows[row])
        for j, (s, e) in enumerate(spans if pooled else ()):
            out.sentences[span_key(text, s, e)] = old.sentence_vectors[first + j]  # a view
    return out


def previous_settings(index: Path) -> Settings:
    """The settings of the index already at ``index`` (defaults where there is none, or it
    cannot be read): a rebuild keeps its search settings and fitted abstention rule."""
    try:
        stored = Settings.from_dict(json.loads((Path(index) / MANIFEST).read_text("utf-8"))["settings"])
    except (OSError, ValueError, KeyError, TypeError):
        return Settings()
    return Settings().with_search_of(stored)


def load_index(index: Path, *, check_corpus: bool = True) -> StoredIndex:
    """Read and check an index. Raises a ``KzqaError`` that says how to fix what is wrong:
    missing, corrupt, built another way, or stale against its corpus."""
    import faiss

    index = Path(index)
    manifest_path = index / MANIFEST
    rebuild = f"Build it with: {build_command(default_corpus_dir(), index)}"
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
        sentence_bytes = _read_checked(index, files["sentences"], rebuild)
        if "texts" in files:  # checked, not parsed: searching never needs the extracted texts
            _read_checked(index, files["texts"], rebuild)
        for entry in files["bm25"]:
            _read_checked(index, entry, rebuild)
        passages = tuple(_passage(json.loads(line)) for line in passages_bytes.decode("utf-8").splitlines())
        sentence_vectors = np.load(io.BytesIO(sentence_bytes), allow_pickle=False)
        centroid = np.asarray(manifest["centroid"], dtype=np.float32)
        documents = {
            d["doc_id"]: DocumentRecord(d["doc_id"], d["file"], Source(**d["source"]), d["passages"],
                                        d.get("extractor"), int(d.get("pages", 0)))
            for d in manifest["documents"]
        }
    except KzqaError:
        raise
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, IndexError) as e:
        raise IndexCorrupt(f"the index at {index} is damaged ({type(e).__name__}: {e}). {rebuild}") from None
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
    from .retrieval import Lexical

    lexical = Lexical.load(index / files["bm25"][0]["name"].split("/")[0])
    if int(lexical.bm25.scores["num_docs"]) != len(passages):
        raise IndexCorrupt(f"the BM25 index at {index} does not fit its passages. {rebuild}")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return StoredIndex(index, corpus, settings, dimension, documents, passages, vectors, manifest,
                       lexical, sentence_vectors, starts, centroid)


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
    _atomic_write(manifest_path, (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode())


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


def _write(index: Path, corpus: Path, settings: Settings, vectors: np.ndarray,
           sentence_vectors: np.ndarray, records: dict[str, DocumentRecord],
           passages: list[Passage], corpus_files: dict[str, str], lexical_texts: list[str],
           extracted: list[Document], model: str) -> None:
    import faiss

    from .retrieval import Lexical

    try:
        index.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise KzqaError(f"cannot create the index folder {index}: {e.strerror}") from None
    # Large parts are held once each (memoryviews, no concatenation): at a million passages
    # each is gigabytes.
    dense = vector_index.build(vectors, vector_index.choose(len(vectors), settings.vector_index))
    passages_bytes = b"".join((json.dumps(asdict(p), ensure_ascii=False) + "\n").encode()
                              for p in passages)
    vector_bytes = memoryview(faiss.serialize_index(dense))
    vector_kind = vector_index.describe(dense)
    del dense
    buf = io.BytesIO()
    np.save(buf, np.asarray(sentence_vectors, dtype=np.float16), allow_pickle=False)
    sentence_bytes = buf.getbuffer()
    texts_bytes = b"".join((json.dumps({"doc_id": d.doc_id, "extractor": d.extractor, "pages": d.pages,
                                        "text": d.text}, ensure_ascii=False) + "\n").encode()
                           for d in extracted)
    digest = hashlib.sha256()
    for part in (passages_bytes, vector_bytes, sentence_bytes, texts_bytes):
        digest.update(part)
    for chunk in json.JSONEncoder(sort_keys=True).iterencode([settings.to_dict(), lexical_texts]):
        digest.update(chunk.encode())
    gen = digest.hexdigest()[:12]
    names = {"passages": f"passages-{gen}.jsonl", "vectors": f"vectors-{gen}.faiss",
             "sentences": f"sentences-{gen}.npy", "texts": f"texts-{gen}.jsonl"}
    data_files = {"passages": passages_bytes, "vectors": vector_bytes,
                  "sentences": sentence_bytes, "texts": texts_bytes}
    bm25_dir = f"bm25-{gen}"
    try:
        corpus_rel = os.path.relpath(corpus.resolve(), index.resolve())
    except ValueError:  # another drive on Windows
        corpus_rel = str(corpus.resolve())
    try:
        for key, data in data_files.items():
            _atomic_write(index / names[key], data)
        if not (index / bm25_dir).is_dir():  # same generation = same content: keep it
            tmp_dir = index / f"{bm25_dir}.tmp-{os.getpid()}"
            shutil.rmtree(tmp_dir, ignore_errors=True)
            Lexical.build(lexical_texts, settings.bm25_k1, settings.bm25_b).save(tmp_dir)
            for f in tmp_dir.iterdir():
                _fsync_file(f)
            os.replace(tmp_dir, index / bm25_dir)  # a folder appears whole or not at all
        bm25_files = sorted((index / bm25_dir).iterdir())
        centroid = vectors.mean(axis=0)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kzqa_version": __version__,
            "model": {"name": settings.model, "dimension": int(vectors.shape[1]), "key": model,
                      "sentences": SENTENCE_VECTORS},
            "vector_index": vector_kind,
            "count": len(passages),
            "settings": settings.to_dict(),
            "corpus": {"path": Path(corpus_rel).as_posix(), "files": corpus_files},
            "documents": [
                {"doc_id": r.doc_id, "file": r.file, "passages": r.passages, "source": asdict(r.source),
                 **({"extractor": r.extractor, "pages": r.pages} if r.extractor else {})}
                for r in records.values()
            ],
            "files": {
                **{key: _entry(names[key], data) for key, data in data_files.items()},
                "bm25": [_entry(f"{bm25_dir}/{f.name}", f.read_bytes()) for f in bm25_files],
            },
            "centroid": [round(float(x), 7) for x in centroid],
        }
        manifest_bytes = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
        _atomic_write(index / MANIFEST, manifest_bytes)  # the commit point
    except OSError as e:
        raise KzqaError(f"cannot write the index to {index}: {e.strerror}. "
                        "The previous index, if any, is unchanged.") from None
    _fsync_dir(index)
    keep = set(names.values()) | {bm25_dir}
    for old in index.iterdir():  # files of earlier builds, and leftovers of killed ones
        earlier = old.name.startswith(("passages-", "vectors-", "sentences-", "texts-", "bm25-"))
        if (earlier and old.name not in keep) or ".tmp-" in old.name:
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)


def _entry(name: str, data: bytes | memoryview) -> dict[str, Any]:
    return {"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


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


__all__ = ["BuildReport", "DocumentRecord", "StoredIndex", "build_index", "embed_text",
           "embed_text_spans", "lexical_text", "load_index", "stale_files"]
