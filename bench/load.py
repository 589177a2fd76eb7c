"""A bounded load test of a kzqa server, on loopback only.

    .venv/bin/python bench/load.py [--url http://127.0.0.1:PORT/] [--clients 1 5 20]
                                   [--seconds 10] [--env OPENBLAS_NUM_THREADS=1 ...]
    .venv/bin/python bench/load.py --hostile [--seconds 30] [--slow 1200] [--askers 200]

Without --url it starts `kzqa serve` on a free loopback port (with the --env variables
added to its environment) and stops it afterwards. Each client is a thread that sends
GET /api/ask with varied questions until the time or the request budget runs out.
Prints, per number of clients: requests, throughput, errors, latency percentiles, p50
against the one-client p50 of the same run (the bare baseline: no queueing), and the
CPU seconds the clients themselves used (they share the server's 2 cores); then the
server's peak RSS.

With --hostile, for --seconds at once: --slow connections trickling a header line a second
(each one the server cuts off is opened again a second later, at most 10 x --slow in all),
--askers clients each sending 1,900-character questions to POST /api/ask one after another
(at most 100 each), and 1 MB upload attempts to Gradio's upload route with file= fetches;
meanwhile GET /api/health every 0.25 s on a fresh connection, from a process of its own,
against the same check on the idle server just before (the baseline). Prints the questions
served, their p50/p95, every outcome by status, what became of the slow connections and the
uploads, and the health-check latency (median, p95, max, how many over 1 s, failures).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import multiprocessing
import resource
import selectors
import socket
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from common import machine, memory_mb, pct, start_server, stop

QUESTIONS = [
    "Can people protest in Kazakhstan?", "Are elections in Kazakhstan free and fair?",
    "Is the press free in Kazakhstan?", "How are NGOs treated?", "What is a good recipe for pasta?",
    "What did Trump say about Kazakhstan?", "Does the government spy on activists?",
    "What is the population of Kazakhstan?", "Why do people leave Kazakhstan?",
    "<script>alert(1)</script>", "Выборы в Казахстане свободны?", "   ",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def loopback_only(url: str) -> tuple[str, int]:
    """(host, port) of ``url``, which must be a loopback address."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if host not in LOOPBACK and not host.startswith("127."):
        raise SystemExit(f"refusing to load-test {host}: loopback addresses only")
    return host, parts.port or 80


def run(url: str, clients: int, seconds: float, max_requests: int = 10_000) -> dict:
    loopback_only(url)
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


SENTENCES = [
    "Are elections in Kazakhstan free and fair, and who observes them?",
    "What happens to people who protest without a permit in Almaty or Astana?",
    "How do the authorities treat independent journalists, bloggers and their sources?",
    "Which laws restrict NGOs that receive money from abroad, and how are they enforced?",
    "Does the government block websites or messaging apps before and during elections?",
]
LONG_CHARS = 1_900  # under the 2,000-character limit: answered, not refused
UPLOAD = (b'--kzqa\r\nContent-Disposition: form-data; name="files"; filename="x.bin"\r\n'
          b"Content-Type: application/octet-stream\r\n\r\n" + b"\0" * 1_000_000 + b"\r\n--kzqa--\r\n")


def long_question(n: int) -> str:
    text = f"Question {n}: "
    while len(text) < LONG_CHARS:
        text += SENTENCES[(n + len(text)) % len(SENTENCES)] + " "
    return text[:LONG_CHARS]


def call(url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
         timeout: float = 30.0) -> tuple[str, float]:
    """(status or error name, seconds) of one request on a fresh connection."""
    t = time.perf_counter()
    req = urllib.request.Request(url.rstrip("/") + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
            status = str(r.status)
    except urllib.error.HTTPError as e:
        e.read()
        status = str(e.code)
    except OSError as e:
        status = type(getattr(e, "reason", e)).__name__
    return status, time.perf_counter() - t


def health_checks(url: str, end: float, every: float = 0.25) -> dict:
    """GET /api/health every ``every`` s until ``end``: latency median and max (ms), failures."""
    ok, failed = [], collections.Counter()
    while time.monotonic() < end:
        status, took = call(url, "GET", "/api/health", timeout=5.0)
        if status == "200":
            ok.append(took)
        else:
            failed[status] += 1
        time.sleep(max(0.0, every - took))
    ms = lambda p: round(1000 * pct(ok, p), 1) if ok else None  # noqa: E731
    return {"checks": len(ok) + sum(failed.values()), "failed": dict(failed),
            "median_ms": ms(0.5), "p95_ms": ms(0.95), "max_ms": round(1000 * max(ok), 1) if ok else None,
            "over_1s": sum(t > 1.0 for t in ok)}


def long_questions(url: str, askers: int, end: float, budget: int) -> dict:
    """``askers`` threads each POSTing long questions until ``end`` (``budget`` in all)."""
    outcomes: list[tuple[str, float]] = []
    lock = threading.Lock()
    left = [budget]

    def asker(n: int) -> None:
        while time.monotonic() < end:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            body = json.dumps({"question": long_question(n)}).encode()
            outcome = call(url, "POST", "/api/ask", body, {"Content-Type": "application/json"})
            with lock:
                outcomes.append(outcome)
            n += askers

    threads = [threading.Thread(target=asker, args=(n,)) for n in range(askers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    served = sorted(took for status, took in outcomes if status == "200")
    every = sorted(took for _, took in outcomes)
    return {"requests": len(outcomes), "served": len(served),
            "by_status": dict(collections.Counter(status for status, _ in outcomes)),
            "served_p50_ms": round(1000 * pct(served, 0.5), 1) if served else None,
            "served_p95_ms": round(1000 * pct(served, 0.95), 1) if served else None,
            "all_p95_ms": round(1000 * pct(every, 0.95), 1) if every else None}


def uploads(url: str, end: float, budget: int = 100) -> dict:
    """1 MB uploads to Gradio's upload route and file= fetches, until ``end`` or ``budget``."""
    seen: collections.Counter = collections.Counter()
    for n in range(budget):
        if time.monotonic() >= end:
            break
        status, _ = call(url, "POST", "/gradio_api/upload", UPLOAD,
                         {"Content-Type": "multipart/form-data; boundary=kzqa"})
        seen[f"upload {status}"] += 1
        status, _ = call(url, "GET", f"/gradio_api/file=/etc/hostname?{n}")
        seen[f"file= {status}"] += 1
        time.sleep(0.1)
    return dict(seen)


def slow_clients(url: str, count: int, end: float) -> dict:
    """``count`` connections that send a request line, then one header line a second, never
    finishing; each the server closes is opened again at the next second (at most
    ``10 * count`` opened in all)."""
    address = loopback_only(url)
    sel = selectors.DefaultSelector()  # epoll: more sockets than select() takes
    opened, refused, answers, lifetimes = 0, 0, collections.Counter(), []

    def open_one() -> None:
        nonlocal opened, refused
        if opened >= 10 * count:
            return
        opened += 1
        try:
            s = socket.create_connection(address, timeout=5)
            s.sendall(b"GET /api/health HTTP/1.1\r\nHost: kzqa\r\n")
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, time.monotonic())
        except OSError:
            refused += 1

    def closed(key: selectors.SelectorKey, first: bytes) -> None:
        answers[first.split(b"\r\n", 1)[0].decode("latin-1") or "closed, no answer"] += 1
        lifetimes.append(time.monotonic() - key.data)
        sel.unregister(key.fileobj)
        key.fileobj.close()

    drip = time.monotonic()
    while time.monotonic() < end:
        if time.monotonic() >= drip:  # once a second: a header line each, and the lost reopened
            drip += 1.0
            for key in list(sel.get_map().values()):
                try:
                    key.fileobj.send(b"X-Slow: 1\r\n")
                except OSError:
                    closed(key, b"")
            for _ in range(count - len(sel.get_map())):
                open_one()
        for key, _ in sel.select(timeout=0.1):
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            closed(key, data)  # an answer (the 408) or the end: either way, it is over
    still_open = len(sel.get_map())
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    sel.close()
    return {"opened": opened, "connect_failed": refused, "cut_off": len(lifetimes),
            "cut_off_by": dict(answers), "still_open_at_end": still_open,
            "open_s_median": round(statistics.median(lifetimes), 1) if lifetimes else None,
            "open_s_max": round(max(lifetimes), 1) if lifetimes else None}


def hostile(url: str, seconds: float, slow: int, askers: int) -> dict:
    """All of the hostile profile at once for ``seconds``, after a 3 s idle health baseline."""
    loopback_only(url)
    idle = health_checks(url, time.monotonic() + 3.0)
    end = time.monotonic() + seconds
    parts: dict[str, dict] = {}
    jobs = {"slow": lambda: slow_clients(url, slow, end), "uploads": lambda: uploads(url, end)}
    threads = [threading.Thread(target=lambda k=k, f=f: parts.__setitem__(k, f())) for k, f in jobs.items()]
    # The health checks run in a process of their own: the latency measured is the server's,
    # not the wait for this process's GIL among 200 asker threads.
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        health = pool.submit(health_checks, url, end)
        for t in threads:
            t.start()
        time.sleep(1.0)  # the slow connections are open before the questions start
        parts["questions"] = long_questions(url, askers, end, budget=100 * askers)
        for t in threads:
            t.join()
        parts["health"] = health.result()
    return {"seconds": seconds, "health_idle": idle, **parts}


def print_hostile(r: dict) -> None:
    q, h, i, s = r["questions"], r["health"], r["health_idle"], r["slow"]
    print(f"{r['seconds']:g} s: {q['requests']} long questions from the askers, {q['served']} served "
          f"(p50 {q['served_p50_ms']} ms, p95 {q['served_p95_ms']} ms; p95 of every outcome "
          f"{q['all_p95_ms']} ms); outcomes by status: {q['by_status']}")
    print(f"health during: {h['checks']} checks, median {h['median_ms']} ms, p95 {h['p95_ms']} ms, "
          f"max {h['max_ms']} ms, {h['over_1s']} over 1 s, failed {h['failed'] or 0}; idle just "
          f"before: median {i['median_ms']} ms, max {i['max_ms']} ms")
    print(f"slow connections: {s['opened']} opened ({s['connect_failed']} could not connect), "
          f"{s['cut_off']} cut off by the server after median {s['open_s_median']} s (max "
          f"{s['open_s_max']} s): {s['cut_off_by']}; {s['still_open_at_end']} open at the end")
    print(f"uploads and file= fetches: {r['uploads']}")


def print_rows(url: str, clients: list[int], seconds: float, as_json: bool) -> None:
    """The plain profile: one row per number of clients."""
    if not as_json:
        print(f"{'clients':>7} {'requests':>8} {'req/s':>6} {'errors':>6} {'p50 ms':>7} "
              f"{'p95 ms':>7} {'p99 ms':>7} {'p50/1-client':>12} {'client CPU s':>12}")
    rows = []
    for n in clients:
        r = run(url, n, seconds)
        rows.append(r)
        if as_json:
            print(json.dumps(r), flush=True)
            continue
        base = rows[0]["p50_ms"] if rows[0]["clients"] == 1 else None
        ratio = f"{r['p50_ms'] / base:12.2f}" if base and r["p50_ms"] else f"{'':12}"
        print(f"{n:7} {r['requests']:8} {r['requests'] / seconds:6.1f} {r['errors']:6} "
              f"{r['p50_ms']:7.1f} {r['p95_ms']:7.1f} {r['p99_ms']:7.1f} {ratio} "
              f"{r['client_cpu_s']:12.1f}", flush=True)
        for e in r["first_errors"]:
            print(f"        error: {e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running kzqa server on loopback (default: start one)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for the server started here (repeatable)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per row")
    parser.add_argument("--hostile", action="store_true",
                        help="slow clients, long questions and uploads at once (see above)")
    parser.add_argument("--slow", type=int, default=1200, help="--hostile: slow connections")
    parser.add_argument("--askers", type=int, default=200, help="--hostile: question clients")
    args = parser.parse_args()
    if args.hostile and resource.getrlimit(resource.RLIMIT_NOFILE)[0] < args.slow + args.askers + 100:
        raise SystemExit(f"--slow {args.slow} needs more open files than `ulimit -n` allows here")
    env = dict(e.split("=", 1) for e in args.env)
    proc, url = (None, args.url) if args.url else start_server(env=env)
    try:
        print(f"{machine()}; server {'at ' + url if args.url else 'started here'}"
              f"{' with ' + ' '.join(args.env) if args.env else ''}; {args.seconds:g} s per row")
        if args.hostile:
            r = hostile(url, args.seconds, args.slow, args.askers)
            if args.json:
                print(json.dumps(r))
            else:
                print_hostile(r)
        else:
            print_rows(url, args.clients, args.seconds, args.json)
        if proc:
            mem = memory_mb(proc.pid)
            print(f"server: peak RSS (VmHWM) {mem['VmHWM']:.0f} MB, now {mem['VmRSS']:.0f} MB")
    finally:
        if proc:
            stop(proc)


if __name__ == "__main__":
    main()
