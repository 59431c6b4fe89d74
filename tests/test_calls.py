"""Real calls over loopback: states, codes, hold, re-INVITE/UPDATE, DTMF, requests with
custom headers, transfers, TCP, and two processes."""

from __future__ import annotations

from support import communicate, run_scenario, start_scenario

from tests.scenarios import calls


def test_call_states_and_codes_in_one_process() -> None:
    r = run_scenario(calls.call_states_and_codes_in_one_process)
    a = [tuple(e) for e in r["a"]]
    assert a == [("state", "CALLING", 0, ""), ("state", "EARLY", 180, "Ringing"),
                 ("state", "CONNECTING", 200, "OK"), ("state", "CONFIRMED", 200, "OK"),
                 ("state", "DISCONNECTED", 603, "Decline")]
    b = [tuple(e[:4]) for e in r["b"]]
    assert b[0][0] == "incoming"
    assert [e[1] for e in b[1:]] == ["EARLY", "CONNECTING", "CONFIRMED", "DISCONNECTED"]
    assert b[-1][2] == 200  # the callee saw the BYE answered with 200
    assert r["role"] == 0 and r["remote"].startswith("sip:x@127.0.0.1")
    assert r["call_time"] >= 1
    # After the call, as in the legacy module: is_valid() 0, info() raises Error "info".
    assert r["valid_after"] == 0 and r["final"][:3] == ["Error", "info", -1]


def test_snapshots_outlive_their_events() -> None:
    # A CallInfo reads its fields from the event's C copy on first use: snapshots kept
    # from callbacks and read only after the call, the library and the freed memory
    # were reused, still show the event they were taken for.
    r = run_scenario(calls.snapshots_outlive_their_events)
    assert r["states"] == ["CALLING", "EARLY", "CONNECTING", "CONFIRMED", "DISCONNECTED"]
    assert r["texts"][:4] == r["states"][:4]
    assert r["codes"] == [0, 180, 200, 200, 603]
    assert len(r["ids"]) == 1 and len(r["ids"][0]) > 8
    assert r["remote"].startswith("sip:x@127.0.0.1") and r["roles"] == [0]
    assert "DISCONNECTED" in r["last"] and r["acc_ok"] is True


def test_rejected_and_cancelled_calls() -> None:
    r = run_scenario(calls.rejected_and_cancelled_calls)
    assert r["busy"] == [486, "Busy Here"]
    assert r["declined"] == [603, "Decline"]
    assert r["cancelled_callee"] == [487, "Request Terminated"]  # our hangup() sent CANCEL


def test_hold_unhold_reinvite_update() -> None:
    r = run_scenario(calls.hold_unhold_reinvite_update)
    assert r["held"] == "LOCAL_HOLD"
    assert r["a"][-2:] == ["ACTIVE", "ACTIVE"] and "LOCAL_HOLD" in r["a"]
    assert "REMOTE_HOLD" in r["b"] and r["b"][-1] == "ACTIVE"
    assert r["state"] == "CONFIRMED"


def test_dtmf_both_ways() -> None:
    r = run_scenario(calls.dtmf_both_ways)
    assert r["at_b"] == "123#"
    assert r["at_a"] == "*9A"


def test_custom_headers_reach_the_peer() -> None:
    r = run_scenario(calls.custom_headers_reach_the_peer)
    assert "X-Case: invite-42" in r["invite"]
    assert r["method"] == "INFO"
    assert "X-Info: hello there" in r["info"]
    assert "application/x-test" in r["info"] and r["info"].endswith("payload=1")


def test_tcp_call() -> None:
    r = run_scenario(calls.tcp_call)
    assert r["ok"] and r["kind"] == "TCP" and r["reliable"] == 1  # the flag bit, as legacy
    assert "SIP/2.0/TCP" in r["invite"]


def test_blind_transfer() -> None:
    r = run_scenario(calls.blind_transfer)
    assert r["request"] and r["request"][0][1].startswith("sip:c@127.0.0.1")
    assert r["request"][0][2] == 202
    final = [s for s in r["status"] if s[3]]
    assert final and final[-1][1] == 200
    assert r["c_from"] and "sip:a@127.0.0.1" in r["c_from"][0]


def test_attended_transfer() -> None:
    r = run_scenario(calls.attended_transfer)
    assert r["replaced"] >= 0
    # The call A makes for the transfer is a call of its own: its states never reach
    # the callback of the call A answered (pjsua hands it that call's user data).
    assert "CALLING" not in r["a_states"], r["a_states"]
    assert r["incoming"] == 1  # A's INVITE with Replaces is not a new incoming call
    assert "CONFIRMED" in r["c_states"]  # C now talks to A on the replacing call
    assert r["b2"][-1] == "DISCONNECTED"


def test_call_between_two_processes() -> None:
    callee = start_scenario(calls.callee)
    try:
        line = callee.stdout.readline()
        assert line.startswith("PORT"), callee.stderr.read()
        port = int(line.split()[1])
        r = run_scenario(calls.caller, str(port))
        out, err = communicate(callee, timeout=20, what="the callee")
    finally:
        if callee.poll() is None:
            callee.kill()
    assert callee.returncode == 0, err
    assert r["states"] == ["CALLING", "EARLY", "CONNECTING", "CONFIRMED", "DISCONNECTED"]
    report_line = [ln for ln in out.splitlines() if ln.startswith("@@REPORT@@")][0]
    assert "CONFIRMED" in report_line and "DISCONNECTED" in report_line
    assert "sip:caller@127.0.0.1" in report_line


def test_account_and_call_utilities() -> None:
    r = run_scenario(calls.account_and_call_utilities)
    assert r["default_a"] is True and r["default_b"] is False
    assert r["default_after"] == [False, True]
    assert r["renamed"].startswith("sip:renamed@127.0.0.1")
    uri, contact, remote, has_id, state_text, media, slot, acc = r["fields"]
    assert uri.startswith("sip:renamed@") and contact and remote.startswith("sip:b@")
    assert has_id and state_text == "CONFIRMED" and media == "ACTIVE" and slot and acc
    assert "CONFIRMED" in r["dump"] and "sip:b@127.0.0.1" in r["dump"]
    assert all("sip:renamed@127.0.0.1" in f for f in r["incoming_from"])
    # is_datagram/is_reliable are the flag bits (4 and 0 for UDP), as in the legacy module
    assert r["transport"] == ["UDP", "127.0.0.1", True, 4, 0, True, True]
    assert r["after_hangup_all"] == [False, False, False]
    # Legacy gives pjsua's error status (a true value) once the library is gone.
    assert r["after_destroy"] == [0, 0, 0]
