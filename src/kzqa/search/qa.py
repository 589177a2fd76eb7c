"""Searching an index and answering questions with its passages, never with new text.

A question is embedded once. Its cosine similarity to every passage and its BM25 score
are fused (``Scorer``); the best passages are re-ordered for diversity (MMR, the first one
never moves); each passage's answering sentences are found from stored sentence vectors
(no further model call). Whether to answer at all is a fitted linear rule over a few
signals (``Settings.abstention``). Follow-ups are read together with the previous question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from kzqa.documents import Passage
from kzqa.embed import embedding
from kzqa.embed.embedding import Embedder
from kzqa.errors import IndexMismatch
from kzqa.results import Answer, Echo, Hit
from kzqa.retrieval.dense import DenseSearch
from kzqa.retrieval.echo_cache import cached_echo_groups
from kzqa.retrieval.editions import repeats, shingles
from kzqa.retrieval.ranking import Lexical, Ranked, fuse, mmr
from kzqa.retrieval.search_text import lexical_text
from kzqa.search.filters import Filter, countries_named, country_pattern
from kzqa.search.preference import Echoes, asked_years, asks_now, asks_when, prefer, states_rule, supersede
from kzqa.search.question import (
    UBIQUITOUS_DF,
    check_k,
    clean_question,
    looks_like_follow_up,
    mask_ubiquitous,
    usable,
)
from kzqa.search.scope import Scope
from kzqa.search.vocabulary import Expansion
from kzqa.settings import Settings
from kzqa.storage.store import DocumentRecord, StoredIndex

MMR_POOL = 20  # the best fused candidates MMR chooses from
SUPERSEDE_POOL = 40  # the candidates searched for a later edition's passage to put first
SIGNALS = ("dense", "focus", "lift", "coverage", "unknown")
_YEARS = re.compile(r"(?<!\d)(19|20)\d\d(?!\d)")


@dataclass(frozen=True)
class Diagnosis:
    """What ``ask`` saw: the answer, the ranking before abstention, and the signals."""

    answer: Answer
    ranking: tuple[Hit, ...]
    signals: dict[str, float]
    follow_up: bool
    query: str  # the text searched (the question, or the previous one and the question)
    margin: float = field(default=0.0)  # the abstention score: >= 0 answers


class Scorer:
    """Fused passage scores for a query: dense cosine + BM25 per ``Settings``."""

    def __init__(self, dense: DenseSearch, lexical: Lexical, settings: Settings):
        self.dense, self.lexical, self.settings = dense, lexical, settings

    def rank(self, qvec: np.ndarray, terms: list[str], at_least: int = 0,
             allowed: np.ndarray | None = None) -> tuple[Ranked, Ranked]:
        """(the fused candidates, best first; the dense ones), each retriever giving its best
        ``depth`` (or ``at_least``) of the ``allowed`` passages (None: all)."""
        s = self.settings
        depth = max(s.depth, at_least)
        dense = self.dense.top(qvec, depth, allowed)
        sparse = (self.lexical.top(terms, depth, allowed) if s.mode != "dense"
                  else Ranked(np.zeros(0, np.int64), np.zeros(0, np.float32), 0.0))
        return fuse(dense, sparse, s.mode, s.fusion, s.dense_weight, s.rrf_k), dense


class QA:
    """A loaded index, ready to answer. Get one with ``kzqa.load()``.

    The model loads on the first question (or on ``warm_up()``), not before.
    """

    def __init__(self, store: StoredIndex, embedder: Embedder | None = None):
        self.store = store
        self.settings = store.settings
        self._embedder = embedder
        self._checked = False
        self._dense = DenseSearch(store.vectors)
        self._scorer = Scorer(self._dense, store.lexical, self.settings)
        self._centroid = store.centroid
        self._terms_cache: dict[int, set[str]] = {}
        self._scope = Scope(store)
        self._echoes: Echoes | None = None
        self._rows = {p.id: i for i, p in enumerate(store.passages)}
        self._expansion: Expansion | None = None
        self._rules: np.ndarray | None = None

    @property
    def documents(self) -> dict[str, DocumentRecord]:
        """The indexed documents by id: file, source (title, author, ...), passage count."""
        return self.store.documents

    @property
    def passages(self) -> tuple[Passage, ...]:
        """Every indexed passage, in index order."""
        return self.store.passages

    def passage(self, passage_id: str) -> Passage | None:
        """The indexed passage with this id, or None."""
        row = self._rows.get(passage_id)
        return None if row is None else self.store.passages[row]

    @property
    def embedder(self) -> Embedder | None:
        """The model questions are embedded with, once loaded (None before the first question)."""
        return self._embedder

    def warm_up(self) -> QA:
        """Load the model and find the echo groups now (otherwise on the first question):
        a server does this before it takes questions."""
        embedder = self._get_embedder()
        if not self._checked:
            if embedder.dimension != self.store.dimension:
                raise IndexMismatch(
                    f"the model '{self.settings.model}' gives {embedder.dimension}-dimensional "
                    f"vectors but the index at {self.store.path} holds {self.store.dimension}-"
                    "dimensional ones; rebuild the index with this model")
            self._get_echoes()
            self._checked = True
        return self

    def search(self, query: str, k: int = 10, filters: Filter | None = None) -> Answer:
        """The raw ranking of the ``k`` best passages, best first (within ``filters`` and the
        question's country). Never abstains."""
        query = clean_question(query)
        qvec, words, _ = self._encode(query)
        k = check_k(k)
        allowed = self._scope.allowed(query, filters)
        fused, _ = self._scorer.rank(qvec, self._search_terms(words), k, allowed)
        hits = self._hits(qvec, fused, k, diversify=False)
        return Answer(query, tuple(hits), abstained=False)

    def ask(self, question: str, k: int = 3, history: Sequence[str] = (),
            filters: Filter | None = None) -> Answer:
        """Answer with up to ``k`` passages, or abstain (``answer.abstained``, no passages)
        when the corpus does not answer the question.

        ``history`` holds the earlier questions of the conversation, oldest first. A question
        that reads like a follow-up ("Are they labelled as anything?") and cannot be answered
        alone is searched together with the previous one; a question that stands on its own
        is searched alone and never pulled back to the earlier topic.

        ``filters`` keeps the documents to answer from (``kzqa.Filter``). Without a country
        in it, a question that names a country the library has documents about is answered
        from those; one that names none, from documents about ``Settings.country``. A
        question naming a year prefers the passages of that year's edition; otherwise the
        most recent edition is preferred among passages that answer about equally well. A
        paragraph several editions repeat is shown once, from the latest, with the others
        in ``Hit.also_in``.
        """
        return self.diagnose(question, k, history, filters).answer

    def diagnose(self, question: str, k: int = 3, history: Sequence[str] = (),
                 filters: Filter | None = None) -> Diagnosis:
        """``ask``, plus the ranking it saw and the signals behind its decision."""
        question = clean_question(question)
        k = check_k(k)
        earlier = [h for h in map(usable, history) if h]  # unusable entries are ignored
        query, follow_up = question, False
        # the documents: those of the country this question names, else of the whole query
        scope_of = question if countries_named(question, self._scope.countries) else None
        if earlier and looks_like_follow_up(question) and not self._says_anything(question):
            # "And in 2024?", "And in Kazakhstan?": nothing to search for alone
            query, follow_up = self._joined(earlier[-1], question), True
        hits, signals, margin = self._attempt(query, k, filters, scope_of)
        if margin < 0 and earlier and looks_like_follow_up(question) and not follow_up:
            # It leans on the conversation and says too little alone: read it with the
            # previous question. A question that stands on its own is never pulled back.
            query, follow_up = self._joined(earlier[-1], question), True
            hits, signals, margin = self._attempt(query, k, filters, scope_of)
        answered = bool(hits) and margin >= 0
        notes = (f"Read as a follow-up to the earlier question “{earlier[-1]}”.",) \
            if follow_up and answered else ()
        answer = Answer(question, tuple(hits) if answered else (), abstained=not answered,
                        notes=notes, margin=round(margin, 6), closest=() if answered else tuple(hits))
        return Diagnosis(answer, tuple(hits), signals, follow_up, query, round(margin, 6))

    # -- internals ------------------------------------------------------------------

    def _joined(self, earlier: str, question: str) -> str:
        """A follow-up read with the previous question. The country or year the follow-up
        names takes the place of the one the previous question named ("Are journalists jailed
        in Nicaragua?" + "And in Kazakhstan?" searches for journalists jailed in Kazakhstan)."""
        known = self._scope.countries
        if countries_named(question, known):
            for country in countries_named(earlier, known):
                earlier = country_pattern(country).sub(" ", earlier)
        if _YEARS.search(question):
            earlier = _YEARS.sub(" ", earlier)
        return re.sub(r"\s+", " ", f"{earlier} {question}").strip()

    def _says_anything(self, question: str) -> bool:
        """Whether a question names a topic of its own: a word that is not a year, not a
        country the library knows and not one most passages share."""
        words = _YEARS.sub(" ", question)
        for country in countries_named(question, self._scope.countries):
            words = country_pattern(country).sub(" ", words)
        lexical = self.store.lexical
        return any(lexical.doc_freq(t) <= UBIQUITOUS_DF for t in lexical.query_terms(words))

    def _attempt(self, query: str, k: int, filters: Filter | None, scope_of: str | None = None
                 ) -> tuple[list[Hit], dict[str, float], float]:
        allowed = self._scope.allowed(scope_of or query, filters)
        if allowed is not None and not allowed.any():
            return [], {name: 0.0 for name in SIGNALS}, -1.0  # no document in scope
        qvec, words, focus_vec = self._encode(query, with_focus=True)
        fused, dense = self._scorer.rank(qvec, self._search_terms(words), max(k, MMR_POOL), allowed)
        s = self.settings
        years = asked_years(query)
        recent = not years and not asks_when(query)  # prefer the latest edition
        now = asks_now(query)
        fused = prefer(fused, self._scope.row_years, years, s.year_weight,
                       (s.present_recency_weight if now else s.recency_weight) if recent else 0.0,
                       self._get_rules() if now else None, s.rule_weight)
        # whether to answer is judged on the best passage, before an edition takes its place
        best = int(fused.rows[0]) if len(fused.rows) else None
        fused, others = self._get_echoes().collapse(fused, self._scope.row_years, allowed, years)
        if recent:
            pool = fused.rows[:SUPERSEDE_POOL]
            fused = supersede(fused, self._dense.rows(pool), qvec, self._scope.row_years,
                              self._scope.row_series, s.supersede_similar, s.supersede_margin,
                              s.supersede_score_margin)
        hits = self._hits(qvec, fused, k, diversify=True, others=others)
        signals = self._signals(dense, qvec, focus_vec, words, best if hits else None, allowed)
        rule = self.settings.abstention
        margin = sum(rule.weights.get(name, 0.0) * signals[name] for name in SIGNALS) + rule.bias
        return hits, signals, margin

    def _get_rules(self) -> np.ndarray:
        """1.0 for each passage that states its subsection's rule (``preference.states_rule``)."""
        if self._rules is None:
            passages = self.store.passages
            self._rules = np.array([states_rule(p.text, i == 0 or passages[i - 1].doc_id != p.doc_id
                                                or passages[i - 1].section != p.section)
                                    for i, p in enumerate(passages)], dtype=np.float64)
        return self._rules

    def _search_terms(self, words: list[str]) -> list[str]:
        """The BM25 query: the question's words the index knows, and the report words the
        vocabulary gives for them ("defamation": "libel", "slander")."""
        return list(self.store.lexical.known(words)) + self._get_expansion().added(words)

    def _get_expansion(self) -> Expansion:
        if self._expansion is None:
            self._expansion = Expansion(self.store.lexical)
        return self._expansion

    def _encode(self, text: str, with_focus: bool = False
                ) -> tuple[np.ndarray, list[str], np.ndarray]:
        """The query vector, its stemmed words and the vector of the query with its
        corpus-ubiquitous words masked (with ``with_focus``; one batch, one model call;
        otherwise the query vector again)."""
        self.warm_up()
        words = self.store.lexical.query_terms(text)
        text = self._get_expansion().text(text, words)
        texts = [text]
        masked = mask_ubiquitous(text, self.store.lexical) if with_focus else text
        if with_focus and masked != text:
            texts.append(masked or ".")
        vectors = np.asarray(self._get_embedder().encode(texts), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors[0], words, vectors[-1]

    def _hits(self, qvec: np.ndarray, fused: Ranked, k: int, diversify: bool,
              others: dict[int, list[int]] | None = None) -> list[Hit]:
        if diversify and self.settings.mmr_lambda < 1.0:
            n = max(k, MMR_POOL)
            pool = fused.rows[:n]
            order = mmr(np.arange(len(pool)), fused.scores[:n], self._dense.rows(pool), len(pool),
                        self.settings.mmr_lambda)
            chosen = self._unrepeated([int(i) for i in order], fused.rows, k)
        else:
            chosen = list(range(min(k, len(fused.rows))))
        hits = []
        for i in chosen:
            row = int(fused.rows[i])
            passage = self.store.passages[row]
            record = self.store.documents[passage.doc_id]
            echoes = tuple(self._echo(r) for r in (others or {}).get(row, ()))
            hits.append(Hit.of(passage, record.source, record.file, round(float(fused.scores[i]), 6),
                               self._highlights(row, qvec), echoes))
        return hits

    def _unrepeated(self, order: list[int], rows: np.ndarray, k: int) -> list[int]:
        """The first ``k`` of ``order`` (positions in ``rows``), passing over a passage that
        repeats one taken before it (``editions.repeats``): one answer shows a text once."""
        taken: list[int] = []
        grams: list[set[int]] = []
        for i in order:
            mine = shingles(self.store.passages[int(rows[i])].text)
            if not any(repeats(mine, g) for g in grams):
                taken.append(i)
                grams.append(mine)
                if len(taken) == k:
                    break
        return taken

    def _echo(self, row: int) -> Echo:
        passage = self.store.passages[row]
        return Echo.of(passage, self.store.documents[passage.doc_id].source)

    def _get_echoes(self) -> Echoes:
        """The index's echo groups (on first use: from the cache ``kzqa build`` filled, or
        found from the passages' texts)."""
        if self._echoes is None:
            texts = [p.text for p in self.store.passages]
            self._echoes = Echoes.of(cached_echo_groups(texts, [p.doc_id for p in self.store.passages]))
        return self._echoes

    def _highlights(self, row: int, qvec: np.ndarray) -> tuple[tuple[int, int], ...]:
        spans = self.store.passages[row].sentences
        if len(spans) <= 1:
            return tuple(spans)
        first = int(self.store.sentence_rows[row])
        sims = self.store.sentence_vectors[first : first + len(spans)].astype(np.float32) @ qvec
        best = float(sims.max())
        return tuple(span for span, sim in zip(spans, sims)
                     if sim >= best - self.settings.highlight_margin)

    def _signals(self, dense: Ranked, qvec: np.ndarray, focus_vec: np.ndarray,
                 words: list[str], top: int | None, allowed: np.ndarray | None) -> dict[str, float]:
        """``dense``: best cosine; ``focus``: best cosine of the question without the words
        most passages share (what is left when "Kazakhstan" is taken out of "What is the
        population of Kazakhstan?"); ``lift``: best cosine minus the cosine to the centroid;
        ``coverage``: idf-weighted share of the query's words found in the top passage (row
        ``top``);
        ``unknown``: idf-weighted share of the query's words that no passage contains (what
        the corpus never speaks of: "hijab", "dual citizenship")."""
        best = dense.best
        focus = self._dense.best(focus_vec, allowed)
        lift = best - float(self._centroid @ qvec)
        coverage, unknown = self._coverage(set(words), top)
        return {"dense": round(best, 6), "focus": round(focus, 6), "lift": round(lift, 6),
                "coverage": round(coverage, 6), "unknown": round(unknown, 6)}

    def _coverage(self, words: set[str], row: int | None) -> tuple[float, float]:
        """idf-weighted shares of the query's content words that occur in the top passage,
        and that occur in no passage at all."""
        lexical = self.store.lexical
        idf = lexical.idf
        # a word the vocabulary maps to report words stands for them: known where they are
        # known, present where one is present, weighed as the rarest of them when the index
        # never uses the word itself ("homosexuality" for "lgbtqi" and "same-sex")
        said = self._get_expansion().of(list(words))
        weight = {w: idf(w) if lexical.doc_freq(w) or w not in said else max(map(idf, said[w]))
                  for w in words}
        total = sum(weight.values())
        if not total:
            return 0.0, 0.0
        unknown = sum(weight[w] for w in words if lexical.doc_freq(w) == 0 and w not in said) / total
        if row is None:
            return 0.0, unknown
        if row not in self._terms_cache:
            passage = self.store.passages[row]
            source = self.store.documents[passage.doc_id].source
            self._terms_cache[row] = set(lexical.all_terms(lexical_text(passage, source)))  # window
        present = self._terms_cache[row]
        return sum(weight[w] for w in words
                   if w in present or any(t in present for t in said.get(w, ()))) / total, unknown


    def _get_embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = embedding.make_query_embedder(self.settings.model)
        return self._embedder


