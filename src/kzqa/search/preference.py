"""Among passages that answer about equally well, which to show: the edition of the year
a question asks about, else the most recent edition; and a paragraph that several
editions repeat (an echo group, ``kzqa.retrieval.editions``) once, from its most recent edition,
with the others named.

Pure functions over the fused ranking (``Ranked``) and per-passage arrays, so the same
rules serve every index size.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kzqa.retrieval.ranking import Ranked

_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)")


def asked_years(question: str) -> list[int]:
    """The years a question names ("in 2019", "the January 2022 unrest")."""
    return sorted({int(y) for y in _YEAR.findall(question)})


_WHEN = re.compile(r"^\W*when\b", re.IGNORECASE)


def asks_when(question: str) -> bool:
    """Whether a question asks when something happened ("When was criminal liability for
    libel abolished?"): the edition that reported it answers, not the most recent one."""
    return bool(_WHEN.match(question))


# "Is ...", "Can people ...", "Do you need ...": a yes/no question in the present tense.
_NOW = re.compile(r"^\W*(?:is|are|can|may|must|do|does|will|should|has|have)\b(?!.*\b(?:was|were|did|had)\b)",
                  re.IGNORECASE)


def asks_now(question: str) -> bool:
    """Whether a question asks how things are now ("Is defamation a crime?", "Do you need a
    permit to protest?"): a present-tense yes/no question naming no year."""
    return bool(_NOW.match(question)) and not asked_years(question)


# A run-in label opening a paragraph: "Libel/Slander Laws: ...", "Criminalization: ...".
_RUN_IN = re.compile(r"^[A-Z](?:[^\W\d_]|[’'/,()\- ]){2,60}: \S")  # words, no date or figure


def states_rule(text: str, opens_section: bool) -> bool:
    """Whether a passage reads as the statement of its subsection: it opens the section, or
    opens with a run-in label naming its topic."""
    return opens_section or bool(_RUN_IN.match(text))


def prefer(fused: Ranked, row_years: np.ndarray, years: list[int], year_weight: float,
           recency_weight: float, rules: np.ndarray | None = None, rule_weight: float = 0.0) -> Ranked:
    """``fused`` re-scored: passages of a document whose year is one the question names gain
    ``year_weight``; when it names none (or no document is of those years), passages gain up to
    ``recency_weight`` by how recent their document is. Documents of no known year gain nothing.
    With ``rules`` (1.0 per passage that ``states_rule``), those passages gain ``rule_weight``."""
    if not len(fused.rows):
        return fused
    ys = row_years[fused.rows]
    known = ~np.isnan(ys)
    bonus = np.zeros(len(fused.rows), dtype=np.float64)
    if years and np.isin(row_years, years).any():
        bonus[known] = year_weight * np.isin(ys[known], years)
    elif recency_weight and known.any():
        lo, hi = np.nanmin(row_years), np.nanmax(row_years)
        if hi > lo:
            bonus[known] = recency_weight * (ys[known] - lo) / (hi - lo)
    if rules is not None and rule_weight:
        bonus += rule_weight * rules[fused.rows]
    if not bonus.any():
        return fused
    scores = fused.scores.astype(np.float64) + bonus
    order = np.lexsort((fused.rows, -scores))
    return Ranked(fused.rows[order], scores[order].astype(np.float32), fused.low)


def supersede(fused: Ranked, vectors: np.ndarray, qvec: np.ndarray, row_years: np.ndarray,
              row_series: np.ndarray, similar: float, margin: float,
              score_margin: float = np.inf) -> Ranked:
    """``fused`` with its first passage handed over to a later edition's passage on the same
    topic that answers about as well: the most recent edition first among near-equals.

    ``vectors`` are the passage vectors of the first ``len(vectors)`` rows of ``fused``. A
    candidate among them takes the first place when it comes from a later document of the
    same series (``row_series``: the same publisher about the same country), its vector lies
    within cosine ``similar`` of the first passage's (the same paragraph rewritten -- the
    2023 edition moved to the past tense -- or another paragraph of the same section on the
    same matter), it is at most ``margin`` less similar to the question, and its fused score
    (the model and the question's words, with the recency bonus) is at most ``score_margin``
    below the first's: a passage on the same matter that lacks the words the question asks
    about ("rated", "harassment") does not take the place of one that has them. The most recent
    such candidate wins, and the step repeats from it (2019 -> 2022 -> 2023). The passage it
    replaces follows it, and the rest keep their order."""
    n = len(vectors)
    if n < 2 or similar > 1.0:
        return fused
    rows = fused.rows[:n]
    years = np.nan_to_num(row_years[rows], nan=-np.inf)
    series = row_series[rows]
    to_query = vectors @ qvec
    fused_scores = fused.scores[:n]
    first = 0
    while np.isfinite(years[first]):
        near = vectors @ vectors[first]
        ok = ((years > years[first]) & (series == series[first]) & (near >= similar)
              & (to_query >= to_query[first] - margin)
              & (fused_scores >= fused_scores[first] - score_margin))
        if not ok.any():
            break
        found = np.flatnonzero(ok)
        first = int(found[np.lexsort((-to_query[found], -years[found]))[0]])  # latest, then closest
    if first == 0:
        return fused
    order = np.concatenate([[first], np.delete(np.arange(len(fused.rows)), first)])
    scores = fused.scores[order].copy()
    scores[0] = fused.scores[0]
    return Ranked(fused.rows[order], scores, fused.low)


@dataclass(frozen=True)
class Echoes:
    """Echo groups of an index: ``group[row]`` is the first row of its group; ``members`` the
    rows of each group of more than one passage."""

    group: np.ndarray
    members: dict[int, np.ndarray]

    @classmethod
    def of(cls, group: np.ndarray) -> Echoes:
        order = np.argsort(group, kind="stable")
        bounds = np.flatnonzero(np.diff(group[order])) + 1
        members = {int(group[m[0]]): m for m in np.split(order, bounds) if len(m) > 1}
        return cls(group, members)

    def collapse(self, fused: Ranked, row_years: np.ndarray, allowed: np.ndarray | None,
                 years: Sequence[int] = ()) -> tuple[Ranked, dict[int, list[int]]]:
        """``fused`` with each echo group once, in the place of its best-ranked member, shown
        by its member of a year the question names, else its most recent member (among the
        ``allowed`` rows); and, for each row shown, the other rows of its group, most recent
        first."""
        rows, scores, others = [], [], {}
        seen: set[int] = set()
        for row, score in zip(fused.rows.tolist(), fused.scores.tolist()):
            g = int(self.group[row])
            if g in seen:
                continue
            seen.add(g)
            group = self.members.get(g)
            if group is None:
                rows.append(row)
                scores.append(score)
                continue
            if allowed is not None:
                group = group[allowed[group]]
            recent = np.nan_to_num(row_years[group], nan=-1.0)
            ordered = [int(r) for r in group[np.lexsort((group, -recent))]]
            named = [r for r in ordered if row_years[r] in years]
            if named:
                ordered.remove(named[0])
                ordered.insert(0, named[0])
            rows.append(ordered[0])
            scores.append(score)
            others[ordered[0]] = ordered[1:]
        return Ranked(np.array(rows, dtype=np.int64), np.array(scores, dtype=np.float32), fused.low), others


__all__ = ["Echoes", "asked_years", "asks_when", "prefer", "supersede"]
