"""The application the pool tests run in every worker (``--app tests.pool_app:make``):
it rings, then answers, and keeps the call until the caller hangs up."""

from __future__ import annotations

from typing import Any

import pjsua_ffi as pj


class RingThenAnswer(pj.AccountCallback):
    def on_incoming_call(self, call: Any) -> None:
        call.answer(180)
        call.answer(200)


def make(worker: Any) -> pj.AccountCallback:
    """The factory: one callback for the worker's account."""
    return RingThenAnswer()
