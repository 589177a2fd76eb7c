"""Checking, on load, that an index is whole and is its corpus's: every data file as the
manifest lists it (size, sha256, a name inside the index folder), the corpus files
unchanged (else the index is stale), and every passage it would quote its source's text.

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

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kzqa.documents import Passage
from kzqa.errors import IndexCorrupt, IndexStale
from kzqa.ingest.corpus import corpus_hashes
from kzqa.storage.index_folder import safe_name
from kzqa.storage.journal import Journal, explained, locate


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


def stale_files(corpus: Path, recorded: dict[str, str], pending: Journal | None = None) -> list[str]:
    """What changed in ``corpus`` since the index recorded its files, one line each; a
    change ``pending`` (an add or remove in progress) explains is not one."""
    now = corpus_hashes(corpus)

    def changed(f: str) -> bool:
        return now.get(f) != recorded.get(f) and not explained(pending, corpus, f, recorded.get(f),
                                                                       now.get(f))

    out = [f"changed: {f}" for f in sorted(recorded) if f in now and changed(f)]
    out += [f"added: {f}" for f in sorted(set(now) - set(recorded)) if changed(f)]
    out += [f"removed: {f}" for f in sorted(set(recorded) - set(now)) if changed(f)]
    return out


def check_fresh(index: Path, corpus: Path, recorded: dict[str, str],
                 pending: Journal | None, rebuild: str) -> None:
    if not corpus.is_dir():
        raise IndexStale(f"the corpus the index at {index} was built from ({corpus}) is not there, "
                         f"so kzqa cannot check that the index matches it. {rebuild}")
    changes = stale_files(corpus, recorded, pending)
    if changes:
        shown = "; ".join(changes[:5]) + (f"; and {len(changes) - 5} more" if len(changes) > 5 else "")
        raise IndexStale(f"the corpus changed since the index was built ({shown}). {rebuild}")


def read_files(index: Path, files: dict[str, Any], rebuild: str) -> dict[str, bytes]:
    """Every data file the manifest lists, checked against its size and sha256."""
    data = {key: read_checked(index, files[key], rebuild) for key in ("passages", "vectors", "sentences")}
    if "texts" in files:
        data["texts"] = read_checked(index, files["texts"], rebuild)
    folders = {str(item["name"]).split("/")[0] for item in files["bm25"]}
    if len(folders) != 1 or not all(str(item["name"]).count("/") == 1 for item in files["bm25"]):
        raise IndexCorrupt(f"the index at {index} lists no BM25 folder, or more than one. {rebuild}")
    for item in files["bm25"]:
        read_checked(index, item, rebuild)
    return data


def read_checked(index: Path, item: dict[str, Any], rebuild: str) -> bytes:
    """The bytes of a data file, checked against its manifest entry (a name that would
    lead outside the index folder is refused: nothing outside it is read)."""
    if not safe_name(str(item["name"])):
        raise IndexCorrupt(f"the manifest of the index at {index} names a file outside the index "
                           f"folder ({item['name']!r}). {rebuild}")
    path = index / item["name"]
    try:
        data: bytes = path.read_bytes()
    except FileNotFoundError:
        raise IndexCorrupt(f"index file {path} is missing. {rebuild}") from None
    if len(data) != item["bytes"] or hashlib.sha256(data).hexdigest() != item["sha256"]:
        raise IndexCorrupt(f"index file {path} is truncated or altered (its size or sha256 differs "
                           f"from the manifest). {rebuild}")
    return data


__all__ = ["check_fresh", "check_passages", "read_checked", "read_files", "source_texts",
           "stale_files"]
