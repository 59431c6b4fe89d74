"""Presence: buddies, watchers, PUBLISH through kamailio, and misuse that must raise.

The peer-to-peer tests drive two user-agent processes (tests/ua_peer.py): the watcher
("alice", subscribing to buddies) and the presentity ("bob", answering SUBSCRIBEs).
Records of a buddy's state are tuples
("buddy", name, online_status, online_text, activity, note, subscribed, sub_state,
sub_state_text, sub_term_code, sub_term_reason, contact).
"""

from __future__ import annotations

from typing import Any, Iterator, Tuple

import pytest

from tests.scenarios import presence
from tests.support import run_scenario
from tests.ua_peer import Peer

ONLINE, OFFLINE = 1, 2
BOB = """
LIB, tps = start()
ACC = ua_account(LIB, tps[0], "bob", cb=AccRec("bob", ANSWERS))
result = uri_of(tps[0], "bob")
"""


@pytest.fixture()
def two_peers() -> Iterator[Tuple[Peer, Peer]]:
    with Peer("bob") as bob, Peer("alice") as alice:
        yield alice, bob


def _buddy_state(peer: Peer, name: str, cond: str, timeout: float = 5.0) -> Any:
    """Wait in ``peer`` for a state record of buddy ``name`` where ``cond`` (on ``e``)."""
    return peer.run(f"result = wait_event(lambda e: e[0] == 'buddy' and e[1] == {name!r} "
                    f"and ({cond}), {timeout})")


def test_subscribe_and_follow_status_changes(two_peers: Tuple[Peer, Peer]) -> None:
    alice, bob = two_peers
    bob_uri = bob.run("ANSWERS = {}\n" + BOB)
    alice.run(f"""
        LIB, tps = start()
        ACC = ua_account(LIB, tps[0], "alice", cb=AccRec("alice"))
        BUDDY = ACC.add_buddy({bob_uri!r}, BuddyRec("bob"))
        BUDDY.subscribe()
        """)
    # bob's status is offline until he says otherwise.
    first = _buddy_state(alice, "bob", "e[7] == 'ACTIVE'")
    assert first[2:4] == [OFFLINE, "Offline"] and first[6] == 1  # subscribed: an int, as legacy
    assert first[8] == "ACTIVE"
    sub = bob.run("result = wait_event(lambda e: e[0] == 'subscribe')")
    assert sub == ["subscribe", "bob", "alice", False, 200]
    assert bob.run("result = wait_event(lambda e: e[0] == 'watcher')") == \
        ["watcher", "bob", "alice", "ACTIVE", ""]

    # Each change: forget alice's earlier records, act at bob's, wait at alice's.
    def change(code: str) -> None:
        alice.run("EV.items.clear()")
        bob.run(code)

    change("ACC.set_presence_status(True, pj.PresenceActivity.BUSY, 'in a meeting', 'p1')")
    busy = _buddy_state(alice, "bob", "e[2] == 1 and e[4] == 'BUSY'")
    assert busy[3] == "in a meeting" and busy[5] == "in a meeting"
    assert "sip:bob@127.0.0.1:" in busy[11]  # bob's Contact
    note = "back at 3 <R&D> \"lab\" – ✓"  # XML's special characters survive the PIDF
    change(f"ACC.set_presence_status(True, pj.PresenceActivity.AWAY, {note!r})")
    away = _buddy_state(alice, "bob", "e[4] == 'AWAY'")
    assert away[2:6] == [ONLINE, note, "AWAY", note]
    change("ACC.set_basic_status(False)")
    off = _buddy_state(alice, "bob", "e[2] == 2")
    assert off[2] == OFFLINE
    info = alice.run("i = BUDDY.info(); result = [i.uri, i.online_status, i.sub_state.name]")
    assert info == [bob_uri, OFFLINE, "ACTIVE"]

    # Unsubscribe ends the subscription at both ends...
    alice.run("BUDDY.unsubscribe()")
    ended = _buddy_state(alice, "bob", "e[7] == 'TERMINATED'")
    assert ended[6] == 0  # subscribed: an int, as legacy
    assert bob.run("result = wait_event(lambda e: e[0] == 'watcher' and e[3] == 'TERMINATED')"
                   )[2] == "alice"
    # ...a new subscription is a new watcher, and deleting the buddy ends that one too.
    alice.run("EV.items.clear(); BUDDY.subscribe()")
    _buddy_state(alice, "bob", "e[7] == 'ACTIVE' and e[2] == 2")
    bob.run("EV.items.clear()")
    assert alice.run("BUDDY.delete(); result = BUDDY.is_valid()") is False
    assert bob.run("result = wait_event(lambda e: e[0] == 'watcher' and e[3] == 'TERMINATED')"
                   )[2] == "alice"
    assert bob.run("result = [w.state.name for w in ACC._cb.watchers.values()]") == \
        ["TERMINATED"]


def test_pending_subscriptions_accepted_or_rejected_later(
        two_peers: Tuple[Peer, Peer]) -> None:
    alice, bob = two_peers
    bob_uri = bob.run("ANSWERS = {'w1': (202, ''), 'w2': (202, ''), 'w3': (403, 'No')}\n"
                      + BOB)
    w1_uri = alice.run(f"""
        LIB, tps = start()
        BUDDIES = {{}}
        for name in ("w1", "w2", "w3"):
            acc = ua_account(LIB, tps[0], name, cb=AccRec(name), set_default=False)
            BUDDIES[name] = acc.add_buddy({bob_uri!r}, BuddyRec(name))
        result = uri_of(tps[0], "w1")
        """)
    bob.run(f"ACC.add_buddy({w1_uri!r})")  # w1 is bob's buddy too, the others are not
    alice.run("for b in BUDDIES.values(): b.subscribe()")
    # Pending: told so at once (PENDING NOTIFY without presence); rejected: 403.
    assert _buddy_state(alice, "w1", "e[7] == 'PENDING'")[2] == 0
    assert _buddy_state(alice, "w2", "e[7] == 'PENDING'")[2] == 0
    rejected = _buddy_state(alice, "w3", "e[7] == 'TERMINATED'")
    assert rejected[9] == 403
    subs = bob.run("wait_event(lambda e: e[0] == 'subscribe' and e[2] == 'w3')\n"
                   "result = sorted(e for e in EV.items if e[0] == 'subscribe')")
    assert subs == [["subscribe", "bob", "w1", True, 202], ["subscribe", "bob", "w2", False, 202],
                    ["subscribe", "bob", "w3", False, 403]]
    assert bob.run("result = wait_event(lambda e: e[0] == 'watcher' and e[2] == 'w1')") == \
        ["watcher", "bob", "w1", "PENDING", ""]
    assert bob.run("result = ACC._cb.watchers['w3'].is_valid()") is False

    bob.run("""
        ACC.set_presence_status(True, pj.PresenceActivity.UNKNOWN, 'hello w1')
        ACC.pres_notify(ACC._cb.watchers['w1'], pj.SubscriptionState.ACTIVE)
        ACC.pres_notify(ACC._cb.watchers['w2'], pj.SubscriptionState.TERMINATED, 'rejected')
        """)
    accepted = _buddy_state(alice, "w1", "e[7] == 'ACTIVE' and e[2] == 1")
    assert accepted[3] == "hello w1"
    refused = _buddy_state(alice, "w2", "e[7] == 'TERMINATED'")
    assert refused[10] == "rejected" and refused[2] == 0  # never saw bob's presence
    bob.run("wait_event(lambda e: e[0] == 'watcher' and e[2] == 'w2' and e[3] == 'TERMINATED')")

    # The ended subscriptions are gone for good: pres_notify raises, nothing crashes.
    errors = bob.run("""
        result = []
        for name in ('w2', 'w3'):
            try:
                ACC.pres_notify(ACC._cb.watchers[name], pj.SubscriptionState.ACTIVE)
            except pj.Error as exc:
                result.append([exc.op_name, exc.err_code])
        result.append(ACC._cb.watchers['w1'].is_valid())
        """)
    assert errors == [["pres_notify()", 70023], ["pres_notify()", 70023], True]


@pytest.mark.kamailio
def test_publish_through_kamailio_reaches_subscriber(tmp_path: Any) -> None:
    from tests.peers.kamailio import Kamailio

    with Kamailio(tmp_path, users={"alice": "pw", "bob": "pw"}, presence=True) as kam:
        r = run_scenario(presence.publish_through_kamailio, str(kam.port), timeout=60)
        log = kam.log_text()
    assert "REQ PUBLISH" in log and "REQ SUBSCRIBE" in log
    assert r["lunch"][2] == ONLINE and r["lunch"][4] == "BUSY"
    assert r["lunch"][7] == "ACTIVE"
    assert r["away"][2] == ONLINE and r["away"][4] == "AWAY"
    assert r["offline"][2] == OFFLINE


def test_bad_input_raises_errors() -> None:
    r = run_scenario(presence.bad_input, timeout=60)
    einval, eexists, egone, einvalidop = 70004, 70015, 70023, 70013
    for i in range(5):
        assert r[f"bad_uri{i}"] in (["add_buddy()", einval], ["add_buddy()", 171039],
                                    ["add_buddy()", 171040]), r[f"bad_uri{i}"]
    assert r["uri_type"] == "TypeError"
    assert r["twice"] == ["add_buddy()", eexists]
    assert r["twice_name_addr"] == ["add_buddy()", eexists]
    assert r["cb_type"] == "TypeError"
    assert r["stale_watcher"] == ["pres_notify()", egone]
    assert r["not_a_watcher"] == "TypeError"
    assert r["bad_state"] == ["pres_notify()", einval]
    assert r["other_account"] == ["pres_notify()", einval]
    assert r["bad_activity"] == ["set_presence_status()", einval]
    assert r["bad_im_id"] == "TypeError"
    assert r["bad_ctype"] == "ValueError"
    assert r["id_reused"] is True
    # The statuses the legacy module reports (its deleted buddy has an empty URI).
    for op, code in (("subscribe", einval), ("unsubscribe", einval), ("delete", einval),
                     ("send_pager", 171042), ("send_typing_ind", 171042)):
        assert r[f"deleted_{op}"] == [f"{op}()", code], (op, r[f"deleted_{op}"])
    # info() of a gone buddy is an empty BuddyInfo, never an error (as in the legacy module)
    assert r["deleted_info"] == r["account_deleted"] == "no error"
    assert r["fresh_info"].startswith("sip:dave@")
    assert r["valid"] == [False, True]
    assert r["after_destroy"][1] == einvalidop
