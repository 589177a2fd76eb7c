"""The ``kzqa`` command, run in-process with the fake model: output, batches, errors."""

from __future__ import annotations

import io
import json

import pytest

from conftest import write
from kzqa.cli.main import main


@pytest.fixture
def index(built):
    return built[1]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_reports_what_it_did(corpus_copy, tmp_path, capsys):
    write(corpus_copy / "notes.docx", b"PK\x03\x04")
    code, out, err = run(capsys, "build", "--corpus", str(corpus_copy), "--index", str(tmp_path / "ix"))
    assert code == 0
    assert "Indexed 19 passages from 2 documents" in err
    assert "ignored notes.docx" in err
    assert (tmp_path / "ix" / "manifest.json").is_file()


def test_build_refuses_a_bad_corpus_listing_every_bad_file(corpus_copy, tmp_path, capsys):
    write(corpus_copy / "a.txt", b"\xff\xfe")
    write(corpus_copy / "b.txt", "")
    write(corpus_copy / "c.pdf", b"%PDF-1.4 truncated")
    code, out, err = run(capsys, "build", "--corpus", str(corpus_copy), "--index", str(tmp_path / "ix"))
    assert code == 2 and "a.txt:1: not UTF-8" in err and "b.txt: empty file" in err
    assert "c.pdf: not a readable PDF" in err
    assert "Traceback" not in err and not (tmp_path / "ix").exists()
    code, out, err = run(capsys, "build", "--corpus", str(corpus_copy), "--index", str(tmp_path / "ix"),
                         "--skip-invalid")
    assert code == 1 and "skipped a.txt:1" in err and (tmp_path / "ix" / "manifest.json").is_file()


def test_ask_json_prints_one_answer_object(index, capsys):
    code, out, err = run(capsys, "ask", "--index", str(index), "--json", "-k", "2",
                         "permits for public demonstrations are rarely granted")
    assert code == 0
    [line] = out.splitlines()
    data = json.loads(line)
    assert data["abstained"] is False and len(data["passages"]) == 2
    assert data["passages"][0]["section"] == "Crackdowns on Peaceful Assembly"
    assert data["passages"][0]["citation"].startswith("“Limited Political Freedoms")


def test_ask_prints_quotes_verbatim_with_citations(index, capsys):
    code, out, err = run(capsys, "ask", "--index", str(index), "-k", "1",
                         "permits for public demonstrations are rarely granted")
    assert code == 0
    assert "Kazakhstan’s laws require government permits for public demonstrations, yet such " \
           "permits are rarely granted." in out
    assert "section “Crackdowns on Peaceful Assembly”, ¶ 6" in out


REORDERED = ("(Passages after the first are ordered to bring in different content, not by score alone; "
             "each score is that passage's own match to the question.)")


def test_ask_says_why_scores_are_out_of_order_when_diversity_reorders_them(index, capsys):
    """Issue 16: after MMR, a passage could show a higher score than the one above it with
    nothing saying why. The note comes only when the scores shown are out of order."""
    code, out, err = run(capsys, "ask", "--index", str(index), "-k", "5", "Are opposition parties banned?")
    scores = [float(line.split("score ")[1]) for line in out.splitlines() if line.startswith("[")]
    assert code == 0 and len(scores) == 5 and scores != sorted(scores, reverse=True)  # MMR moved one up
    assert REORDERED in out.splitlines()[1:3]  # under the question (and the strength)
    code, out, err = run(capsys, "ask", "--index", str(index), "-k", "5", "How are elections held?")
    scores = [float(line.split("score ")[1]) for line in out.splitlines() if line.startswith("[")]
    assert code == 0 and len(scores) == 5 and scores == sorted(scores, reverse=True)
    assert "ordered to bring in different content" not in out


def test_ask_says_plainly_when_the_corpus_has_no_answer(index, capsys):
    code, out, err = run(capsys, "ask", "--index", str(index), "zorblat quux")
    assert code == 0 and "do not cover this question" in out


def test_ask_reads_a_batch_from_stdin_and_keeps_going_past_bad_lines(index, capsys, monkeypatch):
    lines = [
        "permits for public demonstrations",
        "",
        '{"question": "And what about them?", "history": ["Do independent journalists and activists face harassment, censorship and imprisonment?"]}',
        "{not json",
        '{"question": "   "}',
        '{"history": []}',
        "zorblat quux",
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, err = run(capsys, "ask", "--index", str(index), "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(rows) == 6
    assert rows[0]["passages"][0]["section"] == "Crackdowns on Peaceful Assembly"
    assert rows[1]["passages"][0]["section"] == "Suppression of Free Speech" and rows[1]["notes"]
    assert "JSON" in rows[2]["error"] and "empty" in rows[3]["error"] and "question" in rows[4]["error"]
    assert rows[5]["abstained"] is True


@pytest.mark.parametrize("argv, message", [
    (["ask", "--index", "{missing}", "q"], "no index at"),
    (["ask", "--index", "{index}", "   "], "the question is empty"),
    (["ask", "--index", "{index}", "-k", "0", "q"], "k must be"),
    (["build", "--corpus", "{missing}", "--index", "{missing}"], "corpus folder not found"),
    (["passages", "{missing}"], "no such file"),
])
def test_errors_are_one_clear_line_and_exit_2(index, tmp_path, capsys, argv, message):
    argv = [a.format(index=index, missing=tmp_path / "missing") for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2 and err.startswith("kzqa: error: ") and message in err
    assert "Traceback" not in err and out == ""


def test_ask_stops_on_a_stale_index_with_the_command_that_rebuilds(built, capsys):
    corpus, index = built
    (corpus / "kazakhstans-human-rights-crackdown.txt").write_text("Rewritten.\n")
    code, out, err = run(capsys, "ask", "--index", str(index), "elections")
    assert code == 2 and "corpus changed" in err and "kzqa build --corpus" in err and out == ""


def test_passages_shows_what_is_kept_and_what_is_skipped_and_why(capsys):
    from conftest import CORPUS

    code, out, err = run(capsys, "passages", str(CORPUS / "kazakhstans-human-rights-crackdown.txt"))
    assert code == 0
    assert "caption (photo credit)" in out and "pullquote (repeats" in out
    assert "furniture (cookie notice)" in out and "-> kazakhstans-human-rights-crackdown#1" in out


def test_help_is_written_for_people(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for word in ("build", "ask", "search", "passages", "verbatim", "Examples"):
        assert word in out


def test_an_index_path_that_is_a_file_gets_a_clear_error(corpus_copy, tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("precious")
    code, out, err = run(capsys, "build", "--corpus", str(corpus_copy), "--index", str(blocker))
    assert code == 2 and "cannot create the index folder" in err and "Traceback" not in err
    assert blocker.read_text() == "precious"


def test_ask_and_search_keep_to_the_documents_and_years_asked_for(built, capsys):
    _, index = built
    base = ["--index", str(index), "--json", "-k", "5"]
    assert main(["search", *base, "--document", "kazakhstans-human-rights-crackdown", "elections"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert {h["doc_id"] for h in found["passages"]} == {"kazakhstans-human-rights-crackdown"}
    assert main(["search", *base, "--since", "2017", "elections"]) == 0  # the other seed has no date
    assert json.loads(capsys.readouterr().out)["passages"] == []
    assert main(["ask", *base, "--since", "2020", "--until", "2019", "elections"]) == 2
    assert "since (2020) is after until (2019)" in capsys.readouterr().err
