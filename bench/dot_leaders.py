"""A PDF line of dots, at sizes ×1, ×2, ×4, ×8 (issue 24, item 5): the contents-entry check
of ``kzqa.ingest.pdf_layout`` must take time linear in the line (the old pattern, searched from
every dot, took 1.2 s at 5,000 dots, 4.4 s at 10,000 and 19 s at 20,000).

Each size: the page laid out (``lay_out_pages``: running lines, contents, notes, blocks) with
one line of N dots, and one of N spaced dots (". . . "), median of --runs; then the time
per 1,000 dots, which stays flat when the rule is linear.

    .venv/bin/python bench/dot_leaders.py [--base 5000] [--runs 5]
"""

from __future__ import annotations

import argparse

from common import machine, median_seconds
from kzqa.ingest.pdf_layout import PageLine, lay_out_pages


def seconds(line: str, runs: int) -> float:
    pages = [[PageLine("A heading of the page"), PageLine(line), PageLine("A body line of the page.")]]
    return median_seconds(lambda: lay_out_pages(pages), runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=int, default=5000, help="dots at ×1 (default 5,000)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    print("| line | dots | seconds (median) | ms per 1,000 dots |")
    print("|---|---:|---:|---:|")
    for label, unit in (("dots", "."), ("spaced dots", ". ")):
        for factor in (1, 2, 4, 8):
            n = args.base * factor
            took = seconds(unit * n + " 12", args.runs)
            print(f"| {label} ×{factor} | {n:,} | {took:.4f} | {1000 * took / n * 1000:.3f} |")


if __name__ == "__main__":
    main()
