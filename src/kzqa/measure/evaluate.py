"""Measuring retrieval quality on BEIR benchmarks, and the ranking metrics.

``evaluate_beir``: nDCG@10, Recall@100, MRR@10, build time and median query latency on a
BEIR folder, through a real index built by ``kzqa.build`` (``kzqa.measure.beir``) and searched by
``QA.search``, the ranking ``ask()`` answers from (a document scores as its best passage).
kzqa's own question sets are measured by ``kzqa.measure.questions``.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kzqa.errors import InvalidQuestion
from kzqa.settings import Settings

if TYPE_CHECKING:
    from kzqa.embed.embedding import Embedder
    from kzqa.embed.passage_vectors import Progress

# -- metrics (each checked by hand in tests/measure/test_eval.py) ---------------------------------


def ndcg_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], relevant: dict[str, int] | set[str], k: int = 100) -> float:
    rel = set(relevant)
    return len(rel & set(ranked[:k])) / len(rel) if rel else 0.0


def mrr_at(ranked: Sequence[str], relevant: dict[str, int] | set[str], k: int = 10) -> float:
    for i, d in enumerate(ranked[:k]):
        if d in relevant:
            return 1.0 / (i + 1)
    return 0.0


def hit_at(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    return 1.0 if relevant & set(ranked[:k]) else 0.0


# -- BEIR ---------------------------------------------------------------------------------


def evaluate_beir(folder: Path, settings: Settings, embedder: Embedder | None = None, *,
                  rebuild: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """nDCG@10, Recall@100 and MRR@10 of ``QA.search`` (k=100, as ``ask`` ranks) on the
    BEIR folder ``folder``, over the index ``kzqa.build`` makes of its corpus
    (``kzqa.measure.beir.beir_index``). A document ranks where its best passage does."""
    from kzqa.measure.beir import beir_index, load_beir
    from kzqa.search.question import MAX_K

    data = load_beir(folder)
    built = beir_index(folder, data, settings, embedder, rebuild=rebuild, progress=progress)
    qa = built.qa.warm_up()
    per_query: list[tuple[float, float, float]] = []
    latencies, refused = [], 0
    for qid, text in data.queries.items():
        started = time.perf_counter()
        try:
            hits = qa.search(text, k=MAX_K).passages
        except InvalidQuestion:  # empty or over-long: nothing found
            hits, refused = (), refused + 1
        latencies.append(time.perf_counter() - started)
        ranked = list(dict.fromkeys(built.beir_ids[h.doc_id] for h in hits))  # best passage first
        rel = data.qrels[qid]
        per_query.append((ndcg_at(ranked, rel, 10), recall_at(ranked, rel, 100), mrr_at(ranked, rel, 10)))
    means = np.mean(np.array(per_query).reshape(-1, 3), axis=0) if per_query else np.zeros(3)
    return {
        "benchmark": data.name, "documents": len(data.documents), "indexed": len(built.beir_ids),
        "left_out": [{"file": p.path, "reason": p.reason} for p in built.left_out],
        "passages": len(qa.passages), "queries": len(per_query), "refused_queries": refused,
        **{m: round(float(v), 4) for m, v in zip(("ndcg@10", "recall@100", "mrr@10"), means)},
        "index": str(built.folder / "index"), "cached": built.cached, "build": built.build,
        "median_query_ms": round(1000 * statistics.median(latencies), 2) if latencies else None,
        "settings": _retrieval_settings(qa.settings),
    }


def _retrieval_settings(s: Settings) -> dict[str, Any]:
    keys = ("model", "mode", "fusion", "dense_weight", "rrf_k", "depth",
            "bm25_k1", "bm25_b", "max_chars", "mmr_lambda")
    return {k: getattr(s, k) for k in keys}


def _mean(values: Iterable[float]) -> float | None:
    numbers = [float(v) for v in values]
    return round(sum(numbers) / len(numbers), 4) if numbers else None
