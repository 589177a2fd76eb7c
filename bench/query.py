"""In-process query latency of ask() on the shipped index, against two floors.

    .venv/bin/python bench/query.py [--repeat 3]
    .venv/bin/python bench/query.py --index build/library/index --questions eval/library-questions.jsonl

Each floor is one question embedded plus a FAISS search over the same vectors:
- "model": the shipped model's own ``SentenceTransformer.encode`` (the issue's baseline),
  timed in a child process: torch's worker threads, once started, slow NumPy's in the same
  process (and the other way round), which would make either number meaningless;
- "kzqa encoder": the NumPy encoder kzqa answers with, interleaved with ask() in this process
  (the stricter floor: everything ask() adds beyond embedding one question and one search).
kzqa adds BM25, fusion, MMR, the abstention signals (a second, masked copy of the question in
the same batch), highlights and follow-up handling. Questions: every question and history of
eval/questions.jsonl, each asked --repeat times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


QUESTIONS = ROOT / "eval" / "questions.jsonl"


def questions(path: Path = QUESTIONS) -> list[tuple[str, list[str]]]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    asks = [(r["question"], r.get("history", [])) for r in rows]
    return asks + [(h, []) for r in rows for h in r.get("history", [])]


def model_floor(repeat: int, index: str | None, path: Path) -> list[float]:
    """Seconds per question: sentence-transformers encode + FAISS search (child process)."""
    import kzqa
    from kzqa.embed.embedding import SentenceTransformerEmbedder

    qa = kzqa.load(index)
    model = SentenceTransformerEmbedder(qa.settings.model)
    model.warm_up()
    times = []
    for _ in range(repeat):
        for question, _history in questions(path):
            t = time.perf_counter()
            v = np.asarray(model.encode([question]), dtype=np.float32)
            qa.store.vectors.search(v, 3)
            times.append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--index", help="the index to ask (default: the shipped one)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="a question set (.jsonl)")
    parser.add_argument("--model-floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.model_floor:
        print(json.dumps(model_floor(args.repeat, args.index, args.questions)))
        return
    import kzqa

    qa = kzqa.load(args.index).warm_up()
    embedder = qa.embedder
    assert embedder is not None
    asks = questions(args.questions)
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
    extra = ["--index", args.index] if args.index else []
    child = subprocess.run([sys.executable, __file__, "--model-floor", "--repeat", str(args.repeat),
                            "--questions", str(args.questions), *extra],
                           capture_output=True, text=True, check=True)
    bare = json.loads(child.stdout.splitlines()[-1])
    pct = lambda xs, p: 1000 * sorted(xs)[int(p * (len(xs) - 1))]  # noqa: E731
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {len(ours)} asks ({len(asks)} questions x {args.repeat})")
    print(f"{'':34}{'p50 ms':>9}{'p95 ms':>9}{'ask()/floor p50':>17}{'p95':>7}")
    for name, xs in (("ask()", ours), ("floor, model: ST encode + FAISS", bare),
                     ("floor, kzqa encoder + FAISS", floor)):
        ratio = (f"{pct(ours, .5) / pct(xs, .5):17.2f}{pct(ours, .95) / pct(xs, .95):7.2f}"
                 if xs is not ours else "")
        print(f"{name:34}{pct(xs, .5):9.2f}{pct(xs, .95):9.2f}{ratio}")
    print(f"(mean ask {1000 * statistics.fmean(ours):.2f} ms)")


if __name__ == "__main__":
    main()
