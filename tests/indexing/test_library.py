"""The Kazakhstan library kzqa answers from by default (kzqa.indexing.library): built from a local
copy, from a mirror on a loopback server, or not at all (the seed articles answer, with one
line saying how to get it); a build that fails or is killed leaves nothing broken; the Space
serves the seeds at once and the library when it is built, without a restart."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import LIBRARY, ROOT, FakeEmbedder, http_get, start_server
from loopback import LibraryMirror

pytestmark = pytest.mark.skipif(not LIBRARY.is_dir(), reason=f"the document library {LIBRARY} is not here")

@pytest.fixture
def mirror():
    """A loopback server serving the library's files; yields (base address, handler class)."""
    handler = type("Handler", (LibraryMirror,), {"missing": set(), "changed": set(), "delay": 0.0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    os.environ["KZQA_FETCH_ALLOW"] = f"127.0.0.1:{server.server_address[1]}"  # a mirror on loopback, named
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    del os.environ["KZQA_FETCH_ALLOW"]
    server.shutdown()


def _lines():
    said: list[str] = []
    from kzqa.indexing import library

    return said, library.Progress(said.append)


def test_the_library_is_built_from_a_local_copy_with_the_catalogues_facts_once(monkeypatch):
    import kzqa
    from kzqa.indexing import library
    from kzqa.storage.paths import default_corpus_dir, default_index_dir, library_ready

    monkeypatch.delenv("KZQA_INDEX")
    monkeypatch.delenv("KZQA_CORPUS")

    said, progress = _lines()
    assert not library_ready()
    index = library.build(source=LIBRARY, progress=progress)
    assert library_ready() and default_index_dir() == index and default_corpus_dir() == library.corpus_dir()
    qa = kzqa.load()  # no argument: the library
    titles = {r.source.title: r.source for r in qa.documents.values()}
    assert len(qa.documents) == 13  # the seeds, nine State Department reports, two UN reports
    un = titles["Report of the Working Group on the Universal Periodic Review: Kazakhstan (A/HRC/28/10)"]
    assert (un.publisher, un.date, un.url) == ("United Nations, Human Rights Council", "2014-12-10",
                                              "https://undocs.org/A/HRC/28/10")
    assert titles["2024 Country Reports on Human Rights Practices: Kazakhstan"].date == "2025-08-12"
    assert any("embedding the library" in line for line in said) and said[-1].startswith("the Kazakhstan library is")
    said.clear()
    library.build(source=LIBRARY, progress=progress)  # a second start: nothing to fetch or embed
    assert not any("reading" in line or "embedding" in line for line in said)


def test_the_library_downloads_from_a_mirror_and_a_changed_page_is_reported_not_refused(mirror):
    from kzqa.indexing import library

    base, handler = mirror
    handler.changed = {"usdos-hrr-2023-kazakhstan.html"}
    said, progress = _lines()
    library.build(mirror=base, progress=progress)
    assert sum("downloading http://127.0.0.1" in line for line in said) == 11
    assert any("usdos-hrr-2023-kazakhstan.html is not the catalogued version" in line for line in said)
    corpus = library.corpus_dir()
    assert b"<p>Updated.</p>" in (corpus / "usdos-hrr-2023-kazakhstan.html").read_bytes()


def test_a_document_that_cannot_be_had_leaves_the_others_and_the_next_start_adds_only_it(mirror):
    import kzqa
    from kzqa.indexing import library
    from kzqa.storage.paths import library_ready

    base, handler = mirror
    handler.missing = {"un-upr-2014-kazakhstan-a-hrc-28-10.pdf"}
    said, progress = _lines()
    with pytest.raises(kzqa.KzqaError, match="not complete.*un-upr-2014.*HTTP 404"):
        library.build(mirror=base, progress=progress)
    assert not library_ready()
    assert len(kzqa.load(library.index_dir()).documents) == 12  # what could be had is indexed
    handler.missing = set()
    said.clear()
    library.build(mirror=base, progress=progress)
    assert [line for line in said if "downloading" in line] == [
        f"[1/1] downloading {base}/un-upr-2014-kazakhstan-a-hrc-28-10.pdf"]
    assert library_ready()


def test_a_first_start_killed_while_embedding_leaves_nothing_broken_and_the_next_finishes(tmp_path, monkeypatch):
    script = tmp_path / "build.py"
    script.write_text(
        "import sys, time\n"
        f"sys.path[:0] = [{str(ROOT / 'src')!r}, {str(ROOT / 'tests')!r}]\n"
        "from conftest import FakeEmbedder\n"
        "class Slow(FakeEmbedder):\n"
        "    def encode(self, texts, batch_size=32, progress=None):\n"
        "        time.sleep(0.05 * len(texts) / 32)\n"
        "        return super().encode(texts, batch_size, progress)\n"
        "from kzqa.indexing import library\n"
        "from kzqa.embed.embedding import substitute\n"
        "with substitute(lambda name: Slow()):\n"
        f"    library.build(source=__import__('pathlib').Path({str(LIBRARY)!r}),\n"
        "                  progress=library.Progress(lambda line: print(line, flush=True)))\n")
    env = {**os.environ, "KZQA_HOME": str(tmp_path / "home"), "KZQA_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:  # kill it in the middle of the embedding
        if "embedding the library" in line and " 0 of" not in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    from kzqa.storage.paths import library_ready

    monkeypatch.setenv("KZQA_HOME", env["KZQA_HOME"])
    assert not library_ready()
    finished = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert library_ready()


def test_the_space_answers_from_the_seeds_at_once_and_from_the_library_when_built(monkeypatch, mirror):
    import runpy

    base, handler = mirror
    handler.delay = 0.3  # downloads take a few seconds: the seeds must answer meanwhile
    monkeypatch.delenv("KZQA_INDEX")
    monkeypatch.setenv("KZQA_LIBRARY_MIRROR", base)  # the publishers' addresses, on loopback
    module = runpy.run_path(str(ROOT / "app.py"), run_name="space_app")
    started = time.monotonic()
    app = module["create_app"](FakeEmbedder())
    for url in start_server(app):
        status, health = http_get(url + "api/health")
        assert status == 200 and health["documents"] == 2
        assert health["answering"].startswith("Answering from **the two seed articles** while")
        status, answer = http_get(url + "api/ask?question=protest+permits")
        assert status == 200 and {p["doc_id"] for p in answer["passages"]} <= {
            "kazakhstans-human-rights-crackdown", "limited-political-freedoms-kazakhstan"}
        while health["documents"] != 13 and time.monotonic() - started < 240:
            time.sleep(0.5)
            status, health = http_get(url + "api/ask?question=Universal+Periodic+Review+recommendations")
            status, health = http_get(url + "api/health")
        assert health["documents"] == 13
        assert health["answering"] == "Answering from **the Kazakhstan library** (13 documents)."
        status, answer = http_get(url + "api/ask?question=recommendations+universal+periodic+review+2014")
        assert status == 200 and any(p["doc_id"].startswith("un-upr-") for p in answer["passages"])
        break


def test_without_any_source_the_seeds_answer_and_one_line_says_how_to_get_the_library(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**{k: v for k, v in os.environ.items() if k != "KZQA_INDEX"},
           "KZQA_HOME": str(tmp_path / "home"), "KZQA_LIBRARY_FROM": str(empty)}
    code = ("import sys\n"
            f"sys.path[:0] = [{str(ROOT / 'src')!r}, {str(ROOT / 'tests')!r}]\n"
            "from conftest import FakeEmbedder\n"
            "import kzqa\n"
            "qa = kzqa.load(embedder=FakeEmbedder())\n"
            "print(len(qa.documents))\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
    lines = [line for line in done.stderr.splitlines() if line.startswith("kzqa: answering from")]
    assert len(lines) == 1 and "KZQA_LIBRARY_FROM=FOLDER" in lines[0] and "kzqa library" in lines[0]
    assert "Traceback" not in done.stderr and not (Path(env["KZQA_HOME"]) / "library.json").exists()


def test_a_library_cut_by_an_older_kzqa_is_rebuilt_not_refused():
    import json as jsonlib

    import kzqa
    from kzqa.indexing import library
    from kzqa.storage.paths import library_ready

    index = library.build(source=LIBRARY)
    manifest = index / "manifest.json"
    old = jsonlib.loads(manifest.read_text())
    old["settings"]["rules_version"] -= 1  # as an index written before an upgrade
    manifest.write_text(jsonlib.dumps(old))
    assert not library_ready()  # the server answers from the seeds meanwhile, and rebuilds
    said, progress = _lines()
    library.build(source=LIBRARY, progress=progress)
    assert library_ready() and len(kzqa.load(index).documents) == 13


def test_a_named_local_copy_comes_before_a_mirror(monkeypatch, mirror):
    from kzqa.indexing import library

    base, _ = mirror
    monkeypatch.setenv("KZQA_LIBRARY_FROM", str(LIBRARY))
    monkeypatch.setenv("KZQA_LIBRARY_MIRROR", base)
    said, progress = _lines()
    library.build(progress=progress)
    assert sum("reading" in line for line in said) == 11 and not any("downloading" in line for line in said)
