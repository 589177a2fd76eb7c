"""Where kzqa looks for its corpus and index when no path is given.

``$KZQA_INDEX`` / ``$KZQA_CORPUS`` win; otherwise the ``index/`` and ``corpus/`` folders of
the project checkout this package runs from (a source checkout, an editable install or
the Hugging Face Space); otherwise ``./index`` and ``./corpus``.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path


def project_root() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "kzqa").is_dir() else None


def default_index_dir() -> Path:
    return _default("KZQA_INDEX", "index")


def default_corpus_dir() -> Path:
    return _default("KZQA_CORPUS", "corpus")


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
