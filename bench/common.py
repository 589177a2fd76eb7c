"""Helpers shared by the benchmarks: the machine line, percentiles, child processes measured
one by one (wall seconds and that process's own peak RSS), and a `kzqa serve` on loopback."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KZQA = str(Path(sys.executable).parent / "kzqa")
SCIFACT = ROOT.parent / "shared" / "bench" / "scifact"


def machine() -> str:
    return (f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}")


def pct(xs: list[float], p: float) -> float:
    """The p-quantile of ``xs`` (nearest rank, no interpolation)."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str, str]:
    """Run ``cmd`` to completion: (wall seconds, peak RSS MB of that process, stdout, stderr).
    The RSS comes from wait4(), so it is this child's own, not the largest child so far."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT,
                                env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-2000:]}")
    return wall, usage.ru_maxrss / 1024, stdout, stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index: Path | None = None, env: dict[str, str] | None = None
                 ) -> tuple[subprocess.Popen, str]:
    """`kzqa serve` on a free loopback port, once GET /api/health answers: (process, base URL)."""
    port = free_port()
    cmd = [KZQA, "serve", "--port", str(port)] + (["--index", str(index)] if index else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
    url = f"http://127.0.0.1:{port}/"
    for _ in range(1200):
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}) before answering")
        try:
            urllib.request.urlopen(url + "api/health", timeout=2).read()
            return proc, url
        except OSError:
            time.sleep(0.1)
    stop(proc)
    raise SystemExit("the server did not start within 120 s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def memory_mb(pid: int) -> dict[str, float]:
    """VmHWM (peak) and VmRSS (now) of a running process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def write_scifact(folder: Path, docs: int | None = None, ids: set[str] | None = None) -> None:
    """SciFact abstracts as NAME.txt + NAME.meta.yaml (title) in a new ``folder``: the first
    ``docs`` of them, or those whose id is in ``ids``."""
    import json

    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    with open(SCIFACT / "corpus.jsonl", encoding="utf-8") as f:
        for n, line in enumerate(f):
            if docs is not None and n >= docs:
                break
            row = json.loads(line)
            if ids is not None and row["_id"] not in ids:
                continue
            (folder / f"{row['_id']}.txt").write_text(row["text"] + "\n", encoding="utf-8")
            (folder / f"{row['_id']}.meta.yaml").write_text(
                yaml.safe_dump({"title": row["title"]}, allow_unicode=True), encoding="utf-8")


def median_seconds(run, runs: int) -> float:
    """The median wall time of ``runs`` calls of ``run()``."""
    import statistics

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)
