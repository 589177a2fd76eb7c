"""In-process query latency of ask() on the shipped index, against the floor.

    .venv/bin/python bench/query.py [--repeat 3]

The floor is what any answer with this model pays: the question embedded by the same
encoder kzqa uses, plus a FAISS search over the same vectors, in the same process. kzqa
adds BM25, fusion, MMR, the abstention signals (a second, masked copy of the question in
the same batch), highlights and follow-up handling. Questions: every question and history
of eval/questions.jsonl, each asked --repeat times, interleaved with the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import kzqa

    qa = kzqa.load().warm_up()
    embedder = qa._get_embedder()
    rows = [json.loads(line) for line in (ROOT / "eval" / "questions.jsonl").read_text().splitlines()]
    asks = [(r["question"], r.get("history", [])) for r in rows]
    asks += [(h, []) for r in rows for h in r.get("history", [])]
    ours, floor = [], []
    for _ in range(args.repeat):
        for question, history in asks:
            t = time.perf_counter()
            qa.ask(question, k=3, history=history)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            v = np.asarray(embedder.encode([question]), dtype=np.float32)
            qa.store.vectors.search(v, 3)
            floor.append(time.perf_counter() - t)
    pct = lambda xs, p: 1000 * sorted(xs)[int(p * (len(xs) - 1))]  # noqa: E731
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {len(ours)} asks ({len(asks)} questions x {args.repeat})")
    print(f"{'':28}{'p50 ms':>9}{'p95 ms':>9}")
    print(f"{'ask()':28}{pct(ours, .5):9.2f}{pct(ours, .95):9.2f}")
    print(f"{'floor: encode + FAISS':28}{pct(floor, .5):9.2f}{pct(floor, .95):9.2f}")
    print(f"{'ratio':28}{pct(ours, .5) / pct(floor, .5):9.2f}{pct(ours, .95) / pct(floor, .95):9.2f}")
    print(f"(mean ask {1000 * statistics.fmean(ours):.2f} ms)")


if __name__ == "__main__":
    main()
