"""The package's layering, read from its source with ``ast`` (no pjsua is started):
imports among its modules form no cycle (counting those inside functions and under
``TYPE_CHECKING``), every such import is at module level, and no module is longer than
600 lines."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set, Tuple

PACKAGE = Path(__file__).resolve().parents[2] / "pjsua_ffi"
MAX_LINES = 600


def _modules() -> Dict[str, Path]:
    return {p.stem: p for p in sorted(PACKAGE.glob("*.py"))}


def _target(node: ast.AST, modules: Set[str]) -> List[str]:
    """The package modules an import statement names."""
    out: List[str] = []
    if isinstance(node, ast.ImportFrom):
        if node.level == 1 and node.module:  # from .x import a / from .x.y import a
            out.append(node.module.split(".")[0])
        elif node.level == 1:  # from . import x, y
            out += [a.name for a in node.names]
        elif node.module and node.module.split(".")[0] == "pjsua_ffi":
            parts = node.module.split(".")
            out += [parts[1]] if len(parts) > 1 else [a.name for a in node.names]
    elif isinstance(node, ast.Import):
        for a in node.names:
            parts = a.name.split(".")
            if parts[0] == "pjsua_ffi" and len(parts) > 1:
                out.append(parts[1])
    return [m for m in out if m in modules]


def _imports() -> Dict[str, List[Tuple[str, int, bool]]]:
    """module -> [(imported module, line, at module level)]."""
    modules = _modules()
    names = set(modules)
    found: Dict[str, List[Tuple[str, int, bool]]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        top = {id(n) for n in tree.body}
        edges = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _target(node, names):
                    if target != name:
                        edges.append((target, node.lineno, id(node) in top))
        found[name] = edges
    return found


def test_the_package_is_found() -> None:
    modules = _modules()
    assert {"lib", "call", "_dispatch", "_core", "_registry"} <= set(modules)
    assert any(t == "_core" for t, _, _ in _imports()["call"])


def test_no_import_cycle() -> None:
    graph = {m: sorted({t for t, _, _ in edges}) for m, edges in _imports().items()}
    done: Set[str] = set()
    cycles: List[List[str]] = []

    def visit(node: str, path: List[str], on_path: Set[str]) -> None:
        for nxt in graph[node]:
            if nxt in on_path:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in done:
                on_path.add(nxt)
                visit(nxt, path + [nxt], on_path)
                on_path.discard(nxt)
        done.add(node)

    for start in graph:
        if start not in done:
            visit(start, [start], {start})
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_package_imports_are_at_module_level() -> None:
    late = [f"{m}.py:{line} imports {t}"
            for m, edges in _imports().items() for t, line, top in edges if not top]
    assert late == []


def test_no_long_module() -> None:
    long = {p.name: n for p in PACKAGE.glob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
