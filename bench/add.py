"""What adding one document costs, by the size of the library it joins (issue 26, item 2).

Each run copies a corpus and its built index into a temporary folder and times
``kzqa add`` of one small ``.txt`` (a text no index has seen, an empty embedding cache) as
a separate process: wall time and that process's peak memory. Into:

- the seeds' index (2 documents): the baseline, measured in the same run;
- a library index (default: ``build/kazakhstan``, the default library: 13 documents, 11 of
  them PDFs and web pages; ``make library`` or the first ``kzqa serve`` builds it).

The ratio library / seeds is what the library's size adds to an add. Runs alternate
between the two, so load on the shared machine falls on both alike; medians are reported.

    .venv/bin/python bench/add.py [--runs 5] [--library build/kazakhstan]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from common import KZQA, ROOT, machine, run_child

NOTE = ("# A note for the benchmark {n}\n\nRun {n}: the court fined the newspaper for defamation "
        "after a complaint by an official, and the editor appealed.\n")


def one_add(corpus: Path, index: Path, run: int) -> tuple[float, float, str]:
    """Copy ``corpus`` and ``index`` aside and time ``kzqa add`` of one new note into them."""
    with tempfile.TemporaryDirectory(prefix="kzqa-bench-add-") as tmp:
        work = Path(tmp)
        shutil.copytree(corpus, work / "corpus")
        shutil.copytree(index, work / "index", ignore=shutil.ignore_patterns("*.lock"))
        note = work / "in" / f"note-{run}.txt"
        note.parent.mkdir()
        note.write_text(NOTE.format(n=run), encoding="utf-8")
        wall, rss, _, err = run_child([KZQA, "add", str(note), "--corpus", str(work / "corpus"),
                                       "--index", str(work / "index")],
                                      env={"KZQA_CACHE_DIR": str(work / "cache")})
    return wall, rss, err.strip().splitlines()[-1] if err.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--library", type=Path, default=ROOT / "build" / "kazakhstan",
                        help="a folder with corpus/ and index/ (default: build/kazakhstan)")
    args = parser.parse_args()
    seeds = (ROOT / "corpus", ROOT / "index")
    library = (args.library / "corpus", args.library / "index")
    for corpus, index in (seeds, library):
        if not (index / "manifest.json").is_file():
            raise SystemExit(f"no index at {index}: build it first (kzqa build --corpus {corpus} --index {index})")
    print(machine())
    times: dict[str, list[float]] = {"seeds": [], "library": []}
    peaks: dict[str, list[float]] = {"seeds": [], "library": []}
    for run in range(args.runs):
        for name, (corpus, index) in (("seeds", seeds), ("library", library)):
            wall, rss, last = one_add(corpus, index, run)
            times[name].append(wall)
            peaks[name].append(rss)
            print(f"  run {run + 1} {name:8} {wall:6.2f} s {rss:6.0f} MB  {last}", flush=True)
    for name in times:
        print(f"{name:8} median {statistics.median(times[name]):.2f} s, "
              f"peak {statistics.median(peaks[name]):.0f} MB (median of {args.runs})")
    ratio = statistics.median(times["library"]) / statistics.median(times["seeds"])
    print(f"library / seeds: {ratio:.2f}× the time, "
          f"{statistics.median(peaks['library']) / statistics.median(peaks['seeds']):.2f}× the memory")


if __name__ == "__main__":
    main()
