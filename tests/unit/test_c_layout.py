"""The C side's layout (pjsua_ffi/_csrc, pjsua_ffi/_cdef), read as text: no pjsua started."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CSRC = ROOT / "pjsua_ffi" / "_csrc"
CDEF = ROOT / "pjsua_ffi" / "_cdef"
INTERNAL_HEADER = "pjffi.h"
MAX_LINES = 600

# A function definition at the start of a line: return type, name, parameters, body.
DEFINITION = re.compile(r"^[A-Za-z_][\w \t*]*?\b(pjffi_\w+)\s*\([^;{()]*\)\s*\{", re.M)
# A prototype: name, parameters, semicolon (the cdef, or the internal header).
PROTOTYPE = re.compile(r"\b(pjffi_\w+)\s*\([^;{()]*\)\s*;")
ENUM = re.compile(r"\benum\s+(\w+)\s*\{([^}]*)\}", re.S)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def _text(path: Path) -> str:
    return COMMENT.sub(" ", path.read_text())


def _build_list(name: str) -> list[str]:
    """A list assigned at the top of build_pjsip.py (CSRC_ORDER, CDEF_ORDER)."""
    tree = ast.parse((ROOT / "build_pjsip.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"build_pjsip.py assigns no {name}")


def _enum_names(body: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"\b([A-Z][A-Z0-9_]*)\b", body)]


def _csrc_files() -> list[Path]:
    return sorted(CSRC.glob("*.[ch]"))


def test_every_c_file_is_short() -> None:
    long_files = {p.name: n for p in _csrc_files()
                  if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long_files == {}


def test_build_lists_name_every_file() -> None:
    assert sorted(_build_list("CSRC_ORDER")) == sorted(p.name for p in CSRC.glob("*.c"))
    assert sorted(_build_list("CDEF_ORDER")) == sorted(p.name for p in CDEF.glob("*.h"))


def test_one_event_enum() -> None:
    """The event kinds: one enum in C, and the cdef's one enum names the same kinds."""
    c_enums = [(p.name, m.group(1), _enum_names(m.group(2)))
               for p in _csrc_files() for m in ENUM.finditer(_text(p))
               if any(n.startswith("PJFFI_EV_") for n in _enum_names(m.group(2)))]
    cdef_enums = [(p.name, m.group(1), _enum_names(m.group(2)))
                  for p in CDEF.glob("*.h") for m in ENUM.finditer(_text(p))
                  if any(n.startswith("PJFFI_EV_") for n in _enum_names(m.group(2)))]
    assert [(f, name) for f, name, _ in c_enums] == [(INTERNAL_HEADER, "pjffi_event_kind")]
    assert [name for _, name, _ in cdef_enums] == ["pjffi_event_kind"]
    assert cdef_enums[0][2] == c_enums[0][2]
    # The cdef lists names only: the values are the C header's.
    found = ENUM.search(_text(CDEF / cdef_enums[0][0]))
    assert found is not None and "=" not in found.group(2)


def test_helpers_declared_and_defined() -> None:
    """Each pjffi_ function the cdef declares is defined in _csrc; each one _csrc defines
    is declared in the cdef (Python calls it) or in pjffi.h (another C file does)."""
    defined = {m.group(1) for p in CSRC.glob("*.c") for m in DEFINITION.finditer(_text(p))}
    cdef_text = "\n".join(_text(p) for p in CDEF.glob("*.h"))
    python_entries = set(re.findall(r'extern\s+"Python[^"]*"\s+[\w *]*?\b(pjffi_\w+)',
                                    cdef_text))
    declared = {m.group(1) for m in PROTOTYPE.finditer(cdef_text)} - python_entries
    internal = {m.group(1) for m in PROTOTYPE.finditer(_text(CSRC / INTERNAL_HEADER))}
    assert python_entries == {"pjffi_py_event", "pjffi_py_log"}
    assert python_entries <= internal   # declared for the C files that call them
    assert sorted(declared - defined) == []
    assert sorted(defined - declared - internal) == []
    assert sorted(internal - defined - python_entries) == []
