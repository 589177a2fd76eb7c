"""What the index being replaced offers the build that replaces it.

A build reads the old index once, and takes from it only what cannot have changed:

- the vectors of every passage and sentence, by the exact text embedded and the model that
  embedded it (``Reuse``): an unchanged document is never embedded again;
- for ``kzqa add`` and ``kzqa remove``, the documents whose text was extracted (PDFs and web
  pages): their stored extracted text, source and passages, when the file and its sidecar
  have the bytes recorded at that build, the extractor (library, version, kzqa's rules) is
  the one this kzqa would use, the passage rules and passage length are the same, and the
  index was built by this version of kzqa. Adding
  one page then extracts that page alone. ``kzqa build`` reads every file again.

Whatever cannot be read back intact is simply not reused; the build then does the work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kzqa._version import __version__
from kzqa.documents import Passage
from kzqa.embed.cache import model_key, text_key
from kzqa.embed.embedding import Embedder
from kzqa.embed.passage_vectors import SENTENCE_VECTORS, Reuse, span_key
from kzqa.errors import KzqaError
from kzqa.ingest.corpus import Document, KnownDocument, sidecar_name
from kzqa.ingest.extract import extractor_of
from kzqa.retrieval import dense
from kzqa.retrieval.search_text import embed_text_spans
from kzqa.settings import Settings
from kzqa.storage import store
from kzqa.storage.store import StoredIndex

_UNREADABLE = (KzqaError, OSError, ValueError, KeyError, TypeError, RuntimeError)


@dataclass(frozen=True, slots=True)
class Previous:
    """What a build may take from the index it replaces (see the module notes)."""

    old: StoredIndex | None = None
    documents: Mapping[str, KnownDocument] = field(default_factory=dict)  # by corpus file
    passages: Mapping[str, tuple[Passage, ...]] = field(default_factory=dict)  # by doc_id

    def ready(self, document: Document) -> tuple[Passage, ...] | None:
        """The passages of ``document`` if it is one of ``documents``, as that build cut them."""
        known = self.documents.get(document.file)
        return self.passages[document.doc_id] if known is not None and known.document is document else None

    def vectors(self, embedder: Embedder) -> Reuse:
        """The vectors of every passage and sentence of the old index, if it was built with
        this model; otherwise none. Taken exactly as stored (sentence vectors are float16
        there and stay the same float16 values)."""
        old = self.old
        try:
            if old is None or old.model.get("key") != model_key(embedder):
                return Reuse()
            pooled = old.model.get("sentences") == SENTENCE_VECTORS
            rows = dense.DenseSearch(old.vectors).rows(np.arange(len(old.passages)))
        except _UNREADABLE:
            return Reuse()
        out = Reuse()
        context = old.settings.embed_context
        for row, passage in enumerate(old.passages):
            text, spans = embed_text_spans(passage, old.documents[passage.doc_id].source, context)
            out.passages[text_key(text)] = rows[row]
            first = int(old.sentence_rows[row])
            for j, (s, e) in enumerate(spans if pooled else ()):
                out.sentences[span_key(text, s, e)] = old.sentence_vectors[first + j]  # a view
        return out


def previous(index: Path, settings: Settings, *, texts: bool) -> Previous:
    """What the index at ``index`` offers a build with ``settings``; with ``texts``, its
    extracted documents too. Nothing, if it cannot be read back intact."""
    try:
        old = store.load(index, check_corpus=False)
    except _UNREADABLE:
        return Previous()
    if not texts:
        return Previous(old)
    try:
        documents, passages = _documents(old, settings)
    except _UNREADABLE:
        return Previous(old)
    return Previous(old, documents, passages)


def _documents(old: StoredIndex, settings: Settings
               ) -> tuple[dict[str, KnownDocument], dict[str, tuple[Passage, ...]]]:
    """The extracted documents of ``old`` a build may take as they are, with their passages."""
    manifest = store.read_manifest(old.path) or {}
    if old.settings.max_chars != settings.max_chars or manifest.get("kzqa_version") != __version__:
        return {}, {}  # (the passage rules are checked by load; another kzqa may read metadata otherwise)
    files: dict[str, str] = manifest["corpus"]["files"]  # what each file's sha256 was at that build
    texts = store.extracted_texts_of(old)
    cut: dict[str, list[Passage]] = {}
    for p in old.passages:
        cut.setdefault(p.doc_id, []).append(p)
    documents: dict[str, KnownDocument] = {}
    for doc_id, record in old.documents.items():
        stored = texts.get(doc_id)
        if (stored is None or record.file not in files or doc_id not in cut
                or stored.extractor != record.extractor or record.extractor != extractor_of(record.file)):
            continue
        doc = Document(doc_id, record.file, stored.text, 0, record.source,
                       tuple((s, e) for s, e in stored.pages), stored.extractor)
        documents[record.file] = KnownDocument(doc, files[record.file],
                                               files.get(sidecar_name(record.file)))
    return documents, {d.document.doc_id: tuple(cut[d.document.doc_id]) for d in documents.values()}


__all__ = ["Previous", "previous"]
