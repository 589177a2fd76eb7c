"""A BEIR-format benchmark folder (corpus.jsonl, queries.jsonl, qrels/test.tsv) as a kzqa
index, built by the same code as ``kzqa build`` so that ``kzqa eval`` measures what
``kzqa build`` and ``ask()`` do.

Each BEIR document becomes a corpus document: ``NAME.txt`` (its text, as is) and
``NAME.meta.yaml`` (its title). NAME is the BEIR id where that is already a kzqa document
id (lower-case letters, digits and hyphens), else ``other/N`` (N its line in corpus.jsonl).
Documents kzqa would not index (empty, the same text twice, no quotable paragraph) are
left out, listed with their reason, and count as never found.

The corpus and index live in a cache folder, ``$KZQA_CACHE_DIR/beir/NAME-KEY`` (default
``~/.cache/kzqa``), KEY a hash of corpus.jsonl, the settings that change what an index
stores and the kzqa version: a re-run with the same data and build settings searches the
index already there (settings that only change the search, such as ``--mode``, need no
rebuild). Vectors come from the embedding cache where it has them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzqa.errors import CorpusError, CorpusProblem, KzqaError
from kzqa.settings import SEARCH_SETTINGS, Settings

if TYPE_CHECKING:
    from kzqa.embed.embedding import Embedder
    from kzqa.embed.passage_vectors import Progress
    from kzqa.search.qa import QA


@dataclass(frozen=True)
class BeirDocument:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class BeirSet:
    name: str
    documents: tuple[BeirDocument, ...]
    queries: dict[str, str]  # query id -> text, only the judged ones
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: relevance}


@dataclass(frozen=True)
class BeirIndex:
    """The kzqa index of a BEIR corpus, loaded, and how it was made."""

    qa: QA  # searches with the requested settings
    folder: Path  # holds corpus/, index/ and build.json
    beir_ids: dict[str, str]  # kzqa document id -> BEIR document id
    left_out: tuple[CorpusProblem, ...]  # BEIR documents not in the index, with the reason
    build: dict[str, Any]  # seconds, embedded, reused (of the build that made the index)
    cached: bool  # True: the index was already there, nothing was built


def is_beir(folder: Path) -> bool:
    folder = Path(folder)
    return folder.is_dir() and (folder / "corpus.jsonl").is_file() and (folder / "queries.jsonl").is_file()


def load_beir(folder: Path, split: str = "test") -> BeirSet:
    folder = Path(folder)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for needed in (folder / "corpus.jsonl", folder / "queries.jsonl", qrels_path):
        if not needed.is_file():
            raise KzqaError(f"not a BEIR folder: {needed} is missing")
    qrels: dict[str, dict[str, int]] = {}
    with open(qrels_path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    docs = []
    with open(folder / "corpus.jsonl", encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                docs.append(BeirDocument(str(row["_id"]), row.get("title") or "", row.get("text") or ""))
            except (json.JSONDecodeError, KeyError) as e:
                raise KzqaError(f"{folder / 'corpus.jsonl'}:{n}: not a BEIR document ({e})") from None
    queries = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                if str(row["_id"]) in qrels:
                    queries[str(row["_id"])] = row["text"]  # metadata (evidence) is never read
    return BeirSet(folder.name, tuple(docs), queries, qrels)


def beir_index(folder: Path, data: BeirSet, settings: Settings, embedder: Embedder | None = None,
               *, rebuild: bool = False, progress: Progress | None = None) -> BeirIndex:
    """The index of ``data`` (read from ``folder``) in its cache folder: the one already
    there if it loads and checks, else built with ``kzqa.build``. ``rebuild`` builds it again
    in any case (still reusing cached vectors)."""
    place = cache_folder(folder, data.name, settings)
    record = place / "build.json"
    if not rebuild and record.is_file():
        try:
            made = json.loads(record.read_text(encoding="utf-8"))
            return _loaded(place, data, settings, embedder, made, cached=True)
        except (KzqaError, OSError, ValueError, KeyError, TypeError):
            pass  # damaged or stale: build it again
    record.unlink(missing_ok=True)
    started = time.perf_counter()
    left_out = write_corpus(data, place / "corpus", settings)
    import kzqa

    report = kzqa.build(place / "corpus", place / "index", settings, embedder=embedder,
                        progress=progress)
    made = {"seconds": round(report.seconds, 1), "embedded": report.embedded,
            "reused": report.reused, "corpus_seconds": round(time.perf_counter() - started - report.seconds, 1),
            "left_out": [[p.path, p.reason] for p in left_out]}
    record.write_text(json.dumps(made, indent=2) + "\n", encoding="utf-8")
    return _loaded(place, data, settings, embedder, made, cached=False)


def _loaded(place: Path, data: BeirSet, settings: Settings, embedder: Embedder | None,
            made: dict[str, Any], cached: bool) -> BeirIndex:
    from kzqa.search.qa import QA
    from kzqa.storage import store

    stored = store.load(place / "index")  # checks the index against its corpus folder
    qa = QA(replace(stored, settings=stored.settings.with_search_of(settings)), embedder)
    names = corpus_names(data)
    ids = {doc_id: names[doc_id] for doc_id in stored.documents}
    left_out = tuple(CorpusProblem(path, reason) for path, reason in made["left_out"])
    build = {k: made[k] for k in ("seconds", "embedded", "reused", "corpus_seconds")}
    return BeirIndex(qa, place, ids, left_out, build, cached)


def cache_folder(folder: Path, name: str, settings: Settings) -> Path:
    """Where the corpus and index of the BEIR folder ``folder`` built with ``settings`` live."""
    from kzqa._version import __version__
    from kzqa.embed.cache import default_cache_dir

    built_by = {k: v for k, v in settings.to_dict().items() if k not in SEARCH_SETTINGS}
    digest = hashlib.sha256(json.dumps([__version__, built_by], sort_keys=True).encode())
    with open(Path(folder) / "corpus.jsonl", "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return default_cache_dir() / "beir" / f"{name}-{digest.hexdigest()[:16]}"


def corpus_names(data: BeirSet) -> dict[str, str]:
    """kzqa document id -> BEIR id, for every BEIR document as ``write_corpus`` names it."""
    return {_stem(n, d.id): d.id for n, d in enumerate(data.documents, start=1)}


def write_corpus(data: BeirSet, corpus: Path, settings: Settings) -> tuple[CorpusProblem, ...]:
    """Write ``data`` as a new kzqa corpus folder, then take out the documents the build
    would refuse (with the same reader and passage cutter as the build); returns those."""
    import yaml

    from kzqa.indexing.indexer import cut_passages
    from kzqa.ingest.corpus import SIDECAR_SUFFIX, scan_corpus

    if corpus.exists():
        shutil.rmtree(corpus)
    for n, doc in enumerate(data.documents, start=1):
        path = corpus / f"{_stem(n, doc.id)}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(doc.text.encode("utf-8", "surrogatepass"))
        if doc.title:  # without one, the title is the file name, as for any kzqa document
            path.with_name(path.stem + SIDECAR_SUFFIX).write_text(
                yaml.safe_dump({"title": doc.title}, allow_unicode=True, width=1 << 20),
                encoding="utf-8")
    scan = scan_corpus(corpus)
    left_out = list(scan.problems)
    for document in scan.documents:
        try:
            cut_passages([document], settings)
        except CorpusError as e:
            left_out += e.problems
    for problem in left_out:
        stem = problem.path.removesuffix(SIDECAR_SUFFIX).removesuffix(".txt")
        for suffix in (".txt", SIDECAR_SUFFIX):
            (corpus / f"{stem}{suffix}").unlink(missing_ok=True)
    return tuple(left_out)


def _stem(n: int, beir_id: str) -> str:
    """The corpus file name (without .txt) of the ``n``-th BEIR document; it is also its
    kzqa document id."""
    from kzqa.ingest.corpus import doc_id_for

    plain = "/" not in beir_id and doc_id_for(f"{beir_id}.txt") == beir_id
    return beir_id if plain else f"other/{n}"
