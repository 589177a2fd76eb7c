"""The first and second start of `kzqa serve` as a new user meets them (issue 23): a fresh
library home and no embedding cache, documents from the local copy (or --mirror), then the
same again with everything built.

For each start: seconds until the first answer (any), seconds until the first answer quoting
the library (the 2024 State Department report), and the server process's peak RSS. Runs on
loopback only; temporary folders only.

    .venv/bin/python bench/first_start.py [--runs 3] [--port 7890]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from common import KZQA, machine

QUESTION = "Did+the+2024+report+find+that+journalists+were+prosecuted%3F"


def start(env: dict[str, str], port: int, limit: float = 900.0) -> tuple[float, float, float]:
    """(first answer s, first library answer s, peak RSS MB) of one `kzqa serve`."""
    t0 = time.monotonic()
    proc = subprocess.Popen([KZQA, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    first: float | None = None
    library = float("nan")
    url = f"http://127.0.0.1:{port}/api/ask?question={QUESTION}"
    try:
        while time.monotonic() - t0 < limit:
            time.sleep(0.25)
            try:
                with urllib.request.urlopen(url, timeout=30) as r:
                    answer = json.loads(r.read())
            except OSError:
                continue
            now = time.monotonic() - t0
            first = now if first is None else first
            if any(p.get("publisher") == "U.S. Department of State" for p in answer["passages"]):
                library = now
                break
        status = Path(f"/proc/{proc.pid}/status").read_text()
        peak = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) / 1024
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return (first if first is not None else float("nan")), library, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="fresh first starts (each followed by a second)")
    parser.add_argument("--port", type=int, default=7890)
    parser.add_argument("--mirror", help="download the library from this base address instead of the local copy")
    args = parser.parse_args()
    print(machine())
    rows: dict[str, list[tuple[float, float, float]]] = {"first start": [], "second start": []}
    for _ in range(args.runs):
        home = Path(tempfile.mkdtemp(prefix="kzqa-first-start-"))
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "KZQA_HOME": str(home / "home"),
               "KZQA_CACHE_DIR": str(home / "cache"), "KZQA_SEEDS_INDEX": str(home / "seeds")}
        if args.mirror:
            env["KZQA_LIBRARY_MIRROR"] = args.mirror
        try:
            rows["first start"].append(start(env, args.port))
            rows["second start"].append(start(env, args.port))
        finally:
            shutil.rmtree(home, ignore_errors=True)
    print("| start | first answer (s) | first answer from the library (s) | peak RSS (MB) |")
    print("|---|---:|---:|---:|")
    for label, got in rows.items():
        first, library, peak = (statistics.median(x[i] for x in got) for i in range(3))
        print(f"| {label} | {first:.1f} | {library:.1f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
