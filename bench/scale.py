"""The index at scale: exact (IndexFlatIP) against approximate (HNSW), on synthetic vectors.

    .venv/bin/python bench/scale.py [--sizes 10000 100000] [--queries 200]

Vectors are synthetic (384-d, clustered like embeddings: 2,000 centres plus noise,
L2-normalised; a query is a passage moved to cosine ~0.9); encoding is measured elsewhere (bench/startup.py, kzqa eval). For each
size: build seconds, index size, single-query search p50 (k=10), and HNSW's recall@10
against exact search at efSearch 64 and 256. 1,000,000 is supported (--sizes 1000000) but takes long here.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import faiss
import numpy as np

DIM = 384


def vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    centres = rng.standard_normal((2000, DIM)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n)] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
    faiss.normalize_L2(x)
    return x


def p50_search(index, queries: np.ndarray, k: int = 10) -> tuple[float, np.ndarray]:
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q[None], k)
        times.append(time.perf_counter() - t)
        found.append(ids[0])
    return 1000 * statistics.median(times), np.array(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, faiss {faiss.__version__}")
    print(f"{'passages':>9} {'index':9} {'build s':>5} {'MB':>7} {'p50 ms':>7} {'recall@10':>9}")
    for n in args.sizes:
        rng = np.random.default_rng(n)
        x = vectors(n, rng)
        # a query is a passage moved by noise of norm ~0.5 (cosine ~0.9 to it), like a question
        # close to, but not the same as, its answer
        noise = rng.standard_normal((args.queries, DIM)).astype(np.float32) * np.float32(0.5 / np.sqrt(DIM))
        queries = x[rng.integers(0, n, args.queries)] + noise
        faiss.normalize_L2(queries)
        t = time.perf_counter()
        flat = faiss.IndexFlatIP(DIM)
        flat.add(x)
        flat_build = time.perf_counter() - t
        flat_ms, exact = p50_search(flat, queries)
        flat_mb = len(faiss.serialize_index(flat)) / 2**20
        print(f"{n:9,} {'flat':9} {flat_build:5.2f} {flat_mb:7.0f} {flat_ms:7.2f} {1.0:9.3f}", flush=True)
        t = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.add(x)
        hnsw_build = time.perf_counter() - t
        hnsw_mb = len(faiss.serialize_index(hnsw)) / 2**20
        for ef in (64, 256):
            hnsw.hnsw.efSearch = ef
            hnsw_ms, approx = p50_search(hnsw, queries)
            recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)])
            print(f"{n:9,} {'hnsw' + str(ef):9} {hnsw_build:5.2f} {hnsw_mb:7.0f} {hnsw_ms:7.2f} {recall:9.3f}",
                  flush=True)


if __name__ == "__main__":
    main()
