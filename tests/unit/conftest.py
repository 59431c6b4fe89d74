"""Unit tier: pure-Python parts of pjsua_ffi, tested in this process. Nothing here
creates a pjsua instance (the compiled module is loaded, pjsua is never started)."""

from __future__ import annotations

from typing import Any, List

import pytest


@pytest.fixture
def keep() -> List[Any]:
    """Buffers a fill_* function hands to C; held for the test's duration."""
    return []
