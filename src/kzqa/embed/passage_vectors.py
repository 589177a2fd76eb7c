"""The vectors a build needs: one per passage, and one per sentence of it (for highlights).

A sentence's vector is pooled from its passage's own forward pass (the mean of the vectors
of the sentence's tokens, as the model pools a whole text), less most of the passage's
vector (``sentence_vectors``), so the model runs once per passage, not once per passage and
once more per sentence: about half the model time of a build. Measured on SciFact's sentence
rationales (bench/highlights.py, 206 claim–abstract pairs): the top sentence is a rationale
sentence for 0.549 of pairs this way, 0.544 with each sentence embedded alone.

Where a vector comes from, first that applies: the index being replaced (same model, same
passage text: exactly the stored values), the embedding cache, the model. A sentence the
model never saw (cut off at its length limit) is embedded alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from kzqa.embed.cache import EmbeddingCache, model_key, text_key
from kzqa.embed.embedding import Embedder, SpanEmbedder
from kzqa.errors import KzqaError

CHUNK = 256  # passages per model call; the cache is written after each
# Texts per model batch: 8 keeps a build's peak RSS at ~715 MB against ~850 MB at 32, at the
# same speed (bench/build.py, 100 SciFact abstracts, two runs each).
BATCH = 8
# How much of the passage's vector is taken away from each pooled sentence vector (see
# ``sentence_vectors``). Chosen on SciFact's rationales (bench/highlights.py; the sweep in
# eval/NOTEBOOK.md, CONTEXT_SHARE).
CONTEXT_SHARE = 0.7
# What the manifest records about the sentence vectors; an index whose sentence vectors were
# made another way has none of them reused.
SENTENCE_VECTORS = f"pooled-from-passage, less {CONTEXT_SHARE} of it"

Progress = Callable[[str, int, int], None]  # (stage, done, total)
Spans = Sequence[tuple[int, int]]


@dataclass(frozen=True)
class Vectors:
    passages: np.ndarray  # (passages, dimension) float32, L2-normalised
    sentences: np.ndarray  # (all sentences, dimension) float16 (as stored), passage by passage
    embedded: int  # passages the model ran on in this build (their sentences with them)
    reused: int  # passages whose vectors came from the previous index or the cache


@dataclass(frozen=True)
class Reuse:
    """Vectors of an existing index by key: passages (float32, as stored) and sentences
    (float16 values, as stored)."""

    passages: dict[str, np.ndarray] = field(default_factory=dict)
    sentences: dict[str, np.ndarray] = field(default_factory=dict)


def span_key(text: str, start: int, end: int) -> str:
    """The cache key of the vector of ``text[start:end]`` pooled from ``text``'s forward pass
    (it depends on the whole text, not on the span's words alone)."""
    return text_key(f"{SENTENCE_VECTORS}: {start}:{end}\n{text}")


def encode_passages(embedder: Embedder, texts: Sequence[str], spans: Sequence[Spans] | None = None,
                    progress: Progress | None = None, cache: EmbeddingCache | None = None,
                    reuse: Reuse | None = None) -> Vectors:
    """Normalised vectors of the passage ``texts`` (float32) and of the character ``spans``
    (sentences) of each (float16, as the index stores them)."""
    reuse = reuse or Reuse()
    cache = cache if cache is not None else EmbeddingCache()
    spans = spans if spans is not None else [()] * len(texts)
    model, dim = model_key(embedder), embedder.dimension
    pkeys = [text_key(t) for t in texts]
    skeys = [[span_key(t, s, e) for s, e in sp] for t, sp in zip(texts, spans)]
    first = np.concatenate([[0], np.cumsum([len(sp) for sp in spans])]).astype(np.int64)
    out_p = np.zeros((len(texts), dim), dtype=np.float32)
    out_s = np.zeros((int(first[-1]), dim), dtype=np.float16)  # stored as float16: half the memory

    found = _known(pkeys, skeys, reuse)
    wanted = sorted({k for i, key in enumerate(pkeys) for k in (key, *skeys[i])} - found.keys())
    found.update(cache.get(model, wanted, dim))
    todo = []
    for i, key in enumerate(pkeys):
        if all(k in found for k in (key, *skeys[i])):
            out_p[i] = found[key]
            for j, k in enumerate(skeys[i]):
                out_s[first[i] + j] = found[k]
        else:
            todo.append(i)
    # Longest first, so each batch holds texts of about one length: the model pads a batch to
    # its longest text, and mixed lengths cost it ~1.5x here (bench/build.py).
    todo.sort(key=lambda i: (-len(texts[i]), i))
    alone: list[tuple[int, int]] = []  # (passage, sentence) to embed on its own
    if progress:
        progress("embedding", 0, len(todo))
    for c in range(0, len(todo), CHUNK):  # cache as we go: an interrupted build keeps its work
        rows = todo[c : c + CHUNK]
        vecs, pooled = _encode(embedder, [texts[i] for i in rows], [spans[i] for i in rows])
        keys: list[str] = []
        values: list[np.ndarray] = []
        for i, v, pooled_i in zip(rows, vecs, pooled):
            sv = sentence_vectors(v, pooled_i)
            out_p[i] = v
            out_s[first[i] : first[i + 1]] = sv
            made: list[bool] = np.any(sv, axis=1).tolist()
            keys += [pkeys[i]] + [k for k, ok in zip(skeys[i], made) if ok]
            values += [v, *sv[made]]
            alone += [(i, j) for j, ok in enumerate(made) if not ok]
        cache.put(model, keys, np.asarray(values, dtype=np.float32).reshape(-1, dim))
        if progress:
            progress("embedding", c + len(rows), len(todo))
    for c in range(0, len(alone), CHUNK):  # sentences the model cut off (or an embedder
        pairs = alone[c : c + CHUNK]  # without spans): each embedded on its own
        lone = [texts[i][spans[i][j][0] : spans[i][j][1]] for i, j in pairs]
        vecs = _checked(embedder, embedder.encode(lone, batch_size=BATCH), len(lone))
        for (i, j), v in zip(pairs, vecs):
            out_s[first[i] + j] = v
        cache.put(model, [skeys[i][j] for i, j in pairs], vecs)
    return Vectors(out_p, out_s, len(todo), len(texts) - len(todo))


def _known(pkeys: list[str], skeys: list[list[str]], reuse: Reuse) -> dict[str, np.ndarray]:
    """The vectors the index being replaced already holds, by key."""
    found: dict[str, np.ndarray] = {}
    for key, keys in zip(pkeys, skeys):
        if key in reuse.passages:
            found[key] = reuse.passages[key]
        found.update((k, reuse.sentences[k]) for k in keys if k in reuse.sentences)
    return found


def sentence_vectors(passage: np.ndarray, pooled: np.ndarray) -> np.ndarray:
    """The stored vectors of a passage's sentences from their pooled ones: what each adds to
    its passage. Sentences of one passage share its context, so their pooled vectors lie close
    together and close to the passage's; taking away ``CONTEXT_SHARE`` of the passage's
    vector leaves what tells them apart. Rows of zeros (no tokens) stay zeros."""
    out = pooled - CONTEXT_SHARE * passage
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out = np.where(norms > 1e-6, out / np.maximum(norms, 1e-12), 0.0).astype(np.float32)
    out[~pooled.any(axis=1)] = 0.0
    return out


def _encode(embedder: Embedder, texts: list[str], spans: list[Spans]
            ) -> tuple[np.ndarray, list[np.ndarray]]:
    """The texts' vectors and their spans' (rows of zeros: to be embedded alone)."""
    dim = embedder.dimension
    if isinstance(embedder, SpanEmbedder) and any(spans):
        vecs, pooled = embedder.encode_spans(texts, spans, batch_size=BATCH)
        if len(pooled) != len(texts) or any(p.shape != (len(s), dim) for p, s in zip(pooled, spans)):
            raise KzqaError(f"model '{embedder.name}' returned span vectors that do not fit the spans")
    else:
        vecs = embedder.encode(texts, batch_size=BATCH)
        pooled = [np.zeros((len(s), dim), dtype=np.float32) for s in spans]
    return _checked(embedder, vecs, len(texts)), pooled


def _checked(embedder: Embedder, vecs: np.ndarray, n: int) -> np.ndarray:
    vecs = np.asarray(vecs, dtype=np.float32)
    if vecs.shape != (n, embedder.dimension):
        raise KzqaError(f"model '{embedder.name}' returned vectors of shape {vecs.shape}, "
                        f"expected ({n}, {embedder.dimension})")
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return np.asarray(vecs / np.maximum(norms, 1e-12), dtype=np.float32)
