"""Hostile documents (issue 15): deep metadata, cubic headings, pull-quote pairs, huge
fields and hidden characters are each refused or handled in linear time, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write
from kzqa.cli.main import main
from kzqa.ingest.corpus import scan_corpus

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


def _title_by_the_old_regex(text: str) -> str | None:
    import re

    first = text.lstrip("\r\n").split("\n", 1)[0]
    m = re.match(r"#\s+(.+?)\s*#*\s*$", first)
    return m.group(1) if m else None


HEADINGS = ["# Title", "#  Title  ##", "#Title", "# a   b", "# Title #", "# Title#", "# a # b ##",
            "#", "# ", "#  ", "#   ", "# #", "# ##", "#\tTab title\t#\t", "# Ends in CR\r",
            "#\u00a0Non-breaking\u2003", "## Second level", "Not a heading", "", " # indented",
            "# «Выборы» 2016 ###  ", "# C# and F#", "# #hashtag"]


def test_the_title_heading_rule_gives_what_the_regex_gave():
    import random

    from kzqa.ingest.corpus import _title_from_text

    rng = random.Random(15)
    fuzz = ["".join(rng.choice("# \ta\u00a0\rb") for _ in range(rng.randrange(12))) for _ in range(5000)]
    for line in HEADINGS + fuzz:
        assert _title_from_text(line + "\nbody", 0) == _title_by_the_old_regex(line + "\nbody"), repr(line)


def test_the_title_heading_rule_reads_a_line_of_spaces_and_bounds_the_title():
    """The regex took 69 s on the first line alone (its time: ``bench/text_rules.py``); a
    heading over ``HEADING_LIMIT`` is no title (issue 24, item 6), whatever its spaces."""
    from kzqa.ingest.corpus import HEADING_LIMIT, _title_from_text

    assert _title_from_text("# a" + " " * 200 + "b  #\nbody", 0) == "a" + " " * 200 + "b"
    assert _title_from_text("# a" + " " * 3000 + "b\nbody", 0) is None
    assert _title_from_text("# a" + " " * 2_000_000 + "b #" + " \t" * 1_000_000, 0) is None
    assert _title_from_text("# " + "x" * HEADING_LIMIT + " #", 0) == "x" * HEADING_LIMIT


def _pullquotes_pairwise(text, blocks):
    """The pairwise rule as it was (quadratic), the reference for the indexed one."""
    from kzqa.ingest.passages import Block
    from kzqa.ingest.pull_quotes import PULLQUOTE_CONTAINMENT, PULLQUOTE_MIN_WORDS
    from kzqa.ingest.pull_quotes import trigrams as _trigrams

    grams = {i: _trigrams(text[b.start : b.end]) for i, b in enumerate(blocks)
             if b.kind == "body" or (b.kind == "heading" and not b.level)}
    out = list(blocks)
    for i, mine in grams.items():
        b = blocks[i]
        if len(mine) < PULLQUOTE_MIN_WORDS - 2:
            continue
        for j, theirs in grams.items():
            if blocks[j].kind != "body":
                continue
            other = blocks[j]
            longer = (other.end - other.start, -j) > (b.end - b.start, -i)
            if j == i or not longer or out[j].kind != "body":
                continue
            shared = len(mine & theirs) / len(mine)
            if shared >= PULLQUOTE_CONTAINMENT:
                out[i] = Block(b.start, b.end, "pullquote", 0,
                               f"repeats {shared:.0%} of paragraph at offset {other.start}")
                break
    return out


def _texts_with_pullquotes():
    import random

    from conftest import CORPUS, SEEDS

    files = sorted(CORPUS.glob("*.txt")) + (sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else [])
    texts = [f.read_text(encoding="utf-8") for f in files]
    rng = random.Random(15)
    words = "the right to vote election court police journalist was were arrested in of and".split()
    for _ in range(60):
        paragraphs = [" ".join(rng.choice(words) for _ in range(rng.randrange(3, 40))) + "."
                      for _ in range(rng.randrange(2, 30))]
        for _ in range(rng.randrange(8)):  # pull quotes: pieces of paragraphs, some altered
            source = rng.choice(paragraphs).split()
            a = rng.randrange(len(source))
            piece = source[a : a + rng.randrange(4, 20)]
            if rng.random() < 0.5:
                piece.insert(rng.randrange(len(piece) + 1), rng.choice(words))
            paragraphs.insert(rng.randrange(len(paragraphs) + 1), " ".join(piece))
        texts.append("\n\n".join(paragraphs) + "\n")
    return texts


def test_indexed_pullquotes_mark_what_the_pairwise_rule_marked():
    from kzqa.ingest.passages import classify, split_blocks

    marked = 0
    for text in _texts_with_pullquotes():
        blocks = classify(text, split_blocks(text), pullquotes=False)
        got = classify(text, split_blocks(text))  # the indexed rule, as documents are cut
        assert got == _pullquotes_pairwise(text, blocks)
        marked += sum(b.kind == "pullquote" for b in got)
    assert marked > 50


def test_pullquotes_on_10000_short_paragraphs_are_not_quadratic():
    import random

    from kzqa.ingest.passages import classify, split_blocks

    rng = random.Random(7)
    vocabulary = [f"w{k}" for k in range(3000)] + ["the", "of", "and", "in"] * 200
    text = "\n\n".join(" ".join(rng.choice(vocabulary) for _ in range(rng.randrange(6, 14))) + "."
                       for _ in range(10_000)) + "\n"
    blocks = classify(text, split_blocks(text))  # its time: bench/text_rules.py (pairwise: 108 s)
    assert len(blocks) == 10_000


def test_a_metadata_value_over_500_characters_is_refused_naming_the_file_and_key(tmp_path, capsys):
    write(tmp_path / "huge.txt", "---\ntitle: " + "T" * 2_000 + "\n---\nSome text to quote.\n")
    write(tmp_path / "author.txt", "Some other text to quote.\n")
    write(tmp_path / "author.meta.yaml", "title: Fine\nauthor: " + "A" * 501 + "\n")
    write(tmp_path / "heading.md", "# " + "H" * 600 + "\n\nThe body of the text.\n")
    write(tmp_path / "page.html", "<html><head><title>" + "P" * 700 + "</title></head><body><main>"
          + "<p>A paragraph of the page long enough to be its main text, about elections.</p>" * 6 +
          "</main></body></html>")
    write(tmp_path / "limit.txt", "---\ntitle: " + "L" * 500 + "\n---\nA title right at the limit.\n")
    scan = scan_corpus(tmp_path)
    assert [d.file for d in scan.documents] == ["heading.md", "limit.txt"]
    # a first-line heading over 300 characters is body text, not a title (issue 24, item 6)
    assert [d.source.title for d in scan.documents] == ["Heading", "L" * 500]  # kept whole, never cut
    got = {str(p) for p in scan.problems}
    assert got == {
        "huge.txt:2: metadata 'title' is 2,000 characters long; the limit is 500",
        "author.meta.yaml:2: metadata 'author' is 501 characters long; the limit is 500",
        "page.html: metadata 'title' is 700 characters long; the limit is 500",
    }


BIDI_TITLE = "Elections \u202eedoc-lanigiro\u202c report"
HIDDEN_TEXT = ("Observers from three missions said the count in the capital was \u200bfair.\u2066 "
               "The \u202eworld\u202c watched the polling stations, and they reported no violence.\ufeff")


def test_hidden_characters_are_shown_in_the_chat_flagged_in_json_and_kept_verbatim(tmp_path):
    import json

    from kzqa.evidence.render import answer_markdown, answer_text
    from kzqa.ingest.passages import make_passages
    from kzqa.results import Answer, Hit

    write(tmp_path / "bidi.txt", f"---\ntitle: {BIDI_TITLE}\n---\n{HIDDEN_TEXT}\n")
    (doc,) = scan_corpus(tmp_path).documents
    assert doc.source.title == BIDI_TITLE
    (passage,) = make_passages(doc)
    assert passage.text == HIDDEN_TEXT
    assert doc.text[passage.start : passage.end] == passage.text  # stored and offsets verbatim
    hit = Hit.of(passage, doc.source, doc.file, 0.9)
    data = json.loads(json.dumps(hit.to_dict()))
    assert data["hidden_characters"] == ["U+200B", "U+202C", "U+202E", "U+2066", "U+FEFF"]
    assert data["text"] == passage.text and data["title"] == BIDI_TITLE
    assert Hit.from_dict(data) == hit  # the derived key is ignored
    answer = Answer("Was the count fair?", (hit,), abstained=False)
    assert passage.text in answer_text(answer) and BIDI_TITLE in answer_text(answer)
    markdown = answer_markdown(answer)
    assert not set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\u2060\ufeff") & set(markdown)
    assert "⟨U+202E⟩edoc&#45;lanigiro⟨U+202C⟩" in markdown and "⟨U+200B⟩fair" in markdown
    plain = Hit.of(passage, doc.source.__class__(title="Plain"), doc.file, 0.9).to_dict()
    assert plain["hidden_characters"] == ["U+200B", "U+202C", "U+202E", "U+2066", "U+FEFF"]
    assert Hit.of(passage.__class__("p", "d", "Clean text.", 0, 11, 1), doc.source.__class__(title="Plain"),
                  doc.file, 0.9).to_dict()["hidden_characters"] == []


def test_metadata_over_20000_characters_is_refused_before_parsing(tmp_path, monkeypatch):
    import yaml

    write(tmp_path / "wide.txt", "---\nauthor: [" + "a, " * 1_000_000 + "]\n---\nText to quote here.\n")
    write(tmp_path / "huge.txt", "---\ntitle: " + "T" * 2_000_000 + "\n---\nSome text to quote.\n")
    write(tmp_path / "side.txt", "Text to quote there.\n")
    write(tmp_path / "side.meta.yaml", "title: Fine\n" + "# a comment\n" * 2000)
    def parsed(*args, **kwargs):
        raise AssertionError("parsed")  # PyYAML parses ~0.1 MB/s: the 2 MB title took 88 s

    for name in ("parse", "compose", "load", "safe_load"):
        monkeypatch.setattr(yaml, name, parsed)
    scan = scan_corpus(tmp_path)
    assert {str(p) for p in scan.problems} == {
        "side.meta.yaml:1: metadata is 24,012 characters long; the limit is 20,000",
        "wide.txt:2: metadata is 3,000,011 characters long; the limit is 20,000",
        "huge.txt:2: metadata is 2,000,008 characters long; the limit is 20,000",
    }


def test_a_paragraph_repeated_30000_times_is_not_quadratic():

    from kzqa.ingest.passages import classify, split_blocks

    text = "One two three four five six seven.\n\n" * 30_000  # its time: bench/text_rules.py
    blocks = classify(text, split_blocks(text))
    assert blocks[0].kind == "body" and {b.kind for b in blocks[1:]} == {"pullquote"}
    assert {b.reason for b in blocks[1:]} == {"repeats 100% of paragraph at offset 0"}
    text = "One two three four five six.\n\n" * 8_000 + "One two three four five six seven.\n\n" * 8_000
    blocks = classify(text, split_blocks(text))  # every shorter copy a candidate of every longer: 51 s
    assert [b.kind for b in blocks[:2]] == ["body", "pullquote"] and len(blocks) == 16_000


_YAMLISH = ["title: ", "author: ", "date: 2016", "url: http://x", "- ", "[", "]", "{", "}", ": ",
            "&a ", "*a ", "!!python/object ", "? ", "|", ">", "'", '"', "\t", "  ", "\n", "#", "---",
            "\u202e", "\u200b", "\ufeff", "é", "Выборы", "…", "\r\n", "%YAML 1.1\n", "..."]


def _documents():
    from hypothesis import strategies as st

    text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)
    junk = st.lists(st.one_of(st.sampled_from(_YAMLISH), text), max_size=40).map("".join)
    body = st.lists(st.one_of(st.sampled_from(["\n", "\n\n", "# ", "## ", "---\n", ". ", "“", "\u202e"]),
                              text), max_size=60).map("".join)
    front = st.one_of(st.just(""), junk.map(lambda j: f"---\n{j}\n---\n"))
    return st.tuples(front, body, st.one_of(st.none(), junk), st.sampled_from(["doc.txt", "doc.md"]))


def test_random_documents_raise_nothing_but_kzqa_errors():
    import shutil
    import tempfile

    from hypothesis import HealthCheck, given, settings

    from kzqa.errors import KzqaError
    from kzqa.ingest.corpus import DocumentProblem, read_document
    from kzqa.ingest.passages import make_passages

    @settings(max_examples=300, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
    @given(_documents())
    def check(case):
        front, body, sidecar, name = case
        folder = Path(tempfile.mkdtemp())
        try:
            write(folder / name, front + body)
            if sidecar is not None:
                write(folder / "doc.meta.yaml", sidecar)
            try:
                for doc in scan_corpus(folder).documents:
                    for p in make_passages(doc):
                        assert doc.text[p.start : p.end] == p.text
                read_document(folder / name, name)
            except (KzqaError, DocumentProblem):
                pass
        finally:
            shutil.rmtree(folder)

    check()


def test_a_document_of_too_many_passages_is_refused_naming_it(tmp_path, monkeypatch):
    import kzqa
    import kzqa.indexing.indexer

    monkeypatch.setattr(kzqa.indexing.indexer, "MAX_PASSAGES_PER_DOCUMENT", 50)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "many.txt").write_text("\n\n".join(f"Paragraph number {i} says something." for i in range(60)))
    (corpus / "few.txt").write_text("One paragraph that says something.\n")
    with pytest.raises(kzqa.CorpusError, match=r"many.txt: 60 passages; the limit is 50 a document"):
        kzqa.build(corpus, tmp_path / "index")


def test_an_answer_of_100_passages_stays_small_when_a_document_carries_its_largest_fields(tmp_path):
    import json

    import kzqa
    from conftest import FAKE_SETTINGS, FakeEmbedder

    corpus = tmp_path / "corpus"
    long = "T" * 500  # the most a metadata value may hold
    write(corpus / "big.txt", "\n\n".join(f"Protesters were detained in case {i}, the court said." for i in range(150)))
    write(corpus / "big.meta.yaml", f"title: {long}\nsubtitle: {long}\nauthor: {long}\npublisher: {long}\n")
    kzqa.build(corpus, tmp_path / "index", FAKE_SETTINGS, embedder=FakeEmbedder())
    answer = kzqa.load(tmp_path / "index", embedder=FakeEmbedder()).search("protesters detained court", k=100)
    size = len(json.dumps(answer.to_dict(), ensure_ascii=False).encode())
    assert len(answer.passages) == 100 and size < 1_000_000  # was 125 MB with a 2 MB title


def test_a_heading_of_a_megabyte_is_body_text_so_answers_stay_small(tmp_path, capsys):
    """Issue 24, item 6: a 1 MB ``<h2>`` above 60 paragraphs made every passage carry it as its
    section (180 MB for k=100); a 100 KB Markdown heading was the document's title."""
    import json

    import kzqa
    from conftest import FAKE_SETTINGS, FakeEmbedder
    from kzqa.ingest.corpus import HEADING_LIMIT

    corpus = tmp_path / "corpus"
    huge = " ".join(["word"] * 200_000)
    paragraphs = "".join(f"<p>Paragraph {i}: protesters need a permit from the city, the court said.</p>"
                         for i in range(60))
    write(corpus / "page.html", f"<html><head><title>A page with a huge heading</title></head><body><main>"
                                f"<h1>A page with a huge heading</h1><h2>{huge}</h2>{paragraphs}</main></body></html>")
    write(corpus / "notes.md", "# " + "x " * 50_000 + "\n\nProtesters need a permit, the notes say.\n")
    kzqa.build(corpus, tmp_path / "index", FAKE_SETTINGS, embedder=FakeEmbedder())
    qa = kzqa.load(tmp_path / "index", embedder=FakeEmbedder())
    answer = qa.search("protesters permit court", k=100)
    assert len(answer.passages) == 100
    assert all(len(p.section or "") <= HEADING_LIMIT for p in answer.passages)
    assert len(json.dumps(answer.to_dict(), ensure_ascii=False).encode()) < 1_000_000
    assert {r.source.title for r in qa.documents.values()} == {"A page with a huge heading", "Notes"}
    code = main(["passages", str(corpus / "page.html")])
    out = capsys.readouterr().out
    assert code == 0 and "body (a heading of 999,999 characters, read as body text)" in out
