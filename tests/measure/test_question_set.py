"""What counts as a right answer in a question set: passage ids, or evidence quoted from a
document, which survives a re-cut of the documents into passages."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import LIBRARY, ROOT, write
from kzqa.errors import KzqaError
from kzqa.measure.question_set import load_questions


def test_evidence_is_a_document_and_words_quoted_from_it(tmp_path):
    row = {"id": "q1", "question": "Is it a crime to spread false information?", "kind": "undated",
           "split": "tune", "evidence": [{"doc": "r-2023", "quote": "dissemination of  knowingly false\ninformation"}],
           "latest": "r-2023", "years": [], "history": []}
    [q] = load_questions(write(tmp_path / "q.jsonl", json.dumps(row) + "\n"))
    text = "The law criminalizes the dissemination of knowingly false information, punishable by…"
    assert q.answerable and q.is_right("r-2023#7", "r-2023", text)
    assert not q.is_right("r-2022#7", "r-2022", text)  # the words, but another document
    assert not q.is_right("r-2023#8", "r-2023", "The law criminalizes defamation.")
    assert q.is_latest("r-2023", text) and not q.is_latest("r-2023", "other words")


def test_the_shipped_question_sets_load(tmp_path):
    seeds = load_questions(ROOT / "eval" / "questions.jsonl")
    library = load_questions(ROOT / "eval" / "library-questions.jsonl")
    assert len(seeds) >= 70 and all(q.answers or not q.answerable for q in seeds)
    assert len(library) >= 130 and {q.split for q in library} == {"tune", "heldout"}
    assert sum(q.answerable for q in library) >= 100
    fresh = load_questions(ROOT / "eval" / "library-questions-fresh.jsonl")
    assert len(fresh) == 80 and {q.split for q in fresh} == {"tune", "heldout"}


@pytest.mark.skipif(not LIBRARY.is_dir(), reason=f"the document library {LIBRARY} is not here")
@pytest.mark.parametrize("name", ["library-questions.jsonl", "library-questions-fresh.jsonl"])
def test_every_evidence_quote_of_the_library_sets_stands_in_its_document(name):
    """The checker finds every quote verbatim in its document and inside one paragraph kzqa
    indexes, the latest edition named right, the kinds and halves balanced."""
    env = {**os.environ, "KZQA_SRC": str(ROOT / "src"), "KZQA_CORPUS": str(ROOT / "corpus"),
           "KZQA_LIBRARY": str(LIBRARY)}
    run = subprocess.run([sys.executable, str(ROOT / "eval" / "check_library_questions.py"),
                          str(ROOT / "eval" / name), "--passages"], env=env, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.rstrip().endswith("OK"), run.stdout + run.stderr


def test_a_broken_line_is_named_with_its_number(tmp_path):
    path = write(tmp_path / "q.jsonl", '{"question": "ok"}\n{"evidence": []}\n')
    with pytest.raises(KzqaError, match=r"q.jsonl:2: not a question line"):
        load_questions(path)
