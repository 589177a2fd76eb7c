"""Documents named by address or by collection, made ready for ``kzqa.manage``: what
``kzqa add https://…`` and ``kzqa add --collection NAME`` hand over to be added.

A document fetched by address is kept byte for byte, with its address and the date it was
fetched as metadata (the "[accessed DATE]" of a COI citation). A collection's documents
come with the bibliographic facts the collection lists, over what they say of themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .catalogue import load_collection
from .errors import CorpusProblem
from .fetch import FetchError, fetch, is_address
from .manage import Incoming

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


def from_collection(name: str, folder: Path | None = None, notify: Notify | None = None
                    ) -> tuple[list[Incoming], list[CorpusProblem]]:
    """The documents of a collection, downloaded from their addresses, or read from a local
    copy in ``folder`` (the same file names)."""
    collection = load_collection(name)
    out, refused = [], []
    for i, entry in enumerate(collection.entries, start=1):
        meta = dict(entry.metadata)
        if entry.url:
            meta.setdefault("url", entry.url)
        origin = str(folder / entry.file) if folder else (entry.url or entry.file)
        if notify:
            notify(f"[{i}/{len(collection.entries)}] {'reading' if folder else 'downloading'} {origin}")
        try:
            if folder:
                data = (folder / entry.file).read_bytes()
            elif entry.url:
                got = fetch(entry.url)
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


__all__ = ["from_collection", "from_targets"]
