"""Highlight quality: which sentence of an abstract kzqa highlights for a SciFact claim.

    .venv/bin/python bench/highlights.py

SciFact's test claims name, for each abstract that supports or refutes them, the rationale
sentences (indices into the abstract's sentences; the abstract in corpus.jsonl is those
sentences joined by spaces). For every (claim, abstract) pair the abstract is cut into
passages and sentences as kzqa cuts it, and the sentence with the best cosine is taken from:

- kzqa: kzqa's sentence vectors: pooled from the passage's forward pass, less 0.7 of the
  passage's vector (kzqa.embed.passage_vectors.sentence_vectors);
- pooled: the pooled vectors as they are;
- alone: each sentence embedded on its own (what kzqa stored before pooling: twice the
  model time of a build);
- random: the expected hit rate of a random sentence.

A pair counts when the chosen sentence's index is a rationale index. kzqa's sentence split
is not the one SciFact used, so the indices line up only approximately (pairs whose
rationale index lies beyond kzqa's sentences are left out): compare the rows, do not read
them as absolute accuracy.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from common import SCIFACT, machine, write_scifact


def main() -> None:
    from kzqa.embed.embedding import SentenceTransformerEmbedder
    from kzqa.embed.passage_vectors import sentence_vectors
    from kzqa.ingest.corpus import scan_corpus
    from kzqa.ingest.passages import make_passages
    from kzqa.retrieval.search_text import embed_text_spans
    from kzqa.settings import Settings

    claims = [json.loads(line) for line in open(SCIFACT / "queries.jsonl", encoding="utf-8")]
    claims = [c for c in claims if c.get("metadata")]
    wanted = {d for c in claims for d in c["metadata"]}
    settings, embedder = Settings(), SentenceTransformerEmbedder()
    with tempfile.TemporaryDirectory() as tmp:
        write_scifact(Path(tmp), ids=wanted)
        documents = {d.doc_id: d for d in scan_corpus(Path(tmp)).documents}
    sentences: dict[str, dict[str, np.ndarray]] = {}  # doc -> kind -> sentence vectors
    for doc_id, doc in documents.items():
        pairs = [embed_text_spans(p, doc.source, settings.embed_context)
                 for p in make_passages(doc, settings.max_chars)]
        passages, pooled = embedder.encode_spans([t for t, _ in pairs], [s for _, s in pairs],
                                                 batch_size=8)
        alone = embedder.encode([t[s:e] for t, spans in pairs for s, e in spans], batch_size=32)
        kinds = {"kzqa": np.vstack([sentence_vectors(v, p) for v, p in zip(passages, pooled)]),
                 "pooled": np.vstack(pooled), "alone": alone}
        cut = ~kinds["pooled"].any(axis=1)  # beyond the model's length limit: embedded alone
        for k in ("kzqa", "pooled"):
            kinds[k][cut] = alone[cut]
        sentences[doc_id] = kinds
    questions = embedder.encode([c["text"] for c in claims], batch_size=32)
    kinds = ("kzqa", "pooled", "alone")
    hits = dict.fromkeys(kinds, 0) | {"random": 0.0}
    only = dict.fromkeys(kinds, 0)  # pairs this one gets and `alone` misses (or, for alone, kzqa)
    pairs = 0
    for claim, q in zip(claims, questions):
        for doc_id, evidence in claim["metadata"].items():
            if doc_id not in sentences:
                continue
            vectors = sentences[doc_id]
            gold = {i for e in evidence for i in e["sentences"]}
            if max(gold) >= len(vectors["alone"]):
                continue
            pairs += 1
            right = {k: int(np.argmax(vectors[k] @ q)) in gold for k in kinds}
            for k, v in right.items():
                hits[k] += v
                only[k] += v and not right["kzqa" if k == "alone" else "alone"]
            hits["random"] += len(gold) / len(vectors["alone"])
    print(machine())
    print(f"SciFact claim–abstract pairs with sentence rationales: {pairs}")
    print("| sentence vectors | top sentence is a rationale | pairs it gets that alone misses "
          "(alone: that kzqa misses) |")
    print("|---|---|---|")
    for k in kinds:
        print(f"| {k} | {hits[k] / pairs:.3f} | {only[k]} |")
    print(f"| random sentence | {hits['random'] / pairs:.3f} | |")


if __name__ == "__main__":
    main()
