"""Issue 26: the package's imports flow one way. Every relative import is counted, at the
top of a module or inside a function (an import moved into a function to dodge a circle is
still a circle)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "kzqa"


def import_graph() -> dict[str, set[str]]:
    modules = {p.stem for p in SRC.glob("*.py")}
    edges: dict[str, set[str]] = defaultdict(set)
    for path in SRC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                targets = ([node.module.split(".")[0]] if node.module
                           else [a.name if a.name in modules else "__init__" for a in node.names])
                edges[path.stem] |= {t for t in targets if t in modules and t != path.stem}
    return edges


def circles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(group)

    for v in list(edges):
        if v not in index:
            visit(v)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_no_module_imports_its_way_back_to_itself():
    # were: extract <-> html_text / pdf_text / pdf_layout (the types now in extracted.py) and
    # store <-> journal / index_folder / verify (the durable writes now in files.py)
    assert circles(import_graph()) == []
