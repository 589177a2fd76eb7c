"""An index that a running server follows: ``kzqa add``, ``remove`` or ``build`` replace
the index folder's manifest (one atomic rename), and the next question is answered from
the new index without a restart. Questions in flight finish on the index they started
with: each holds its own reference to the loaded index, which stays whole in memory.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from kzqa.documents import Passage
from kzqa.embed.embedding import Embedder
from kzqa.errors import KzqaError
from kzqa.results import Answer
from kzqa.search.filters import Filter
from kzqa.search.qa import QA
from kzqa.storage.store import MANIFEST, DocumentRecord

Stamp = tuple[int, int, int]  # the manifest's inode, size and modification time (ns)


def manifest_stamp(index: Path) -> Stamp | None:
    """What changes when a writer replaces the manifest (a rename gives a new inode)."""
    try:
        st = os.stat(Path(index) / MANIFEST)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class LiveQA:
    """``QA`` over whatever index is at ``path`` now. Each call looks at the manifest (one
    ``stat``); when it was replaced, the new index is loaded once, by one caller, while the
    others go on answering from the previous one. An index that cannot be loaded (damaged,
    or its corpus changed mid-way through an ``add``) is not taken: the previous one keeps
    answering, and the reason is printed once on stderr."""

    def __init__(self, path: Path, *, check_corpus: bool = True, embedder: Embedder | None = None):
        self.path = Path(path)
        self._check_corpus = check_corpus
        self._lock = threading.Lock()
        self._stamp = manifest_stamp(self.path)
        self._qa = self._open(embedder)
        self._refused: Stamp | None = None
        self.reloads = 0  # how many times a new index was taken

    def follow(self, path: Path) -> None:
        """Answer from the index at ``path`` from now on (the library, once built): it is
        loaded by the next caller, as a rebuilt index is."""
        with self._lock:
            self.path, self._stamp, self._refused = Path(path), None, None

    @property
    def qa(self) -> QA:
        """The index to answer the next question from."""
        stamp = manifest_stamp(self.path)
        if stamp is not None and stamp != self._stamp and stamp != self._refused:
            if self._lock.acquire(blocking=False):  # one loader; the others use the old index
                try:
                    self._reload(stamp)
                finally:
                    self._lock.release()
        return self._qa

    def _open(self, embedder: Embedder | None) -> QA:
        """The index at ``self.path``, loaded and checked: the one way this class loads."""
        from kzqa.storage import store

        return QA(store.load(self.path, check_corpus=self._check_corpus), embedder)

    def _reload(self, stamp: Stamp) -> None:
        old = self._qa
        try:
            new = self._open(old.embedder)  # the loaded model, not a copy ...
            if new.settings.model != old.settings.model:
                new = QA(new.store, None)  # ... unless the rebuilt index names another
            new.warm_up()
        except KzqaError as e:
            self._refused = stamp
            print(f"kzqa: still answering from the previous index: {e}", file=sys.stderr, flush=True)
            return
        self._qa, self._stamp, self._refused = new, stamp, None
        self.reloads += 1
        print(f"kzqa: now answering from the rebuilt index ({len(new.passages)} passages, "
              f"{len(new.documents)} documents)", file=sys.stderr, flush=True)

    # The QA interface, each call on the current index.

    @property
    def documents(self) -> dict[str, DocumentRecord]:
        return self.qa.documents

    @property
    def passages(self) -> tuple[Passage, ...]:
        return self.qa.passages

    def passage(self, passage_id: str) -> Passage | None:
        return self.qa.passage(passage_id)

    def warm_up(self) -> LiveQA:
        self.qa.warm_up()
        return self

    def ask(self, question: str, k: int = 3, history: Sequence[str] = (),
            filters: Filter | None = None) -> Answer:
        return self.qa.ask(question, k, history, filters)

    def search(self, query: str, k: int = 10, filters: Filter | None = None) -> Answer:
        return self.qa.search(query, k, filters)


class DefaultLibrary:
    """What ``kzqa serve`` and the Space answer from when no index is named: the Kazakhstan
    library (``kzqa.indexing.library``) when it is built; else the seed articles at once, while the
    library is built in a background thread, then the library, without a restart. ``status()``
    says in one line (Markdown) which it is, and how far the build has come."""

    def __init__(self, embedder: Embedder | None = None):
        from kzqa.indexing import library
        from kzqa.storage.paths import default_index_dir

        self.progress = library.Progress(lambda line: print(f"kzqa: {line}", file=sys.stderr, flush=True))
        self._embedder = embedder  # None: the default model
        self._failed = ""
        self.thread: threading.Thread | None = None
        self.on_library = library.default_ready()
        if self.on_library:
            self.live = LiveQA(default_index_dir(), embedder=embedder)
            self.progress.set(stage="ready")
            return
        seeds = library.resolve("seeds", embedder)  # builds the seeds' index if it is missing
        self.live = LiveQA(seeds, embedder=embedder)
        self.thread = threading.Thread(target=self._build, name="kzqa-library", daemon=True)
        self.thread.start()

    def _build(self) -> None:
        from threadpoolctl import threadpool_limits

        from kzqa.indexing import library

        try:
            # every core for the build: the server's one-BLAS-thread limit (answers in
            # parallel) would slow the first start's embedding down; and the batch encoder
            # (sentence-transformers), not the query path's NumPy one (4x slower in bulk)
            with threadpool_limits(limits=os.cpu_count() or 1, user_api="blas"):
                index = library.build(progress=self.progress, embedder=self._embedder)
        except Exception as e:  # any failure: the seeds keep answering, and the page says why
            self._failed = str(e).splitlines()[0] if str(e) else type(e).__name__
            self.progress.set(stage="unavailable", message=f"the library could not be built: {self._failed}")
            return
        self.live.follow(index)
        self.live.qa.warm_up()
        self.on_library = True

    def status(self) -> str:
        """Which documents are answering, in one line of Markdown."""
        from kzqa.indexing.library import HOW_TO_GET

        state = self.progress.state
        if self.on_library:
            return f"Answering from **the Kazakhstan library** ({len(self.live.documents)} documents)."
        if state.stage == "unavailable":
            return (f"Answering from **the two seed articles**: {self._failed}. "
                    + HOW_TO_GET[0].upper() + HOW_TO_GET[1:] + ".")
        if state.stage == "embedding" and state.total:
            step = f"embedding its passages, {state.done:,} of {state.total:,}"
        elif state.stage == "fetching" and state.total:
            step = f"fetching its documents, {state.done} of {state.total}"
        else:
            step = "starting"
        return (f"Answering from **the two seed articles** while the Kazakhstan library is built "
                f"({step}); the library takes over by itself when it is ready.")
