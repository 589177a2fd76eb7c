"""Errors kzqa raises on purpose. Each message is written for the person reading it.

Everything a user can cause (a bad corpus file, a missing or stale index, an empty
question) is a ``KzqaError``; the CLI prints its message on one line and exits non-zero.
Anything else is a bug in kzqa.
"""

from __future__ import annotations

from dataclasses import dataclass


class KzqaError(Exception):
    """Base class of every error kzqa raises for something the user can fix."""


class InvalidQuestion(KzqaError, ValueError):
    """The question cannot be searched (empty, for instance)."""


@dataclass(frozen=True, slots=True)
class CorpusProblem:
    """One corpus file that cannot be indexed, and why."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


class CorpusError(KzqaError):
    """The corpus has files that cannot be indexed; nothing was written."""

    def __init__(self, problems: list[CorpusProblem] | tuple[CorpusProblem, ...], hint: str = ""):
        self.problems = tuple(problems)
        lines = [f"{len(self.problems)} corpus file(s) cannot be indexed:"]
        lines += [f"  {p}" for p in self.problems]
        if hint:
            lines.append(hint)
        super().__init__("\n".join(lines))


class IndexProblem(KzqaError):
    """Base of the index errors: missing, stale, built another way, or damaged."""


IndexError_ = IndexProblem  # its name before 0.2 (kept for one version)


class IndexMissing(IndexProblem):
    """There is no index where one was expected."""


class IndexStale(IndexProblem):
    """The corpus changed since the index was built."""


class IndexMismatch(IndexProblem):
    """The index was built another way (another model, format or version)."""


class IndexCorrupt(IndexProblem):
    """An index file is missing, truncated or altered."""
