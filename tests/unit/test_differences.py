"""The list of deliberate differences from the legacy module, and its README form."""

from __future__ import annotations

import ast
import subprocess
import sys

from pjsua_ffi._differences import DIFFERENCES, Difference, migration_markdown
from tests.support import ROOT, scenario_env


def test_entries_are_complete_and_unique() -> None:
    assert len(DIFFERENCES) >= 10
    keys = [d.key for d in DIFFERENCES]
    assert len(set(keys)) == len(keys)
    for d in DIFFERENCES:
        assert d.key == d.key.strip().lower() and " " not in d.key, d.key
        assert d.legacy and d.ours and d.reason, d.key
        assert not d.legacy.endswith(".") and not d.reason.endswith("."), d.key


def test_each_names_a_test_that_exists() -> None:
    for d in DIFFERENCES:
        path, _, name = d.test.partition("::")
        assert path.startswith("tests/test_") and name.startswith("test_"), d.test
        tree = ast.parse((ROOT / path).read_text())
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert name.partition("[")[0] in names, d.test  # [...]: a parametrised case


def test_markdown() -> None:
    md = migration_markdown()
    lines = md.splitlines()
    assert md.endswith("\n") and len(lines) == len(DIFFERENCES)
    first = DIFFERENCES[0]
    assert lines[0] == (f"- **{first.key}** — legacy: {first.legacy}. pjsua-ffi: "
                        f"{first.ours}. Why: {first.reason}. (`{first.test}`)")
    one = Difference("k", "l", "o", "r", "tests/t.py::f")
    assert (one.key, one.test) == ("k", "tests/t.py::f")


def test_printed_by_the_module() -> None:
    out = subprocess.run([sys.executable, "-m", "pjsua_ffi._differences"], capture_output=True,
                         text=True, env=scenario_env(), cwd=str(ROOT), timeout=60, check=True)
    assert out.stdout == migration_markdown()
