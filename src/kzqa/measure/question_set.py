"""A question set, and what counts as a right answer to each question.

One JSON object a line. An expected answer is named either by passage ids (``answers``,
for a fixed corpus such as the shipped one) or by evidence that survives a re-cut of the
documents (``evidence``: a document id and a few words quoted exactly from the sentence
that answers; a passage of that document containing the words is right). A library set
also says which document is the most recent that answers (``latest``) and, for a question
about a dated event, the report year(s) that cover it (``years``)::

    {"id": "lib-050", "question": "...", "kind": "dated", "split": "heldout",
     "evidence": [{"doc": "usdos-hrr-2022-kazakhstan", "quote": "complete blocking of ..."}],
     "latest": "usdos-hrr-2022-kazakhstan", "years": [2022], "history": []}

No expected answer means the documents do not answer the question (kinds "uncovered",
"off-topic", "no-answer"): kzqa should abstain.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kzqa.errors import KzqaError

_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Evidence:
    doc: str
    quote: str
    superseded: bool = False  # a rule a later edition says changed: wrong as a present answer


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]  # passage ids
    history: tuple[str, ...]
    split: str
    kind: str
    evidence: tuple[Evidence, ...] = ()
    latest: str | None = None  # the most recent document that answers
    years: tuple[int, ...] = ()  # report years a dated question is about
    standalone: str | None = None  # a follow-up as written without the conversation (eval/bounds.py)

    @property
    def answerable(self) -> bool:
        return bool(self.answers or self.evidence)

    def is_right(self, passage_id: str, doc_id: str, text: str) -> bool:
        """Whether a passage answers this question."""
        if passage_id in self.answers:
            return True
        flat = _norm(text)
        return any(e.doc == doc_id and not e.superseded and _norm(e.quote) in flat for e in self.evidence)

    def is_superseded(self, doc_id: str, text: str) -> bool:
        """Whether a passage states what a later edition says has changed (and nothing current)."""
        flat = _norm(text)
        return not self.is_right("", doc_id, text) and any(
            e.doc == doc_id and e.superseded and _norm(e.quote) in flat for e in self.evidence)

    def is_latest(self, doc_id: str, text: str) -> bool:
        """Whether a passage answers from the most recent document that answers."""
        return self.latest is not None and doc_id == self.latest and self.is_right("", doc_id, text)


def load_questions(path: Path) -> list[Question]:
    """Read a question set; every line that is not a question is named with its number."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(_question(json.loads(line), n))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as e:
            raise KzqaError(f"{path}:{n}: not a question line ({e}); expected "
                            '{"question": ..., "answers": [passage ids] or "evidence": '
                            '[{"doc": ..., "quote": ...}], "history": [...]}') from None
    if not out:
        raise KzqaError(f"{path}: no questions")
    return out


def _question(row: dict[str, Any], n: int) -> Question:
    if not isinstance(row.get("question"), str):
        raise KeyError("question")
    evidence = tuple(Evidence(str(e["doc"]), str(e["quote"]), bool(e.get("superseded", False)))
                     for e in row.get("evidence") or ())
    answers = tuple(str(a) for a in row.get("answers") or ())
    kind = row.get("kind") or ("answerable" if answers or evidence else "no-answer")
    return Question(str(row.get("id", n)), row["question"], answers,
                    tuple(str(h) for h in row.get("history") or ()), str(row.get("split", "all")),
                    str(kind), evidence, row.get("latest"), tuple(int(y) for y in row.get("years") or ()),
                    row.get("standalone"))


__all__ = ["Evidence", "Question", "load_questions"]
