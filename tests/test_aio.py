"""Event-loop mode and the asyncio API (pjsua_ffi.aio), against real pjsua peers.

Every scenario (tests/scenarios/aio.py) runs under a watchdog, so a hang fails fast with
its stack instead of waiting for the test's time-out.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest
from peers.kamailio import Kamailio
from support import Peer, run_scenario, start_scenario

from tests.scenarios import aio

# ---------------------------------------------------------------- event-loop mode


def test_event_loop_mode_runs_callbacks_inline_and_the_backup_poller_covers_a_slow_one() -> None:
    r = run_scenario(aio.event_loop_mode_and_backup_poller)
    assert r["threads"] == [True]  # every callback ran on the thread calling handle_events
    assert "pjsua-callbacks" not in r["names"]
    assert r["inside"] is True and r["probe"] == "SIP/2.0 200 OK"


# ---------------------------------------------------------------- asyncio: calls


def test_calls_both_ways_with_a_second_process_and_classic_callbacks_mixed() -> None:
    with Peer() as peer:
        r = run_scenario(aio.calls_both_ways, peer.uri, timeout=60)
    assert r["confirmed"] == ["CONFIRMED", 200, True] and r["slot"]
    assert r["ended"] == ["DISCONNECTED", "DISCONNECTED"]
    assert r["classic"][-2:] == ["CONFIRMED", "DISCONNECTED"]  # the classic callback too
    assert r["thread"] == "MainThread" and "pjsua-callbacks" not in r["names"]
    assert r["ringing"] == "INCOMING" and r["invite"] is True
    assert r["in_confirmed"] == "CONFIRMED" and r["in_end"] == ["DISCONNECTED", 200]
    assert '"CONFIRMED", "DISCONNECTED"' in r["caller"]


def test_a_rejected_call_raises_the_sip_status_and_late_awaits_answer_at_once() -> None:
    r = run_scenario(aio.a_rejected_call_raises_the_sip_status_and_late_awaits_answer_at_once)
    assert r["err"] == [170486, "call", True]
    assert r["end"] == 486 and r["media_err"] == 170486
    assert r["bad_uri"]


def test_start_refuses_a_library_with_a_callback_thread() -> None:
    r = run_scenario(aio.start_refuses_a_library_with_a_callback_thread)
    assert r["err"] == 70013  # PJ_EINVALIDOP


def test_a_library_outliving_its_loop_and_destroyed_from_a_callback() -> None:
    r = run_scenario(aio.a_library_outliving_its_loop_and_destroyed_from_a_callback)
    assert r["first"] is True
    assert r["second"] == 70013 and r["closed"] is True


# ---------------------------------------------------------------- cancellation, time-outs


def test_cancellation_and_timeouts_leave_the_call_usable() -> None:
    r = run_scenario(aio.cancellation_and_timeouts_leave_the_call_usable)
    assert r["wait_for"] == "timeout" and r.get("timeout", "timeout") == "timeout"
    assert r["cancelled"] is True and r["waiters_left"] == 0
    assert r["state"] == "CONFIRMED"
    assert r["play_cancelled"] is True and r["ports"] == 0


def test_shutdown_from_the_loop_fails_every_waiter_with_error() -> None:
    r = run_scenario(aio.shutdown_from_the_loop_fails_every_waiter_with_error)
    for name in ("confirmed", "incoming", "message", "media"):
        assert r[name] == 70013, (name, r)
    # A call on an account of the closed library raises pj.Error (its code is the
    # legacy module's for a dead object).
    assert "after" in r and r["closed"] is True, r


# ---------------------------------------------------------------- messages, buddies


def test_messages_status_and_delivery_and_buddy_states() -> None:
    r = run_scenario(aio.messages_status_and_delivery_and_buddy_states, timeout=60)
    assert r["status"] == [200, "OK"]
    assert r["got"] == [True, "text/plain", "hello \u00e9"]
    assert r["many"] == [200] and r["received"] == 50
    assert r["presence"] == ["ONLINE", "OFFLINE"]


# ---------------------------------------------------------------- audio


def test_audio_frames_in_and_playback_out_carry_tones() -> None:
    r = run_scenario(aio.audio_frames_in_and_playback_out_carry_tones)
    assert r["dtype"] == "int16" and r["frames"]
    assert r["played"] >= 16000 * 0.8  # most of the second had arrived when play() returned
    assert abs(r["f"] - 700) < 15 and r["share"] > 0.5


# ---------------------------------------------------------------- registration


@pytest.fixture(scope="module")
def kam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kamailio]:
    work: Path = tmp_path_factory.mktemp("kamailio-aio")
    server = Kamailio(work, users={"alice": "alice-pw", "bob": "bob-pw"}, presence=False)
    with server.start():
        yield server


@pytest.mark.kamailio
def test_registration_results_at_kamailio(kam: Kamailio) -> None:
    r = run_scenario(aio.registration_results_at_kamailio, str(kam.port))
    assert r["good"] == [200, True, True]
    assert r["bad"][1] == "register" and r["bad"][0] in (170401, 170403, 170407)
    assert r["again"] == 200
    assert r["msg"] == [170404, "send_message"]
    assert r["off"] == [200, True]


# ---------------------------------------------------------------- the loop's health


def test_a_blocked_loop_still_answers_sip_and_an_idle_loop_does_not_spin() -> None:
    r = run_scenario(aio.a_blocked_loop_still_answers_sip_and_an_idle_loop_does_not_spin)
    assert r["idle"] == "SIP/2.0 200 OK"
    assert r["inside"] is True and r["blocked"] == "SIP/2.0 200 OK"
    assert r["idle_steps"] < 50  # a few timers, not a spinning loop (thousands)


# ---------------------------------------------------------------- the example


def test_asyncio_bot_example_against_a_second_process() -> None:
    root = Path(__file__).resolve().parent.parent
    bot = start_scenario((root / "examples" / "asyncio_bot.py").read_text(), "--port", "0",
                         "--once")
    try:
        assert bot.stdout is not None
        line = bot.stdout.readline()
        assert line.startswith("LISTENING "), line + (bot.stderr.read() if bot.stderr else "")
        uri = line.split()[1]
        r = run_scenario(aio.asyncio_bot_example_against_a_second_process, uri, timeout=60)
        out, err = bot.communicate(timeout=20)
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
    assert r["ended"] and "CONFIRMED" in r["states"]
    # The bot heard our 440 Hz and answered with its 880 Hz reply, then hung up.
    assert "HEARD 440" in out, out + err
    assert r["n"] > 16000 * 0.5 and abs(r["f"] - 880) < 15 and r["share"] > 0.5
    assert bot.returncode == 0, err


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
