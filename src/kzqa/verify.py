"""Checking, on load, that every passage an index would quote is its source's text.

A consistent manifest is not enough: a passages file edited with its size and sha256
updated in the manifest would otherwise be quoted as if it were the source. So each passage
is compared with its source slice, ``source[start:end]``:

- a ``.txt`` / ``.md`` document: the corpus file's text (read anyway to check that the
  corpus has not changed); with ``check_corpus=False`` (an index copied without its corpus)
  these cannot be checked, and ``StoredIndex.unchecked`` names the documents;
- a PDF or web page: the extracted text stored with the index (``texts-*.jsonl``, whose
  sha256 the manifest holds; extracting the PDF again on every load would take seconds).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from .errors import IndexCorrupt
from .journal import Journal, locate
from .results import Passage


def source_texts(documents: Mapping[str, tuple[str, bool]], texts: bytes | None, corpus: Path,
                 check_corpus: bool, journal: Journal | None) -> dict[str, str]:
    """The text each document's passages are slices of, where it is at hand: ``documents``
    maps doc_id -> (corpus file, extracted?); ``texts`` is the stored extracted texts."""
    out: dict[str, str] = {}
    for line in (texts or b"").decode("utf-8").splitlines():
        row = json.loads(line)
        if row["doc_id"] in documents and documents[row["doc_id"]][1]:
            out[row["doc_id"]] = str(row["text"])
    if check_corpus:
        for doc_id, (file, extracted) in documents.items():
            if not extracted:
                out[doc_id] = locate(journal, corpus, file).read_bytes().decode("utf-8")
    return out


def check_passages(passages: tuple[Passage, ...], files: Mapping[str, str],
                   sources: Mapping[str, str], where: str, rebuild: str) -> tuple[str, ...]:
    """Raise ``IndexCorrupt`` unless every passage whose document is in ``sources`` is exactly
    its slice there, and every passage's offsets and sentence spans are in range. Returns
    the documents (ids) whose passages could not be compared with a source."""
    for p in passages:
        if p.doc_id not in files:
            raise IndexCorrupt(f"the index at {where} has passages of a document it does not list "
                               f"({p.doc_id}). {rebuild}")
        spans_ok = all(len(s) == 2 and 0 <= s[0] <= s[1] <= len(p.text) for s in p.sentences)
        if not isinstance(p.text, str) or not 0 <= p.start <= p.end or not spans_ok:
            raise IndexCorrupt(f"passage {p.id} of the index at {where} has impossible offsets. "
                               f"{rebuild}")
        source = sources.get(p.doc_id)
        if source is not None and (p.end > len(source) or source[p.start:p.end] != p.text):
            raise IndexCorrupt(f"passage {p.id} of the index at {where} is not the text of its "
                               f"source {files[p.doc_id]} at [{p.start}:{p.end}]: the index was "
                               f"altered. {rebuild}")
    return tuple(sorted(d for d in files if d not in sources))


__all__ = ["check_passages", "source_texts"]
