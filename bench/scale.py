"""kzqa at 10k-1M passages: its dense index (exact against HNSW), then a whole ask().

    .venv/bin/python bench/scale.py [--sizes 10000 100000] [--ask-sizes 10000 100000]

1. Dense search, through kzqa's own code: ``kzqa.retrieval.dense.build(x, kind)`` and
   ``DenseSearch(index).top(q, depth=100)``, on synthetic vectors (384-d, clustered like
   embeddings: 2,000 centres plus noise, L2-normalised; a query is a passage moved to
   cosine ~0.9, like a question close to its answer). Each (size, kind) runs in a child
   process: build seconds, bytes of the serialized index, RSS growth of the process from
   build + DenseSearch, p50/p95 of ``scores``; recall@10 of HNSW's top 10 against exact, at
   kzqa's efSearch and at the others given (--ef-search).
2. A real ask(): a kzqa index of ~N passages built with ``kzqa.build`` from SciFact
   abstracts (20 to a document, shuffled anew on each pass through the 5,183 abstracts)
   and a cheap deterministic 384-d embedder (hashed words, random projection: no model),
   auto index kind (HNSW above 50,000 passages); then, in a child process, ``kzqa.load``
   (the real NumPy query encoder) and ``ask()`` of SciFact queries: p50/p95 against the
   floor of encoding the question alone, peak RSS, and where the time goes (cProfile).
   By default only for sizes up to 100,000: the build's peak memory grows ~10x to 1M
   (2.5 GB at 100k, so ~25 GB; --ask-sizes 1000000 tries anyway).
3. For sizes left out of part 2: the parts of ask() whose cost grows with the index, timed
   one by one on kzqa's own pieces (NumPy encoder, ``Lexical.build`` over N SciFact texts,
   the HNSW index of part 1 through DenseSearch, ``fuse``, ``mmr``,
   ``DenseSearch.best``), in a child process.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from common import SCIFACT, machine, memory_mb, pct, run_child

DIM = 384
DEPTH = 100
NEAR = np.float32(0.5 / np.sqrt(DIM))  # noise per dimension that moves a query to cosine ~0.9


def large_blocks_from_mmap(on: bool) -> None:
    """glibc: with ``on``, blocks over 1 MB come from mmap, so a freed one leaves the RSS at
    once and RSS growth counts live memory only; off (32 MB, glibc's own ceiling), blocks
    made per query come from the heap again, as in kzqa itself, so timings are not charged
    for page faults."""
    import ctypes

    M_MMAP_THRESHOLD = -3
    ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, (1 << 20) if on else (32 << 20))


# -- 1. dense search on synthetic vectors ---------------------------------------------------

def clustered(n: int, queries: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` passage vectors and ``queries`` query vectors, the same for the same ``n``."""
    rng = np.random.default_rng(n)
    centres = rng.standard_normal((2000, DIM)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n)]
    x += np.float32(0.6) * rng.standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[rng.integers(0, n, queries)]
    q += NEAR * rng.standard_normal((queries, DIM), dtype=np.float32)
    return x, q / np.linalg.norm(q, axis=1, keepdims=True)


def dense_child(n: int, kind: str, queries: int, save: str, ef_values: list[int]) -> dict:
    import faiss

    from kzqa.retrieval import dense as vectors

    large_blocks_from_mmap(True)
    x, qs = clustered(n, queries)
    before = memory_mb(os.getpid())["VmRSS"]
    t = time.perf_counter()
    search = vectors.DenseSearch(vectors.build(x, kind))
    built = time.perf_counter() - t
    after = memory_mb(os.getpid())["VmRSS"]
    large_blocks_from_mmap(False)
    size = faiss.serialize_index(search.index).nbytes
    if save:
        faiss.write_index(search.index, save)
    runs = []
    for ef in ef_values if kind == "hnsw" else [0]:
        vectors.HNSW_EF_SEARCH = ef  # read at each search: efSearch = max(this, depth)
        times, top10 = [], []
        for q in qs:
            t = time.perf_counter()
            ranked = search.top(q, DEPTH)
            times.append(time.perf_counter() - t)
            top10.append(ranked.rows[:10].tolist())
        runs.append({"ef": ef, "p50_ms": 1000 * pct(times, .5), "p95_ms": 1000 * pct(times, .95),
                     "top10": top10})
    return {"build_s": built, "bytes": size, "rss_growth_mb": after - before, "runs": runs}


def dense_table(sizes: list[int], queries: int, save: dict[int, str], ef_values: list[int]) -> None:
    print(f"1. dense search, kzqa.retrieval.dense.build + DenseSearch.top(depth={DEPTH}), synthetic "
          f"vectors, {queries} queries, one child process per size and kind; hnsw/N: efSearch "
          f"max(N, {DEPTH}) (* = kzqa's)")
    print(f"{'passages':>9} {'index':9} {'build s':>8} {'index MB':>9} {'RSS +MB':>8} "
          f"{'p50 ms':>7} {'p95 ms':>7} {'recall@10':>9}")
    from kzqa.retrieval.dense import HNSW_EF_SEARCH

    for n in sizes:
        exact = None
        for kind in ("exact", "hnsw"):
            keep = save.get(n, "") if kind == "hnsw" else ""
            _, _, out, _ = run_child([sys.executable, __file__, "--dense-child", str(n), kind,
                                      str(queries), keep or "-", ",".join(map(str, ef_values))])
            r = json.loads(out.splitlines()[-1])
            for run in r["runs"]:
                exact = exact or run["top10"]
                recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(run["top10"], exact)])
                name = kind if kind == "exact" else \
                    f"hnsw/{run['ef']}{'*' if run['ef'] == HNSW_EF_SEARCH else ''}"
                print(f"{n:9,} {name:9} {r['build_s']:8.2f} {r['bytes'] / 2**20:9.0f} "
                      f"{r['rss_growth_mb']:8.0f} {run['p50_ms']:7.2f} {run['p95_ms']:7.2f} "
                      f"{recall:9.3f}", flush=True)


# -- 2. a whole ask() on a real index ---------------------------------------------------------

class HashEmbedder:
    """A cheap, deterministic stand-in for the model: the sum of a fixed random vector per
    hashed word, normalised. Texts that share words get similar vectors."""

    name = "bench-hashed-words"
    dimension = DIM
    _WORD = re.compile(r"\w+")

    def __init__(self, buckets: int = 2**14):
        self.buckets = buckets
        self.table = np.random.default_rng(0).standard_normal((buckets, DIM), dtype=np.float32)

    def encode(self, texts, batch_size: int = 32, progress=None) -> np.ndarray:
        from scipy.sparse import csr_matrix

        rows, cols = [], []
        for i, text in enumerate(texts):
            words = self._WORD.findall(text.lower()) or ["."]
            cols += [zlib.crc32(w.encode()) % self.buckets for w in words]
            rows += [i] * len(words)
        counts = csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                            shape=(len(texts), self.buckets))
        out = np.asarray(counts @ self.table, dtype=np.float32)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        if progress:
            progress(len(texts))
        return out


def write_corpus(folder: Path, passages: int, per_doc: int = 20) -> int:
    """Documents of ``per_doc`` SciFact abstracts each (one paragraph per abstract) until about
    ``passages`` passages; returns the number of documents."""
    import yaml

    rows = [json.loads(line) for line in (SCIFACT / "corpus.jsonl").read_text("utf-8").splitlines()]
    per_abstract = 2.12  # passages per abstract at max_chars 900 (848 from the first 400)
    wanted = int(passages / per_abstract)
    order = np.concatenate([np.random.default_rng(r).permutation(len(rows))
                            for r in range(wanted // len(rows) + 1)])[:wanted]
    folder.mkdir(parents=True)
    docs = 0
    for start in range(0, wanted, per_doc):
        picked = [rows[i] for i in order[start : start + per_doc]]
        name = f"collection-{docs:06d}"
        (folder / f"{name}.txt").write_text("\n\n".join(r["text"] for r in picked) + "\n", "utf-8")
        (folder / f"{name}.meta.yaml").write_text(yaml.safe_dump(
            {"title": f"{picked[0]['title']} (collection {docs})"}, allow_unicode=True), "utf-8")
        docs += 1
    return docs


# Where ask() spends its time: (label, source file, function); cumulative seconds, so a
# row includes what it calls (both dense rows are DenseSearch, "signals" includes "focus").
STAGES = [
    ("encode question (+ masked copy)", "search.py", "_encode"),
    ("  of which the NumPy encoder", "numpy_bert.py", "encode"),
    ("BM25 scores", "retrieval.py", "top"),
    ("dense scores", "dense.py", "top"),
    ("fusion", "retrieval.py", "fuse"),
    ("top rows, MMR, highlights", "search.py", "_hits"),
    ("abstention signals", "search.py", "_signals"),
    ("  of which focus: dense best()", "dense.py", "best"),
]


def ask_child(index: str, questions: int) -> dict:
    import kzqa
    from kzqa.retrieval import dense

    rows = (SCIFACT / "queries.jsonl").read_text("utf-8").splitlines()[:questions]
    asks = [json.loads(line)["text"] for line in rows]
    t = time.perf_counter()
    qa = kzqa.load(index).warm_up()
    loaded = time.perf_counter() - t
    rss_loaded = memory_mb(os.getpid())["VmRSS"]
    encoder = qa._get_embedder()
    for q in asks[:5]:
        qa.ask(q)
    ours, floor = [], []
    for q in asks:
        t = time.perf_counter()
        qa.ask(q)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        encoder.encode([q])
        floor.append(time.perf_counter() - t)
    profile = cProfile.Profile()
    profile.enable()
    for q in asks:
        qa.ask(q)
    profile.disable()
    stats = pstats.Stats(profile).stats  # (file, line, function) -> (cc, nc, tt, ct, callers)
    per_ask = lambda seconds: 1000 * seconds / len(asks)  # noqa: E731
    stages = {label: per_ask(sum(ct for (f, _, fn), (_, _, _, ct, _) in stats.items()
                                 if f.endswith("kzqa/" + file) and fn == func))
              for label, file, func in STAGES}
    stages["total (profiled)"] = per_ask(sum(tt for _, _, tt, _, _ in stats.values()))
    mem = memory_mb(os.getpid())
    return {"kind": dense.describe(qa.store.vectors)["kind"], "passages": len(qa.passages),
            "sentences": int(len(qa.store.sentence_vectors)), "load_s": loaded,
            "p50_ms": 1000 * pct(ours, .5), "p95_ms": 1000 * pct(ours, .95),
            "floor_ms": 1000 * pct(floor, .5), "rss_loaded_mb": rss_loaded,
            "rss_mb": mem["VmRSS"], "hwm_mb": mem["VmHWM"], "stages": stages}


def ask_table(sizes: list[int], questions: int) -> None:
    os.environ["KZQA_CACHE_DIR"] = "/dev/null/no-cache"  # unwritable: no embedding cache
    print(f"\n2. ask() on a real kzqa index (SciFact text, hashed-word vectors), {questions} "
          "SciFact queries, k=3; floor = NumPy encoder on the question alone")
    print(f"{'passages':>9} {'sentences':>9} {'index':6} {'build s':>8} {'load s':>7} "
          f"{'p50 ms':>7} {'p95 ms':>7} {'floor ms':>8} {'p50/floor':>9} {'RSS MB':>7} "
          f"{'peak MB':>8} {'build MB':>8}")
    profiles = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="kzqa-bench-scale-") as tmp:
            corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
            write_corpus(corpus, n)
            build_s, build_mb, _, _ = run_child([sys.executable, __file__, "--build-child",
                                                 str(corpus), str(index)])
            _, _, out, _ = run_child([sys.executable, __file__, "--ask-child", str(index),
                                      str(questions)])
        r = json.loads(out.splitlines()[-1])
        print(f"{r['passages']:9,} {r['sentences']:9,} {r['kind']:6} {build_s:8.1f} "
              f"{r['load_s']:7.1f} {r['p50_ms']:7.2f} {r['p95_ms']:7.2f} {r['floor_ms']:8.2f} "
              f"{r['p50_ms'] / r['floor_ms']:9.2f} {r['rss_mb']:7.0f} {r['hwm_mb']:8.0f} "
              f"{build_mb:8.0f}", flush=True)
        profiles.append(r)
    print("\nwhere ask() spends its time: ms per ask under cProfile (cumulative: indented rows "
          "are part of the row above)")
    print(f"{'stage':34}" + "".join(f"{r['passages']:>10,}" for r in profiles))
    for label in [label for label, _, _ in STAGES] + ["total (profiled)"]:
        print(f"{label:34}" + "".join(f"{r['stages'][label]:10.2f}" for r in profiles))


def build_child(corpus: str, index: str) -> None:
    import kzqa

    kzqa.build(corpus, index, embedder=HashEmbedder())


# -- 3. the size-dependent core of ask(), where a whole index does not fit -----------------

def core_child(n: int, saved: str, questions: int) -> dict:
    """kzqa's pieces at ``n`` passages without kzqa.build (whose peak memory grows ~10x from
    100k to 1M): the HNSW index of part 1, BM25 (``Lexical.build``) over ``n`` SciFact texts
    (title + abstract, as kzqa indexes a passage's whole paragraph), the NumPy encoder."""
    import faiss

    from kzqa.embed.embedding import make_query_embedder
    from kzqa.retrieval.dense import DenseSearch
    from kzqa.retrieval.ranking import Lexical, fuse, mmr
    from kzqa.search.question import mask_ubiquitous
    from kzqa.settings import Settings

    s = Settings()
    search = DenseSearch(faiss.read_index(saved))
    rows = [json.loads(line) for line in (SCIFACT / "corpus.jsonl").read_text("utf-8").splitlines()]
    texts = [f"{rows[i % len(rows)]['title']} {rows[i % len(rows)]['text']}" for i in range(n)]
    t = time.perf_counter()
    lexical = Lexical.build(texts, s.bm25_k1, s.bm25_b)
    bm25_s = time.perf_counter() - t
    del texts
    encoder = make_query_embedder(s.model)
    lines = (SCIFACT / "queries.jsonl").read_text("utf-8").splitlines()[:questions]
    asks = [json.loads(line)["text"] for line in lines]
    rng = np.random.default_rng(n)
    stages: dict[str, list[float]] = {}
    for i, question in enumerate(asks * 2):  # the first pass warms up, the second is timed
        # a query vector near a passage (as in part 1); the question's own vector comes from
        # the model, whose space the synthetic passages are not in
        q = search.rows(rng.integers(0, n, 1))[0]
        q += NEAR * rng.standard_normal(DIM, dtype=np.float32)
        q /= np.linalg.norm(q)
        marks = [time.perf_counter()]
        encoder.encode([question, mask_ubiquitous(question, lexical) or "."])
        marks.append(time.perf_counter())
        sparse = lexical.top(lexical.known(lexical.all_terms(question)), s.depth)
        marks.append(time.perf_counter())
        dense = search.top(q, s.depth)
        marks.append(time.perf_counter())
        fused = fuse(dense, sparse, s.mode, s.fusion, s.dense_weight, s.rrf_k)
        marks.append(time.perf_counter())
        pool = fused.rows[:20]
        mmr(pool, fused.scores[:20], search.rows(pool), 3, s.mmr_lambda)
        marks.append(time.perf_counter())
        search.best(q)
        marks.append(time.perf_counter())
        if i >= len(asks):
            for label, a, b in zip(CORE, marks, marks[1:]):
                stages.setdefault(label, []).append(b - a)
            stages.setdefault("sum", []).append(marks[-1] - marks[0])
    mem = memory_mb(os.getpid())
    return {"bm25_build_s": bm25_s, "rss_mb": mem["VmRSS"], "hwm_mb": mem["VmHWM"],
            "p50_ms": {k: 1000 * pct(v, .5) for k, v in stages.items()},
            "p95_ms": {k: 1000 * pct(v, .95) for k, v in stages.items()}}


CORE = ["encode question + masked copy", "BM25 scores", "dense scores (HNSW)", "fusion",
        "top 20 + MMR", "focus: dense best()"]


def core_table(sizes: list[int], save: dict[int, str], questions: int) -> None:
    print(f"\n3. the parts of ask() that grow with the index, at sizes left out of part 2, "
          f"{questions} SciFact queries, ms per question")
    for n in sizes:
        _, _, out, _ = run_child([sys.executable, __file__, "--core-child", str(n), save[n],
                                  str(questions)])
        r = json.loads(out.splitlines()[-1])
        print(f"{n:,} passages: BM25 build {r['bm25_build_s']:.0f} s; process RSS "
              f"{r['rss_mb']:.0f} MB, peak {r['hwm_mb']:.0f} MB")
        print(f"  {'stage':32} {'p50 ms':>7} {'p95 ms':>7}")
        for label in CORE + ["sum"]:
            print(f"  {label:32} {r['p50_ms'][label]:7.2f} {r['p95_ms'][label]:7.2f}")
    print("  not included (their cost does not grow with the index): highlights, coverage, "
          "the answer objects; see part 2 at 100k for their size")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--ask-sizes", type=int, nargs="*",
                        help="sizes for part 2 (default: --sizes up to 100,000)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--ef-search", type=int, nargs="+", help="HNSW efSearch values for "
                        "part 1 (default: kzqa's own, and 256)")
    parser.add_argument("--dense-child", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--core-child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--build-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--ask-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dense_child:
        n, kind, queries, save, efs = args.dense_child
        return print(json.dumps(dense_child(int(n), kind, int(queries), save.strip("-"),
                                            [int(e) for e in efs.split(",")])))
    if args.core_child:
        n, saved, questions = args.core_child
        return print(json.dumps(core_child(int(n), saved, int(questions))))
    if args.build_child:
        return build_child(*args.build_child)
    if args.ask_child:
        return print(json.dumps(ask_child(args.ask_child[0], int(args.ask_child[1]))))
    ask_sizes = (args.ask_sizes if args.ask_sizes is not None
                 else [n for n in args.sizes if n <= 100_000])
    core_sizes = [n for n in args.sizes if n not in ask_sizes]
    started = time.perf_counter()
    print(f"{machine()}; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="kzqa-bench-scale-") as tmp:
        save = {n: str(Path(tmp) / f"hnsw-{n}.faiss") for n in core_sizes}
        if args.sizes:
            from kzqa.retrieval.dense import HNSW_EF_SEARCH

            efs = args.ef_search or sorted({HNSW_EF_SEARCH, 256})
            dense_table(args.sizes, args.queries, save, efs)
        if ask_sizes:
            ask_table(ask_sizes, args.questions)
        if core_sizes:
            core_table(core_sizes, save, args.questions)
    print(f"({time.perf_counter() - started:.0f} s in all; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
