"""What an index holds, as types: a document's record, the stored extracted text of a PDF or
web page, a ``Generation`` handed to ``kzqa.storage.store.write``, and the ``StoredIndex``
``kzqa.storage.store.load`` gives back. No behaviour; the format is in ``kzqa.storage.store``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kzqa.documents import Passage, Source
from kzqa.settings import Settings


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
    vector_index: dict[str, Any]  # how it was built (``kzqa.retrieval.dense.describe``)
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
    unchecked: tuple[str, ...] = ()  # documents whose passages had no source to be compared with


__all__ = ["DocumentRecord", "ExtractedText", "Generation", "StoredIndex"]
