"""Python audio ports: numpy sources and sinks on the conference bridge, over real calls
between processes, with slow consumers, and with bad input."""

from __future__ import annotations

import json
from typing import Callable

import pytest

from tests.scenarios import ports
from tests.support import communicate, free_port, run_scenario, start_scenario

pytest.importorskip("numpy")

def scenario(fn: Callable[..., None], *args: str, timeout: float = 60.0) -> dict:
    return run_scenario(fn, *args, timeout=timeout)


def test_sources_and_sinks_on_the_bridge_are_sample_exact() -> None:
    r = scenario(ports.sources_and_sinks_on_the_bridge_are_sample_exact)
    assert r["eof"] and r["view_exact"] and r["copy_exact"] and r["pull_exact"], r
    assert r["view_readonly"] and r["copy_writeable"] and r["whole_frames"], r
    assert r["src_stats"]["eof_count"] == 1 and r["src_stats"]["underruns"] == 0
    assert r["src_stats"]["frames"] == 16000 // r["spf"], r["src_stats"]
    assert r["sink_stats"]["dropped"] == 0 and r["sink_stats"]["frames"] > 50
    assert r["pos_end"] == 16000 and r["pos_rewound"] < 16000
    assert r["loop_exact"] and r["loop_eofs"] >= 4, r
    for name in ("iter", "call"):
        res = r[name]
        assert res["exact"] and res["eof"] == 1, (name, res)
        assert res["stats"]["underruns"] == 0, (name, res)
    assert r["asked_max"] <= 3200  # never asked for more than its ring holds (200 ms)
    assert r["push_underruns"] > 3 and r["push_exact"] and r["push_eof"], r
    assert r["push_underruns_after"] <= 1, r  # silence after finish() is not an underrun
    unread = r["unread"]
    assert unread["dropped"] > 10 and unread["buffered"] == unread["capacity"], unread
    assert r["closed_stats"]["dropped"] >= unread["dropped"]  # last counts kept


def test_numpy_source_to_numpy_sink_in_another_process() -> None:
    port = free_port()
    peer = start_scenario(ports.peer, str(port))
    try:
        assert peer.stdout is not None
        line = peer.stdout.readline()
        assert "READY" in line, line + peer.stderr.read() if peer.stderr else line
        r = scenario(ports.numpy_source_to_numpy_sink_in_another_process, str(port))
        out, err = communicate(peer, timeout=20, what="the peer")
    finally:
        if peer.poll() is None:
            peer.kill()
            peer.wait()
    assert peer.returncode == 0, err[-3000:]
    heard = json.loads([ln for ln in out.splitlines() if ln.startswith("@@REPORT@@")][-1]
                       .split(" ", 1)[1])
    assert r["ended"] and r["stats"]["underruns"] == 0, r
    assert r["stats"]["frames"] >= 100, r["stats"]
    assert heard["seq"] == [400, 800, 1200, 1600], heard
    assert heard["stats"]["dropped"] == 0 and heard["in_order"], heard
    assert heard["samples"] >= 2 * 16000, heard


def test_slow_sink_drops_frames_but_the_call_goes_on() -> None:
    r = scenario(ports.slow_sink_drops_frames_but_the_call_goes_on)
    assert r["state"] == "CONFIRMED", r
    assert r["stats"]["dropped"] >= 30, r["stats"]   # ~1.2 s stall, 0.3 s of room
    assert r["rec_s"] > 2.3 and r["min_level"] > 1000, r   # the bridge never stalled
    assert r["after"] and all(lv > 1000 and abs(f - 600) < 12 for lv, f in r["after"]), r


def test_audio_port_misuse_raises_and_never_crashes() -> None:
    r = scenario(ports.audio_port_misuse_raises_and_never_crashes)
    got = r["got"]
    assert got["stereo_array"] == "ValueError" and got["float_array"] == "TypeError"
    assert got["too_big"] == "ValueError" and got["loop_iter"] == "ValueError"
    assert got["bad_buffer"] == "ValueError" and got["bad_callback"] == "TypeError"
    for name in ("write_array_source", "seek_generator", "read_callback_sink",
                 "seek_closed", "connect_closed", "read_after_destroy",
                 "create_after_destroy", "stereo_bridge"):
        assert got[name] == "Error", (name, got[name])
    assert got["seek_negative"] == "ValueError"
    assert got["producer_raises_at_start"] == "no error"  # logged; the source just ends
    assert got["bad_sink_calls"] >= 3, got
    assert got["self_closed"] == [True, 1], got
    assert got["closed_after_destroy"] is True
    assert got["pumps"] == [1, 0], got
