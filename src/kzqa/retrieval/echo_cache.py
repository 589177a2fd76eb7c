"""Echo groups (``kzqa.retrieval.editions``) found once per index, not by every process that serves
it: cached under ``$KZQA_CACHE_DIR/echoes/`` (default ``~/.cache/kzqa``) by a hash of the
passages they were found in and of the grouping rules. ``kzqa build`` fills it; a server
then reads the groups instead of finding them again at start-up (0.5 s at library size,
~20 s at 100,000 passages). A missing, unreadable or altered file only costs that time:
the groups are checked on read and found again when they do not fit.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kzqa.embed.cache import default_cache_dir
from kzqa.files import atomic_write
from kzqa.retrieval.editions import BANDS, HASHES, MIN_WORDS, SIMILAR, echo_groups

RULES = f"editions {SIMILAR} {HASHES} {BANDS} {MIN_WORDS}"


def echo_key(texts: Sequence[str], documents: Sequence[str]) -> str:
    """What the groups depend on: the grouping rules, each passage's text and document."""
    digest = hashlib.blake2b(RULES.encode(), digest_size=16)
    for text, doc in zip(texts, documents):
        digest.update(doc.encode() + b"\0" + text.encode("utf-8", "surrogatepass") + b"\1")
    return digest.hexdigest()


def cached_echo_groups(texts: Sequence[str], documents: Sequence[str], folder: Path | None = None) -> np.ndarray:
    """``editions.echo_groups(texts, documents)``, read from the cache when it holds them."""
    path = Path(folder or default_cache_dir()) / "echoes" / f"{echo_key(texts, documents)}.npy"
    try:
        stored: np.ndarray = np.asarray(np.load(path, allow_pickle=False))
        if _fits(stored, len(texts)):
            return stored
    except (OSError, ValueError, EOFError):
        pass
    groups = echo_groups(list(texts), list(documents))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.save(buffer, groups, allow_pickle=False)
        atomic_write(path, buffer.getvalue())
    except OSError:
        pass  # an unwritable cache only costs the time to find them again
    return groups


def _fits(groups: np.ndarray, n: int) -> bool:
    """Each passage names the first passage of its group: itself or an earlier one, which
    names itself."""
    if groups.dtype != np.int64 or groups.shape != (n,):
        return False
    rows = np.arange(n)
    return bool(np.all((groups >= 0) & (groups <= rows)) and np.all(groups[groups] == groups))


__all__ = ["cached_echo_groups", "echo_key"]
