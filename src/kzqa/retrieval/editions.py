"""Echoes: the same paragraph in several documents (the editions of an annual report
repeat much of their text, word for word or with a figure changed).

``echo_groups`` finds them in time linear in the text: MinHash signatures of each
passage's word 3-grams, candidate pairs from locality-sensitive hashing (bands of the
signature), each candidate confirmed by the exact Jaccard similarity of the two
passages' 3-grams. Passages of one document are never grouped with each other. The
search shows a group once, from its most recent document, and names the others.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict

import numpy as np

SIMILAR = 0.6  # Jaccard of word 3-grams: a figure or a tense changed in a 60-word paragraph
# stays above ~0.7; different paragraphs on one topic stay below ~0.3 (tests/retrieval/test_editions.py)
HASHES = 48  # MinHash signature length
BANDS = 16  # LSH bands of 3 rows: pairs at Jaccard 0.6 become candidates with p ≈ 0.97
REPEAT = 0.5  # share of the shorter passage's 3-grams in the longer: one answer shows it once
MIN_WORDS = 8  # shorter passages (a list item, a one-line sentence) are not grouped
_WORD = re.compile(r"\w+")


def shingles(text: str) -> set[int]:
    """The word 3-grams of ``text`` (case-folded), hashed to 64-bit integers."""
    words = _WORD.findall(text.casefold())
    grams = {" ".join(words[i : i + 3]) for i in range(max(len(words) - 2, 0))}
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "big") for g in grams}


def echo_groups(texts: list[str], documents: list[str]) -> np.ndarray:
    """For each passage, the row of the first passage of its echo group (itself when it
    stands alone). ``documents[i]`` names the document passage ``i`` belongs to."""
    n = len(texts)
    parent = np.arange(n, dtype=np.int64)
    grams = [shingles(t) if len(_WORD.findall(t)) >= MIN_WORDS else set() for t in texts]
    rng = np.random.default_rng(20261127)  # fixed: the same corpus gives the same groups
    # Hash functions x -> a*x + b (mod 2**64, a odd): unsigned overflow is the modulus.
    a = (rng.integers(0, 2**63, size=(HASHES, 1), dtype=np.uint64) << np.uint64(1)) | np.uint64(1)
    b = rng.integers(0, 2**63, size=(HASHES, 1), dtype=np.uint64)
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    rows = HASHES // BANDS
    with np.errstate(over="ignore"):
        for i, g in enumerate(grams):
            if not g:
                continue
            x = np.fromiter(g, dtype=np.uint64, count=len(g))[None, :]
            signature = (a * x + b).min(axis=1)
            for band in range(BANDS):
                buckets[(band, signature[band * rows : (band + 1) * rows].tobytes())].append(i)
    seen: set[tuple[int, int]] = set()
    for members in buckets.values():
        for j in members[1:]:
            for i in members[:1] if len(members) > 50 else members[: members.index(j)]:
                if (i, j) in seen or documents[i] == documents[j]:
                    continue
                seen.add((i, j))
                if _jaccard(grams[i], grams[j]) >= SIMILAR:
                    _union(parent, i, j)
    return np.array([_find(parent, i) for i in range(n)], dtype=np.int64)


def repeats(x: set[int], y: set[int]) -> bool:
    """Whether two passages say the same thing, one perhaps at more length than the other:
    at least ``REPEAT`` of the shorter's word 3-grams are in the longer (the 2016 edition's
    paragraph inside the 2023 one that opens with it)."""
    return bool(x and y) and len(x & y) >= REPEAT * min(len(x), len(y))


def _jaccard(x: set[int], y: set[int]) -> float:
    return len(x & y) / len(x | y) if x and y else 0.0


def _find(parent: np.ndarray, i: int) -> int:
    root = i
    while parent[root] != root:
        root = int(parent[root])
    while parent[i] != root:  # path compression
        parent[i], i = root, int(parent[i])
    return root


def _union(parent: np.ndarray, i: int, j: int) -> None:
    ri, rj = _find(parent, i), _find(parent, j)
    if ri != rj:
        parent[max(ri, rj)] = min(ri, rj)


__all__ = ["REPEAT", "SIMILAR", "echo_groups", "repeats", "shingles"]
