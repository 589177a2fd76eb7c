"""The store under misuse and concurrency: it owns its folder and nothing else, writers take
turns while readers keep reading, what it quotes is checked against the source, and a
killed add or remove never leaves a corpus the index refuses. Real processes throughout."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

import kzqa
from conftest import FAKE_SETTINGS, ROOT, FakeEmbedder, write
from fixtures_docs import ARTICLE_HTML
from kzqa.storage.journal import JOURNAL
from kzqa.storage.store import MANIFEST

PRELUDE = textwrap.dedent(f"""
    import os, sys, time
    sys.path.insert(0, {str(ROOT / "tests")!r})
    from conftest import FAKE_SETTINGS, FakeEmbedder
    import kzqa
    from kzqa.cli.main import main
    from kzqa.embed.embedding import substitute
""")


def _python(script: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", PRELUDE + textwrap.dedent(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- the store owns the index folder and nothing else ---------------------------------

def test_an_index_replaced_behind_kzqa_s_back_is_adopted_and_later_cleaned(built, tmp_path):
    """``git pull`` of a new shipped index leaves the local ``.kzqa-index`` record naming
    the old generation: the next add must adopt the manifest's files, and the build after
    it must not find them foreign when they are replaced (it did: "holds files kzqa did not
    write")."""
    import shutil

    corpus, index = built
    other = tmp_path / "other-index"
    write(corpus / "extra.txt", "# Extra\n\nA paragraph about the press and the courts.\n")
    kzqa.build(corpus, other, FAKE_SETTINGS, embedder=FakeEmbedder())  # another generation
    (corpus / "extra.txt").unlink()
    record = (index / ".kzqa-index").read_text(encoding="utf-8")
    for f in index.iterdir():  # "git pull": the data files and manifest replaced, the record kept
        if f.name not in (".kzqa-index", ".kzqa-lock"):
            shutil.rmtree(f) if f.is_dir() else f.unlink()
    for f in other.iterdir():
        if f.name not in (".kzqa-index", ".kzqa-lock"):
            (shutil.copytree if f.is_dir() else shutil.copy2)(f, index / f.name)
    assert (index / ".kzqa-index").read_text(encoding="utf-8") == record
    pulled = {f.name for f in index.iterdir()}
    write(corpus / "more.txt", "# More\n\nElections were not free and fair.\n")
    kzqa.build(corpus, index, FAKE_SETTINGS, embedder=FakeEmbedder())
    kzqa.build(corpus, index, FAKE_SETTINGS, embedder=FakeEmbedder())  # failed here before
    left = {f.name for f in index.iterdir()}
    assert not (pulled - {"manifest.json", ".kzqa-index", ".kzqa-lock"}) & left  # the pulled generation is gone
    assert kzqa.load(index, embedder=FakeEmbedder()).ask("Were elections free and fair?").passages


def test_an_index_folder_holding_other_files_is_refused_and_left_alone(built, capsys):
    from kzqa.cli.main import main

    corpus, index = built
    foreign = {"texts-notes.txt": "my notes", "passages-draft.md": "a draft",
               "bm25-experiments/results.csv": "k1,b\n", "report.tmp-123": "half a report"}
    for name, text in foreign.items():
        write(index / name, text)
    before = _snapshot(index)
    assert main(["build", "--corpus", str(corpus), "--index", str(index)]) == 2
    err = capsys.readouterr().err
    assert "holds files kzqa did not write (bm25-experiments, passages-draft.md, report.tmp-123 and 1 more)" in err
    assert err.count("\n") == 1 and _snapshot(index) == before
    for name in foreign:
        (index / name).unlink()
    assert main(["build", "--corpus", str(corpus), "--index", str(index)]) == 2  # a folder is a file too
    (index / "bm25-experiments").rmdir()
    assert main(["build", "--corpus", str(corpus), "--index", str(index)]) == 0


@pytest.mark.parametrize("where", ["the corpus", "inside the corpus", "holding the corpus"])
def test_an_index_folder_that_is_in_or_holds_the_corpus_is_refused(corpus_copy, tmp_path, where):
    write(corpus_copy / "passages-from-the-2016-law.txt", "The 2016 law on peaceful assemblies.\n")
    index, says = {"the corpus": (corpus_copy, "is the corpus folder"),
                   "inside the corpus": (corpus_copy / "index", "is inside the corpus folder"),
                   "holding the corpus": (tmp_path, "holds the corpus folder")}[where]
    before = _snapshot(corpus_copy)
    with pytest.raises(kzqa.KzqaError, match=f"the index folder {index} {says} .*choose another --index"):
        kzqa.build(corpus_copy, index, embedder=FakeEmbedder())
    assert _snapshot(corpus_copy) == before and not (index / MANIFEST).exists()


def test_an_index_written_before_the_record_is_adopted(built):
    corpus, index = built
    (index / ".kzqa-index").unlink()  # as an index written by an earlier kzqa
    (index / ".kzqa-lock").unlink()
    write(corpus / "extra.txt", "Another paragraph about the press in Kazakhstan.\n")
    kzqa.build(corpus, index, embedder=FakeEmbedder())
    assert len(kzqa.load(index).passages) == 20


# --- one writer at a time; readers never see a half-written generation -----------------

WRITER = """
    for i in range(6):  # each build a new generation: the settings differ
        kzqa.build({corpus!r}, {index!r}, FAKE_SETTINGS.with_(dense_weight=0.3 + {n} * 0.1 + i * 0.01),
                   embedder=FakeEmbedder())
"""

READER = """
    reads, errors = 0, []
    while not os.path.exists({stop!r}):
        try:
            assert kzqa.load({index!r}, embedder=FakeEmbedder()).search("elections").passages
            reads += 1
        except Exception as e:
            errors.append(f"{{type(e).__name__}}: {{e}}")
    print(reads, errors)
"""


def test_concurrent_builds_take_turns_while_readers_keep_reading(built, tmp_path):
    corpus, index = built
    stop = tmp_path / "stop"
    readers = [_python(READER.format(index=str(index), stop=str(stop))) for _ in range(2)]
    writers = [_python(WRITER.format(corpus=str(corpus), index=str(index), n=n)) for n in range(2)]
    for w in writers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    stop.touch()
    for r in readers:
        out, err = r.communicate(timeout=60)
        assert r.returncode == 0 and out.startswith(tuple("123456789")) and out.endswith(" []\n"), out + err
    qa = kzqa.load(index, embedder=FakeEmbedder())
    assert qa.search("elections").passages and qa.settings.dense_weight in (0.35, 0.45)


def test_a_second_writer_waits_for_the_first_and_says_so(built):
    from kzqa.storage import lock

    corpus, index = built
    with lock.writer(index):
        proc = _python(f"with substitute(lambda name: FakeEmbedder()):\n"
                       f"    sys.exit(main(['build', '--corpus', {str(corpus)!r}, '--index', {str(index)!r}]))")
        line = proc.stderr.readline()
        assert line == f"another kzqa build/add/remove is using {index}; waiting…\n"
        time.sleep(0.5)
        assert proc.poll() is None  # still waiting
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Indexed 19 passages" in err


def test_a_reader_whose_generation_goes_while_it_reads_reads_the_new_one(built, monkeypatch):
    from kzqa.storage import store

    corpus, index = built
    real, raced = store.read_files, []

    def racing(*args):
        if not raced:  # two writes after this reader read the manifest: its files are gone
            raced.append(True)
            for weight in (0.4, 0.6):
                kzqa.build(corpus, index, FAKE_SETTINGS.with_(dense_weight=weight), embedder=FakeEmbedder())
        return real(*args)

    monkeypatch.setattr(store, "read_files", racing)
    assert kzqa.load(index).settings.dense_weight == 0.6


ADDER = """
    import kzqa.indexing.manage as manage
    real = manage._stage
    def slow(*args):  # widen the window between the name check and the move
        real(*args); time.sleep(0.3)
    manage._stage = slow
    print("ready", flush=True)
    while not os.path.exists({go!r}):
        time.sleep(0.01)
    with substitute(lambda name: FakeEmbedder()):
        sys.exit(main(["add", {file!r}, "--corpus", {corpus!r}, "--index", {index!r}]))
"""


def test_two_adds_of_a_same_named_file_at_once_add_one_and_refuse_the_other(built, tmp_path):
    corpus, index = built
    go = tmp_path / "go"
    files = [write(tmp_path / f"from-{n}" / "note.txt", f"Note {n}: the press is not free.\n") for n in "ab"]
    procs = [_python(ADDER.format(go=str(go), file=str(f), corpus=str(corpus), index=str(index)))
             for f in files]
    for p in procs:
        assert p.stdout.readline() == "ready\n"
    go.touch()
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert sorted(code for code, _ in results) == [0, 2], results
    added = next(f for f, (code, _) in zip(files, results) if code == 0)
    refused = next(err for code, err in results if code == 2)
    assert "already has a different note.txt" in refused
    assert (corpus / "note.txt").read_bytes() == added.read_bytes()
    assert "note" in kzqa.load(index).documents


def test_removing_a_name_twice_in_one_second_keeps_both_removed_copies(built, tmp_path, monkeypatch):
    corpus, index = built
    monkeypatch.setattr(time, "strftime", lambda fmt, *args: "20261127-141500")  # one second
    for text in ("First note.\n", "Second note.\n"):
        note = write(tmp_path / "downloads" / "note.txt", text)
        kzqa.add([note], corpus, index, embedder=FakeEmbedder())
        kzqa.remove(["note"], corpus, index, embedder=FakeEmbedder())
    kept = {p.relative_to(corpus).as_posix(): p.read_text() for p in (corpus / ".removed").rglob("*.txt")}
    assert kept == {".removed/20261127-141500/note.txt": "First note.\n",
                    ".removed/20261127-141500-2/note.txt": "Second note.\n"}


# --- loading checks what it quotes against the source ----------------------------------

def test_passages_are_checked_against_their_source_and_the_unchecked_are_named(built, tmp_path):
    import hashlib
    import shutil

    corpus, index = built
    write(corpus / "page.html", ARTICLE_HTML)
    kzqa.build(corpus, index, embedder=FakeEmbedder())
    copy = tmp_path / "copied" / "index"  # an index copied without its corpus
    shutil.copytree(index, copy)
    assert kzqa.load(copy, check_corpus=False).store.unchecked == (
        "kazakhstans-human-rights-crackdown", "limited-political-freedoms-kazakhstan")
    assert kzqa.load(index).store.unchecked == ()
    manifest = json.loads((copy / MANIFEST).read_text())
    passages = copy / manifest["files"]["passages"]["name"]
    rows = [json.loads(line) for line in passages.read_text().splitlines()]
    page = next(r for r in rows if r["doc_id"] == "page")
    page["text"] = page["text"][:-1] + "!"  # a web page's passage forged, its hash updated
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    passages.write_bytes(data)
    manifest["files"]["passages"].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(kzqa.IndexCorrupt, match=f"passage {page['id']} .* is not the text of its source page.html"):
        kzqa.load(copy, check_corpus=False)  # checked against the stored extracted text


# --- a killed add or remove: the corpus and index as before, or completed --------------

KILLED = """
    import kzqa.indexing.manage as manage, kzqa.storage.store as store
    point = {point!r}
    if point == "files-moved":
        manage.update_index = lambda *a, **k: os.kill(os.getpid(), 9)
    real = store.atomic_write
    def dying(path, data):
        real(path, data)
        if (point, path.name.split("-")[0]) in (("data-written", "passages"), ("manifest-renamed", {manifest!r})):
            os.kill(os.getpid(), 9)
    store.atomic_write = dying
    with substitute(lambda name: FakeEmbedder()):
        main({argv!r})
"""


@pytest.mark.parametrize("point", ["files-moved", "data-written", "manifest-renamed"])
@pytest.mark.parametrize("op", ["add", "remove"])
def test_a_killed_add_or_remove_leaves_the_old_or_the_new_state(built, tmp_path, op, point):
    corpus, index = built
    note = write(tmp_path / "downloads" / "note.txt", "A note on the press in Kazakhstan.\n")
    if op == "remove":
        kzqa.add([note], corpus, index, embedder=FakeEmbedder())
        argv = ["remove", "note"]
    else:
        argv = ["add", str(note)]
    old = set(kzqa.load(index).documents)
    new = old ^ {"note"}
    proc = _python(KILLED.format(point=point, manifest=MANIFEST, argv=[*argv, "--corpus", str(corpus),
                                                                       "--index", str(index)]))
    proc.communicate(timeout=60)
    assert proc.returncode == -9
    assert set(kzqa.load(index).documents) in (old, new)  # answers at once, checked against the corpus
    kzqa.build(corpus, index, embedder=FakeEmbedder())  # the next writer finishes or undoes it
    expected = new if point == "manifest-renamed" else old
    assert set(kzqa.load(index).documents) == expected
    assert (corpus / "note.txt").exists() == ("note" in expected)
    assert not (index / JOURNAL).exists() and not list(corpus.glob(".adding-*"))
    if op == "remove" and expected == old:
        assert not list((corpus / ".removed").rglob("*.txt"))  # put back, not copied


def test_a_folder_holding_a_foreign_manifest_json_is_not_taken_over(corpus_copy, tmp_path):
    import kzqa

    index = tmp_path / "webapp"
    index.mkdir()
    web = '{"name": "My web app", "short_name": "app", "start_url": "/", "display": "standalone"}'
    (index / "manifest.json").write_text(web)
    with pytest.raises(kzqa.KzqaError, match=r"holds files kzqa did not write \(manifest\.json\)"):
        kzqa.build(corpus_copy, index, FAKE_SETTINGS, embedder=FakeEmbedder())
    assert (index / "manifest.json").read_text() == web and sorted(p.name for p in index.iterdir()) == ["manifest.json"]


@pytest.mark.parametrize("crafted", [
    lambda other, corpus: {"corpus": str(other), "moves": [], "before": {}, "after": {}, "scratch": ["important"]},
    lambda other, corpus: {"corpus": str(corpus.resolve()), "moves": [], "before": {}, "after": {},
                           "scratch": ["important"]},
    lambda other, corpus: {"corpus": str(corpus.resolve()), "moves": [["x.txt", "../victim/secret.txt"]],
                           "before": {}, "after": {}, "scratch": []},
    lambda other, corpus: {"corpus": str(corpus.resolve()), "moves": [["x.txt", str(other / "secret.txt")]],
                           "before": {}, "after": {}, "scratch": []},
], ids=["other-corpus-scratch", "scratch-not-kzqas", "move-climbing-out", "move-to-an-absolute-path"])
def test_a_crafted_journal_cannot_steer_writes_outside_the_index_and_its_corpus(built, tmp_path, crafted):
    import json as jsonlib

    import kzqa
    from kzqa.storage.journal import JOURNAL

    corpus, index = built
    other = tmp_path / "victim"
    write(other / "important" / "keep.txt", "precious")
    write(other / "secret.txt", "outside")
    write(corpus / "important" / "keep.txt", "mine")
    (index / JOURNAL).write_text(jsonlib.dumps(crafted(other, corpus)))
    with pytest.raises(kzqa.KzqaError, match=r"\.kzqa-journal\.json (names another corpus folder|names '.*', "
                                             r"outside the corpus folder).*delete it"):
        kzqa.build(corpus, index, FAKE_SETTINGS, embedder=FakeEmbedder())
    assert (other / "important" / "keep.txt").read_text() == "precious"
    assert (other / "secret.txt").read_text() == "outside" and (corpus / "important" / "keep.txt").is_file()
    assert not (corpus / "x.txt").exists() or (corpus / "x.txt").read_text() != "outside"
