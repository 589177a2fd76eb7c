"""The shipped lists of known sources: addresses and facts, never the documents."""

from __future__ import annotations

import pytest

from conftest import LIBRARY, ROOT, write
from kzqa.errors import KzqaError
from kzqa.ingest.catalogue import load_collection, names


def test_the_kazakhstan_reports_are_listed_with_their_addresses_and_facts():
    reports = load_collection("usdos-kazakhstan")
    assert [e.metadata["covers"] for e in reports.entries] == [str(y) for y in range(2016, 2025)]
    for e in reports.entries:
        year = e.metadata["covers"]
        assert e.url == f"https://www.state.gov/reports/{year}-country-reports-on-human-rights-practices/kazakhstan/"
        assert e.metadata["title"] == f"{year} Country Reports on Human Rights Practices: Kazakhstan"
        assert e.metadata["country"] == "Kazakhstan" and e.metadata["date"] > year
    assert set(names()) >= {"usdos-kazakhstan", "library-reports"}


def test_the_catalogued_hashes_are_those_of_the_real_files():
    if not LIBRARY.is_dir():
        pytest.skip(f"the real documents are not at {LIBRARY} (../shared/library)")
    for name, folder in (("usdos-kazakhstan", "usdos-kazakhstan"), ("library-reports", "pdf")):
        for e in load_collection(name).entries:
            assert not e.differs((LIBRARY / folder / e.file).read_bytes()), e.file


def test_no_document_is_shipped_in_the_repository():
    import shutil
    import subprocess

    if not (ROOT / ".git").exists() or not shutil.which("git"):
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    shipped = {line.rsplit("/", 1)[-1] for line in tracked.stdout.splitlines()}
    for name in names():
        assert not {e.file for e in load_collection(name).entries} & shipped


@pytest.mark.parametrize("text, message", [
    ("documents: 3", "documents"), ("documents:\n  - url: x", "needs a 'file'"),
    ("documents:\n  - file: ../etc/passwd", "not a plain file name"),
    ("documents:\n  - file: a.pdf\n  - file: a.pdf", "listed twice"), ("[[[", "not a collection file"),
])
def test_a_bad_collection_file_is_named_with_what_is_wrong(tmp_path, text, message):
    with pytest.raises(KzqaError, match=message):
        load_collection(str(write(tmp_path / "mine.yaml", text)))
    with pytest.raises(KzqaError, match="no collection 'nope'"):
        load_collection("nope")
