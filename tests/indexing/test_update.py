"""An add or a remove costs the documents it changes: a PDF or web page already in the
index is not extracted again, the one added is extracted once, and the index that results
is the one a build reading every file would make."""

from __future__ import annotations

import shutil

import pytest

import kzqa
from conftest import FakeEmbedder, write
from fixtures_docs import ARTICLE_HTML, REPORT_PAGES, pdf_bytes
from kzqa.storage import store


@pytest.fixture
def library(built, tmp_path):
    """(corpus, index): the shipped corpus with a PDF report and a saved web page, built."""
    corpus, index = built
    write(corpus / "report.pdf", pdf_bytes(REPORT_PAGES, title="Assembly and Association 2023",
                                           author="Civic Monitor"))
    write(corpus / "page.html", ARTICLE_HTML)
    kzqa.build(corpus, index, embedder=FakeEmbedder())
    return corpus, index


@pytest.fixture
def extractions(monkeypatch):
    """The names of the files extracted from now on, in order."""
    import kzqa.ingest.extract as extract

    calls: list[str] = []
    real = extract.extract
    monkeypatch.setattr(extract, "extract", lambda path, data: calls.append(path.name) or real(path, data))
    return calls


def _contents(index):
    """What an index holds for a reader: passages, documents and the stored extracted texts."""
    stored = store.load(index)
    return stored.passages, stored.documents, store.extracted_texts_of(stored)


def _as_built_afresh(corpus, index, tmp_path):
    """The contents of an index of ``corpus`` built by reading every file, with the settings of ``index``."""
    fresh = tmp_path / "fresh-index"
    shutil.rmtree(fresh, ignore_errors=True)
    kzqa.build(corpus, fresh, settings=store.load(index).settings, embedder=FakeEmbedder())
    return _contents(fresh)


def test_adding_a_text_file_extracts_nothing_already_in_the_index(library, extractions, tmp_path):
    corpus, index = library
    note = write(tmp_path / "in" / "note.txt", "# Note\n\nThe court fined the newspaper for defamation.\n")
    change = kzqa.add([note], corpus, index, embedder=FakeEmbedder())
    assert change.documents == ("note.txt",)
    assert extractions == []  # report.pdf and page.html were taken from the index
    assert change.build.from_index == 2
    assert _contents(index) == _as_built_afresh(corpus, index, tmp_path)


def test_an_added_pdf_is_extracted_once(library, extractions, tmp_path):
    corpus, index = library
    second = write(tmp_path / "in" / "second.pdf", pdf_bytes(REPORT_PAGES[:1], title="A second report"))
    kzqa.add([second], corpus, index, embedder=FakeEmbedder())
    assert extractions == ["second.pdf"]  # checked before it was copied in, and not again
    assert "second" in kzqa.load(index, embedder=FakeEmbedder()).documents
    assert _contents(index) == _as_built_afresh(corpus, index, tmp_path)


def test_removing_a_document_extracts_nothing(library, extractions, tmp_path):
    corpus, index = library
    change = kzqa.remove(["page.html"], corpus, index, embedder=FakeEmbedder())
    assert change.documents == ("page.html",) and extractions == []
    assert "page" not in kzqa.load(index, embedder=FakeEmbedder()).documents
    assert _contents(index) == _as_built_afresh(corpus, index, tmp_path)


def test_new_metadata_for_a_pdf_reaches_its_citation(library, extractions, tmp_path):
    corpus, index = library
    again = shutil.copy(corpus / "report.pdf", tmp_path / "report.pdf")
    change = kzqa.add([again], corpus, index, metadata={"publisher": "Civic Monitor Press"},
                      embedder=FakeEmbedder())
    assert [u.file for u in change.updated] == ["report.pdf"]
    assert extractions == ["report.pdf"]  # read once with its new sidecar; page.html not at all
    source = kzqa.load(index, embedder=FakeEmbedder()).documents["report"].source
    assert source.publisher == "Civic Monitor Press" and source.title == "Assembly and Association 2023"


def test_a_pdf_edited_in_place_is_read_again(library, extractions, tmp_path):
    corpus, index = library
    write(corpus / "report.pdf", pdf_bytes(REPORT_PAGES[:2], title="Assembly and Association 2023"))
    note = write(tmp_path / "in" / "note.txt", "# Note\n\nThe court fined the newspaper for defamation.\n")
    kzqa.add([note], corpus, index, embedder=FakeEmbedder())
    assert extractions == ["report.pdf"]  # its bytes changed: the stored text is not used
    assert kzqa.load(index, embedder=FakeEmbedder()).documents["report"].pages == 2


def test_text_extracted_by_another_extractor_is_extracted_again(library, extractions, tmp_path, monkeypatch):
    import kzqa.indexing.previous

    corpus, index = library
    monkeypatch.setattr(kzqa.indexing.previous, "extractor_of", lambda name: "pypdfium2 0; kzqa.extract 0")
    note = write(tmp_path / "in" / "note.txt", "# Note\n\nThe court fined the newspaper for defamation.\n")
    kzqa.add([note], corpus, index, embedder=FakeEmbedder())
    assert sorted(extractions) == ["page.html", "report.pdf"]


def test_an_index_built_by_another_kzqa_version_lends_no_text(library, extractions, tmp_path, monkeypatch):
    import kzqa.indexing.previous

    corpus, index = library
    monkeypatch.setattr(kzqa.indexing.previous, "__version__", "0.0.1")
    note = write(tmp_path / "in" / "note.txt", "# Note\n\nThe court fined the newspaper for defamation.\n")
    kzqa.add([note], corpus, index, embedder=FakeEmbedder())
    assert sorted(extractions) == ["page.html", "report.pdf"]


def test_kzqa_build_reads_every_file_again(library, extractions):
    corpus, index = library
    kzqa.build(corpus, index, embedder=FakeEmbedder())
    assert sorted(extractions) == ["page.html", "report.pdf"]


def test_kzqa_add_says_which_texts_it_took_from_the_index(library, extractions, tmp_path, capsys):
    from kzqa.cli.main import main

    corpus, index = library
    note = write(tmp_path / "in" / "note.txt", "# Note\n\nThe court fined the newspaper for defamation.\n")
    assert main(["add", str(note), "--corpus", str(corpus), "--index", str(index)]) == 0
    err = capsys.readouterr().err
    assert "the text of 2 documents taken from the index" in err and extractions == []
