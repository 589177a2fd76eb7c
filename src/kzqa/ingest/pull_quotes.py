"""Pull quotes: a short block that repeats a longer paragraph of the same document (a
magazine's pull quote, with or without its full stop, or a paragraph printed twice) is not
quoted a second time. Found in linear time (an inverted index of word trigrams)."""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Sequence
from typing import Protocol

PULLQUOTE_MIN_WORDS = 6
PULLQUOTE_CONTAINMENT = 0.6  # share of the block's word trigrams found in a longer paragraph
PULLQUOTE_MAX_CANDIDATES = 100  # paragraphs sharing a block's rarest trigrams that are compared with
_WORD = re.compile(r"\w+")


class Blockish(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def level(self) -> int: ...


def find_pullquotes(text: str, blocks: Sequence[Blockish]) -> dict[int, str]:
    """Which ``blocks`` are pull quotes, by index, with the reason. A short block whose word
    trigrams mostly occur in a longer (or earlier, equal) body block repeats it: a pull
    quote (with or without its full stop) or a duplicated paragraph.

    An inverted index (trigram -> body blocks holding it) replaces comparing every pair
    (10,000 short paragraphs took 108 s): a block sharing the needed share of this block's
    trigrams must hold one of its ``m - need + 1`` rarest ones, so only those postings are
    candidates; candidates are tried in block order, so the marks are the pairwise ones, and
    lazily, so a paragraph repeated 30,000 times stops at its first copy. At most
    ``PULLQUOTE_MAX_CANDIDATES`` are tried per block, so no document makes this quadratic."""
    grams = {i: trigrams(text[b.start : b.end]) for i, b in enumerate(blocks)
             if b.kind == "body" or (b.kind == "heading" and not b.level)}
    postings: dict[tuple[str, ...], list[int]] = {}
    for j, theirs in grams.items():
        if blocks[j].kind == "body":
            for gram in theirs:
                postings.setdefault(gram, []).append(j)
    marks: dict[int, str] = {}
    for i, mine in grams.items():
        b = blocks[i]
        if len(mine) < PULLQUOTE_MIN_WORDS - 2:
            continue
        need = _least_shared(len(mine))
        rare = sorted(mine, key=lambda gram: len(postings.get(gram, ())))[: len(mine) - need + 1]
        last, tried = -1, 0
        for j in heapq.merge(*(postings.get(gram, ()) for gram in rare)):  # in block order, lazily
            if j == last:
                continue
            last, tried = j, tried + 1
            if tried > PULLQUOTE_MAX_CANDIDATES:
                break
            other = blocks[j]
            longer = (other.end - other.start, -j) > (b.end - b.start, -i)
            if j == i or not longer or j in marks:
                continue
            shared = len(mine & grams[j]) / len(mine)
            if shared >= PULLQUOTE_CONTAINMENT:
                marks[i] = f"repeats {shared:.0%} of paragraph at offset {other.start}"
                break
    return marks


def _least_shared(m: int) -> int:
    """The fewest of ``m`` trigrams another block must share to reach the containment."""
    need = max(1, math.ceil(PULLQUOTE_CONTAINMENT * m) - 1)
    while need / m < PULLQUOTE_CONTAINMENT:  # the same float test as the marking itself
        need += 1
    return need


def trigrams(chunk: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(chunk.replace("’", "'").casefold())
    return {tuple(words[k : k + 3]) for k in range(len(words) - 2)}


__all__ = ["PULLQUOTE_CONTAINMENT", "PULLQUOTE_MIN_WORDS", "find_pullquotes", "trigrams"]
