"""Issue 26: the package's imports flow one way, through folders per stage. Every import of
a kzqa module is counted, at the top of a module or inside a function (an import moved into
a function to dodge a circle is still a circle)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import kzqa

SRC = Path(__file__).resolve().parent.parent / "src" / "kzqa"


def import_graph() -> dict[str, set[str]]:
    """Each module (``kzqa.search.qa``) and the kzqa modules it imports."""
    modules = {_name(p) for p in SRC.rglob("*.py")}
    edges: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        me = _name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "kzqa":
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    edges[me].add(target if target in modules else node.module)
            elif isinstance(node, ast.Import):
                edges[me] |= {a.name for a in node.names if a.name in modules}
        edges[me] = {t for t in edges[me] if t in modules and t != me}
    return edges


def _name(path: Path) -> str:
    parts = ("kzqa", *path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


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


# The stages, in the order the data flows: a folder imports the shared modules at the top of
# the package and the folders before it, never one after it.
STAGES = ("ingest", "embed", "retrieval", "storage", "indexing", "search", "evidence", "measure",
          "serve", "cli")


def test_imports_flow_one_way_through_the_stages():
    upward = []
    for module, targets in import_graph().items():
        parts = module.split(".")
        if len(parts) < 3 or parts[1] not in STAGES:
            continue  # the package face and the shared modules at the top
        mine = STAGES.index(parts[1])
        for target in targets:
            stage = target.split(".")[1] if target.count(".") >= 1 else ""
            if stage in STAGES and STAGES.index(stage) > mine:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_only_the_stages_after_the_package_face_import_it():
    """``kzqa`` (``load``, ``build``, ``add``, ...) uses stages up to the one it names last; a
    module of that stage or an earlier one importing it would import its way back up."""
    graph = import_graph()
    used = max(STAGES.index(t.split(".")[1]) for t in graph["kzqa"] if t.split(".")[1] in STAGES)
    below = [m for m, targets in graph.items() if "kzqa" in targets and m.count(".") >= 2
             and m.split(".")[1] in STAGES and STAGES.index(m.split(".")[1]) <= used]
    assert below == []


def test_the_shared_modules_at_the_top_import_no_stage():
    shared = {m for m in import_graph() if m.count(".") == 1}
    down = [f"{m} -> {t}" for m in shared - {"kzqa"} for t in import_graph().get(m, ())
            if t.split(".")[1] in STAGES]
    assert down == []


def test_no_module_is_over_400_lines():
    assert [(p.name, n) for p in SRC.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400] == []


def test_the_names_users_imported_before_the_folders_still_work():
    from kzqa import QA, collection
    from kzqa.documents import Passage, Source
    from kzqa.evidence import collection as evidence
    from kzqa.results import Passage as passage_before
    from kzqa.results import Source as source_before
    from kzqa.search.qa import QA as qa

    assert collection is evidence and QA is qa
    assert passage_before is Passage is kzqa.Passage and source_before is Source is kzqa.Source
