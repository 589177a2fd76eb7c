"""How an index is built and searched. Saved in the index manifest, so an index always
knows how it was made and a search uses the settings the index was built with."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .embedding import DEFAULT_MODEL
from .passages import DEFAULT_MAX_CHARS, RULES_VERSION

# Abstention: the best passage's cosine similarity must reach this to count as an answer.
# Measured on the shipped corpus with all-MiniLM-L6-v2 (README, "Abstention"): ten
# answerable questions scored 0.349-0.790 at rank 1, six off-topic ones 0.055-0.172; 0.26
# is the middle of the gap. On-topic questions the corpus does not cover ("What is the
# population of Kazakhstan?", 0.50) are not separated by any cut-off: the quality issue
# replaces this single threshold with a calibrated rule.
DEFAULT_MIN_SCORE = 0.26


@dataclass(frozen=True, slots=True)
class Settings:
    model: str = DEFAULT_MODEL
    max_chars: int = DEFAULT_MAX_CHARS  # longest passage before sentence windows
    embed_context: bool = True  # embed "title / section" ahead of the passage text
    min_score: float = DEFAULT_MIN_SCORE  # abstain when the best score is below this
    rules_version: int = RULES_VERSION  # version of the passage rules that cut the corpus

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
