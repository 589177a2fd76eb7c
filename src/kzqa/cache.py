"""A cache of embeddings, keyed by model and text, so unchanged text is never embedded twice.

One SQLite file (``$KZQA_CACHE_DIR/embeddings.sqlite3``, default ``~/.cache/kzqa``): a row
per (model fingerprint, sha256 of the text) holding the float32 vector. Re-running
``kzqa eval`` with other fusion settings, or rebuilding an unchanged corpus, reads vectors
back instead of running the model. A missing, locked or unwritable cache only costs time:
the embedder then runs as if there were no cache.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .embedding import Embedder

_SCHEMA = ("CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, text_sha256 TEXT NOT NULL, "
           "vector BLOB NOT NULL, PRIMARY KEY (model, text_sha256))")


def default_cache_dir() -> Path:
    if os.environ.get("KZQA_CACHE_DIR"):
        return Path(os.environ["KZQA_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kzqa"


class EmbeddingCache:
    def __init__(self, folder: Path | None = None):
        self.path = Path(folder or default_cache_dir()) / "embeddings.sqlite3"
        self._db: sqlite3.Connection | None = None
        self.hits = self.misses = 0

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                self._db.execute(_SCHEMA)
            except (OSError, sqlite3.Error):
                return None
        return self._db

    def get(self, model: str, keys: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        db = self._connect()
        if db is None:
            return {}
        found: dict[str, np.ndarray] = {}
        try:
            for i in range(0, len(keys), 500):
                chunk = list(keys[i : i + 500])
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT text_sha256, vector FROM vectors WHERE model = ? AND "
                                  f"text_sha256 IN ({marks})", [model, *chunk])
                for key, blob in rows:
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape == (dim,):
                        found[key] = vec
        except sqlite3.Error:
            return {}
        return found

    def put(self, model: str, keys: Sequence[str], vectors: np.ndarray) -> None:
        db = self._connect()
        if db is None:
            return
        try:
            with db:
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                               [(model, k, np.asarray(v, dtype=np.float32).tobytes())
                                for k, v in zip(keys, vectors)])
        except sqlite3.Error:
            pass


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def model_key(embedder: Embedder) -> str:
    """What identifies the vectors a model gives: its name and, where it has one, a
    fingerprint of its weights (so a retrained local model is not read from the cache)."""
    fingerprint = getattr(embedder, "fingerprint", None)
    return f"{embedder.name}|{fingerprint() if callable(fingerprint) else embedder.dimension}"


def cached_encode(embedder: Embedder, texts: Sequence[str], cache: EmbeddingCache | None,
                  progress: Callable[[int], None] | None = None, batch_size: int = 32) -> np.ndarray:
    """``embedder.encode(texts)``, reading what it can from ``cache`` and storing the rest."""
    if cache is None:
        return embedder.encode(texts, batch_size=batch_size, progress=progress)
    model = model_key(embedder)
    keys = [text_key(t) for t in texts]
    found = cache.get(model, sorted(set(keys)), embedder.dimension)
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    todo = [i for i, k in enumerate(keys) if k not in found]
    cache.hits += len(texts) - len(todo)
    cache.misses += len(todo)
    for i, k in enumerate(keys):
        if k in found:
            out[i] = found[k]
    if progress and len(texts) > len(todo):
        progress(len(texts) - len(todo))
    # Longest first, so each batch holds texts of about one length: the model pads a batch to
    # its longest text, and mixed lengths cost it ~1.5x here (bench/build.py).
    todo.sort(key=lambda i: (-len(texts[i]), i))
    step = max(batch_size, 256)
    for start in range(0, len(todo), step):  # store as we go: an interrupted run keeps its work
        rows = todo[start : start + step]
        vecs = embedder.encode([texts[i] for i in rows], batch_size=batch_size, progress=progress)
        out[rows] = vecs
        cache.put(model, [keys[i] for i in rows], vecs)
    return out
