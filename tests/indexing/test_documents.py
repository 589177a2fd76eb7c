"""Bring your own documents: PDFs and web pages in the corpus, `kzqa add` / `kzqa remove`,
and incremental updates that embed only what is new."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

import kzqa
from conftest import FAKE_SETTINGS, FakeEmbedder, write
from fixtures_docs import (
    ARTICLE_HTML,
    ARTICLE_PARAGRAPHS,
    BOILERPLATE,
    REPORT_PAGES,
    encrypted_pdf_bytes,
    pdf_bytes,
    scanned_pdf_bytes,
)
from kzqa.citation import long_date
from kzqa.cli.main import main
from kzqa.ingest.extract import extract
from kzqa.storage.store import MANIFEST


@pytest.fixture
def files(tmp_path):
    """A 3-page report PDF and a saved news page, outside the corpus."""
    outside = tmp_path / "downloads"
    report = write(outside / "report.pdf", pdf_bytes(REPORT_PAGES, title="Assembly and Association 2023",
                                                      author="Civic Monitor"))
    page = write(outside / "page.html", ARTICLE_HTML)
    return report, page


@pytest.fixture
def indexed(built, files):
    """(corpus, index, qa): the shipped corpus with the two files copied in, built."""
    corpus, index = built
    for f in files:
        shutil.copy(f, corpus / f.name)
    kzqa.build(corpus, index, embedder=FakeEmbedder())
    return corpus, index, kzqa.load(index, embedder=FakeEmbedder())


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_pdf_and_web_page_passages_are_slices_of_the_stored_extracted_text(indexed):
    corpus, index, qa = indexed
    manifest = json.loads((index / MANIFEST).read_text())
    stored = {json.loads(line)["doc_id"]: json.loads(line)
              for line in (index / manifest["files"]["texts"]["name"]).read_text().splitlines()}
    assert set(stored) == {"report", "page"}
    for passage in qa.passages:  # every passage of every document
        record = qa.documents[passage.doc_id]
        data = (corpus / record.file).read_bytes()
        if record.extractor:
            text = stored[passage.doc_id]["text"]
            assert extract(corpus / record.file, data).text == text  # deterministic
        else:
            text = data.decode("utf-8")
        assert text[passage.start:passage.end] == passage.text
    report = [p for p in qa.passages if p.doc_id == "report"]
    page = [p for p in qa.passages if p.doc_id == "page"]
    # PDF lines are wraps, not paragraphs: each paragraph of the report is one whole passage.
    assert [p.text.replace("\n", " ") for p in report[:2]] == REPORT_PAGES[0][1:]
    assert [p.pages for p in report] == [(1,), (1,), (2,), (2,), (3,)][:len(report)]
    assert [p.text for p in page] == ARTICLE_PARAGRAPHS
    assert not any(b in p.text for p in page for b in BOILERPLATE)


def test_citations_give_pdf_pages_and_the_page_url(indexed):
    qa = indexed[2]
    pdf_hit = qa.search("Independent trade unions reported pressure on their members", k=1).passages[0]
    assert pdf_hit.doc_id == "report" and pdf_hit.pages == (2,)
    # the file's creation date (2023-11-07) is no publication date the pages print: "n.d.";
    # its Info author "Civic Monitor" is printed nowhere in it: not cited as the author
    assert pdf_hit.citation().startswith("“Assembly and Association 2023”, n.d.")
    assert ", p. 2, ¶ 3." in pdf_hit.citation()
    assert kzqa.Hit.from_dict(json.loads(json.dumps(pdf_hit.to_dict()))) == pdf_hit
    web_hit = qa.search("permitted places in Almaty shrunk to three remote parks", k=1).passages[0]
    assert web_hit.doc_id == "page" and web_hit.pages == ()
    assert web_hit.citation() == ("Aigerim Sadykova, “Parliament tightens the law on peaceful "
                                  "assemblies”, Steppe Monitor, 2024-05-17, ¶ 2. "
                                  "https://steppe-monitor.example/news/assembly-law")


def test_kzqa_add_copies_indexes_and_embeds_only_the_new_documents(built, files, capsys, tmp_path):
    corpus, index = built
    shutil.rmtree(tmp_path / "cache", ignore_errors=True)  # no embedding cache: reuse is the index's
    code, out, err = run(capsys, "add", *files, "--corpus", corpus, "--index", index)
    assert code == 0, err
    assert "Added report.pdf, page.html." in err
    qa = kzqa.load(index, embedder=FakeEmbedder())
    new = [p for p in qa.passages if p.doc_id in ("report", "page")]
    assert f"({len(new)} passages embedded, 19 reused)" in err  # the 19 shipped passages were not re-embedded
    assert (corpus / "report.pdf").read_bytes() == files[0].read_bytes()
    code, out, err = run(capsys, "build", "--corpus", corpus, "--index", index)
    assert code == 0 and "(0 passages embedded," in err  # an unchanged rebuild embeds nothing
    code, out, err = run(capsys, "add", files[0], "--corpus", corpus, "--index", index)
    assert code == 0 and "report.pdf is already in the corpus, unchanged" in err


def test_kzqa_add_metadata_flags_override_the_files_own(built, files, capsys):
    corpus, index = built
    code, out, err = run(capsys, "add", files[0], "--corpus", corpus, "--index", index,
                         "--title", "Freedom of Assembly Report", "--publisher", "Civic Monitor NGO",
                         "--url", "https://civic.example/report.pdf")
    assert code == 0, err
    hit = kzqa.load(index, embedder=FakeEmbedder()).search("trade unions pressure", k=1).passages[0]
    assert (hit.title, hit.publisher, hit.author) == ("Freedom of Assembly Report", "Civic Monitor NGO",
                                                       None)  # the PDF's Info author is printed nowhere in it
    assert hit.url == "https://civic.example/report.pdf"
    assert (corpus / "report.meta.yaml").is_file()


def test_kzqa_add_says_how_each_document_will_be_cited_and_what_is_missing(built, files, capsys):
    corpus, index = built
    code, out, err = run(capsys, "add", files[0], "--corpus", corpus, "--index", index)
    assert code == 0, err
    # one line per document: the title it read, and a hint for each empty field with its flag
    assert ("  cited as: report.pdf: “Assembly and Association 2023” (no author, no publisher, no date: "
            "give --author --publisher --date to set them)") in err.splitlines()
    code, out, err = run(capsys, "add", files[0], "--corpus", corpus, "--index", index, "--date", "2023-11",
                         "--publisher", "Civic Monitor NGO", "--author", "Dana Nurpeisova")
    assert code == 0, err
    assert ("  cited as: report.pdf: “Assembly and Association 2023”; author Dana Nurpeisova; "
            "publisher Civic Monitor NGO; date 2023-11") in err.splitlines()


def test_kzqa_add_takes_a_markdown_file_with_front_matter_as_it_is(built, capsys, tmp_path):
    """Its metadata is in the file: add had stamped a sidecar beside it (an accessed date),
    and the corpus then refused it: "metadata given twice"."""
    corpus, index = built
    note = write(tmp_path / "in" / "note.md", "---\ntitle: A note on protests\ndate: 2023-05-01\n---\n"
                                              "Protesters in Almaty were detained by the police after the rally.\n")
    code, out, err = run(capsys, "add", note, "--corpus", corpus, "--index", index)
    assert code == 0, err
    assert (corpus / "note.md").read_bytes() == note.read_bytes() and not (corpus / "note.meta.yaml").exists()
    assert ("  cited as: note.md: “A note on protests”; date 2023-05-01 (no author, no publisher: "
            "add author, publisher to its front matter)") in err.splitlines()
    assert f"add publisher and url to the front matter of {corpus / 'note.md'}" in err
    hit = kzqa.load(index, embedder=FakeEmbedder()).search("protesters detained Almaty rally", k=1).passages[0]
    assert (hit.title, hit.date) == ("A note on protests", "2023-05-01")


HRR = "# Human rights report\n\nThe police dispersed a peaceful protest in Almaty.\n"


def test_readding_a_file_with_new_metadata_says_updated_and_what_changed(built, capsys, tmp_path):
    """Issue 16: re-adding a present file with new metadata said "Added". Its sidecar is
    replaced by the metadata given: the message says so, key by key."""
    corpus, index = built
    hrr = write(tmp_path / "in" / "hrr.txt", HRR)
    where = ["--corpus", corpus, "--index", index]
    code, out, err = run(capsys, "add", hrr, *where)
    assert code == 0 and "Added hrr.txt." in err
    code, out, err = run(capsys, "add", hrr, "--title", "HRR 2023", "--publisher", "US State Dept", *where)
    assert code == 0 and "Updated hrr.txt: its metadata changed (title, publisher)." in err
    assert "Added" not in err and "unchanged" not in err
    hit = kzqa.load(index, embedder=FakeEmbedder()).search("police dispersed a peaceful protest", k=1).passages[0]
    assert (hit.doc_id, hit.title, hit.publisher) == ("hrr", "HRR 2023", "US State Dept")
    code, out, err = run(capsys, "add", hrr, "--title", "HRR 2023", "--publisher", "US State Dept", *where)
    assert code == 0 and "kzqa: hrr.txt is already in the corpus, unchanged" in err
    assert "Added" not in err and "Updated" not in err
    code, out, err = run(capsys, "add", hrr, "--publisher", "U.S. Department of State", *where)
    assert code == 0 and "Updated hrr.txt: its metadata changed (publisher; title removed)." in err
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert (corpus / "hrr.meta.yaml").read_text(encoding="utf-8") == (
        f"publisher: U.S. Department of State\naccessed: {today}  # the date kzqa added the document\n")


def test_a_one_passage_change_is_reported_in_the_singular(built, capsys, tmp_path):
    """Issue 16: "1 passages to embed" (and "1 passages embedded")."""
    corpus, index = built
    code, _, err = run(capsys, "add", write(tmp_path / "in" / "one.txt", "One paragraph about the press.\n"),
                       "--corpus", corpus, "--index", index)
    assert code == 0 and "Indexed 20 passages from 3 documents" in err and "(1 passage embedded, 19 reused)" in err


def test_a_document_added_records_the_date_it_was_added_for_coi_citations(built, capsys, tmp_path):
    """Issue 16: the "[accessed DATE]" of a COI citation is the date the document was added
    (or fetched), stored with it; new metadata later keeps that first date."""
    corpus, index = built
    hrr = write(tmp_path / "in" / "hrr.txt", HRR)
    write(tmp_path / "in" / "hrr.meta.yaml", "title: HRR\npublisher: State\nurl: https://example.org/hrr\n")
    where = ["--corpus", corpus, "--index", index]
    assert run(capsys, "add", hrr, *where)[0] == 0
    today = dt.datetime.now(dt.UTC).date().isoformat()
    sidecar = corpus / "hrr.meta.yaml"
    assert sidecar.read_text(encoding="utf-8").endswith(f"\naccessed: {today}  # the date kzqa added the document\n")
    hit = kzqa.load(index, embedder=FakeEmbedder()).search("police dispersed a peaceful protest", k=1).passages[0]
    assert hit.accessed == today and hit.citation_in("coi").endswith(f"[accessed {long_date(today)}]")
    sidecar.write_text(sidecar.read_text(encoding="utf-8").replace(today, "2025-01-31"), encoding="utf-8")
    kzqa.build(corpus, index, FAKE_SETTINGS, embedder=FakeEmbedder())
    assert run(capsys, "add", hrr, "--title", "HRR 2023", *where)[0] == 0
    assert "accessed: 2025-01-31" in sidecar.read_text(encoding="utf-8")  # the first date, kept
    assert run(capsys, "add", hrr, "--title", "HRR 2023", *where)[2].count("unchanged") == 1


def test_readding_a_file_with_an_edited_sidecar_beside_it_updates_its_metadata(built, tmp_path):
    """The sidecar beside a file travels with it when it is added, and again when it is
    re-added edited (it was ignored, the file reported "unchanged")."""
    corpus, index = built
    hrr = write(tmp_path / "in" / "hrr.txt", HRR)
    first = kzqa.add([hrr], corpus, index, embedder=FakeEmbedder())
    assert (first.documents, first.unchanged) == (("hrr.txt",), ())
    write(tmp_path / "in" / "hrr.meta.yaml", "title: HRR 2023\npublisher: US State Dept\n")
    again = kzqa.add([hrr], corpus, index, embedder=FakeEmbedder())
    assert (again.documents, again.unchanged) == ((), ())
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert (corpus / "hrr.meta.yaml").read_text(encoding="utf-8") == (
        f"title: HRR 2023\npublisher: US State Dept\naccessed: {today}  # the date kzqa added the document\n")
    assert [(u.file, u.changed, u.removed) for u in again.updated] == [("hrr.txt", ("title", "publisher"), ())]
    assert kzqa.load(index, embedder=FakeEmbedder()).documents["hrr"].source.publisher == "US State Dept"
    same = kzqa.add([hrr], corpus, index, embedder=FakeEmbedder())
    assert (same.documents, same.updated, same.unchanged) == ((), (), ("hrr.txt",))


def test_kzqa_add_warns_when_citations_will_lack_the_publisher_or_url(built, capsys, tmp_path):
    """Issue 16: a document added with no publisher or URL gave no warning."""
    corpus, index = built
    hrr = write(tmp_path / "in" / "hrr.txt", HRR)
    code, out, err = run(capsys, "add", hrr, "--corpus", corpus, "--index", index)
    warning = [line for line in err.splitlines() if "warning" in line]
    assert code == 0 and warning == [
        f"kzqa: warning: hrr.txt has no publisher and no URL, so its citations will lack them; "
        f"add publisher and url to {corpus / 'hrr.meta.yaml'} and run kzqa build"]
    other = write(tmp_path / "in" / "other.txt", "# Other\n\nJournalists were fined for their reports.\n")
    change = kzqa.add([other], corpus, index, metadata={"publisher": "Steppe Monitor"}, embedder=FakeEmbedder())
    assert [(w.file, w.missing) for w in change.warnings] == [("other.txt", ("url",))]
    assert str(change.warnings[0]).startswith("other.txt has no URL, so its citations will lack it; add url to ")
    full = write(tmp_path / "in" / "full.txt", "# Full\n\nA court closed the newspaper.\n")
    change = kzqa.add([full], corpus, index, embedder=FakeEmbedder(),
                      metadata={"publisher": "Steppe Monitor", "url": "https://steppe.example/full"})
    assert change.documents == ("full.txt",) and change.warnings == ()


@pytest.mark.parametrize("bad, expected", [
    ("scanned.pdf", "scanned.pdf: a scanned PDF with no text layer"),
    ("locked.pdf", "locked.pdf: an encrypted PDF"),
    ("broken.pdf", "broken.pdf: not a readable PDF"),
    ("empty.html", "empty.html: no main text found"),
    ("notes.docx", "kzqa reads .txt, .md, .pdf and .html files"),
    ("missing.pdf", "no such file"),
])
def test_kzqa_add_refuses_an_unreadable_file_and_adds_the_others(built, files, capsys, tmp_path, bad,
                                                                  expected):
    corpus, index = built
    contents = {"scanned.pdf": scanned_pdf_bytes(), "locked.pdf": encrypted_pdf_bytes("secret"),
                "broken.pdf": pdf_bytes(REPORT_PAGES)[:300], "empty.html": "<html><body><nav>Home</nav>",
                "notes.docx": b"PK\x03\x04"}
    path = tmp_path / "downloads" / bad
    if bad in contents:
        write(path, contents[bad])
    before_corpus, before_index = _snapshot(corpus), _snapshot(index)
    code, out, err = run(capsys, "add", files[1], path, "--corpus", corpus, "--index", index)
    assert code == 1 and f"kzqa: not added {path}: " in err and expected in err
    assert "Added page.html." in err and "Traceback" not in err
    assert set(_snapshot(corpus)) - set(before_corpus) == {"page.html", "page.meta.yaml"}  # + date added
    assert set(kzqa.load(index, embedder=FakeEmbedder()).documents) >= {"page"}
    code, out, err = run(capsys, "add", path, "--corpus", corpus, "--index", index)  # alone
    assert code == 2 and "nothing was added" in err and expected in err
    assert not (corpus / bad).exists() and _snapshot(index) != before_index


def test_kzqa_add_refuses_a_different_file_of_the_same_name_and_bad_metadata(built, files, capsys,
                                                                            tmp_path):
    corpus, index = built
    clash = write(tmp_path / "other" / "limited-political-freedoms-kazakhstan.txt", "Another text.\n")
    before = _snapshot(corpus)
    code, out, err = run(capsys, "add", clash, "--corpus", corpus, "--index", index)
    assert code == 2 and "already has a different limited-political-freedoms-kazakhstan.txt" in err
    assert "kzqa remove limited-political-freedoms-kazakhstan" in err
    code, out, err = run(capsys, "add", files[0], "--date", "last week", "--corpus", corpus,
                         "--index", index)
    assert code == 2 and "'date' must be YYYY, YYYY-MM or YYYY-MM-DD" in err
    assert _snapshot(corpus) == before


def test_a_failed_build_after_add_puts_the_corpus_back(built, files, capsys):
    corpus, index = built
    write(corpus / "bad.txt", b"\xff\xfe")  # the corpus already holds a broken file
    before_corpus, before_index = _snapshot(corpus), _snapshot(index)
    code, out, err = run(capsys, "add", files[0], "--corpus", corpus, "--index", index)
    assert code == 2 and "bad.txt:1: not UTF-8" in err
    assert _snapshot(corpus) == before_corpus and _snapshot(index) == before_index


def test_kzqa_remove_takes_a_document_out_and_keeps_the_file(built, files, capsys):
    corpus, index = built
    assert run(capsys, "add", *files, "--corpus", corpus, "--index", index)[0] == 0
    code, out, err = run(capsys, "remove", "report", "page.html", "--corpus", corpus, "--index", index)
    assert code == 0, err
    assert "Removed report.pdf, page.html." in err and "(0 passages embedded, " in err
    qa = kzqa.load(index, embedder=FakeEmbedder())
    assert set(qa.documents) == {"kazakhstans-human-rights-crackdown", "limited-political-freedoms-kazakhstan"}
    kept = sorted(p.name for p in (corpus / ".removed").rglob("*") if p.is_file())
    assert kept == ["page.html", "page.meta.yaml", "report.meta.yaml", "report.pdf"]  # with their metadata
    code, out, err = run(capsys, "remove", "no-such-doc", "--corpus", corpus, "--index", index)
    assert code == 2 and "no document 'no-such-doc'" in err and "limited-political-freedoms-kazakhstan" in err


def test_the_chat_page_lists_the_documents_with_their_kind(indexed):
    from kzqa.serve.chat import _sources_markdown

    listing = _sources_markdown(indexed[2])
    assert "Assembly and Association 2023" in listing and "PDF, 3 pages" in listing
    assert "Parliament tightens the law on peaceful assemblies" in listing and "web page" in listing


def test_a_hidden_file_is_refused_not_added_and_ignored(built, tmp_path):
    import kzqa

    corpus, index = built
    hidden = tmp_path / ".hidden-report.txt"
    hidden.write_text("A report that would never be read.\n")
    with pytest.raises(kzqa.KzqaError, match="hidden file"):
        kzqa.add([hidden], corpus, index)
    assert not (corpus / ".hidden-report.txt").exists()


def test_a_title_made_from_the_file_name_is_said_to_be_a_guess():
    from kzqa.documents import Source
    from kzqa.indexing.changes import Cited

    cited = Cited("annual-report_2024.pdf", Source(title="Annual report 2024", date="2024"), ("title",),
                  ("author", "publisher"))
    assert str(cited) == ("annual-report_2024.pdf: “Annual report 2024”; date 2024 (title guessed from the file "
                          "name, no author, no publisher: give --title --author --publisher to set them)")
