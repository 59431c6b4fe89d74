"""Soak: thousands of calls and messages through one process pair, with memory, file
descriptors, pjsua's pools and Python objects flat after warm-up."""

from __future__ import annotations

import os
import platform

import pytest
from support import Peer, run_scenario

from tests.scenarios import soak

CALLS = int(os.environ.get("PJSUA_FFI_SOAK_CALLS", "20000"))
MESSAGES = int(os.environ.get("PJSUA_FFI_SOAK_MESSAGES", "100000"))

def _slope(samples: list, key: str, warmup: float = 0.0) -> float:
    """Least-squares growth of ``key`` per unit of ``n`` over the samples taken at least
    ``warmup`` seconds after the first one (the last half of them at least)."""
    start = samples[0]["t"] + warmup
    pts = [p for p in samples if p["t"] >= start]
    if len(pts) < 3:
        pts = samples[len(samples) // 2:]
    xs = [p["n"] for p in pts]
    ys = [p[key] for p in pts]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs) or 1.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den


@pytest.mark.slow
def test_soak_calls_and_messages() -> None:
    with Peer() as peer:
        r = run_scenario(soak.calls_and_messages, peer.uri, str(CALLS), str(MESSAGES), timeout=1500)
        assert peer.alive()
    s, m = r["samples"], r["msg_samples"]
    # Finished transactions live for 32 s: growth before then is pjsip's, not a leak.
    rss_per_call = _slope(s, "rss", warmup=35.0)
    rss_per_msg = _slope(m, "rss")
    pool_per_call = _slope(s, "pool", warmup=35.0)
    peak = max(p["rss"] for p in s + m)
    print(f"\nsoak: {CALLS} calls in {r['call_seconds']:.1f} s "
          f"({CALLS / r['call_seconds']:.0f}/s), {MESSAGES} messages in {r['msg_seconds']:.1f} s "
          f"({MESSAGES / r['msg_seconds']:.0f}/s)\n"
          f"  RSS slope {rss_per_call:.2f} B/call, {rss_per_msg:.3f} B/message; pool slope "
          f"{pool_per_call:.2f} B/call; fds {s[1]['fds']}..{s[-1]['fds']}; live Call objects "
          f"at the end {s[-1]['calls']}; RSS {s[0]['rss'] >> 20}..{peak >> 20} MiB, "
          f"{r['final']['rss'] >> 20} MiB at the end; pools in use {s[0]['pool']} at the "
          f"start, {max(p['pool'] for p in s + m)} at most, {r['final']['pool']} at the end")
    assert r["ended"] == CALLS and r["failed"] == 0
    assert r["msg_status"] == {"ok": MESSAGES, "bad": 0}
    assert s[-1]["calls"] == 0  # every Call object was collected
    assert max(p["fds"] for p in s[1:]) - min(p["fds"] for p in s[1:]) <= 4
    assert r["drained"], "pjsua's pools did not return to their starting count"
    assert r["final"]["fds"] == s[0]["fds"]
    # After warm-up, memory stays flat: the last sample is within 10 % of the peak.
    assert r["final"]["rss"] <= peak * 1.1
    if platform.libc_ver()[0] == "glibc":
        # Once pjsip's transaction timers have expired and its pools are released, the
        # binding hands the pages back (malloc_trim): RSS falls most of the way back.
        start = s[0]["rss"]
        assert r["final"]["rss"] <= start + (peak - start) / 2, (start, peak, r["final"])
    if s[-1]["t"] - s[0]["t"] > 60:  # enough calls after warm-up to fit a slope
        assert rss_per_call < 256 and abs(pool_per_call) < 0.5
