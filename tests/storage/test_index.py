"""The index on disk: plain files, deterministic, atomic, and it knows when it is stale."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import kzqa
from conftest import FAKE_SETTINGS, ROOT, FakeEmbedder, write
from kzqa.embed.passage_vectors import SENTENCE_VECTORS
from kzqa.storage.store import MANIFEST


def _files(index):
    return {p.relative_to(index).as_posix(): p.read_bytes() for p in sorted(index.rglob("*")) if p.is_file()}


def test_the_index_is_plain_inspectable_files(built):
    corpus, index = built
    names = sorted(p.name for p in index.iterdir() if not p.name.startswith("."))
    assert [n.split("-")[0] for n in names] == ["bm25", MANIFEST, "passages", "sentences", "texts",
                                                "vectors"]
    assert sorted(p.name for p in index.iterdir() if p.name.startswith(".")) == [
        ".kzqa-index", ".kzqa-lock"]  # the store's record of its files, and the writer lock
    assert all(f.suffix in (".npy", ".json") for f in next(index.glob("bm25-*")).iterdir())
    manifest = json.loads((index / MANIFEST).read_text())
    assert manifest["model"] == {"name": "all-MiniLM-L6-v2", "dimension": 256,
                                 "key": "fake-hash|256", "sentences": SENTENCE_VECTORS}
    assert kzqa.Settings.from_dict(manifest["settings"]) == FAKE_SETTINGS
    assert manifest["kzqa_version"] == kzqa.__version__
    assert set(manifest["corpus"]["files"]) == {p.name for p in corpus.iterdir()}
    assert manifest["corpus"]["path"] == "../corpus"
    lines = (index / manifest["files"]["passages"]["name"]).read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == manifest["count"] == 19
    for row in rows:  # each stored passage is its slice of the corpus file
        doc = next(d for d in manifest["documents"] if d["doc_id"] == row["doc_id"])
        source = (corpus / doc["file"]).read_text(encoding="utf-8")
        assert source[row["start"]:row["end"]] == row["text"]


def test_the_same_corpus_and_settings_give_the_same_index_and_ids(corpus_copy, tmp_path):
    kzqa.build(corpus_copy, tmp_path / "a", embedder=FakeEmbedder())
    kzqa.build(corpus_copy, tmp_path / "b", embedder=FakeEmbedder())
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    before = _files(tmp_path / "a")
    kzqa.build(corpus_copy, tmp_path / "a", embedder=FakeEmbedder())  # rebuilding in place
    assert _files(tmp_path / "a") == before


def test_builds_in_separate_processes_give_the_same_files(corpus_copy, tmp_path):
    """Python salts its string hashes per process: the BM25 vocabulary (bm25s numbers the
    words in set order) once came out in another order each run, so an unchanged corpus
    rebuilt gave other files and another generation."""
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, {tests!r})
        from conftest import FakeEmbedder
        import kzqa
        kzqa.build({corpus!r}, sys.argv[1], embedder=FakeEmbedder())
    """).format(tests=str(ROOT / "tests"), corpus=str(corpus_copy))
    for seed, name in (("1", "a"), ("2", "b")):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, str(tmp_path / name)], env=env, check=True,
                       capture_output=True)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_the_index_kind_is_chosen_by_size_and_recorded(built, tmp_path):
    from kzqa.retrieval import dense as vectors

    corpus, index = built
    assert json.loads((index / MANIFEST).read_text())["vector_index"]["kind"] == "exact"
    assert vectors.choose(vectors.EXACT_UP_TO) == "exact"
    assert vectors.choose(vectors.EXACT_UP_TO + 1) == "hnsw"
    assert vectors.choose(10, "hnsw") == "hnsw" and vectors.choose(10**7, "exact") == "exact"
    # The approximate index answers as the exact one does (all 19 passages are reachable).
    approx = tmp_path / "approx"
    kzqa.build(corpus, approx, FAKE_SETTINGS.with_(vector_index="hnsw"), embedder=FakeEmbedder())
    recorded = json.loads((approx / MANIFEST).read_text())["vector_index"]
    assert recorded["kind"] == "hnsw" and recorded["faiss"] == "IndexHNSWFlat"
    exact_qa = kzqa.load(index, embedder=FakeEmbedder())
    approx_qa = kzqa.load(approx, embedder=FakeEmbedder())
    for question in ("permits for public demonstrations", "journalists imprisoned", "NGOs foreign agents"):
        a, b = exact_qa.ask(question, k=3), approx_qa.ask(question, k=3)
        assert [h.id for h in a.passages] == [h.id for h in b.passages] and a.abstained == b.abstained
        assert [h.score for h in a.passages] == pytest.approx([h.score for h in b.passages], abs=1e-5)


def test_load_and_search_return_verbatim_hits_with_their_source(built):
    corpus, index = built
    qa = kzqa.load(index, embedder=FakeEmbedder())
    answer = qa.search("permits for public demonstrations are rarely granted", k=3)
    top = answer.passages[0]
    assert top.section == "Crackdowns on Peaceful Assembly"
    assert top.title == "Limited Political Freedoms Encourage Citizens to Flee Kazakhstan"
    assert (corpus / top.file).read_text(encoding="utf-8")[top.start:top.end] == top.text
    assert [h.score for h in answer.passages] == sorted((h.score for h in answer.passages), reverse=True)


@pytest.mark.parametrize("change, expected", [
    ("edit", "changed: limited-political-freedoms-kazakhstan.txt"),
    ("meta", "changed: kazakhstans-human-rights-crackdown.meta.yaml"),
    ("add", "added: new.md"),
    ("remove", "removed: kazakhstans-human-rights-crackdown.txt"),
])
def test_a_changed_corpus_is_refused_with_the_rebuild_command(built, change, expected):
    corpus, index = built
    if change == "edit":
        path = corpus / "limited-political-freedoms-kazakhstan.txt"
        path.write_text(path.read_text() + "\nOne more paragraph.\n")
    elif change == "meta":
        (corpus / "kazakhstans-human-rights-crackdown.meta.yaml").write_text("title: Other\n")
    elif change == "add":
        write(corpus / "new.md", "A new document.\n")
    else:
        (corpus / "kazakhstans-human-rights-crackdown.txt").unlink()
        (corpus / "kazakhstans-human-rights-crackdown.meta.yaml").unlink()
    with pytest.raises(kzqa.IndexStale) as e:
        kzqa.load(index)
    assert expected in str(e.value)
    assert f"kzqa build --corpus {corpus}" in str(e.value) and f"--index {index}" in str(e.value)
    kzqa.build(corpus, index, embedder=FakeEmbedder())  # the command it names fixes it
    kzqa.load(index)


def test_a_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(kzqa.IndexMissing, match="kzqa build"):
        kzqa.load(tmp_path / "nowhere")


def _reseal(index, manifest, key, data):
    """Replace a data file and update its size and sha256 in the manifest, as a forger would."""
    import hashlib

    (index / manifest["files"][key]["name"]).write_bytes(data)
    manifest["files"][key].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())


def _edit_first_row(index, manifest, edit):
    path = index / manifest["files"]["passages"]["name"]
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    edit(rows[0])
    _reseal(index, manifest, "passages", "".join(json.dumps(r) + "\n" for r in rows).encode())


def _reseal_bm25(index, manifest, name, array):
    """Replace one of the BM25 arrays (``indptr``, ``data``, ``indices``) and reseal it."""
    import hashlib
    import io

    import numpy as np

    entry = next(f for f in manifest["files"]["bm25"] if f["name"].endswith(f"/{name}.csc.index.npy"))
    buffer = io.BytesIO()
    np.save(buffer, array)
    data = buffer.getvalue()
    (index / entry["name"]).write_bytes(data)
    entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())


def _bm25_array(index, manifest, name):
    import numpy as np

    entry = next(f for f in manifest["files"]["bm25"] if f["name"].endswith(f"/{name}.csc.index.npy"))
    return np.load(index / entry["name"])


def _source_field(field, value):
    return lambda ix, m: m["documents"][0]["source"].update({field: value})


DAMAGE = {  # each leaves a manifest whose sizes and sha256 all match (but the first five)
    "truncate-vectors": None, "flip-passage": None, "delete-passages": None,
    "garbage-manifest": None, "old-format": None,
    "no-bm25-files": lambda ix, m: m["files"].update(bm25=[]),
    "garbage-vectors": lambda ix, m: _reseal(ix, m, "vectors", b"not a faiss index " * 64),
    "document-missing": lambda ix, m: m.update(documents=m["documents"][1:]),
    "passage-without-text": lambda ix, m: _edit_first_row(ix, m, lambda r: r.pop("text")),
    "negative-offset": lambda ix, m: _edit_first_row(ix, m, lambda r: r.update(start=-5)),
    "offset-out-of-range": lambda ix, m: _edit_first_row(ix, m, lambda r: r.update(end=10**9)),
    "sentence-out-of-range": lambda ix, m: _edit_first_row(ix, m, lambda r: r.update(sentences=[[0, 10**6]])),
    "forged-passage": lambda ix, m: _reseal(ix, m, "passages", (ix / m["files"]["passages"]["name"])
                                            .read_bytes().replace(b"rarely granted", b"always granted")),
    # issue 24, item 9: shapes and types that raised ValueError, IndexError or TypeError on use
    "bm25-data-of-wrong-shape": lambda ix, m: _reseal_bm25(ix, m, "data", _bm25_array(ix, m, "data")[:-7]),
    "bm25-data-2d": lambda ix, m: _reseal_bm25(ix, m, "data", _bm25_array(ix, m, "data").reshape(1, -1)),
    "bm25-indptr-too-far": lambda ix, m: _reseal_bm25(ix, m, "indptr", _bm25_array(ix, m, "indptr") * 3),
    "bm25-indptr-too-short": lambda ix, m: _reseal_bm25(ix, m, "indptr", _bm25_array(ix, m, "indptr")[:3]),
    "bm25-indices-beyond-passages": lambda ix, m: _reseal_bm25(ix, m, "indices",
                                                               _bm25_array(ix, m, "indices") + 10**6),
    "bm25-data-as-text": lambda ix, m: _reseal_bm25(ix, m, "data", _bm25_array(ix, m, "data").astype(str)),
    "date-not-text": _source_field("date", 20230101),
    "date-not-a-date": _source_field("date", "last spring"),
    "title-not-text": _source_field("title", ["a", "list"]),
    "covers-not-years": _source_field("covers", "recently"),
    "unknown-source-field": _source_field("editor", "someone"),
    "name-outside-the-folder": lambda ix, m: _reseal(
        ix, m, "texts", b"") or m["files"]["texts"].update(name="../corpus/../index/" + m["files"]["texts"]["name"]),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_index_is_refused_with_the_fix(built, damage, capsys):
    from kzqa.cli.main import main

    corpus, index = built
    manifest = json.loads((index / MANIFEST).read_text())
    vectors = index / manifest["files"]["vectors"]["name"]
    passages = index / manifest["files"]["passages"]["name"]
    if damage == "truncate-vectors":
        vectors.write_bytes(vectors.read_bytes()[:100])
    elif damage == "flip-passage":
        passages.write_text(passages.read_text().replace("elections", "erections", 1))
    elif damage == "delete-passages":
        passages.unlink()
    elif damage == "garbage-manifest":
        (index / MANIFEST).write_text("{not json")
    elif damage == "old-format":
        manifest["format_version"] = 99
    else:
        DAMAGE[damage](index, manifest)
    if damage != "garbage-manifest":
        (index / MANIFEST).write_text(json.dumps(manifest))
    expected = kzqa.IndexMismatch if damage == "old-format" else kzqa.IndexCorrupt
    with pytest.raises(expected, match="kzqa build"):
        kzqa.load(index)
    capsys.readouterr()
    assert main(["ask", "Can people protest?", "--index", str(index)]) == 2  # one line, no traceback
    err = capsys.readouterr().err
    assert err.startswith("kzqa: error: ") and err.count("\n") == 1 and "Rebuild it with: kzqa build" in err
    assert main(["build", "--corpus", str(corpus), "--index", str(index)]) == 0  # the fix works
    assert kzqa.load(index).search("Can people protest?").passages


def test_a_bad_corpus_file_stops_the_build_and_leaves_the_old_index(built):
    corpus, index = built
    before = _files(index)
    write(corpus / "broken.txt", b"caf\xe9\n")
    with pytest.raises(kzqa.CorpusError) as e:
        kzqa.build(corpus, index, embedder=FakeEmbedder())
    assert "broken.txt:1: not UTF-8" in str(e.value) and "previous index is unchanged" in str(e.value)
    assert _files(index) == before


def test_skip_invalid_indexes_the_rest_and_lists_what_it_left_out(built):
    corpus, index = built
    write(corpus / "broken.txt", b"caf\xe9\n")
    report = kzqa.build(corpus, index, embedder=FakeEmbedder(), skip_invalid=True)
    assert [p.path for p in report.skipped] == ["broken.txt"]
    assert report.documents == 2 and report.passages == 19
    kzqa.load(index)  # the bad file is recorded: fixing it later makes the index stale
    (corpus / "broken.txt").write_text("café\n")
    with pytest.raises(kzqa.IndexStale, match="changed: broken.txt"):
        kzqa.load(index)


def test_a_crash_before_the_manifest_is_replaced_leaves_the_old_index(built, monkeypatch):
    corpus, index = built
    before = _files(index)
    (corpus / "extra.txt").write_text("Another paragraph about the press in Kazakhstan.\n")
    import kzqa.storage.store as idx

    real = idx.atomic_write

    def dying(path, data):
        if path.name == MANIFEST:
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(idx, "atomic_write", dying)
    with pytest.raises(kzqa.KzqaError, match="previous index, if any, is unchanged"):
        kzqa.build(corpus, index, embedder=FakeEmbedder())
    assert (index / MANIFEST).read_bytes() == before[MANIFEST]
    qa = kzqa.load(index, check_corpus=False, embedder=FakeEmbedder())
    assert qa.search("elections").passages


KILL_SCRIPT = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {tests!r})
    from conftest import FakeEmbedder
    import kzqa, kzqa.storage.store as idx
    real = idx.atomic_write
    def dying(path, data):
        real(path, data)
        if path.name.startswith({prefix!r}):
            os.kill(os.getpid(), 9)      # SIGKILL: no cleanup, no finally
    idx.atomic_write = dying
    class Dying(FakeEmbedder):           # killed while the model runs
        def encode(self, texts, batch_size=32, progress=None):
            if {prefix!r} == "embedding":
                os.kill(os.getpid(), 9)
            return super().encode(texts, batch_size, progress)
    kzqa.build({corpus!r}, {index!r}, embedder=Dying())
""")


# Killed while embedding, and right after each data file is written (before the manifest
# is replaced): every moment at which a build can be between two states.
@pytest.mark.parametrize("prefix", ["embedding", "passages-", "vectors-", "sentences-", "texts-"])
def test_a_build_killed_mid_write_leaves_the_previous_index_loadable(built, prefix):
    corpus, index = built
    before = json.loads((index / MANIFEST).read_text())
    write(corpus / "extra.txt", "Another paragraph about the press in Kazakhstan.\n")
    script = KILL_SCRIPT.format(tests=str(ROOT / "tests"), prefix=prefix, corpus=str(corpus),
                                index=str(index))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert proc.returncode == -9, proc.stderr
    assert json.loads((index / MANIFEST).read_text()) == before
    qa = kzqa.load(index, check_corpus=False, embedder=FakeEmbedder())
    assert len(qa.passages) == 19
    kzqa.build(corpus, index, embedder=FakeEmbedder())  # the next build cleans up
    assert len(kzqa.load(index).passages) == 20
    manifests = [before, json.loads((index / MANIFEST).read_text())]  # this one and the one before
    kept = {m["files"][k]["name"] for m in manifests for k in ("passages", "vectors", "sentences", "texts")}
    kept |= {m["files"]["bm25"][0]["name"].split("/")[0] for m in manifests}
    assert set(os.listdir(index)) == kept | {MANIFEST, ".kzqa-index", ".kzqa-lock"}


def test_an_index_without_its_corpus_is_refused_unless_told(built, tmp_path):
    _, index = built
    moved = tmp_path / "elsewhere"
    shutil.copytree(index, moved / "index")
    with pytest.raises(kzqa.IndexStale, match="not there"):
        kzqa.load(moved / "index")
    assert len(kzqa.load(moved / "index", check_corpus=False).passages) == 19


def test_a_model_of_another_dimension_is_refused(built):
    _, index = built
    qa = kzqa.load(index, embedder=FakeEmbedder(dimension=32))
    with pytest.raises(kzqa.IndexMismatch, match="256-dimensional"):
        qa.ask("elections")


def test_loading_and_answering_never_write(built, monkeypatch):
    import builtins

    _, index = built
    real_open = builtins.open

    def read_only_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            raise PermissionError(13, "Read-only file system", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", read_only_open)
    for name in ("replace", "rename", "mkdir", "unlink", "remove"):
        monkeypatch.setattr(os, name, lambda *a, **k: (_ for _ in ()).throw(PermissionError(13, "read-only")))
    qa = kzqa.load(index, embedder=FakeEmbedder())
    assert qa.ask("permits for public demonstrations").passages


def test_an_unwritable_index_folder_gets_a_clear_error_and_keeps_the_old_index(built, monkeypatch):
    corpus, index = built
    before = _files(index)
    (corpus / "extra.txt").write_text("Another paragraph about the press in Kazakhstan.\n")
    import kzqa.storage.index_folder
    import kzqa.storage.journal
    import kzqa.storage.store

    def denied(path, data):
        raise PermissionError(13, "Permission denied")

    for module in (kzqa.storage.store, kzqa.storage.index_folder, kzqa.storage.journal):  # every writer into the folder
        monkeypatch.setattr(module, "atomic_write", denied)
    with pytest.raises(kzqa.KzqaError, match="cannot write the index .*Permission denied"):
        kzqa.build(corpus, index, embedder=FakeEmbedder())
    assert _files(index) == before
