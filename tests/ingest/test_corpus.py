"""The corpus folder: seeds kept byte for byte, metadata beside the text, bad files named."""

from __future__ import annotations

import re

import pytest

from conftest import CORPUS, SEEDS, write
from kzqa.errors import KzqaError
from kzqa.ingest.corpus import scan_corpus


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the commissioned seeds are not at {SEEDS} (../shared/seeds)")
def test_shipped_corpus_holds_every_seed_byte_for_byte():
    seeds = sorted(p for p in SEEDS.glob("*.txt"))
    assert seeds, f"no seeds found in {SEEDS}"
    shipped = {p.read_bytes(): p.name for p in CORPUS.glob("*.txt")}
    for seed in seeds:
        assert seed.read_bytes() in shipped, f"{seed.name} is not in corpus/ byte for byte"
    assert len(shipped) == len(seeds)


def test_shipped_metadata_is_read_from_the_sidecars():
    scan = scan_corpus(CORPUS)
    assert scan.problems == () and scan.ignored == ()
    sources = {d.file: d.source for d in scan.documents}
    fa = sources["kazakhstans-human-rights-crackdown.txt"]
    assert fa.title == "Kazakhstan’s Human Rights Crackdown"
    assert fa.subtitle == "Astana Is Moving Backwards"
    assert (fa.author, fa.publisher, fa.date) == ("Hugh Williamson", "Foreign Affairs", "2016-12-21")
    assert fa.url == "https://www.foreignaffairs.com/articles/asia/2016-12-21/kazakhstan-s-human-rights-crackdown"
    hr = sources["limited-political-freedoms-kazakhstan.txt"]
    assert hr.title == "Limited Political Freedoms Encourage Citizens to Flee Kazakhstan"
    assert hr.publisher == "thehuman-rights.com" and hr.date is None and hr.author is None
    # the text is the file, untouched: metadata is not mixed into it
    for doc in scan.documents:
        assert doc.text == (CORPUS / doc.file).read_text(encoding="utf-8")
        assert doc.body_start == 0


def _problems(folder):
    return {p.path: p for p in scan_corpus(folder).problems}


def test_bad_files_are_named_with_their_line_and_the_good_ones_still_read(tmp_path):
    write(tmp_path / "good.txt", "A good paragraph about elections in Kazakhstan.\n")
    write(tmp_path / "latin1.txt", "First line is fine.\nSecond line has caf\xe9 in Latin-1.\n".encode("latin-1"))
    write(tmp_path / "empty.txt", "")
    write(tmp_path / "blank.md", "  \n\n\t\n")
    write(tmp_path / "binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    write(tmp_path / "badyaml.txt", "Some text that is fine.\n")
    write(tmp_path / "badyaml.meta.yaml", "title: Fine\nauthor: [unclosed\n")
    write(tmp_path / "typo.txt", "Some other text.\n")
    write(tmp_path / "typo.meta.yaml", "title: Fine\ntitel: Oops\n")
    scan = scan_corpus(tmp_path)
    problems = {p.path: p for p in scan.problems}
    assert [d.file for d in scan.documents] == ["good.txt"]
    assert problems["latin1.txt"].line == 2 and "UTF-8" in problems["latin1.txt"].reason
    assert "empty" in problems["empty.txt"].reason
    assert "empty" in problems["blank.md"].reason
    assert "binary" in problems["binary.txt"].reason
    assert problems["badyaml.meta.yaml"].line in (2, 3) and "malformed" in problems["badyaml.meta.yaml"].reason
    assert problems["typo.meta.yaml"].line == 2 and "titel" in problems["typo.meta.yaml"].reason
    assert str(problems["typo.meta.yaml"]).startswith("typo.meta.yaml:2: ")
    assert len(scan.problems) == 6


@pytest.mark.parametrize("meta, words", [
    ("date: last week\n", ["date", "YYYY"]),
    ("url: not a link\n", ["url", "http"]),
    ("title: [a, b]\n", ["title", "text"]),
    ("- just\n- a list\n", ["key: value"]),
])
def test_invalid_metadata_values_are_refused(tmp_path, meta, words):
    write(tmp_path / "doc.txt", "Text.\n")
    write(tmp_path / "doc.meta.yaml", meta)
    problem = _problems(tmp_path)["doc.meta.yaml"]
    for word in words:
        assert word in problem.reason


def test_front_matter_is_metadata_and_offsets_count_from_the_file_start(tmp_path):
    from kzqa.ingest.passages import make_passages

    text = "---\ntitle: Notes\nauthor:\n  - A. One\n  - B. Two\ndate: 2020-05\n---\nFirst paragraph here.\n\nSecond one.\n"
    write(tmp_path / "notes.md", text)
    [doc] = scan_corpus(tmp_path).documents
    assert doc.source.title == "Notes" and doc.source.author == "A. One, B. Two"
    assert doc.source.date == "2020-05"
    passages = make_passages(doc)
    assert [p.text for p in passages] == ["First paragraph here.", "Second one."]
    for p in passages:
        assert text[p.start:p.end] == p.text


def test_front_matter_error_counts_lines_in_the_document(tmp_path):
    write(tmp_path / "notes.md", "---\ntitle: Fine\ndate: [\n---\nBody text.\n")
    problem = _problems(tmp_path)["notes.md"]
    assert problem.line in (3, 4) and "malformed" in problem.reason


def test_metadata_given_twice_and_orphan_sidecars_are_reported(tmp_path):
    write(tmp_path / "twice.md", "---\ntitle: A\n---\nBody.\n")
    write(tmp_path / "twice.meta.yaml", "title: B\n")
    write(tmp_path / "orphan.meta.yaml", "title: C\n")
    problems = _problems(tmp_path)
    assert "twice" in problems["twice.md"].reason
    assert "no document" in problems["orphan.meta.yaml"].reason


def test_other_file_types_are_listed_as_ignored_and_hidden_files_skipped(tmp_path):
    write(tmp_path / "doc.txt", "Text.\n")
    write(tmp_path / "report.docx", b"PK\x03\x04")
    write(tmp_path / ".DS_Store", b"\x00\x01")
    write(tmp_path / ".git" / "config", "x")
    scan = scan_corpus(tmp_path)
    assert scan.ignored == ("report.docx",) and scan.problems == ()


def test_titles_fall_back_to_a_markdown_heading_then_the_file_name(tmp_path):
    write(tmp_path / "a.md", "# The Real Title\n\nBody text.\n")
    write(tmp_path / "sub" / "press_freedom-2024.txt", "Body text.\n")
    titles = {d.doc_id: d.source.title for d in scan_corpus(tmp_path).documents}
    assert titles == {"a": "The Real Title", "sub/press-freedom-2024": "Press freedom 2024"}


def test_two_files_with_the_same_id_are_a_problem_not_a_silent_overwrite(tmp_path):
    write(tmp_path / "note.txt", "One.\n")
    write(tmp_path / "note.md", "Two.\n")
    scan = scan_corpus(tmp_path)
    assert len(scan.documents) == 1
    assert "same document id" in scan.problems[0].reason


def test_a_byte_order_mark_is_not_quoted(tmp_path):
    from kzqa.ingest.passages import make_passages

    write(tmp_path / "bom.txt", "\ufeffParagraph one.\n")
    [doc] = scan_corpus(tmp_path).documents
    [p] = make_passages(doc)
    assert p.text == "Paragraph one." and p.start == 1


def test_a_link_out_of_the_corpus_folder_is_refused_and_one_inside_counts_as_a_copy(tmp_path):
    outside = write(tmp_path / "secret.txt", "Not part of the corpus.\n")
    corpus = tmp_path / "corpus"
    write(corpus / "real.txt", "A real document.\n")
    (corpus / "leak.txt").symlink_to(outside)
    (corpus / "alias.txt").symlink_to(corpus / "real.txt")
    scan = scan_corpus(corpus)
    problems = {p.path: p.reason for p in scan.problems}
    assert "outside the corpus folder" in problems["leak.txt"]
    assert problems["real.txt"].startswith("the same text as alias.txt")  # a link is a copy
    assert [d.file for d in scan.documents] == ["alias.txt"]


def test_duplicate_and_oversized_documents_are_named(tmp_path, monkeypatch):
    import kzqa.ingest.corpus

    write(tmp_path / "a.txt", "The same text.\n")
    write(tmp_path / "copy of a.txt", "The same text.\n")
    write(tmp_path / "big.txt", "x" * 2000 + "\n")
    monkeypatch.setattr(kzqa.ingest.corpus, "MAX_DOCUMENT_BYTES", 1000)
    problems = {p.path: p.reason for p in scan_corpus(tmp_path).problems}
    assert problems["copy of a.txt"].startswith("the same text as a.txt")
    assert "too large" in problems["big.txt"] and "split it" in problems["big.txt"]


def test_names_with_spaces_and_unicode_are_read(tmp_path):
    write(tmp_path / "Отчёт 2024 (final).txt", "Текст документа.\n")
    [doc] = scan_corpus(tmp_path).documents
    assert doc.doc_id == "отчёт-2024-final" and doc.source.title == "Отчёт 2024 (final)"


def test_a_real_50_mb_file_is_refused_on_its_size_and_the_rest_is_read(tmp_path, monkeypatch):
    import kzqa.ingest.corpus

    write(tmp_path / "small.txt", "A small document.\n")
    with open(tmp_path / "huge.txt", "wb") as f:
        f.write(b"Paragraph text about elections. " * (50 * 1024 * 1024 // 32))
    read = []
    real = kzqa.ingest.corpus.read_document
    monkeypatch.setattr(kzqa.ingest.corpus, "read_document", lambda path, rel, *a: read.append(rel) or real(path, rel, *a))
    scan = scan_corpus(tmp_path)
    assert [p.path for p in scan.problems] == ["huge.txt"] and "too large (50 MB" in scan.problems[0].reason
    assert [d.file for d in scan.documents] == ["small.txt"]
    assert read == ["small.txt"]  # refused on its size, never decoded nor cut


def test_country_period_and_access_date_are_metadata_a_citation_can_use(tmp_path):
    write(tmp_path / "r.txt", "Text.\n")
    write(tmp_path / "r.meta.yaml", "country: [Kazakhstan, Kyrgyzstan]\ncovers: 2023\naccessed: 2026-11-27\n")
    [doc] = scan_corpus(tmp_path).documents
    assert (doc.source.country, doc.source.covers, doc.source.accessed) == \
        ("Kazakhstan; Kyrgyzstan", "2023", "2026-11-27")
    assert doc.source.year == 2023
    write(tmp_path / "r.meta.yaml", "covers: last year\n")
    assert "must be a year" in _problems(tmp_path)["r.meta.yaml"].reason


def test_an_unexpected_failure_reading_one_file_is_a_one_line_problem_naming_it(tmp_path, monkeypatch, capsys):
    import kzqa.ingest.html_text
    from kzqa.cli.main import main

    def broken(data: bytes) -> None:
        raise RuntimeError("something no one foresaw\nwith a second line")

    monkeypatch.setattr(kzqa.ingest.html_text, "extract_html", broken)  # stands in for a library bug
    write(tmp_path / "page.html", "<html><body><p>text</p></body></html>")
    write(tmp_path / "note.txt", "A note that still reads.")
    scan = scan_corpus(tmp_path)
    assert [d.file for d in scan.documents] == ["note.txt"]
    [problem] = scan.problems
    assert problem.path == "page.html" and "RuntimeError" in problem.reason
    code = main(["passages", str(tmp_path / "page.html")])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err and "page.html" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("text", ["date: 2023-02-30\n", "date: 2023-13\n", "accessed: 2024-04-31\n"])
def test_a_mistyped_date_is_named_by_file_and_field_and_skip_invalid_skips_it(tmp_path, capsys, text):
    from kzqa.cli.main import main

    corpus = tmp_path / "corpus"
    write(corpus / "a.txt", "The police dispersed a peaceful protest in Almaty in the spring.\n")
    write(corpus / "a.meta.yaml", text)
    write(corpus / "b.txt", "Journalists were fined for their posts about the protest.\n")
    code = main(["build", "--corpus", str(corpus), "--index", str(tmp_path / "index")])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert re.search(r"a\.meta\.yaml:1: metadata '(date|accessed)' (is not a real date|must be)", err), err
    code = main(["build", "--corpus", str(corpus), "--index", str(tmp_path / "index"), "--skip-invalid"])
    err = capsys.readouterr().err
    assert "skipped" in err and "Indexed 1 passage from 1 document" in err


def test_a_date_with_a_time_of_day_is_the_date_and_add_refuses_a_day_the_month_lacks(built, tmp_path, capsys):
    from kzqa.cli.main import main

    corpus, index = built
    page = write(tmp_path / "note.txt", "A note on the assembly law.\n")
    write(tmp_path / "note.meta.yaml", "date: 2023-02-28 10:30:00\n")  # travels with the file
    code = main(["add", str(page), "--corpus", str(corpus), "--index", str(index)])
    assert code == 0 and "date 2023-02-28" in capsys.readouterr().err
    other = write(tmp_path / "other.txt", "Another note on the assembly law and its permits.\n")
    code = main(["add", str(other), "--date", "2023-02-30", "--corpus", str(corpus), "--index", str(index)])
    err = capsys.readouterr().err
    assert code != 0 and "'date' is not a real date: 2023-02-30" in err and "Traceback" not in err


def test_a_metadata_key_given_twice_is_refused_naming_the_line(tmp_path):
    """Issue 24, item 10: YAML kept the last of two titles silently."""
    from kzqa.ingest.catalogue import load_collection

    write(tmp_path / "a.txt", "Some text about protests.\n")
    write(tmp_path / "a.meta.yaml", "title: One\nauthor: A\ntitle: Two\n")
    write(tmp_path / "b.md", "---\ntitle: One\ncountry: Kazakhstan\ncountry: Uzbekistan\n---\nText.\n")
    scan = scan_corpus(tmp_path)
    got = {(p.path, p.line, p.reason) for p in scan.problems}
    assert got == {("a.meta.yaml", 3, "malformed metadata (YAML: key 'title' given twice; keep one)"),
                   ("b.md", 4, "malformed metadata (YAML: key 'country' given twice; keep one)")}
    collection = write(tmp_path / "mine.yaml", "documents:\n  - file: a.txt\n    file: b.md\n")
    with pytest.raises(KzqaError, match=r"mine.yaml:3: not a collection file \(YAML: key 'file' given twice"):
        load_collection(str(collection))
