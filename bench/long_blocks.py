"""A giant heading and a document of many paragraphs, at sizes ×1, ×2, ×4, ×8 (issue 24,
items 6 and 8): each must take time linear in its size, so the time per unit stays flat.

- ``<h2> of N words``: a web page whose one ``<h2>`` holds N words, above 60 paragraphs, through
  what ``kzqa build`` does before embedding: extraction, passages, each passage's BM25 text and
  the BM25 index (the old rules made every passage carry the heading: a 1 MB ``<h2>`` built in
  87 s; and every window of a long paragraph indexed all of it, quadratic in the paragraph).
- ``Markdown heading of N words``: ``# `` and N words on the first line, the same way.
- ``kzqa passages, N paragraphs``: the command's listing of every block with its passages
  (its block-to-passage lookup was quadratic: 20,000 paragraphs 22 s, 100,000 over 90 s).

    .venv/bin/python bench/long_blocks.py [--base 25000] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

from common import machine, median_seconds
from kzqa.cli.main import main as kzqa_main
from kzqa.indexing.indexer import _bm25_files, cut_passages
from kzqa.ingest.corpus import read_document
from kzqa.retrieval.search_text import lexical_text, paragraph_texts
from kzqa.settings import Settings

PARAGRAPHS = "".join(f"<p>Paragraph {i}: protesters need a permit from the city, the court said.</p>"
                     for i in range(60))


def html_heading(words: int) -> tuple[str, str]:
    heading = " ".join(["word"] * words)
    return "page.html", (f"<html><head><title>A page with a long heading</title></head><body><main>"
                         f"<h1>A page with a long heading</h1><h2>{heading}</h2>{PARAGRAPHS}</main></body></html>")


def markdown_heading(words: int) -> tuple[str, str]:
    return "notes.md", "# " + "x " * words + "\n\n" + "\n\n".join(
        f"Paragraph {i}: protesters need a permit." for i in range(60)) + "\n"


def many_paragraphs(paragraphs: int) -> tuple[str, str]:
    return "many.txt", "\n\n".join(f"Paragraph number {i} says that protesters need a permit."
                                   for i in range(paragraphs)) + "\n"


def up_to_embedding(path: Path) -> None:
    """What ``kzqa build`` does with one document before the model sees it."""
    doc = read_document(path, path.name)
    settings = Settings()
    passages, records = cut_passages([doc], settings)
    paragraphs = paragraph_texts(passages, {doc.doc_id: doc.text})
    _bm25_files([lexical_text(p, records[p.doc_id].source, t) for p, t in zip(passages, paragraphs)], settings)


def listing(path: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        assert kzqa_main(["passages", str(path)]) == 0


def seconds(make: Callable[[int], tuple[str, str]], n: int, run: Callable[[Path], None], runs: int) -> float:
    with tempfile.TemporaryDirectory(prefix="kzqa-bench-") as tmp:
        name, text = make(n)
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8")
        return median_seconds(lambda: run(path), runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=int, default=25_000, help="words or paragraphs at ×1 (default 25,000)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    print("| input | size | seconds (median) | ms per 1,000 |")
    print("|---|---:|---:|---:|")
    cases = (("<h2> of N words", html_heading, up_to_embedding),
             ("Markdown heading of N words", markdown_heading, up_to_embedding),
             ("kzqa passages, N paragraphs", many_paragraphs, listing))
    for label, make, run in cases:
        for factor in (1, 2, 4, 8):
            n = args.base * factor
            took = seconds(make, n, run, args.runs)
            print(f"| {label} ×{factor} | {n:,} | {took:.3f} | {1000 * took / n * 1000:.2f} |", flush=True)


if __name__ == "__main__":
    main()
