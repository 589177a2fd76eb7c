"""Hostile documents (issue 15): deep metadata, cubic headings, pull-quote pairs, huge
fields and hidden characters are each refused or handled in linear time, never a traceback."""

from __future__ import annotations

from pathlib import Path

from conftest import write
from kzqa.cli import main
from kzqa.corpus import scan_corpus

DEEP_FRONT_MATTER = "---\ntitle: " + "[" * 500 + "\n---\nSome text to quote.\n"
DEEP_SIDECAR = "title: " + "[" * 500 + "]" * 500 + "\n"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_metadata_nested_500_deep_is_a_problem_naming_the_file_not_a_recursion_error(tmp_path):
    write(tmp_path / "deep.txt", DEEP_FRONT_MATTER)
    write(tmp_path / "side.txt", "Some other text to quote.\n")
    write(tmp_path / "side.meta.yaml", DEEP_SIDECAR)
    write(tmp_path / "blocks.md", "---\n" + "- " * 500 + "x\n---\nText.\n")
    scan = scan_corpus(tmp_path)
    assert scan.documents == ()
    got = {p.path: p.reason for p in scan.problems}
    assert set(got) == {"deep.txt", "side.meta.yaml", "blocks.md"}
    assert all(r.startswith("metadata nested too deeply") for r in got.values())


def test_build_and_add_refuse_deep_metadata_in_one_line(corpus_copy, built, tmp_path, capsys):
    write(corpus_copy / "deep.txt", DEEP_FRONT_MATTER)
    ix = tmp_path / "ix"
    code, out, err = run(capsys, "build", "--corpus", corpus_copy, "--index", ix)
    assert code == 2 and "Traceback" not in err and not ix.exists()
    assert [line for line in err.splitlines() if "deep.txt" in line] == \
        ["  deep.txt:2: metadata nested too deeply (over 8 levels of lists or mappings)"]
    code, out, err = run(capsys, "build", "--corpus", corpus_copy, "--index", ix, "--skip-invalid")
    assert code == 1 and "skipped deep.txt:2: metadata nested too deeply" in err
    assert "Traceback" not in err and (ix / "manifest.json").is_file()
    corpus, index = built  # the same corpus folder: deep.txt is in it
    (corpus / "deep.txt").unlink()
    outside = write(tmp_path / "downloads" / "nested.txt", DEEP_FRONT_MATTER)
    code, out, err = run(capsys, "add", outside, "--corpus", corpus, "--index", index)
    assert code == 2 and "metadata nested too deeply" in err and "Traceback" not in err
    assert not (Path(corpus) / "nested.txt").exists()
    assert not list(Path(corpus).glob(".adding-*"))

