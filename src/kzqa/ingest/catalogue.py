"""Known sources kzqa can fetch by name: lists of documents (address, sha256 and
bibliographic facts), never the documents themselves.

A collection is a YAML file in ``kzqa/catalogue/`` (``usdos-kazakhstan``: the State
Department's Kazakhstan reports, 2016–2024) or any file of the same shape named by path.
``kzqa add --source-list NAME`` downloads each document from its address, or reads it from
a local copy with ``--from FOLDER``, and indexes it with these facts as its metadata.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kzqa.errors import KzqaError

CATALOGUE = Path(__file__).resolve().parent / "catalogue"


@dataclass(frozen=True, slots=True)
class Entry:
    """One document of a collection."""

    file: str  # the corpus file name it is stored under
    url: str | None  # where it is published (None: only a local copy can be added)
    sha256: str | None  # of the bytes as catalogued
    metadata: dict[str, str]  # title, publisher, date, country, covers, ...
    download: str | None = None  # where the file itself is served, when not at ``url``

    @property
    def source(self) -> str | None:
        """The address its bytes are downloaded from."""
        return self.download or self.url

    def differs(self, data: bytes) -> bool:
        """Whether ``data`` is not the catalogued file (a page re-published since)."""
        return bool(self.sha256) and hashlib.sha256(data).hexdigest() != self.sha256


@dataclass(frozen=True, slots=True)
class Collection:
    name: str
    title: str
    entries: tuple[Entry, ...]


def names() -> list[str]:
    """The collections kzqa ships."""
    return sorted(p.stem for p in CATALOGUE.glob("*.yaml"))


def load_collection(name: str) -> Collection:
    """A shipped collection by name, or a collection file by path."""
    path = Path(name)
    if not path.suffix:
        path = CATALOGUE / f"{name}.yaml"
    if not path.is_file():
        raise KzqaError(f"no collection {name!r} (known: {', '.join(names())}; or give a .yaml file)")
    import yaml

    from kzqa.ingest.metadata import UniqueKeyLoader

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)  # noqa: S506 - safe
        return _collection(data, path.stem)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise KzqaError(f"{where}: not a collection file (YAML: {problem})") from None
    except (UnicodeDecodeError, KeyError, TypeError, ValueError) as e:
        raise KzqaError(f"{path}: not a collection file ({type(e).__name__}: {e})") from None


def _collection(data: Any, stem: str) -> Collection:
    if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
        raise ValueError("expected a mapping with a 'documents' list")
    entries = []
    for i, row in enumerate(data["documents"], start=1):
        if not isinstance(row, dict) or not isinstance(row.get("file"), str):
            raise ValueError(f"document {i}: needs a 'file' name")
        meta = row.get("metadata") or {}
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            raise ValueError(f"document {i} ({row['file']}): metadata must be text values")
        if Path(row["file"]).name != row["file"] or row["file"].startswith("."):
            raise ValueError(f"document {i}: {row['file']!r} is not a plain file name")
        entries.append(Entry(row["file"], row.get("url"), row.get("sha256"), dict(meta), row.get("download")))
    names_seen = [e.file for e in entries]
    if len(set(names_seen)) != len(names_seen):
        raise ValueError("a file name is listed twice")
    return Collection(str(data.get("name", stem)), str(data.get("title", stem)), tuple(entries))


__all__ = ["CATALOGUE", "Collection", "Entry", "load_collection", "names"]
