"""What the store owns in an index folder, and the rule that it touches nothing else.

An index folder holds only files kzqa wrote. ``.kzqa-index`` records their names: it is
written when the store creates the folder (or adopts an index written before the record
existed), and every name is added to it *before* the file is written, so that a write
killed half-way leaves nothing the next writer cannot tell as its own. The store deletes
only names in that record (and their ``NAME.tmp-PID`` temporaries), never by pattern.

A folder that holds anything else, or that is, holds or lies inside the corpus folder, is
refused before anything is written: indexing a corpus into itself once deleted a document
named ``passages-from-the-2016-law.txt``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from kzqa.errors import IndexCorrupt, KzqaError
from kzqa.files import atomic_write
from kzqa.storage.journal import JOURNAL
from kzqa.storage.lock import LOCK_FILE

MANIFEST = "manifest.json"
RECORD = ".kzqa-index"
FIXED = frozenset({MANIFEST, RECORD, LOCK_FILE, JOURNAL})  # the store's own, always
# a version-control file that keeps an empty index/ folder in a checkout (index/.gitignore):
# not the store's, never written or deleted by it, and no reason to refuse the folder
KEPT = frozenset({".gitignore"})
INDEX_FORMAT = "kzqa-index"  # the "format" of a kzqa manifest (kzqa.storage.store writes it)
_TMP = re.compile(r"(?P<name>.+)\.tmp-\d+\Z")


def claim(index: Path, corpus: Path, *, record: bool = True) -> None:
    """Make ``index`` a folder the store may write: create it, or check that everything in
    it is the store's (adopting an index written before ``.kzqa-index`` existed), and
    (``record``) write ``.kzqa-index`` if it is not there yet."""
    index, corpus = Path(index), Path(corpus)
    check_apart(index, corpus)
    try:
        index.mkdir(parents=True, exist_ok=True)
        names = [p.name for p in index.iterdir()]  # listed before the record is read: a
    except OSError as e:                           # writer records a name before writing it
        raise KzqaError(f"cannot create the index folder {index}: {e.strerror}") from None
    has_record = (index / RECORD).is_file()
    known, adopted = recorded(index), _adoptable(index)
    owned = known | adopted  # the manifest's files are the store's too
    foreign = sorted(n for n in names if not is_owned(n, owned) and n not in KEPT and (index / n).exists())
    if MANIFEST in names and not has_record and not _is_kzqa_manifest(index / MANIFEST):
        foreign = sorted([*foreign, MANIFEST])  # a web app's manifest.json is not an index's
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise KzqaError(f"the index folder {index} holds files kzqa did not write ({shown}); "
                        "kzqa deletes old index files there, so it writes only into an empty "
                        "folder or one of its own: move those files out, or choose another --index")
    if record and (not has_record or not adopted <= known):
        # a manifest naming files the record does not (an index replaced by other means than
        # kzqa, e.g. `git pull` of the shipped one): record them, so the next write can
        # delete them when they are replaced
        write_record(index, owned)


def check_apart(index: Path, corpus: Path) -> None:
    i, c = index.resolve(), corpus.resolve()
    where = ("is the corpus folder" if i == c else "is inside the corpus folder" if i.is_relative_to(c)
             else "holds the corpus folder" if c.is_relative_to(i) else None)
    if where:
        raise KzqaError(f"the index folder {index} {where} ({corpus}); an index needs a folder "
                        "of its own, outside the corpus: choose another --index")


def _is_kzqa_manifest(path: Path) -> bool:
    """Whether ``path`` is a kzqa index's manifest (its "format" says so)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == INDEX_FORMAT


def _adoptable(index: Path) -> set[str]:
    """The data files of an index written before ``.kzqa-index`` existed: those its manifest
    lists (nothing else is taken as the store's)."""
    try:
        manifest = json.loads((index / MANIFEST).read_text("utf-8"))
        return manifest_names(manifest)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexCorrupt):
        return set()


def recorded(index: Path) -> set[str]:
    """The names in ``.kzqa-index`` (none if it cannot be read)."""
    try:
        data = json.loads((index / RECORD).read_text("utf-8"))
        return {str(n) for n in data["files"] if safe_name(str(n)) and "/" not in str(n)}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def write_record(index: Path, names: set[str]) -> None:

    text = json.dumps({"kzqa": "the files kzqa wrote in this index folder (it deletes no others)",
                       "files": sorted(names)}, indent=1) + "\n"
    atomic_write(index / RECORD, text.encode())


def is_owned(name: str, owned: set[str]) -> bool:
    if name in FIXED or name in owned:
        return True
    tmp = _TMP.match(name)
    return tmp is not None and (tmp.group("name") in FIXED or tmp.group("name") in owned)


def sweep(index: Path, keep: set[str]) -> None:
    """Delete the store's files that ``keep`` does not name (earlier generations, leftovers
    of killed writes) and record what remains. Touches nothing the store did not write."""
    owned = recorded(index)
    for path in index.iterdir():
        if path.name in FIXED or path.name in keep or not is_owned(path.name, owned):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    write_record(index, keep | {n for n in owned if (index / n).exists()})  # what could not go, next time


def safe_name(name: str) -> bool:
    """A manifest name that stays inside the index folder: relative, no ``..``, no drive."""
    path = PurePosixPath(name)
    return (bool(name) and not path.is_absolute() and "\\" not in name and ":" not in name
            and all(part not in ("", ".", "..") for part in name.split("/")))


def manifest_names(manifest: dict[str, Any]) -> set[str]:
    """The top-level names of the data files a manifest lists."""
    files = manifest["files"]
    items = [files[k] for k in ("passages", "vectors", "sentences", "texts") if k in files]
    names = {str(item["name"]) for item in [*items, *files["bm25"]]}
    if not all(safe_name(n) for n in names):
        raise IndexCorrupt("the manifest names a file outside the index folder")
    return {n.split("/")[0] for n in names}


__all__ = ["FIXED", "MANIFEST", "RECORD", "check_apart", "claim", "is_owned", "manifest_names", "recorded",
           "safe_name", "sweep", "write_record"]
