"""A bounded load test of a kzqa server, on loopback only.

    .venv/bin/python bench/load.py [--url http://127.0.0.1:PORT/] [--clients 1 5 20]
                                   [--seconds 10] [--env OPENBLAS_NUM_THREADS=1 ...]

Without --url it starts `kzqa serve` on a free loopback port (with the --env variables
added to its environment) and stops it afterwards. Each client is a thread that sends
GET /api/ask with varied questions until the time or the request budget runs out.
Prints, per number of clients: requests, throughput, errors, latency percentiles, p50
against the one-client p50 of the same run (the bare baseline: no queueing), and the
CPU seconds the clients themselves used (they share the server's 2 cores); then the
server's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from common import machine, memory_mb, start_server, stop

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
    cpu = time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu = time.process_time() - cpu
    lat = sorted(latencies)
    pct = lambda p: round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else None  # noqa: E731
    return {"clients": clients, "seconds": seconds, "requests": len(lat), "errors": len(errors),
            "client_cpu_s": round(cpu, 1),
            "first_errors": errors[:3],
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "mean_ms": round(1000 * statistics.fmean(lat), 1) if lat else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running kzqa server on loopback (default: start one)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for the server started here (repeatable)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per row")
    args = parser.parse_args()
    env = dict(e.split("=", 1) for e in args.env)
    proc, url = (None, args.url) if args.url else start_server(env=env)
    rows = []
    try:
        print(f"{machine()}; server {'at ' + url if args.url else 'started here'}"
              f"{' with ' + ' '.join(args.env) if args.env else ''}; {args.seconds:g} s per row")
        if not args.json:
            print(f"{'clients':>7} {'requests':>8} {'req/s':>6} {'errors':>6} {'p50 ms':>7} "
                  f"{'p95 ms':>7} {'p99 ms':>7} {'p50/1-client':>12} {'client CPU s':>12}")
        for n in args.clients:
            r = run(url, n, args.seconds)
            rows.append(r)
            if args.json:
                print(json.dumps(r), flush=True)
                continue
            base = rows[0]["p50_ms"] if rows[0]["clients"] == 1 else None
            ratio = f"{r['p50_ms'] / base:12.2f}" if base and r["p50_ms"] else f"{'':12}"
            print(f"{n:7} {r['requests']:8} {r['requests'] / args.seconds:6.1f} {r['errors']:6} "
                  f"{r['p50_ms']:7.1f} {r['p95_ms']:7.1f} {r['p99_ms']:7.1f} {ratio} "
                  f"{r['client_cpu_s']:12.1f}", flush=True)
            for e in r["first_errors"]:
                print(f"        error: {e}")
        if proc:
            mem = memory_mb(proc.pid)
            print(f"server: peak RSS (VmHWM) {mem['VmHWM']:.0f} MB, now {mem['VmRSS']:.0f} MB")
    finally:
        if proc:
            stop(proc)


if __name__ == "__main__":
    main()
