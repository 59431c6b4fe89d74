"""Scenarios: the code that runs inside a test's own pjsua process.

Each module holds the scenarios of one test file as plain functions, so ruff and mypy
see them. A test passes the function itself to ``run_scenario``/``start_scenario``
(tests/support.py), which runs ``python -m tests.scenarios.<module> <function> args...``
in a fresh interpreter; the module ends with ``if __name__ == "__main__": main(globals())``.
A scenario's arguments arrive as strings, and as ``sys.argv[1:]`` too.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Dict


def main(namespace: Dict[str, Any]) -> None:
    """Run the scenario named by ``sys.argv[1]`` with the rest as its arguments."""
    if len(sys.argv) < 2 or not callable(namespace.get(sys.argv[1])):
        sys.exit("usage: python -m tests.scenarios.MODULE SCENARIO [ARG...]")
    fn: Callable[..., Any] = namespace[sys.argv[1]]
    sys.argv[1:] = sys.argv[2:]
    fn(*sys.argv[1:])
