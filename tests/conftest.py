"""Shared fixtures. Each scenario runs in its own process (see support.py)."""

from __future__ import annotations

import shutil

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    if shutil.which("kamailio") is None:
        skip = pytest.mark.skip(reason="kamailio is not installed (tools/dev installs it)")
        for item in items:
            if "kamailio" in item.keywords:
                item.add_marker(skip)
