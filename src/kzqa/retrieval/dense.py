"""The dense side of search: an exact or an approximate inner-product index, chosen by size.

Up to ``EXACT_UP_TO`` passages kzqa keeps an exact FAISS ``IndexFlatIP`` and scores every
passage with one matrix product (at 100,000 passages ~8 ms here, at 1,000,000 ~88 ms; see
bench/scale.py). Above it, an HNSW graph (``IndexHNSWFlat``) finds the best ``depth``
passages in 1-3 ms up to 1,000,000 passages, with recall@10 0.988 against exact search at
1,000,000 (synthetic clustered vectors; 0.948 at efSearch 128, hence 256). The manifest records which one an index holds
(``describe``), and ``DenseSearch`` gives both the same interface, so nothing else in
kzqa knows the difference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kzqa.retrieval.ranking import Ranked

EXACT_UP_TO = 50_000  # passages; above this an approximate (HNSW) index is built
KINDS = ("auto", "exact", "hnsw")
HNSW_M = 32  # graph degree
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256  # candidates examined per query (at least the depth asked for)


def choose(count: int, requested: str = "auto") -> str:
    """``"exact"`` or ``"hnsw"`` for an index of ``count`` passages."""
    if requested not in KINDS:
        raise ValueError(f"vector index must be one of {', '.join(KINDS)}, not {requested!r}")
    if requested != "auto":
        return requested
    return "exact" if count <= EXACT_UP_TO else "hnsw"


def build(vectors: np.ndarray, kind: str) -> Any:
    """A FAISS index of ``vectors`` (normalised float32 rows) of the given kind."""
    import faiss

    dim = vectors.shape[1]
    index: Any
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    elif kind == "exact":
        index = faiss.IndexFlatIP(dim)
    else:
        raise ValueError(f"unknown vector index kind {kind!r}")
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def describe(index: Any) -> dict[str, Any]:
    """What the manifest records about the vector index."""
    hnsw = getattr(index, "hnsw", None)
    if hnsw is None:
        return {"kind": "exact", "faiss": "IndexFlatIP"}
    return {"kind": "hnsw", "faiss": "IndexHNSWFlat", "m": HNSW_M,
            "ef_construction": int(hnsw.efConstruction), "ef_search": HNSW_EF_SEARCH}


class DenseSearch:
    """Cosine scores of a query against the passages, exact or approximate."""

    def __init__(self, index: Any):  # a faiss.Index (faiss ships no type information)
        self.index = index
        self.kind = "hnsw" if getattr(index, "hnsw", None) is not None else "exact"
        self.count = int(index.ntotal)
        # Exact: the vectors as one matrix (one NumPy product beats a FAISS call per query at
        # this size). HNSW: the graph holds them; rows are fetched only when needed.
        self._matrix: np.ndarray | None = (np.ascontiguousarray(index.reconstruct_n(0, self.count), dtype=np.float32)
                        if self.kind == "exact" else None)

    @classmethod
    def exact(cls, matrix: np.ndarray) -> DenseSearch:
        """Exact search over normalised rows already in memory (a benchmark's passages)."""
        self = cls.__new__(cls)
        self.index, self.kind, self.count = None, "exact", len(matrix)
        self._matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        return self

    def top(self, qvec: np.ndarray, depth: int, allowed: np.ndarray | None = None) -> Ranked:
        """The ``depth`` passages nearest ``qvec`` among the ``allowed`` rows (a boolean mask;
        None: all), best first (HNSW: as found)."""
        if self._matrix is not None:
            scores = self._matrix @ qvec
            if allowed is None:
                return Ranked.of(scores, depth)
            rows = np.flatnonzero(allowed)
            ranked = Ranked.of(scores[rows], depth)
            return Ranked(rows[ranked.rows], ranked.scores, ranked.low)
        sims, rows = self._search(qvec, depth, allowed)
        order = np.lexsort((rows, -sims))
        return Ranked(rows[order].astype(np.int64), sims[order], float(sims.min()) if len(sims) else 0.0)

    def best(self, qvec: np.ndarray, allowed: np.ndarray | None = None) -> float:
        """The highest cosine of ``qvec`` with any (``allowed``) passage."""
        if not self.count or (allowed is not None and not allowed.any()):
            return 0.0
        if self._matrix is not None:
            matrix = self._matrix if allowed is None else self._matrix[allowed]
            return float((matrix @ qvec).max())
        sims, _ = self._search(qvec, 1, allowed)
        return float(sims.max()) if len(sims) else 0.0

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of the given passages, as a (len(rows), d) float32 array."""
        if self._matrix is not None:
            return np.asarray(self._matrix[rows], dtype=np.float32)
        return np.vstack([self.index.reconstruct(int(r)) for r in rows]).astype(np.float32)

    def _search(self, qvec: np.ndarray, depth: int, allowed: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        depth = max(1, min(depth, self.count))
        params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, depth))  # type: ignore[attr-defined]
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.flatnonzero(allowed).astype(np.int64))
            params.sel = selector  # kept alive by this frame during the search
        sims, rows = self.index.search(np.asarray(qvec, dtype=np.float32)[None], depth, params=params)
        found = rows[0] >= 0
        return sims[0][found], rows[0][found]
