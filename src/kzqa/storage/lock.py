"""One writer at a time per index folder: an OS file lock (``flock``) on ``.kzqa-lock``.

``kzqa build``, ``add``, ``remove`` and ``calibrate`` hold it while they write; readers never
take it (they read whole generations, see ``kzqa.storage.store``). A second writer does not fail:
it logs "another kzqa build/add/remove is using INDEX; waiting…" (on stderr unless logging
is configured otherwise) and waits until the first is done, however long its build takes
(Ctrl-C stops the wait). The lock is released by the OS when its holder exits, killed or
not, so a crashed writer never leaves a stale lock behind.

Within one process the lock is re-entrant (``add`` holds it around the build it runs) and
threads take turns.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".kzqa-lock"

log = logging.getLogger("kzqa")

_registry = threading.Lock()
_locks: dict[str, threading.RLock] = {}  # resolved index folder -> this process's turn
_held: dict[str, tuple[int, int]] = {}  # resolved index folder -> (lock fd, depth)


@contextmanager
def writer(index: Path) -> Iterator[bool]:
    """Hold the writer lock of the (existing) folder ``index``, waiting for another holder.
    Yields True when this took the lock, False when this process already held it."""
    key = str(Path(index).resolve())
    with _registry:
        turn = _locks.setdefault(key, threading.RLock())
    with turn:
        fd, depth = _held.get(key, (-1, 0))
        if depth == 0:
            fd = _acquire(Path(index))
        _held[key] = (fd, depth + 1)
        try:
            yield depth == 0
        finally:
            fd, depth = _held.pop(key)
            if depth > 1:
                _held[key] = (fd, depth - 1)
            else:
                os.close(fd)  # releases the lock


def _acquire(index: Path) -> int:
    fd = os.open(index / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another kzqa build/add/remove is using %s; waiting…", index)
            fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


__all__ = ["LOCK_FILE", "writer"]
