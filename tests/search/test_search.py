"""The search layer with the fake model: fusion, BM25, diversity, highlights, the focus
signal, settings kept across rebuilds, calibration."""

from __future__ import annotations

import json

import numpy as np
import pytest

import kzqa
from conftest import FakeEmbedder
from kzqa.cli.main import main
from kzqa.measure import questions as evq
from kzqa.retrieval.ranking import Ranked, fuse, mmr
from kzqa.search.question import mask_ubiquitous


@pytest.fixture
def qa(built):
    return kzqa.load(built[1], embedder=FakeEmbedder())


def _full(ranked: Ranked, n: int) -> np.ndarray:
    out = np.zeros(n)
    out[ranked.rows] = ranked.scores
    return out


def test_fusion_modes_and_depth():
    dense = Ranked.of(np.array([0.9, 0.1, 0.5, 0.0]), 10)
    sparse = Ranked.of(np.array([0.0, 8.0, 4.0, 0.0]), 10)
    assert list(fuse(dense, sparse, "dense", "convex", 0.5, 60).rows) == [0, 2, 1, 3]
    assert list(fuse(dense, sparse, "bm25", "convex", 0.5, 60).rows)[:3] == [1, 2, 0]
    convex = fuse(dense, sparse, "hybrid", "convex", 0.5, 60)
    assert _full(convex, 4)[2] == pytest.approx(0.5 * 0.5 / 0.9 + 0.5 * 0.5)  # both min-max scaled
    assert list(convex.rows) == [1, 2, 0, 3] and list(convex.scores) == sorted(convex.scores, reverse=True)
    rrf = fuse(dense, sparse, "hybrid", "rrf", 0.5, 60)
    assert _full(rrf, 4)[2] == pytest.approx(0.5 / 62 + 0.5 / 62)
    shallow = fuse(Ranked.of(np.array([0.9, 0.1, 0.5, 0.0]), 1),
                   Ranked.of(np.array([0.0, 8.0, 4.0, 0.0]), 1), "hybrid", "convex", 0.5, 60)
    assert set(shallow.rows) == {0, 1}  # only each side's best counts


def test_bm25_candidates_are_the_passages_with_a_query_word_and_scale_from_zero(qa):
    lexical = qa.store.lexical
    terms = lexical.terms("protest assembly police journalists media")
    full = lexical.scores(terms)
    assert 3 < np.count_nonzero(full) < len(full)
    top = lexical.top(terms, 3)
    assert list(top.rows) == list(np.argsort(-full, kind="stable")[:3]) and top.low == full[top.rows[-1]]
    few = lexical.top(terms, 100)  # fewer passages hold these words: the others would score 0
    assert len(few.rows) == np.count_nonzero(full) and few.low == 0.0


def test_mmr_keeps_the_best_first_and_prefers_a_different_second():
    vectors = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)  # rows 0 and 1 say the same
    rows = np.array([10, 11, 12])
    chosen = mmr(rows, np.array([1.0, 0.95, 0.9]), vectors, 3, lam=0.5)
    assert list(chosen) == [10, 12, 11]
    assert mmr(rows, np.array([1.0, 0.95, 0.9]), vectors, 3, lam=0.9)[0] == 10
    assert list(mmr(rows, np.array([1.0, 0.95, 0.9]), vectors, 3, lam=1.0)) == [10, 11, 12]


def test_highlights_are_sentence_offsets_into_the_unchanged_passage(qa):
    answer = qa.search("permits for public demonstrations rarely granted", k=3)
    for hit in answer.passages:
        assert hit.highlights
        for start, end in hit.highlights:
            sentence = hit.text[start:end]
            assert sentence and sentence == sentence.strip() and sentence in hit.text
    top = answer.passages[0]
    start, end = top.highlights[0]
    assert "permits" in top.text[start:end]


def test_query_words_are_the_words_bm25s_indexes(qa):
    """The query side tokenizes without bm25s.tokenize (for speed); it must split, drop and
    stem exactly as the index side did, or BM25 silently misses words."""
    import bm25s

    lexical = qa.store.lexical
    texts = [p.text for p in qa.passages] + [
        "", "the of and", "What is the POPULATION of Kazakhstan?", "Kazakhstan’s NGOs—labelled",
        "Қазақстан демократия", "a b c x1 ___ 2016-2017", "naïve café résumé", "\u200b\x00tab\tnew\nline"]
    for text in texts:
        expected = bm25s.tokenize([text], stopwords="en", stemmer=lexical.stemmer,
                                  return_ids=False, show_progress=False)[0]
        assert lexical.all_terms(text) == expected, text


def test_a_question_is_searched_for_its_topic_words_in_the_spelling_the_index_knows():
    from kzqa.retrieval.ranking import Lexical

    lexical = Lexical.build(["Internet cafes had to check the identification of customers.",
                             "LGBTQI+ persons faced violence; LGBTQI+ activists were threatened.",
                             "Registered parties and registration rules.", "Registered NGOs.",
                             "Why not? said the court."],
                            k1=1.5, b=0.75)
    # the words of asking go; the accented and the short form become the indexed word
    assert lexical.query_terms("Why do internet cafés have to check IDs?") == ["internet", "cafe", "check", "id"]
    assert lexical.query_terms("Can LGBT people live openly?") == ["lgbtqi", "peopl", "live", "open"]
    # a prefix of several indexed words: the most frequent; under four letters: left alone
    assert lexical.query_terms("regis gay") == ["regist", "gay"]
    # passages are indexed as bm25s tokenizes them: "why" stays a word of the last one
    assert "whi" in lexical.all_terms("Why not? said the court.")


def test_ubiquitous_words_are_masked_for_the_focus_signal(qa):
    masked = mask_ubiquitous("What is the population of Kazakhstan?", qa.store.lexical)
    assert "Kazakhstan" not in masked and "population" in masked


def test_a_rebuild_keeps_the_search_settings_of_the_index_it_replaces(built, capsys):
    corpus, index = built
    code = main(["build", "--corpus", str(corpus), "--index", str(index), "--dense-weight", "0.8"])
    assert code == 0
    manifest = json.loads((index / "manifest.json").read_text())
    manifest["settings"]["abstention"] = {"weights": {"focus": 1.0}, "bias": -0.5}
    (index / "manifest.json").write_text(json.dumps(manifest))
    main(["build", "--corpus", str(corpus), "--index", str(index)])
    settings = kzqa.load(index).settings
    assert settings.dense_weight == 0.8 and settings.abstention.bias == -0.5


def test_words_no_passage_contains_make_the_unknown_signal(qa):
    known = qa.diagnose("permits for public demonstrations").signals
    strange = qa.diagnose("zorblat permits for quuxish public demonstrations").signals
    assert known["unknown"] == 0.0 and 0.3 < strange["unknown"] < 1.0


def test_calibrate_fits_on_the_tuning_split_and_saves_the_rule(built, tmp_path, capsys):
    _, index = built
    rows = []
    for i, (q, a) in enumerate([
        ("permits for public demonstrations", ["limited-political-freedoms-kazakhstan#6"]),
        ("journalists censorship imprisonment", ["limited-political-freedoms-kazakhstan#5"]),
        ("opposition parties registration", ["limited-political-freedoms-kazakhstan#3"]),
        ("elections observers free fair", ["limited-political-freedoms-kazakhstan#4"]),
        ("surveillance activists fear", ["limited-political-freedoms-kazakhstan#7"]),
        ("zorblat quux", []), ("frumious bandersnatch", []), ("wobble glorp", []), ("snark hunting", []),
    ]):
        rows.append({"id": f"q{i}", "question": q, "answers": a, "split": "tune"})
    path = tmp_path / "qs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["calibrate", str(path), "--index", str(index)]) == 0
    assert "Saved in the index manifest" in capsys.readouterr().out
    qa = kzqa.load(index, embedder=FakeEmbedder())
    report = evq.evaluate_questions(qa, path)
    assert report["tune"]["abstention_recall"] == 1.0 and report["tune"]["wrongly_abstained"] == 0.0
    assert main(["eval", str(path), "--index", str(index)]) == 0
    assert "abstention_recall" in capsys.readouterr().out


def test_calibrate_fits_on_the_tuning_splits_of_several_question_sets_together(built, tmp_path, capsys):
    _, index = built
    answerable = [("permits for public demonstrations", ["limited-political-freedoms-kazakhstan#6"]),
                  ("journalists censorship imprisonment", ["limited-political-freedoms-kazakhstan#5"]),
                  ("opposition parties registration", ["limited-political-freedoms-kazakhstan#3"])]
    unanswerable = [("zorblat quux", []), ("frumious bandersnatch", []), ("wobble glorp", []),
                    ("snark hunting", [])]
    paths = []
    for n, part in enumerate((answerable + unanswerable[:1], unanswerable[1:] + [
            ("elections observers free fair", ["limited-political-freedoms-kazakhstan#4"])])):
        path = tmp_path / f"set{n}.jsonl"
        path.write_text("".join(json.dumps({"id": f"s{n}q{i}", "question": q, "answers": a, "split": "tune"})
                                + "\n" for i, (q, a) in enumerate(part)))
        paths.append(str(path))
    # each set alone is too small to fit on; together they are enough
    assert main(["calibrate", paths[0], "--index", str(index), "--dry-run"]) == 2
    assert "only 4 questions in split 'tune'; need 8" in capsys.readouterr().err
    assert main(["calibrate", *paths, "--index", str(index)]) == 0
    assert "Fitted on 8 questions" in capsys.readouterr().out
    fitted = kzqa.load(index).settings.abstention.fitted_on
    assert fitted is not None and fitted["questions"] == "set0.jsonl, set1.jsonl"


def test_kzqa_build_from_python_keeps_the_fitted_rule_as_the_cli_does(built):
    corpus, index = built
    fitted = kzqa.load(index).settings.abstention
    kzqa.build(corpus, index, dense_weight=0.8)
    settings = kzqa.load(index).settings
    assert settings.dense_weight == 0.8 and settings.abstention == fitted
    with pytest.raises(kzqa.KzqaError, match="unknown setting dense_wieght"):
        kzqa.build(corpus, index, dense_wieght=0.8)


def test_an_index_cut_by_other_passage_rules_is_refused_with_the_rebuild_command(built):
    _, index = built
    manifest = json.loads((index / "manifest.json").read_text())
    manifest["settings"]["rules_version"] -= 1
    (index / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(kzqa.IndexMismatch, match="rules of version .* Rebuild it with: kzqa build"):
        kzqa.load(index)


def test_hnsw_search_keeps_to_the_allowed_rows():
    from kzqa.retrieval import dense

    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(2000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    allowed = np.zeros(2000, dtype=bool)
    allowed[::3] = True
    for kind in ("exact", "hnsw"):
        search = dense.DenseSearch(dense.build(vectors, kind))
        top = search.top(vectors[1], 10, allowed)
        assert len(top.rows) == 10 and allowed[top.rows].all(), kind
        assert search.best(vectors[1], allowed) == pytest.approx(float((vectors[allowed] @ vectors[1]).max()), abs=0.02)


def test_a_rule_fitted_on_a_corpus_of_another_size_is_reported(built, capsys):
    from kzqa.settings import Abstention

    _, index = built
    rule = Abstention({"dense": 10.0}, -2.6, {"questions": "q.jsonl", "split": "tune", "passages": 2742})
    assert "fitted on an index of 2,742 passages (q.jsonl); this one has 19" in rule.misfit(19)
    assert rule.misfit(2000) is None and Abstention({"dense": 1.0}, 0.0, None).misfit(19) is None
    kzqa.build(index=index, corpus=built[0], abstention=rule)
    assert main(["ask", "--index", str(index), "permits for demonstrations"]) == 0
    assert "kzqa: warning: the abstention rule was fitted on an index of 2,742" in capsys.readouterr().err


@pytest.mark.parametrize("question, named", [
    ("How overcrowded is Ljubljana prison?", ["Slovenia"]),
    ("How many refugees will the US admit in 2025?", ["United States"]),
    ("Can you tell us about protests?", []),  # "us" is not the United States
    ("Were journalists detained in Almaty or in Managua?", ["Kazakhstan", "Nicaragua"]),
    ("Are Kazakhstani courts independent?", ["Kazakhstan"]),
    ("Is the press free?", []),
])
def test_a_question_names_a_country_by_name_other_word_city_or_capitalised_abbreviation(question, named):
    from kzqa.search.filters import countries_named

    known = ["Kazakhstan", "Nicaragua", "Slovenia", "United States"]
    assert countries_named(question, known) == named
