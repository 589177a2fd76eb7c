"""kzqa: questions about political freedoms and human rights in Kazakhstan, answered only
with passages quoted verbatim from its corpus, each with its source.

    >>> import kzqa
    >>> qa = kzqa.load()                        # the Kazakhstan library (built on first use)
    >>> answer = qa.ask("Are elections free?")
    >>> answer.abstained, answer.passages[0].text, answer.passages[0].citation()

``import kzqa`` is light: the model, torch and FAISS load on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzqa._version import __version__
from kzqa.citation import Citation
from kzqa.documents import Passage, Source
from kzqa.errors import (
    CorpusError,
    CorpusProblem,
    IndexCorrupt,
    IndexMismatch,
    IndexMissing,
    IndexProblem,
    IndexStale,
    InvalidQuestion,
    KzqaError,
)
from kzqa.results import Answer, Hit
from kzqa.search.filters import Filter
from kzqa.settings import Settings

if TYPE_CHECKING:
    from kzqa.embed.embedding import Embedder
    from kzqa.embed.passage_vectors import Progress
    from kzqa.indexing.changes import Change
    from kzqa.indexing.indexer import BuildReport
    from kzqa.search.qa import QA

__all__ = [
    "Answer", "BuildReport", "Citation", "CorpusError", "Filter", "CorpusProblem", "Hit", "IndexCorrupt",
    "IndexMismatch", "IndexMissing", "IndexProblem", "IndexStale", "InvalidQuestion", "KzqaError", "Passage",
    "QA", "Settings", "Source", "__version__", "add", "build", "load", "remove", "verify_export",
]


def load(index: str | Path | None = None, *, check_corpus: bool = True,
         embedder: Embedder | None = None) -> QA:
    """Open an index and check it.

    With no ``index``: the Kazakhstan library (``kzqa.indexing.library``: the seed articles, nine State
    Department reports, two UN reports), built on first use from a local copy or the
    publishers' addresses (a few minutes: its ~2,700 passages are embedded once; progress on
    stderr); without any source, the seed articles, with one line on stderr saying how to get
    the library. ``"seeds"``: the two seed articles (built on first use). ``$KZQA_INDEX``
    names another default. Or a folder.

    Raises ``IndexMissing``, ``IndexCorrupt``, ``IndexMismatch`` or ``IndexStale`` (the
    corpus changed since the build) with the command that fixes it. ``check_corpus=False``
    skips the comparison with the corpus files (for an index copied without its corpus).
    """
    from kzqa.indexing import library
    from kzqa.search.qa import QA
    from kzqa.storage import store

    stored = store.load(library.resolve(index, embedder), check_corpus=check_corpus)
    return QA(stored, embedder)


def build(corpus: str | Path | None = None, index: str | Path | None = None,
          settings: Settings | None = None, *, embedder: Embedder | None = None,
          skip_invalid: bool = False, progress: Progress | None = None,
          **changes: Any) -> BuildReport:
    """Build (or rebuild) an index from a corpus folder, atomically.

    Settings: by default those of the index being replaced (its search settings and fitted
    abstention rule are kept, as ``kzqa build`` keeps them), with ``changes`` applied
    (``Settings`` field names, e.g. ``dense_weight=0.6``; None leaves a setting as it is).
    A whole ``settings`` replaces them all, its abstention rule included.

    Raises ``CorpusError`` listing every bad file (and writes nothing) unless
    ``skip_invalid`` is set, in which case the report lists the files left out.
    """
    from kzqa.indexing.indexer import build_index, previous_settings

    corpus, index = _folders(corpus, index)
    chosen = (settings or previous_settings(index)).with_(**changes)
    return build_index(corpus, index, chosen, embedder, skip_invalid=skip_invalid, progress=progress)


def add(files: list[str | Path], corpus: str | Path | None = None, index: str | Path | None = None,
        *, metadata: dict[str, str] | None = None, collection: str | None = None,
        source: str | Path | None = None, embedder: Embedder | None = None,
        progress: Progress | None = None, notify: Callable[[str], None] | None = None) -> Change:
    """Copy documents into the corpus and update the index; only the new documents are
    embedded. Each of ``files`` is a file (.txt, .md, .pdf, .html) or an http(s) address,
    downloaded and kept with its address and the date fetched. ``collection`` adds the
    documents of a known collection (``kzqa.ingest.catalogue``): downloaded, or read from the local
    copy in the folder ``source``. ``metadata`` (title, author, publisher, date, url, ...)
    overrides what the files say of themselves.

    A file already in the corpus with the same bytes is listed in ``Change.unchanged``; given
    other metadata (``metadata``, or an edited sidecar beside it) its sidecar is replaced and
    it is listed in ``Change.updated`` with the keys that changed. A document whose citations
    will lack a publisher or a URL is added, with a ``Change.warnings`` entry.

    A document that cannot be read or downloaded is left out and listed in
    ``Change.refused``, the others are added; when none can be, raises ``KzqaError`` with
    the corpus and index unchanged. ``notify`` receives one line per download."""
    from kzqa.indexing import sources
    from kzqa.indexing.manage import add_documents

    corpus, index = _folders(corpus, index)
    metadata = {k: v for k, v in (metadata or {}).items() if v not in (None, "")}
    if "title" in metadata and len(files) + bool(collection) > 1:
        raise KzqaError("a title names one document: add the files one at a time")
    incoming, refused = sources.from_targets([str(f) for f in files], metadata, notify)
    if collection:
        more, refused_more = sources.from_collection(collection, Path(source) if source else None, notify)
        incoming, refused = incoming + more, refused + refused_more
    if not incoming and refused:
        raise KzqaError("nothing was added:\n" + "\n".join(f"  {p}" for p in refused))
    return add_documents(corpus, index, incoming, embedder=embedder, progress=progress, refused=refused)


def remove(documents: list[str], corpus: str | Path | None = None, index: str | Path | None = None,
           *, embedder: Embedder | None = None, progress: Progress | None = None) -> Change:
    """Take documents (ids or file names) out of the corpus and update the index. The files
    are moved to ``<corpus>/.removed/``, not deleted."""
    from kzqa.indexing.manage import remove as remove_documents

    corpus, index = _folders(corpus, index)
    return remove_documents(corpus, index, list(documents), embedder=embedder, progress=progress)


def verify_export(export: str | Path, index: str | Path | None = None) -> tuple[list[Any], int]:
    """Re-check the quotes of a collection (.jsonl) or an export (.md, .csv) against ``index``
    and its source files: ``(mismatches, quotes checked)``; each mismatch
    (``kzqa.evidence.collection.Mismatch``) names the quote and where it differs."""
    from kzqa.evidence import collection
    from kzqa.indexing import library
    from kzqa.storage import store
    from kzqa.storage.paths import default_index_dir

    quotes = collection.read_quotes(export)
    stored = store.load(library.resolve(index) if index is not None else default_index_dir())
    return collection.check(quotes, store.source_texts_of(stored)), len(quotes)


def _folders(corpus: str | Path | None, index: str | Path | None) -> tuple[Path, Path]:
    from kzqa.storage.paths import default_corpus_dir, default_index_dir

    return (Path(corpus) if corpus else default_corpus_dir(),
            Path(index) if index else default_index_dir())


def __getattr__(name: str) -> Any:  # lazy public names that would pull in numpy/faiss
    if name == "QA":
        from kzqa.search.qa import QA

        return QA
    if name == "BuildReport":
        from kzqa.indexing.indexer import BuildReport

        return BuildReport
    if name == "collection":  # `from kzqa import collection`, as before the folders (0.2)
        from kzqa.evidence import collection

        return collection
    raise AttributeError(f"module 'kzqa' has no attribute {name!r}")
