"""Building an index: corpus → passages → vectors and BM25 → the store.

Nothing is written unless the whole build succeeds; the previous index stays usable
throughout (``kzqa.storage.store.write`` replaces it in one atomic rename). Vectors of passages the
previous index already holds are reused exactly, so adding one document embeds that
document only. ``build_index`` (``kzqa build``) reads every file; ``update_index`` (after
``kzqa add`` / ``remove``) also takes each unchanged PDF and web page from the previous index
with its extracted text and passages (``kzqa.indexing.previous``), so it extracts only the
documents that changed.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kzqa.documents import Passage
from kzqa.embed import embedding
from kzqa.embed.cache import EmbeddingCache, model_key
from kzqa.embed.embedding import Embedder
from kzqa.embed.passage_vectors import (
    SENTENCE_VECTORS,
    Progress,
    encode_passages,
)
from kzqa.errors import CorpusError, CorpusProblem, KzqaError
from kzqa.indexing.previous import Previous, previous
from kzqa.ingest.corpus import CorpusScan, Document, KnownDocument, corpus_hashes, scan_corpus
from kzqa.ingest.passages import make_passages
from kzqa.retrieval import dense
from kzqa.retrieval.echo_cache import cached_echo_groups
from kzqa.retrieval.search_text import embed_text_spans, lexical_text, paragraph_texts
from kzqa.settings import Settings
from kzqa.storage import store
from kzqa.storage.index_folder import check_apart
from kzqa.storage.store import DocumentRecord, ExtractedText, Generation

# The largest report in the library gives 328 passages; 20,000 (~2 h of embedding here) is
# far beyond any real report and keeps one hostile file from stalling every build.
MAX_PASSAGES_PER_DOCUMENT = 20_000


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
    from_index: int = 0  # PDFs and web pages taken with their text from the previous index (add, remove)


def build_index(corpus: Path, index: Path, settings: Settings | None = None,
                embedder: Embedder | None = None, *, skip_invalid: bool = False,
                progress: Progress | None = None) -> BuildReport:
    """Build the index of ``corpus`` into ``index``, reading every file. Without
    ``settings``, the search settings and fitted abstention rule of the index being replaced
    are kept."""
    started = time.perf_counter()
    corpus, index = Path(corpus), Path(index)
    if not corpus.is_dir():
        raise KzqaError(f"corpus folder not found: {corpus}")
    check_apart(index, corpus)
    scan = _scan(corpus, skip_invalid)  # before the lock: a bad corpus creates no index folder
    with store.writing(index, corpus):  # one writer at a time; the folder must be the store's
        if corpus_hashes(corpus) != scan.hashes:  # changed while this build waited for its turn
            scan = _scan(corpus, skip_invalid)
        settings = settings or previous_settings(index)
        return _build(corpus, index, scan, settings, previous(index, settings, texts=False), embedder,
                      progress, skip_invalid, started)


def update_index(corpus: Path, index: Path, *, embedder: Embedder | None = None,
                 progress: Progress | None = None, known: Mapping[str, KnownDocument] | None = None,
                 ) -> BuildReport:
    """Bring the index at ``index`` up to date with ``corpus`` after an add or a remove,
    under the writer's lock the caller holds: a PDF or web page whose bytes did not change
    is taken from the index with its text and passages (``kzqa.indexing.previous``), not
    extracted again; ``known`` are documents the caller has just read. The settings of the
    index are kept."""
    started = time.perf_counter()
    settings = previous_settings(index)
    before = previous(index, settings, texts=True)
    scan = _scan(corpus, False, {**before.documents, **(known or {})})
    return _build(corpus, index, scan, settings, before, embedder, progress, False, started)


def _scan(corpus: Path, skip_invalid: bool, known: Mapping[str, KnownDocument] | None = None) -> CorpusScan:
    scan = scan_corpus(corpus, known)
    if scan.problems and not skip_invalid:
        raise CorpusError(scan.problems, hint="Nothing was written; the previous index is unchanged. "
                          "Fix or remove these files, or pass --skip-invalid to index the others.")
    if not scan.documents:
        raise KzqaError(f"no documents to index in {corpus} (kzqa reads .txt, .md, .pdf and .html files)")
    return scan


def _build(corpus: Path, index: Path, scan: CorpusScan, settings: Settings, before: Previous,
           embedder: Embedder | None, progress: Progress | None, skip_invalid: bool, started: float,
           ) -> BuildReport:
    passages, records = cut_passages(scan.documents, settings, before.ready)
    embedder = embedder or embedding.make_embedder(settings.model)
    texts, spans = [], []
    for p in passages:
        text, where = embed_text_spans(p, records[p.doc_id].source, settings.embed_context)
        texts.append(text)
        spans.append(where)
    made = encode_passages(embedder, texts, spans, progress, EmbeddingCache(),
                           reuse=before.vectors(embedder))
    paragraphs = paragraph_texts(passages, {d.doc_id: d.text for d in scan.documents})
    lexical = [lexical_text(p, records[p.doc_id].source, para) for p, para in zip(passages, paragraphs)]
    vectors, vector_kind = _dense_index(made.passages, settings)
    store.write(index, Generation(
        corpus=corpus, corpus_files=scan.hashes, settings=settings,
        model={"name": settings.model, "dimension": int(made.passages.shape[1]),
               "key": model_key(embedder), "sentences": SENTENCE_VECTORS},
        documents=list(records.values()), passages=passages, vectors=vectors,
        vector_index=vector_kind, sentence_vectors=made.sentences,
        centroid=made.passages.mean(axis=0),
        texts=[ExtractedText(d.doc_id, d.extractor, list(d.pages), d.text) for d in scan.documents if d.extractor],
        bm25=_bm25_files(lexical, settings)))
    cached_echo_groups([p.text for p in passages], [p.doc_id for p in passages])  # once, for every server
    return BuildReport(index, len(records), len(passages), scan.problems if skip_invalid else (),
                       scan.ignored, time.perf_counter() - started, made.embedded, made.reused,
                       sum(before.ready(d) is not None for d in scan.documents))


def cut_passages(documents: Sequence[Document], settings: Settings,
                 ready: Callable[[Document], Sequence[Passage] | None] = lambda doc: None,
                 ) -> tuple[list[Passage], dict[str, DocumentRecord]]:
    """Every document's passages, in corpus order, and a record of each document. ``ready``
    gives the passages a document already has (from the index being replaced), if any."""
    passages: list[Passage] = []
    records: dict[str, DocumentRecord] = {}
    for doc in documents:
        cut = ready(doc)
        mine = list(cut) if cut is not None else make_passages(doc, settings.max_chars)
        if not mine:
            raise CorpusError([CorpusProblem(doc.file, "no quotable paragraph (only headings or "
                                             "page furniture)")])
        if len(mine) > MAX_PASSAGES_PER_DOCUMENT:
            raise CorpusError([CorpusProblem(doc.file, f"{len(mine):,} passages; the limit is "
                                             f"{MAX_PASSAGES_PER_DOCUMENT:,} a document: split it")])
        passages += mine
        records[doc.doc_id] = DocumentRecord(doc.doc_id, doc.file, doc.source, len(mine),
                                             doc.extractor, len(doc.pages))
    return passages, records


def _dense_index(vectors: np.ndarray, settings: Settings) -> tuple[memoryview, dict[str, object]]:
    """The serialised FAISS index of ``vectors`` (exact or HNSW by size) and how it was built."""
    import faiss

    index = dense.build(vectors, dense.choose(len(vectors), settings.vector_index))
    kind = dense.describe(index)
    return faiss.serialize_index(index).data, kind


def _bm25_files(texts: list[str], settings: Settings) -> dict[str, bytes]:
    """The files of the BM25 index of ``texts``, by name."""
    from kzqa.retrieval.ranking import Lexical

    lexical = Lexical.build(texts, settings.bm25_k1, settings.bm25_b)
    with tempfile.TemporaryDirectory(prefix="kzqa-bm25-") as tmp:
        lexical.save(Path(tmp))
        return {f.name: f.read_bytes() for f in sorted(Path(tmp).iterdir())}


def previous_settings(index: Path) -> Settings:
    """The settings of the index already at ``index`` (defaults where there is none, or it
    cannot be read): a rebuild keeps its search settings and fitted abstention rule."""
    manifest = store.read_manifest(index)
    try:
        stored = Settings.from_dict(manifest["settings"]) if manifest else None
    except (ValueError, KeyError, TypeError):
        stored = None
    return Settings().with_search_of(stored) if stored else Settings()


__all__ = ["BuildReport", "build_index", "cut_passages", "previous_settings", "update_index"]
