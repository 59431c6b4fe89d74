"""Instant messages, typing indications and message-waiting notifications.

Each scenario (tests/scenarios/im.py) runs in its own process; the recording callbacks
come from tests/ua_peer.py. Routing rules under test: inside a call → the call's callback;
from one of the receiving account's buddies → that buddy's callback; else the account's.
A delivery status goes back to the object that sent the message.
"""

from __future__ import annotations

import pytest

from tests.scenarios import im
from tests.support import run_scenario


def test_pager_routing_typing_and_bodies() -> None:
    r = run_scenario(im.pager_routing_typing_and_bodies, timeout=60)
    assert r["acc_rx"][:5] == ["pager", "bob", "carol", "text/plain", "hello bob"]
    assert r["acc_status"] == ["pager_status", "carol", "bob", "hello bob", 1, 200, "OK"]
    assert r["buddy_rx"][:3] == ["buddy_pager", "alice@bob", "text/plain"]
    assert r["buddy_status"] == ["buddy_pager_status", "bob@alice", "hi from a buddy", 2,
                                 200, "OK"]
    assert r["buddy_rx2"][1] == "bob@alice"
    assert r["acc_to_buddy_rx"][1] == "alice@bob"
    assert r["acc_to_buddy_status"] == ["buddy_pager_status", "bob@alice", "from the account",
                                        4, 200, "OK"]
    assert r["typing_on"] == ["typing", "bob", "carol", True]
    assert r["typing_off"] == ["typing", "bob", "carol", False]
    assert r["buddy_typing_on"] == ["buddy_typing", "alice@bob", True]
    assert r["buddy_typing_off"] == ["buddy_typing", "alice@bob", False]
    assert r["big_ok"] is True
    assert r["utf8"][3] == "text/plain"
    assert bytes.fromhex(r["utf8"][5]).decode("utf-8") == "Grüße, 日本語 – ✓ 👋"
    assert r["json"][4] == '{"k": [1, 2]}'
    # Every byte value arrives unchanged; the text form replaced what is not UTF-8.
    assert bytes.fromhex(r["binary"][5]) == bytes(range(256))
    assert "\ufffd" in r["binary"][4]
    assert r["binary_status"][5] == 200
    assert r["too_big"] == 171023  # PJSIP_EMSGTOOLONG


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_10kb_body_round_trip(transport: str) -> None:
    # native/config_site.h raises PJSIP_MAX_PKT_LEN to 16 kB for this.
    r = run_scenario(im.body_round_trip, transport, timeout=30)
    assert r["ok"] is True


def test_pager_and_typing_inside_a_call() -> None:
    r = run_scenario(im.pager_and_typing_inside_a_call, timeout=60)
    assert r["stray"] == []  # nothing went to an account or buddy callback


@pytest.mark.kamailio
def test_unknown_user_through_proxy_gets_404(tmp_path: object) -> None:
    from tests.peers.kamailio import Kamailio

    with Kamailio(tmp_path, users={"alice": "pw", "bob": "pw"}) as kam:
        r = run_scenario(im.unknown_user_through_proxy, str(kam.port), timeout=60)
    assert r["nobody"][5] == 404 and r["nobody"][6] == "Not Found"
    assert r["rx"][1:3] == ["bob", "alice"]
    assert r["ok"][5] == 200


def test_mwi_subscribed_and_unsolicited() -> None:
    r = run_scenario(im.mwi_subscribed_and_unsolicited, timeout=60)
    assert len(r["mwi"]) == 2
    for event in r["mwi"]:
        assert event[1:] == ["bob", r["summary"], "application/simple-message-summary"]
    assert any(line.startswith("SUBSCRIBE ") for line in r["server_saw"])
    assert "SIP/2.0 200 OK" in r["server_saw"]  # bob accepted both NOTIFYs
