"""Where kzqa looks for its corpus and index when no path is given.

``$KZQA_INDEX`` / ``$KZQA_CORPUS`` win; otherwise the Kazakhstan library's (``kzqa.indexing.library``)
once it is built, in ``library_home()``; otherwise the seed articles: the ``index/`` and
``corpus/`` folders of the project checkout this package runs from (a source checkout, an
editable install or the Hugging Face Space), else ``./index`` and ``./corpus``.

``library_home()``: ``$KZQA_HOME``, else ``build/kazakhstan`` in a source checkout, else
``$XDG_DATA_HOME/kzqa/kazakhstan`` (``~/.local/share/kzqa/kazakhstan``).
"""

from __future__ import annotations

import functools
import json
import os
import shlex
from pathlib import Path

LIBRARY_COLLECTIONS = ("usdos-kazakhstan", "un-kazakhstan")  # the catalogue's, in kzqa/catalogue/
LIBRARY_MARKER = "library.json"  # written last, when every document of the library is indexed


def project_root() -> Path | None:
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "kzqa").is_dir() else None


def default_index_dir() -> Path:
    """The index kzqa answers from when none is named (see the module notes)."""
    if not os.environ.get("KZQA_INDEX") and library_ready():
        return library_home() / "index"
    return _default("KZQA_INDEX", "index")


def default_corpus_dir() -> Path:
    """The corpus ``kzqa add``, ``remove`` and ``build`` change when none is named."""
    if not os.environ.get("KZQA_CORPUS") and not os.environ.get("KZQA_INDEX") and library_ready():
        return library_home() / "corpus"
    return _default("KZQA_CORPUS", "corpus")


def seeds_index_dir() -> Path:
    """The seed articles' index (``kzqa.load("seeds")``)."""
    return _default("KZQA_SEEDS_INDEX", "index")


def seeds_corpus_dir() -> Path:
    """The seed articles, shipped with the project."""
    return _default("KZQA_SEEDS_CORPUS", "corpus")


def library_home() -> Path:
    if os.environ.get("KZQA_HOME"):
        return Path(os.environ["KZQA_HOME"])
    root = project_root()
    if root is not None:
        return root / "build" / "kazakhstan"
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data / "kzqa" / "kazakhstan"


def library_files() -> list[str]:
    """The file names of every document of the library, as the catalogue lists them."""
    return list(_library_files())


@functools.cache
def _library_files() -> tuple[str, ...]:  # the shipped catalogue: read once a process
    from kzqa.ingest.catalogue import load_collection

    return tuple(entry.file for name in LIBRARY_COLLECTIONS for entry in load_collection(name).entries)


def library_ready() -> bool:
    """Whether the whole library is built: its marker names every catalogued file, and its
    index is there, cut by this kzqa's rules (an upgrade that changes them rebuilds it)."""
    home = library_home()
    try:
        marker = json.loads((home / LIBRARY_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(marker, dict) and marker.get("files") == library_files()
            and not index_outdated(home / "index"))


def index_outdated(index: Path) -> bool:
    """Whether the index at ``index`` is missing, or was cut or extracted by other rules than
    this kzqa's (``kzqa.settings.PASSAGE_RULES_VERSION``, ``kzqa.ingest.extract.EXTRACT_RULES_VERSION``)."""
    from kzqa.ingest.extracted import EXTRACT_RULES_VERSION
    from kzqa.settings import PASSAGE_RULES_VERSION

    try:
        manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
        rules = manifest["settings"]["rules_version"]
        extractors = [d.get("extractor") for d in manifest["documents"]]
    except (OSError, ValueError, KeyError, TypeError):
        return True
    current = f"kzqa.extract {EXTRACT_RULES_VERSION}"
    return rules != PASSAGE_RULES_VERSION or any(e and not str(e).endswith(current) for e in extractors)


def build_command(corpus: Path, index: Path) -> str:
    """The shortest `kzqa build` command that rebuilds ``index`` from ``corpus``."""
    args = ["kzqa", "build"]
    if Path(corpus).resolve() != default_corpus_dir().resolve():
        args += ["--corpus", _show(corpus)]
    if Path(index).resolve() != default_index_dir().resolve():
        args += ["--index", _show(index)]
    return " ".join(shlex.quote(a) for a in args)


def _show(path: Path) -> str:
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _default(env: str, name: str) -> Path:
    if os.environ.get(env):
        return Path(os.environ[env])
    root = project_root()
    return root / name if root else Path.cwd() / name
