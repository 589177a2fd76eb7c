"""Documents named by address or by collection, made ready for ``kzqa.indexing.manage``: what
``kzqa add https://…`` and ``kzqa add --source-list NAME`` hand over to be added.

A document fetched by address is kept byte for byte, with its address and the date it was
fetched as metadata (the "[accessed DATE]" of a COI citation). A collection's documents
come with the bibliographic facts the collection lists, over what they say of themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kzqa.errors import CorpusProblem
from kzqa.indexing.changes import Incoming
from kzqa.ingest.catalogue import load_collection
from kzqa.ingest.fetch import FetchError, fetch, is_address

Notify = Callable[[str], None]  # one line of progress for the user


def from_targets(targets: list[str], metadata: dict[str, str], notify: Notify | None = None
                 ) -> tuple[list[Incoming], list[CorpusProblem]]:
    """Files as they are, addresses downloaded; a download that fails is a refusal."""
    out, refused = [], []
    for i, target in enumerate(targets, start=1):
        if not is_address(target):
            out.append(Incoming.file(Path(target), metadata))
            continue
        if notify:
            notify(f"[{i}/{len(targets)}] downloading {target}")
        try:
            got = fetch(target)
        except FetchError as e:
            refused.append(CorpusProblem(target, str(e).removeprefix(f"{target}: ")))
            continue
        meta = {"url": target, "accessed": got.accessed, **metadata}
        out.append(Incoming(target, got.name, got.data, tuple(meta.items())))
    return out, refused


def from_collection(name: str, folder: Path | None = None, notify: Notify | None = None, *,
                    mirror: str | None = None, skip: frozenset[str] = frozenset()
                    ) -> tuple[list[Incoming], list[CorpusProblem]]:
    """The documents of a collection, downloaded from their addresses, or read from a local
    copy in ``folder`` (the same file names, in it or in a folder under it), or downloaded
    from ``mirror`` (a base address serving the same file names: an intranet copy). Files
    named in ``skip`` (already in the corpus) are passed over."""
    collection = load_collection(name)
    out, refused = [], []
    wanted = [e for e in collection.entries if e.file not in skip]
    for i, entry in enumerate(wanted, start=1):
        meta = dict(entry.metadata)
        if entry.url:
            meta.setdefault("url", entry.url)
        found = _local(folder, entry.file) if folder else None
        address = mirror.rstrip("/") + "/" + entry.file if mirror else entry.source
        origin = str(found or folder / entry.file) if folder else (address or entry.file)
        if notify:
            notify(f"[{i}/{len(wanted)}] {'reading' if folder else 'downloading'} {origin}")
        try:
            if folder:
                data = Path(origin).read_bytes()
            elif address:
                got = fetch(address)
                data, meta["accessed"] = got.data, got.accessed
            else:
                raise FetchError(f"{entry.file}: the collection gives no address; add it from a "
                                 "local copy with --from FOLDER")
        except (OSError, FetchError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            refused.append(CorpusProblem(origin, reason.removeprefix(f"{origin}: ")))
            continue
        if entry.differs(data) and notify:
            notify(f"  note: {entry.file} is not the catalogued version (its sha256 differs): "
                   "the publisher may have changed it; it is added as it is now")
        out.append(Incoming(origin, entry.file, data, tuple(meta.items())))
    return out, refused


def _local(folder: Path, name: str) -> Path | None:
    """``folder/name``, else the first file of that name in a folder under ``folder``."""
    if (folder / name).is_file():
        return folder / name
    return next((p for p in sorted(folder.rglob(name)) if p.is_file()), None)


__all__ = ["from_collection", "from_targets"]
