"""Reading a BEIR-format benchmark folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)
into kzqa documents, so it runs through the same passages, embedding and search as a
kzqa corpus."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from .corpus import Document
from .errors import KzqaError
from .results import Source


@dataclass(frozen=True)
class BeirSet:
    name: str
    documents: tuple[Document, ...]
    queries: dict[str, str]  # query id -> text, only the judged ones
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: relevance}


def is_beir(folder: Path) -> bool:
    folder = Path(folder)
    return folder.is_dir() and (folder / "corpus.jsonl").is_file() and (folder / "queries.jsonl").is_file()


def load_beir(folder: Path, split: str = "test") -> BeirSet:
    folder = Path(folder)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for needed in (folder / "corpus.jsonl", folder / "queries.jsonl", qrels_path):
        if not needed.is_file():
            raise KzqaError(f"not a BEIR folder: {needed} is missing")
    qrels: dict[str, dict[str, int]] = {}
    with open(qrels_path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    docs = []
    for n, line in enumerate(open(folder / "corpus.jsonl", encoding="utf-8"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, title = row.get("text") or "", row.get("title") or ""
            docs.append(Document(str(row["_id"]), str(row["_id"]), text, 0, Source(title=title)))
        except (json.JSONDecodeError, KeyError) as e:
            raise KzqaError(f"{folder / 'corpus.jsonl'}:{n}: not a BEIR document ({e})") from None
    queries = {}
    for line in open(folder / "queries.jsonl", encoding="utf-8"):
        if line.strip():
            row = json.loads(line)
            if str(row["_id"]) in qrels:
                queries[str(row["_id"])] = row["text"]  # metadata (evidence) is never read
    return BeirSet(folder.name, tuple(docs), queries, qrels)
