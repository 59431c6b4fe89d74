"""The library object: callback thread and lock, snapshots, misbehaving callbacks,
logging, and shutdown in every order."""

from __future__ import annotations

from support import Peer, run_scenario

from tests.scenarios import library


def test_exception_in_callback_is_logged_and_events_keep_coming() -> None:
    r = run_scenario(library.exception_in_callback_is_logged_and_events_keep_coming)
    assert r["states"] == ["CALLING", "EARLY", "CONNECTING", "CONFIRMED", "DISCONNECTED"]
    assert len(r["logged"]) == 5 and "Traceback" in r["logged"][0]
    assert r["thread"] is True


def test_callbacks_run_on_one_thread_under_the_library_lock() -> None:
    r = run_scenario(library.callbacks_run_on_one_thread_under_the_library_lock)
    # As in the legacy module: the callbacks of the events an API call raises run inside
    # that call, on its thread; the others on the callback thread. All under the lock.
    assert r["during"] == [["MainThread", True, "CALLING"]]
    # hangup() delivers DISCONNECTED itself, before it returns, even when the callback
    # thread held earlier events (the callee's, in this process).
    assert r["inside"][-1] == ["MainThread", True, "DISCONNECTED"]
    assert {s[0] for s in r["seen"][1:-1]} == {"pjsua-callbacks"}
    assert all(s[1] for s in r["seen"])


def test_api_call_delivers_the_events_queued_before_its_own_first() -> None:
    r = run_scenario(library.api_call_delivers_the_events_queued_before_its_own_first)
    assert not any(s[0].startswith("on_pager") for s in r["held"])
    # The callback thread never holds events while another thread holds the lock, so
    # hangup() runs what was queued before its DISCONNECTED, then that, before it returns.
    assert r["seen"][-4:] == [["on_pager start", "MainThread"],
                              ["on_pager end", "MainThread"],
                              ["DISCONNECTED", "MainThread"],
                              ["hangup() returned", "MainThread"]]


def test_callback_sees_the_state_of_its_own_event() -> None:
    r = run_scenario(library.callback_sees_the_state_of_its_own_event)
    assert r["states"] == ["CALLING", "EARLY", "CONNECTING", "CONFIRMED", "DISCONNECTED"]


def test_events_before_set_callback_are_delivered_later_in_order() -> None:
    r = run_scenario(library.events_before_set_callback_are_delivered_later_in_order)
    assert r["b"] == ["CONNECTING", "CONFIRMED"]


def test_callbacks_may_call_back_into_the_library() -> None:
    r = run_scenario(library.callbacks_may_call_back_into_the_library)
    assert r["states"][-2:] == ["CONFIRMED", "DISCONNECTED"]


def test_answer_needed_now_while_another_thread_holds_the_lock() -> None:
    # A REFER needs its answer inside pjsua's thread: it must not wait for our lock forever.
    r = run_scenario(library.answer_needed_now_while_another_thread_holds_the_lock)
    assert r["request"] and r["request"][0][2] == 202


def test_polling_without_a_thread() -> None:
    r = run_scenario(library.polling_without_a_thread)
    assert r["states"][-1] == "CONFIRMED" and r["thread"] is True


def test_logging_reaches_python_logging_and_the_callback() -> None:
    r = run_scenario(library.logging_reaches_python_logging_and_the_callback)
    assert r["lines"], "the log callback got nothing"
    assert max(r["levels"]) <= 3  # console_level filters the callback
    assert all(n == len(s) for _, s, n in r["lines"])
    assert r["debug"] > 0 and r["records"] > len(r["lines"])  # logging gets up to `level`
    assert "ALSA" not in r["_stderr"] and "jack" not in r["_stderr"].lower()
    assert r["_stdout"].count("\n") <= 1  # quiet: nothing printed but the report


def test_destroy_from_a_callback_with_calls_alive() -> None:
    r = run_scenario(library.destroy_from_a_callback_with_calls_alive)
    assert r["err"] == "hangup()" and r["instance"] is True


def test_exit_without_destroy_and_destroy_with_live_objects() -> None:
    r = run_scenario(library.exit_without_destroy_and_destroy_with_live_objects)
    assert r["ok"] is True


def test_a_callback_that_blocks_delays_only_callbacks() -> None:
    with Peer() as peer:
        r = run_scenario(library.a_callback_that_blocks_delays_only_callbacks, peer.uri)
    assert r["up_while_blocked"] is True
    assert r["states"] == ["CALLING", "CONNECTING", "CONFIRMED", "DISCONNECTED"]
    assert r["delay"] >= 0.9  # later callbacks waited for the sleeping one


def test_destroy_with_calls_and_media_alive() -> None:
    r = run_scenario(library.destroy_with_calls_and_media_alive)
    assert not any(r["valid"])
    assert r["took"] < 5.0


def test_a_crash_in_c_prints_the_c_stack_then_the_python_one() -> None:
    # A segfault in pjsua's threads would leave faulthandler with "<no Python frame>":
    # the C stack comes first, then faulthandler still reports.
    r = run_scenario(library.a_crash_in_c_prints_the_c_stack_then_the_python_one, expect_rc=-11)
    err = r["_stderr"]
    assert "pjsua-ffi: fatal signal in this thread; C stack:" in err
    assert "_pjsua" in err.split("C stack:", 1)[1]
    assert "Fatal Python error: Segmentation fault" in err
    assert err.index("C stack:") < err.index("Fatal Python error")


def test_events_raised_on_the_application_thread_wake_the_polling_thread() -> None:
    # A call to an address that never answers: nothing arrives from the network, so
    # CALLING (raised inside make_call) and DISCONNECTED (inside hangup) reach Python
    # only because queuing them wakes the callback thread out of its poll. Without
    # that, they would wait for pjsip's first retransmission timer (500 ms).
    r = run_scenario(library.events_raised_on_the_application_thread_wake_the_polling_thread)
    assert r["calling"] and r["end"], r
    assert r["calling_after"] < 0.25 and r["end_after"] < 0.25, r
