"""A bounded load test of a kzqa server, on loopback only.

    .venv/bin/python bench/load.py [--url http://127.0.0.1:PORT/] [--clients 5] [--seconds 10]

Without --url it starts `kzqa serve` on a free loopback port and stops it afterwards. Each
client sends GET /api/ask with varied questions until the time or the request budget runs
out; it stops by itself. Prints requests, errors and latency percentiles.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

QUESTIONS = [
    "Can people protest in Kazakhstan?", "Are elections in Kazakhstan free and fair?",
    "Is the press free in Kazakhstan?", "How are NGOs treated?", "What is a good recipe for pasta?",
    "What did Trump say about Kazakhstan?", "Does the government spy on activists?",
    "What is the population of Kazakhstan?", "Why do people leave Kazakhstan?",
    "<script>alert(1)</script>", "Выборы в Казахстане свободны?", "   ",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def run(url: str, clients: int, seconds: float, max_requests: int = 10_000) -> dict:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host not in LOOPBACK and not host.startswith("127."):
        raise SystemExit(f"refusing to load-test {host}: loopback addresses only")
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    budget = [max_requests]

    def client(n: int) -> None:
        i = n
        while time.monotonic() < deadline:
            with lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            q = QUESTIONS[i % len(QUESTIONS)]
            i += clients
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(f"{url}api/ask?question={urllib.parse.quote(q)}",
                                            timeout=30) as r:
                    json.loads(r.read())
                    problem = "" if r.status == 200 else f"HTTP {r.status}"
            except urllib.error.HTTPError as e:  # 400 for the blank question is an answer
                problem = "" if e.code == 400 and "error" in json.loads(e.read()) else f"HTTP {e.code}"
            except (OSError, ValueError) as e:
                problem = repr(e)
            with lock:
                latencies.append(time.perf_counter() - t)
                if problem:
                    errors.append(f"{q!r}: {problem}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = sorted(latencies)
    pct = lambda p: round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else None  # noqa: E731
    return {"clients": clients, "seconds": seconds, "requests": len(lat), "errors": len(errors),
            "first_errors": errors[:3],
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "mean_ms": round(1000 * statistics.fmean(lat), 1) if lat else None}


def _serve() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kzqa = str(Path(sys.executable).parent / "kzqa")
    proc = subprocess.Popen([kzqa, "serve", "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}/"
    for _ in range(1200):
        try:
            urllib.request.urlopen(url + "api/health", timeout=2).read()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running kzqa server on loopback (default: start one)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    proc, url = (None, args.url) if args.url else _serve()
    try:
        for n in args.clients:
            print(json.dumps(run(url, n, args.seconds)), flush=True)
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
