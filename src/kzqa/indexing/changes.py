"""What adding or removing documents hands over and reports: the documents coming in
(``Incoming``), and what was done (``Change``, with its ``Cited``, ``CitationGap`` and
``MetadataUpdate`` lines). Types only; the work is in ``kzqa.indexing.manage``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kzqa.documents import Source
from kzqa.errors import CorpusProblem
from kzqa.indexing.indexer import BuildReport
from kzqa.ingest.metadata import SIDECAR_SUFFIX


@dataclass(frozen=True, slots=True)
class MetadataUpdate:
    """A file already in the corpus, added again with other metadata: its sidecar was
    replaced by the metadata given, which sets the keys ``changed`` and no longer has the
    keys ``removed``."""

    file: str
    changed: tuple[str, ...]  # keys set anew or to another value (in METADATA_KEYS order)
    removed: tuple[str, ...]  # keys the corpus had and the new metadata does not

    def __str__(self) -> str:
        parts = [", ".join(self.changed)] if self.changed else []
        parts += [f"{', '.join(self.removed)} removed"] if self.removed else []
        if not parts:  # the corpus's sidecar could not be read: rewritten as given
            return f"{self.file}: its metadata rewritten"
        return f"{self.file}: its metadata changed ({'; '.join(parts)})"


@dataclass(frozen=True, slots=True)
class CitationGap:
    """A document added without a publisher or a URL (``missing``): its citations lack them."""

    file: str
    missing: tuple[str, ...]  # "publisher", "url"
    sidecar: Path  # where to write them (the file itself when it has front matter)

    def __str__(self) -> str:
        words = " and ".join("no URL" if key == "url" else f"no {key}" for key in self.missing)
        them = "them" if len(self.missing) > 1 else "it"
        where = str(self.sidecar) if self.sidecar.name.endswith(SIDECAR_SUFFIX) \
            else f"the front matter of {self.sidecar}"
        return (f"{self.file} has {words}, so its citations will lack {them}; "
                f"add {' and '.join(self.missing)} to {where} and run kzqa build")


@dataclass(frozen=True, slots=True)
class Cited:
    """How an added document will be cited: its ``source`` as kzqa read it (what the document
    says of itself, with the sidecar or the flags on top), and the fields of it that are
    ``guessed`` (a title made from the file name) or ``empty``. ``str()``: one line for the
    person adding it, with the flags that fill the gaps."""

    file: str
    source: Source
    guessed: tuple[str, ...] = ()
    empty: tuple[str, ...] = ()
    front_matter: bool = False  # its metadata is in the file: set there, not by flags

    def __str__(self) -> str:
        s = self.source
        parts = [f"“{s.title}”"] + [f"{key} {value}" for key in CITED_FIELDS[1:]
                                    if (value := getattr(s, key)) is not None]
        line = f"{self.file}: " + "; ".join(parts)
        hints = [f"{key} guessed from the file name" for key in self.guessed] + [f"no {key}" for key in self.empty]
        if hints:
            keys = (*self.guessed, *self.empty)
            how = (f"add {', '.join(keys)} to its front matter" if self.front_matter
                   else f"give {' '.join(f'--{key}' for key in keys)} to set {'them' if len(hints) > 1 else 'it'}")
            line += f" ({', '.join(hints)}: {how})"
        return line


# What a citation carries, in the order ``Cited`` shows it.
CITED_FIELDS = ("title", "author", "publisher", "date")


@dataclass(frozen=True, slots=True)
class Change:
    """What ``add`` or ``remove`` did to the corpus, and the build that followed."""

    documents: tuple[str, ...]  # corpus-relative files added or removed
    unchanged: tuple[str, ...]  # files already in the corpus, same bytes, same metadata (add)
    moved_to: Path | None  # where removed files went (remove)
    build: BuildReport
    refused: tuple[CorpusProblem, ...] = ()  # files that could not be added, with the reason
    updated: tuple[MetadataUpdate, ...] = ()  # files already in the corpus given new metadata (add)
    warnings: tuple[CitationGap, ...] = ()  # added or updated documents whose citations lack a part
    cited: tuple[Cited, ...] = ()  # added or updated documents, as they will be cited


@dataclass(frozen=True, slots=True)
class Incoming:
    """A document to add: a file, or bytes downloaded from an address."""

    origin: str  # what the user named: a file path or an address (for messages)
    name: str  # its file name in the corpus
    data: bytes | None = None  # downloaded bytes (None: read the file ``origin``)
    metadata: tuple[tuple[str, str], ...] = ()  # over what the document says of itself

    @classmethod
    def file(cls, path: Path, metadata: dict[str, str] | None = None) -> Incoming:
        return cls(str(path), Path(path).name, None, tuple((metadata or {}).items()))


__all__ = ["CITED_FIELDS", "Change", "CitationGap", "Cited", "Incoming", "MetadataUpdate"]
