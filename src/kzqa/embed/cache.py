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
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kzqa.embed.embedding import Embedder

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
