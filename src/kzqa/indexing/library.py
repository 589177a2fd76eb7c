"""The Kazakhstan library: what kzqa answers from when no index is named.

The library is the two seed articles, the State Department's nine Country Reports on Human
Rights Practices: Kazakhstan (2016–2024, ``usdos-kazakhstan``) and the UN Human Rights
Council's two Universal Periodic Review reports on Kazakhstan (2010, 2014, ``un-kazakhstan``),
each cited with the catalogue's bibliographic facts, and searched with the abstention rule
fitted for it (``settings.LIBRARY_RULE``, shipped: nothing is fitted on the user's machine).

Its documents come, in this order, from:

1. a local copy named by ``$KZQA_LIBRARY_FROM`` (a folder holding the catalogue's files, in
   it or in folders under it);
2. a mirror: ``$KZQA_LIBRARY_MIRROR`` (a base address serving the same file names);
3. the ``shared/library`` folder beside a source checkout (developer machines and CI);
4. the publishers' own addresses (the catalogue's), checked against its sha256 (a changed
   page is reported, not refused).

It is built once, into ``kzqa.storage.paths.library_home()`` (``$KZQA_HOME``, else
``build/kazakhstan`` in a source checkout, else ``~/.local/share/kzqa/kazakhstan``): the
corpus with the documents' bytes, and the index. A build killed at any moment leaves the
previous state whole (``kzqa.indexing.manage`` adds atomically); the next start picks up what is there
and builds the rest. ``library_ready()`` tells whether the whole library is built; a
``Progress`` tells how far a build has come.

Without any source (offline, no copy), kzqa answers from the seed articles
(``kzqa.storage.paths.seeds_index_dir()``) and says in one line how to get the library.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kzqa.errors import CorpusProblem, KzqaError
from kzqa.ingest.corpus import SIDECAR_SUFFIX
from kzqa.storage.paths import (
    LIBRARY_COLLECTIONS,
    LIBRARY_MARKER,
    default_index_dir,
    index_outdated,
    library_files,
    library_home,
    library_ready,
    project_root,
    seeds_corpus_dir,
    seeds_index_dir,
)

if TYPE_CHECKING:
    from kzqa.embed.embedding import Embedder

HOW_TO_GET = ("to answer from the Kazakhstan library (nine State Department reports, two UN "
              "reports), connect to the internet or set KZQA_LIBRARY_FROM=FOLDER (a copy of its "
              "files), then run: kzqa library")

Notify = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class State:
    """How far the library's build has come, for a page to show: ``stage`` is "waiting",
    "fetching", "embedding", "ready" or "unavailable"; ``done``/``total`` count documents
    (fetching) or passages (embedding); ``message`` is the last line said."""

    stage: str = "waiting"
    done: int = 0
    total: int = 0
    message: str = ""


class Progress:
    """The build's state, updated by the build and read by the server (thread-safe), with
    each line also passed to ``notify``."""

    def __init__(self, notify: Notify | None = None):
        self._lock = threading.Lock()
        self._state = State()
        self._notify = notify

    @property
    def state(self) -> State:
        with self._lock:
            return self._state

    def set(self, **changes: object) -> None:
        with self._lock:
            self._state = replace(self._state, **changes)  # type: ignore[arg-type]
        message = changes.get("message")
        if message and self._notify:
            self._notify(str(message))

    def embedding(self, stage: str, done: int, total: int) -> None:
        """A ``kzqa.embed.passage_vectors.Progress`` callback: passages embedded so far."""
        previous = self.state
        if total and (previous.stage != "embedding" or done == total or done - previous.done >= 256):
            self.set(stage="embedding", done=done, total=total,
                     message=f"embedding the library: {done:,} of {total:,} passages")


def index_dir() -> Path:
    return library_home() / "index"


def corpus_dir() -> Path:
    return library_home() / "corpus"


def named_copy() -> Path | None:
    """The folder ``$KZQA_LIBRARY_FROM`` names, if any."""
    named = os.environ.get("KZQA_LIBRARY_FROM")
    if not named:
        return None
    if not Path(named).is_dir():
        raise KzqaError(f"KZQA_LIBRARY_FROM={named}: no such folder")
    return Path(named)


def local_copy() -> Path | None:
    """The folder to read the library's files from, if any (see the module notes)."""
    named = named_copy()
    if named is not None:
        return named
    root = project_root()
    shared = root.parent / "shared" / "library" if root is not None else None
    return shared if shared is not None and shared.is_dir() else None


def build(*, source: Path | None = None, mirror: str | None = None, progress: Progress | None = None,
          embedder: Embedder | None = None) -> Path:
    """Build the library (or finish building it) and return its index folder. Documents come
    from ``source`` (a local copy), else ``mirror``, else ``local_copy()`` /
    ``$KZQA_LIBRARY_MIRROR`` / the publishers' addresses. Raises ``KzqaError`` when some
    document cannot be had (the ones that could are kept for the next try)."""
    from kzqa.indexing import sources
    from kzqa.indexing.changes import Incoming
    from kzqa.indexing.manage import add_documents

    progress = progress or Progress()
    if source is None and mirror is None:  # the order of the module notes
        source = named_copy()
        mirror = None if source else os.environ.get("KZQA_LIBRARY_MIRROR") or None
        source = source or (None if mirror else local_copy())
    corpus, index = corpus_dir(), index_dir()
    corpus.mkdir(parents=True, exist_ok=True)
    _copy_seeds(corpus)
    have = frozenset(p.name for p in corpus.iterdir() if p.is_file())
    incoming: list[Incoming] = []
    refused: list[CorpusProblem] = []
    total = len(library_files())
    progress.set(stage="fetching", done=total - len([f for f in library_files() if f not in have]), total=total,
                 message=f"building the Kazakhstan library in {library_home()} "
                         f"(from {source or mirror or 'the publishers’ addresses'})")
    for name in LIBRARY_COLLECTIONS:
        got, lost = sources.from_collection(name, source, lambda line: progress.set(message=line),
                                            mirror=mirror, skip=have)
        incoming += got
        refused += lost
        progress.set(done=progress.state.done + len(got))
    if incoming:
        add_documents(corpus, index, incoming, refused=list(refused), embedder=embedder,
                      progress=progress.embedding)
    elif index_outdated(index):  # every file there (a killed build), or cut by older rules: index them
        from kzqa.indexing.indexer import build_index
        from kzqa.settings import Settings

        # the library's settings are kzqa's (its shipped, measured rule), not the old index's
        build_index(corpus, index, Settings(), embedder, progress=progress.embedding)
    if refused:
        raise KzqaError("the library is not complete: " + "; ".join(str(p) for p in refused)
                        + f" ({len(incoming)} document(s) added; run kzqa library again to add the rest)")
    _write_marker()
    progress.set(stage="ready", message=f"the Kazakhstan library is ready ({total} reports and the "
                                        "two seed articles)")
    return index


def default_ready() -> bool:
    """Whether the default index can be opened as it is: named by ``$KZQA_INDEX``, or the
    library, built."""
    return bool(os.environ.get("KZQA_INDEX")) or library_ready()


def resolve(index: str | Path | None, embedder: Embedder | None = None) -> Path:
    """The index folder ``kzqa.load(index)`` opens: a folder as named; with none,
    ``$KZQA_INDEX`` or the library (built now if it is not: progress on stderr), else, with no
    source for it, the seed articles (one line on stderr says how to get the library);
    ``"seeds"``: the seed articles' index, built first if it is missing."""
    if index is not None and str(index) != "seeds":
        return Path(index)
    if index is None and default_ready():
        return default_index_dir()
    if index is None:
        try:
            return build(progress=Progress(_say), embedder=embedder)
        except KzqaError as e:
            _say(f"answering from the two seed articles ({e}); {HOW_TO_GET}")
    seeds = seeds_index_dir()
    if not (seeds / "manifest.json").is_file():
        from kzqa.indexing.indexer import build_index
        from kzqa.settings import seeds_settings

        build_index(seeds_corpus_dir(), seeds, seeds_settings(), embedder)
    return seeds


def _say(line: str) -> None:
    print(f"kzqa: {line}", file=sys.stderr, flush=True)


def _copy_seeds(corpus: Path) -> None:
    """The seed articles (and their metadata files) into the library's corpus."""
    for path in sorted(seeds_corpus_dir().iterdir()):
        if path.is_file() and (path.suffix in (".txt", ".md") or path.name.endswith(SIDECAR_SUFFIX)):
            target = corpus / path.name
            if not target.is_file() or target.read_bytes() != path.read_bytes():
                shutil.copy2(path, target)


def _write_marker() -> None:
    from kzqa.files import atomic_write

    marker = {"collections": list(LIBRARY_COLLECTIONS), "files": library_files()}
    atomic_write(library_home() / LIBRARY_MARKER, json.dumps(marker, indent=1).encode("utf-8"))


__all__ = ["HOW_TO_GET", "Progress", "State", "build", "corpus_dir", "index_dir", "local_copy"]
