"""The vectors of a build: sentences pooled from their passage's forward pass, the spans the
model is given, and what happens where pooling cannot be done."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import kzqa
from conftest import CORPUS, FAKE_SETTINGS, FakeEmbedder
from fixtures_docs import ARTICLE_HTML, REPORT_PAGES, pdf_bytes
from kzqa.documents import Passage, Source
from kzqa.embed.embedding import pool_spans
from kzqa.embed.passage_vectors import SENTENCE_VECTORS, sentence_vectors
from kzqa.ingest.corpus import scan_corpus
from kzqa.ingest.passages import make_passages
from kzqa.retrieval.search_text import collapsed_spans, embed_text_spans
from kzqa.storage.store import MANIFEST


def _passages(folder):
    for doc in scan_corpus(folder).documents:
        for p in make_passages(doc):
            yield doc, p


@pytest.mark.parametrize("context", [True, False])
def test_every_sentence_is_found_in_the_text_the_model_sees(tmp_path, context):
    """The model reads a passage with its whitespace collapsed and its title ahead; each
    sentence's span in that text must hold exactly that sentence's words."""
    (tmp_path / "report.pdf").write_bytes(pdf_bytes(REPORT_PAGES))
    (tmp_path / "page.html").write_text(ARTICLE_HTML, encoding="utf-8")
    seen = 0
    for folder in (CORPUS, tmp_path):
        for doc, p in _passages(folder):
            text, spans = embed_text_spans(p, doc.source, context)
            assert len(spans) == len(p.sentences)
            for (s, e), (cs, ce) in zip(p.sentences, spans):
                assert text[cs:ce] == " ".join(p.text[s:e].split())
                seen += 1
    assert seen >= 50  # not vacuous: the shipped corpus, a PDF and a web page


def test_odd_whitespace_maps_onto_the_collapsed_text():
    body = "  Odd\u00a0 spacing.\n\n\tA second\r\nsentence!  Third  "
    sentences = [(body.index(w), body.index(w) + n) for w, n in (("Odd", 15), ("A second", 20), ("Third", 5))]
    # with trailing whitespace, as a sentence splitter may leave it
    assert [body[a:b] for a, b in sentences] == ["Odd\u00a0 spacing.\n\n", "A second\r\nsentence! ", "Third"]
    head = "Title — Section\n"
    text = head + " ".join(body.split())
    for (s, e), (cs, ce) in zip(sentences, collapsed_spans(body, sentences, len(head))):
        assert text[cs:ce] == " ".join(body[s:e].split())
    passage = Passage("d#1", "d", body, 0, len(body), 1, sentences=tuple(sentences))
    text, spans = embed_text_spans(passage, Source(title="Title"), True)
    assert [text[s:e] for s, e in spans] == ["Odd spacing.", "A second sentence!", "Third"]


def test_a_span_vector_is_the_mean_of_the_tokens_it_overlaps():
    offsets = np.array([[0, 0], [0, 3], [4, 7], [8, 11], [0, 0]])  # [CLS] one two six [SEP]
    tokens = np.array([[9, 9], [1, 0], [0, 1], [1, 1], [9, 9]], dtype=np.float32)
    out = pool_spans(offsets, tokens, [(0, 7), (5, 6), (20, 30)])
    assert np.allclose(out[0], [0.5, 0.5] / np.linalg.norm([0.5, 0.5]))
    assert np.allclose(out[1], [0, 1])  # inside a token: that token
    assert not out[2].any()  # past the end (cut off by the model): no vector


def test_sentence_vectors_keep_what_sets_a_sentence_apart_and_no_vector_stays_none():
    passage = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    pooled = np.array([[0.9, 0.44, 0.0], [0.9, 0.0, 0.44], [0, 0, 0]], dtype=np.float32)
    out = sentence_vectors(passage, pooled)
    assert np.allclose(np.linalg.norm(out[:2], axis=1), 1)
    assert out[0] @ out[1] < pooled[0] @ pooled[1] / np.linalg.norm(pooled[0]) ** 2
    assert not out[2].any()


class CutOff(FakeEmbedder):
    """A model that reads only so far: the last sentence of a long passage gets no tokens."""

    def encode_spans(self, texts, spans, batch_size=32, progress=None):
        vectors, pooled = super().encode_spans(texts, spans, batch_size, progress)
        for p in pooled:
            if len(p) > 2:
                p[-1] = 0.0
        return vectors, pooled


class NoSpans:
    """An embedder with ``encode`` only (the minimal kzqa.embed.embedding.Embedder)."""

    name, dimension = "fake-hash", 256

    def encode(self, texts, batch_size=32, progress=None):
        return FakeEmbedder().encode(texts, batch_size, progress)


def _stored_sentences(index):
    qa = kzqa.load(index, embedder=FakeEmbedder())
    return qa, qa.store.sentence_vectors.astype(np.float32)


@pytest.mark.parametrize("embedder", [CutOff(), NoSpans()], ids=["cut-off", "no-spans"])
def test_sentences_the_model_cannot_pool_are_embedded_alone(corpus_copy, tmp_path, embedder):
    kzqa.build(corpus_copy, tmp_path / "index", FAKE_SETTINGS, embedder=embedder)
    qa, stored = _stored_sentences(tmp_path / "index")
    fake, checked = FakeEmbedder(), 0
    for row, p in enumerate(qa.passages):
        first = int(qa.store.sentence_rows[row])
        for j, (s, e) in enumerate(p.sentences):
            vec = stored[first + j]
            assert np.linalg.norm(vec) == pytest.approx(1, abs=1e-3)  # every sentence has one
            if isinstance(embedder, NoSpans) or (j == len(p.sentences) - 1 and j > 1):
                alone = fake.encode([" ".join(p.text[s:e].split())])[0]
                assert np.allclose(vec, alone, atol=2e-3)
                checked += 1
    assert checked >= 5


def test_sentence_vectors_made_another_way_are_not_reused(built, tmp_path):
    corpus, index = built
    manifest = json.loads((index / MANIFEST).read_text())
    assert manifest["model"]["sentences"] == SENTENCE_VECTORS
    manifest["model"]["sentences"] = "embedded alone"  # as an index of an earlier kzqa
    (index / MANIFEST).write_text(json.dumps(manifest))
    shutil.rmtree(tmp_path / "cache", ignore_errors=True)
    report = kzqa.build(corpus, index, embedder=FakeEmbedder())
    assert report.embedded == report.passages == 19 and report.reused == 0
    report = kzqa.build(corpus, index, embedder=FakeEmbedder())
    assert report.embedded == 0 and report.reused == 19
