"""The documentation a newcomer reads stays in step with the code: every link between the
pages leads to a file, and the architecture page names every module where it lives."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT

PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "eval" / "README.md", ROOT / "eval" / "NOTEBOOK.md",
         ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_every_link_between_the_pages_leads_to_a_file():
    broken = [f"{page.relative_to(ROOT)} -> {target}" for page in PAGES
              for target in _LINK.findall(page.read_text(encoding="utf-8"))
              if not target.startswith(("http://", "https://", "mailto:"))
              and not (page.parent / target).exists()]
    assert broken == []


def test_the_architecture_page_names_every_module_under_its_folder():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    layout = page[page.index("src/kzqa/"):]
    missing = []
    for module in sorted((ROOT / "src" / "kzqa").rglob("*.py")):
        rel = module.relative_to(ROOT / "src" / "kzqa")
        if module.name == "__init__.py" and rel.parent != Path("serve/page"):
            continue
        folder = rel.parts[0] + "/" if len(rel.parts) > 1 else None
        block = _folder_block(layout, folder) if folder else layout
        name = rel.parent.name + "/" if module.name == "__init__.py" else module.name
        if not re.search(rf"(?<![\w/]){re.escape(name)}", block):
            missing.append(str(rel))
    assert missing == []


def _folder_block(layout: str, folder: str) -> str:
    """The lines of the layout listing under ``folder`` (up to the next folder's line)."""
    start = layout.index(f"  {folder}")
    following = re.search(r"\n  [a-z_]+/ ", layout[start + 1:])
    return layout[start: start + 1 + following.start()] if following else layout[start:]
