"""Every rule over document text against a large adversarial input: seconds, and seconds
per MB of input (issue 15: each must be linear or n log n, so the per-MB figure stays flat).

    .venv/bin/python bench/text_rules.py [--mb 2]

Rules and inputs (each built to make a backtracking or pairwise rule slow):

- front matter, deep: ``title: [[[…`` (refused: nested too deeply)
- front matter, wide: an author list of a million names (refused unparsed: over 20,000 characters)
- front matter, at the limit: 20,000 characters of author list (parsed, then refused: over 500)
- front matter, unclosed: ``---`` then MB of ``key: value`` lines and no closing ``---``
- title heading: ``# a``, MB of spaces, ``b`` (the old regex: 69 s for 3,000 spaces)
- pull quotes, distinct: short paragraphs sharing a small vocabulary (pairwise: 108 s at 0.7 MB)
- pull quotes, repeated: one short paragraph over and over (every pair shares every trigram)
- pull quotes, shorter first: a short paragraph repeated, then one a word longer repeated
  (each longer one has every shorter one before it as a candidate: capped)
- blocks: lines of dots and spaces, hash runs, one long line with no break (split_blocks + classify)
- passages: ``make_passages`` over a long document of prose (every rule above, end to end)
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import machine
from kzqa.ingest.corpus import DocumentProblem, read_document
from kzqa.ingest.corpus import _title_from_text as title_from_text
from kzqa.ingest.metadata import parse_metadata
from kzqa.ingest.passages import classify, make_passages, split_blocks


def _paragraphs(rng: random.Random, size: int, vocabulary: list[str], words: tuple[int, int]) -> str:
    out: list[str] = []
    total = 0
    while total < size:
        p = " ".join(rng.choice(vocabulary) for _ in range(rng.randrange(*words))) + "."
        out.append(p[:1].upper() + p[1:])
        total += len(p) + 2
    return "\n\n".join(out) + "\n"


def inputs(mb: float) -> list[tuple[str, str, Callable[[str], object]]]:
    size = int(mb * 1_000_000)
    rng = random.Random(15)
    vocabulary = [f"w{k}" for k in range(2000)] + ["the", "of", "and", "in", "to"] * 100

    def metadata(text: str) -> object:
        try:
            return parse_metadata(text, 2, None)
        except DocumentProblem as p:
            return p.reason

    def front_matter(text: str) -> object:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "doc.txt"
            path.write_text(text, encoding="utf-8")
            try:
                return read_document(path, "doc.txt")
            except DocumentProblem as p:
                return p.reason

    def blocks(text: str) -> object:
        return classify(text, split_blocks(text))

    def passages(text: str) -> object:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "doc.txt"
            path.write_text(text, encoding="utf-8")
            return make_passages(read_document(path, "doc.txt"))

    prose = [f"word{k}" for k in range(5000)]
    sentences = _paragraphs(rng, size, prose + ["the", "of", "and"] * 300, (20, 120))
    sentences = sentences.replace(" w", ". W", size // 400)  # some sentence breaks inside
    return [
        ("front matter, deep", "title: " + "[" * size, metadata),
        ("front matter, wide", "author: [" + "a, " * (size // 3) + "]", metadata),
        ("front matter, at the limit", "author: [" + "a, " * 6600 + "]", metadata),  # 20 KB: parsed
        ("front matter, unclosed", "---\n" + "title: x\n" * (size // 9) + "Text.\n", front_matter),
        ("title heading", "# a" + " " * size + "b\nText.\n", lambda t: title_from_text(t, 0)),
        ("pull quotes, distinct", _paragraphs(rng, size, vocabulary, (6, 14)), blocks),
        ("pull quotes, repeated", "One two three four five six seven.\n\n" * (size // 36), blocks),
        ("pull quotes, shorter first", "One two three four five six.\n\n" * (size // 66)
         + "One two three four five six seven.\n\n" * (size // 66), blocks),
        ("blocks", (". . . . " * 20 + "\n") * (size // 322) + "#" * (size // 4) + "\n"
         + "x" * (size // 4) + "\n", blocks),
        ("passages", sentences, passages),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=2.0, help="input size of each rule (default 2 MB)")
    parser.add_argument("--only", help="run the rules whose name contains this")
    args = parser.parse_args()
    print(machine())
    print(f"{'rule':<26} {'MB':>6} {'seconds':>9} {'s/MB':>9}")
    rows = []
    for name, text, rule in inputs(args.mb):
        if args.only and args.only not in name:
            continue
        megabytes = len(text.encode("utf-8")) / 1e6
        started = time.perf_counter()
        rule(text)
        seconds = time.perf_counter() - started
        rows.append((seconds / megabytes, name))
        print(f"{name:<26} {megabytes:>6.2f} {seconds:>9.3f} {seconds / megabytes:>9.3f}", flush=True)
    print("slowest per MB: " + ", ".join(f"{n} {s:.3f} s/MB" for s, n in sorted(rows, reverse=True)[:3]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
