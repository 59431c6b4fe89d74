"""Shared fixtures. Each scenario runs in its own process (see support.py)."""

from __future__ import annotations

import shutil
import sys

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    if shutil.which("kamailio") is None:
        skip = pytest.mark.skip(reason="kamailio is not installed (tools/dev installs it)")
        for item in items:
            if "kamailio" in item.keywords:
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The differential tests' figures: scenarios compared, legacy names touched."""
    mod = sys.modules.get("test_differential")
    stats = getattr(mod, "STATS", None)
    if not stats or not stats["compared"]:
        return
    write = terminalreporter.write_line
    inv = stats["inventory"]
    names = {n for ns in inv.values() for n in ns}
    touched = stats["touched"] & names
    failed = stats["failed"]
    write(f"legacy differential: {len(stats['compared'])} scenarios compared with the "
          f"legacy module, {len(stats['compared']) - len(failed)} equal"
          + (f" (differ: {', '.join(failed)})" if failed else ""))
    if names:
        untouched = sorted(names - touched)
        write(f"legacy differential: {len(touched)} of {len(names)} legacy names touched, "
              f"{len(untouched)} untouched" + (":" if untouched else ""))
        for i in range(0, len(untouched), 6):
            write("    " + "  ".join(untouched[i:i + 6]))
    if stats["extras"]:
        write("legacy differential: attributes only ours has (allowed extras): "
              + ", ".join(sorted(stats["extras"])))
