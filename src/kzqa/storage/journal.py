"""The journal of a ``kzqa add`` or ``remove``: the corpus moves it makes, written into the
index folder (``.kzqa-journal.json``) before the corpus is touched, and deleted once the
index matches the corpus again.

While a journal is there, the corpus and the index may disagree on exactly the files it
names, each being as before or as after the change; readers accept that (the index then
answers from the old or the new state, both whole). A writer killed with its journal still
there is recovered by the next writer, under the writer lock: if the index already records
the corpus as after the change, the change is finished (scratch folders deleted); otherwise
every move is undone, so the corpus is as it was before and the index matches it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from kzqa.errors import KzqaError
from kzqa.files import atomic_write, fsync_dir

JOURNAL = ".kzqa-journal.json"


@dataclass(frozen=True)
class Journal:
    corpus: Path  # resolved
    moves: tuple[tuple[str, str], ...]  # (from, to), corpus-relative, in the order made
    before: dict[str, str | None]  # visible corpus file -> sha256 before the change (None: absent)
    after: dict[str, str | None]  # ... and after it
    scratch: tuple[str, ...] = ()  # corpus-relative folders to delete when done


def plan(corpus: Path, moves: list[tuple[str, str]], scratch: tuple[str, ...] = ()) -> Journal:
    """The journal of ``moves`` (files as they are now, before any is made)."""
    corpus = Path(corpus).resolve()
    state: dict[str, str | None] = {}
    before: dict[str, str | None] = {}

    def now(rel: str) -> str | None:
        if rel not in state:
            path = corpus / rel
            state[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
            if not any(part.startswith(".") for part in rel.split("/")):
                before[rel] = state[rel]
        return state[rel]

    for src, dst in moves:
        sha = now(src)
        now(dst)
        state[dst], state[src] = sha, None
    return Journal(corpus, tuple(moves), before, {rel: state[rel] for rel in before}, scratch)


def begin(index: Path, journal: Journal) -> None:

    data = {"corpus": str(journal.corpus), "moves": [list(m) for m in journal.moves],
            "before": journal.before, "after": journal.after, "scratch": list(journal.scratch)}
    atomic_write(Path(index) / JOURNAL, (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode())
    fsync_dir(Path(index))


def read(index: Path) -> Journal | None:
    """The journal in ``index``, or None (none, unreadable, or naming a path outside its
    corpus: nothing it says can be used)."""
    try:
        data = json.loads((Path(index) / JOURNAL).read_text("utf-8"))
        journal = Journal(Path(data["corpus"]), tuple((str(a), str(b)) for a, b in data["moves"]),
                          dict(data["before"]), dict(data["after"]), tuple(str(f) for f in data["scratch"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return journal if not _outside(journal) else None


# The scratch folders kzqa makes in a corpus (manage.add_documents' staging folder).
_SCRATCH = re.compile(r"\.adding-\d+")


def _outside(journal: Journal) -> str:
    """What in ``journal`` lies outside its corpus folder ("" if nothing does): a move's end
    or a scratch folder that is absolute, climbs out with "..", or leads out by a link; a
    scratch folder that is not one kzqa makes."""
    corpus = journal.corpus
    for rel in [p for move in journal.moves for p in move] + list(journal.scratch):
        parts = Path(rel).parts
        if not rel or Path(rel).is_absolute() or ".." in parts or "\\" in rel:
            return rel
        if not (corpus / rel).resolve().is_relative_to(corpus.resolve()):
            return rel
    bad = [f for f in journal.scratch if not _SCRATCH.fullmatch(f)]
    return bad[0] if bad else ""


def _outside_raw(corpus: Path, data: dict[str, object]) -> str:
    """``_outside`` of a journal's data as read (moves and scratch lists of any shape)."""
    try:
        moves = tuple((str(a), str(b)) for a, b in data.get("moves") or [])  # type: ignore[attr-defined]
        scratch = tuple(str(f) for f in data.get("scratch") or [])  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return ""
    return _outside(Journal(corpus, moves, {}, {}, scratch))


def _refuse(index: Path, why: str) -> KzqaError:
    return KzqaError(f"{Path(index) / JOURNAL} {why}: it was not written by kzqa for this corpus, and "
                     "kzqa does not act on it; if you did not interrupt a kzqa add or remove, delete it")


def explained(journal: Journal | None, corpus: Path, file: str, recorded: str | None,
              now: str | None) -> bool:
    """Whether a difference between the index (``recorded``) and the corpus (``now``) in
    ``file`` is the journaled change in progress."""
    if journal is None or journal.corpus != Path(corpus).resolve() or file not in journal.before:
        return False
    states = {journal.before[file], journal.after[file]}
    return recorded in states and now in states


def locate(journal: Journal | None, corpus: Path, file: str) -> Path:
    """Where the corpus file ``file`` is now: in the corpus, or where a journaled move took it."""
    here = Path(corpus) / file
    if here.is_file() or journal is None or journal.corpus != Path(corpus).resolve():
        return here
    for src, dst in journal.moves:
        if src == file:
            file = dst
    return Path(corpus) / file


def recover(index: Path, recorded: dict[str, str] | None, corpus: Path | None = None) -> None:
    """Finish or undo the change a killed writer left journaled in ``index``; ``recorded``
    is the corpus as the index records it (None: no readable index). A journal that names
    another corpus than ``corpus``, or a path outside it, is refused (``KzqaError``): an index
    folder copied from elsewhere must not steer moves or deletions anywhere."""
    path = Path(index) / JOURNAL
    if not path.exists():
        return
    try:
        data = json.loads(path.read_text("utf-8"))
        named = Path(str(data["corpus"])).resolve() if isinstance(data, dict) else None
    except (OSError, ValueError, KeyError, TypeError):
        named = None
    if named is not None and corpus is not None and named != Path(corpus).resolve():
        raise _refuse(index, f"names another corpus folder ({named})")
    journal = read(index)
    if journal is None and named is not None and (why := _outside_raw(named, data)):
        raise _refuse(index, f"names {why!r}, outside the corpus folder")
    if journal is not None:
        done = recorded is not None and all(recorded.get(f) == sha for f, sha in journal.after.items())
        if not done:
            undo(journal)
        finish(index, journal)
    else:
        path.unlink(missing_ok=True)


def undo(journal: Journal) -> None:
    """Make the moves backwards (those that were made), putting the corpus back as it was."""
    corpus = journal.corpus
    for src, dst in reversed(journal.moves):
        if (corpus / dst).exists() and not (corpus / src).exists():
            (corpus / src).parent.mkdir(parents=True, exist_ok=True)
            os.replace(corpus / dst, corpus / src)
    for _, dst in journal.moves:  # folders made for the moves, now empty
        for parent in (corpus / dst).parents:
            if parent == corpus or not parent.is_relative_to(corpus):
                break
            try:
                parent.rmdir()
            except OSError:
                break


def finish(index: Path, journal: Journal) -> None:
    for folder in journal.scratch:
        shutil.rmtree(journal.corpus / folder, ignore_errors=True)
    (Path(index) / JOURNAL).unlink(missing_ok=True)


__all__ = ["JOURNAL", "Journal", "begin", "explained", "finish", "locate", "plan", "read",
           "recover", "undo"]
