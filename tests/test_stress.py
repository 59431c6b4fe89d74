"""Deadlock-free under contention: eight threads call the API while calls, messages and
presence events flow, with a watchdog that dumps every thread's stack if progress
stops. Bounded in time; no event may be lost."""

from __future__ import annotations

import os

import pytest
from support import run_scenario

from tests.scenarios import stress

SECONDS = float(os.environ.get("PJSUA_FFI_STRESS_SECONDS", "60"))

@pytest.mark.slow
def test_eight_threads_under_load_no_deadlock_no_lost_events() -> None:
    r = run_scenario(stress.eight_threads, str(SECONDS), timeout=SECONDS + 180)
    print(f"\nstress {SECONDS:.0f} s: {r['calls']} calls ({r['confirmed']} confirmed), "
          f"{r['sent']} messages ({r['received']} received, {r['status_ok']} delivered), "
          f"{r['presence']} presence events, {r['api']} other API calls, {r['locks']} "
          f"auto_lock holds, {r['errors']} errors raised as exceptions")
    assert r["hung"] == []
    assert r["done"] is True, r
    assert r["ended"] == r["calls"] and r["confirmed"] > 0
    assert r["status_ok"] == r["sent"] == r["received"] and r["status_bad"] == 0
    assert r["presence"] > 0 and r["locks"] > 0
