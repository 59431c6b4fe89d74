"""mypy passes on pjsua_ffi/, examples/ and the tests written as modules (tests/unit/,
tests/scenarios/; the settings are in pyproject.toml), so the examples and the tests keep
matching the library's types."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.support import ROOT


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy is not installed (tools/dev installs it)")
def test_mypy_passes_on_the_package_examples_and_test_modules() -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert proc.stdout.startswith("Success: no issues found")
