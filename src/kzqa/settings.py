"""How an index is built and searched. Saved in the index manifest, so an index always
knows how it was made and a search uses the settings the index was built with.

Every number here has a measured reason, given beside it and in the README
("Retrieval quality"); ``kzqa calibrate`` refits the abstention rule on a question set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .embedding import DEFAULT_MODEL
from .passages import DEFAULT_MAX_CHARS, RULES_VERSION


@dataclass(frozen=True, slots=True)
class Abstention:
    """Answer when ``sum(weights[f] * signal[f]) + bias >= 0``; abstain otherwise.

    Signals (``kzqa.search.SIGNALS``): ``dense`` the best cosine similarity; ``focus`` the
    best cosine of the question with the words most passages share masked out; ``lift`` how
    far the best passage stands above the corpus as a whole (best cosine minus the cosine
    to the centroid of all passages); ``coverage`` the idf-weighted share of the question's
    content words found in the best passage. Fitted by logistic regression on the tuning
    half of eval/questions.jsonl (``kzqa calibrate``).
    """

    weights: dict[str, float] = field(default_factory=lambda: {"dense": 10.0, "focus": 0.0,
                                                               "lift": 0.0, "coverage": 0.0})
    bias: float = -2.6  # the plain cut-off dense >= 0.26 until calibrated

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
    rules_version: int = RULES_VERSION  # version of the passage rules that cut the corpus
    # retrieval
    mode: str = "hybrid"  # hybrid | dense | bm25
    fusion: str = "convex"  # convex (min-max normalised scores) | rrf
    dense_weight: float = 0.5  # dense share of the fused score
    sentence_weight: float = 0.0  # share of a passage's dense score from its best sentence
    rrf_k: int = 60
    depth: int = 100  # candidates taken from each retriever before fusion
    bm25_k1: float = 0.9
    bm25_b: float = 0.4
    mmr_lambda: float = 0.7  # 1.0 = no diversity; the first passage never moves
    highlight_margin: float = 0.05  # sentences within this cosine of the best are highlighted
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
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
