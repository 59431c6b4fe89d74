"""Scenarios of tests/test_im.py: messages, typing and message-waiting (the recording
callbacks come from tests/ua_peer.py)."""

from __future__ import annotations

import socket
import threading
import uuid

import pjsua_ffi as pj
from tests.scenarios import main
from tests.support import LOOPBACK, AnsweringAccount, CallLog, Events, report
from tests.ua_peer import (
    EV,
    AccRec,
    BuddyRec,
    events,
    start,
    ua_account,
    uri_of,
    wait_event,
    wait_for,
)


def pager_routing_typing_and_bodies() -> None:

    lib, (ta, tb, tc) = start(transports=("tcp", "tcp", "tcp"))
    alice = ua_account(lib, ta, "alice", cb=AccRec("alice"))
    bob = ua_account(lib, tb, "bob", cb=AccRec("bob"))
    carol = ua_account(lib, tc, "carol", cb=AccRec("carol"))
    a_uri, b_uri = uri_of(ta, "alice"), uri_of(tb, "bob")
    bob_buddy_alice = bob.add_buddy(a_uri, BuddyRec("alice@bob"))
    alice_buddy_bob = alice.add_buddy(b_uri, BuddyRec("bob@alice"))
    out = {}

    def status(pred):
        return wait_event(lambda e: e[0] in ("pager_status", "buddy_pager_status") and pred(e))

    # Not a buddy of bob: account to account.
    carol.send_pager(b_uri, "hello bob", 1)
    out["acc_rx"] = wait_event(lambda e: e[0] == "pager" and e[4] == "hello bob")
    out["acc_status"] = status(lambda e: e[0] == "pager_status" and e[4] == 1)

    # Buddy to buddy, both ways round.
    alice_buddy_bob.send_pager("hi from a buddy", 2)
    out["buddy_rx"] = wait_event(lambda e: e[0] == "buddy_pager" and e[3] == "hi from a buddy")
    out["buddy_status"] = status(lambda e: e[0] == "buddy_pager_status" and e[3] == 2)
    bob_buddy_alice.send_pager("and back", 3)
    out["buddy_rx2"] = wait_event(lambda e: e[0] == "buddy_pager" and e[3] == "and back")

    # Sent by the account (not the buddy object) to a buddy's URI: the status goes to that
    # buddy's callback (as in the legacy module), the message to bob's buddy callback since
    # alice is his buddy.
    alice.send_pager(b_uri, "from the account", 4)
    out["acc_to_buddy_rx"] = wait_event(
        lambda e: e[0] == "buddy_pager" and e[3] == "from the account")
    out["acc_to_buddy_status"] = status(lambda e: e[0] == "buddy_pager_status" and e[3] == 4)

    # Typing indications, same routing.
    carol.send_typing_ind(b_uri, True)
    out["typing_on"] = wait_event(lambda e: e[0] == "typing" and e[3] == 1)  # ints, as legacy
    carol.send_typing_ind(b_uri, False)
    out["typing_off"] = wait_event(lambda e: e[0] == "typing" and e[3] == 0)
    alice_buddy_bob.send_typing_ind(True)
    out["buddy_typing_on"] = wait_event(lambda e: e[0] == "buddy_typing" and e[2] == 1)
    alice_buddy_bob.send_typing_ind(False)
    out["buddy_typing_off"] = wait_event(lambda e: e[0] == "buddy_typing" and e[2] == 0)

    # Bodies: large, non-ASCII, another content type, and bytes that are not UTF-8.
    big = "".join(chr(ord("a") + i % 26) for i in range(3000))
    carol.send_pager(b_uri, big, 10)
    out["big_ok"] = wait_event(lambda e: e[0] == "pager" and len(e[4]) == 3000)[4] == big
    status(lambda e: e[4] == 10)
    text = "Grüße, 日本語 – ✓ 👋"
    carol.send_pager(b_uri, text, 11, "text/plain;charset=utf-8")
    out["utf8"] = wait_event(lambda e: e[0] == "pager" and e[4] == text)
    carol.send_pager(b_uri, '{"k": [1, 2]}', 12, "application/json")
    out["json"] = wait_event(lambda e: e[0] == "pager" and e[3] == "application/json")
    raw = bytes(range(256))
    carol.send_pager(b_uri, raw, 13, "application/octet-stream")
    out["binary"] = wait_event(lambda e: e[0] == "pager" and e[3] == "application/octet-stream")
    out["binary_status"] = status(lambda e: e[4] == 13)

    # Beyond this build's PJSIP_MAX_PKT_LEN: a clean error, no status, no crash.
    try:
        carol.send_pager(b_uri, "z" * 20000, 14)
        out["too_big"] = None
    except pj.Error as exc:
        out["too_big"] = exc.err_code
    report(**out)


def body_round_trip(transport: str) -> None:
    lib, (ta, tb) = start(transports=(transport, transport))
    alice = ua_account(lib, ta, "alice", cb=AccRec("alice"))
    _bob = ua_account(lib, tb, "bob", cb=AccRec("bob"))
    body = "0123456789" * 1024
    alice.send_pager(uri_of(tb, "bob"), body, 1)
    report(ok=wait_event(lambda e: e[0] == "pager")[4] == body)


def pager_and_typing_inside_a_call() -> None:
    lib, (ta, tb) = start(transports=("udp", "udp"))
    bob_calls = Events()
    alice = ua_account(lib, ta, "alice", cb=AccRec("alice"))
    bob = ua_account(lib, tb, "bob", cb=AnsweringAccount(bob_calls, codes=(200,)))
    # alice is bob's buddy and bob alice's: inside the call, the call still wins.
    bob.add_buddy(uri_of(ta, "alice"), BuddyRec("alice@bob"))
    alice.add_buddy(uri_of(tb, "bob"), BuddyRec("bob@alice"))
    alice_calls = Events()
    call = alice.make_call(uri_of(tb, "bob"), CallLog(alice_calls))
    assert alice_calls.wait(lambda i: ("state", "CONFIRMED", 200, "OK") in i, 10)
    assert bob_calls.wait(lambda i: any(e[:2] == ("state", "CONFIRMED") for e in i), 5)
    call.send_pager("in the call", 5)
    assert bob_calls.wait(lambda i: ("pager", "text/plain", "in the call") in i)
    assert alice_calls.wait(lambda i: ("pager_status", "in the call", 5, 200, "OK") in i)
    bob_call = bob._cb.calls[0]
    bob_call.send_typing_ind(True)
    assert alice_calls.wait(lambda i: ("typing", True) in i)
    bob_call.send_typing_ind(False)
    assert alice_calls.wait(lambda i: ("typing", False) in i)
    bob_call.send_pager("reply", 6)
    assert alice_calls.wait(lambda i: ("pager", "text/plain", "reply") in i)
    call.hangup()
    assert alice_calls.wait(lambda i: any(e[:2] == ("state", "DISCONNECTED") for e in i))
    report(stray=[e for e in EV.items if e[0] != "buddy"])


def unknown_user_through_proxy(kam_port: str) -> None:
    port = int(kam_port)
    lib, (ta, tb) = start(transports=("udp", "udp"))

    def account(user, tp):
        cfg = pj.AccountConfig("127.0.0.1", user, "pw",
                               registrar=f"sip:127.0.0.1:{port}",
                               proxy=f"sip:127.0.0.1:{port}")
        cfg.transport_id = tp._id
        cfg.rtp_transport_cfg = pj.TransportConfig(0, LOOPBACK, LOOPBACK)
        cb = AccRec(user)
        acc = lib.create_account(cfg, cb=cb)
        wait_for(lambda: acc.info().reg_status == 200, 5)
        return acc

    alice, _bob = account("alice", ta), account("bob", tb)
    alice.send_pager("sip:nobody@127.0.0.1", "anyone?", 21)
    nobody = wait_event(lambda e: e[0] == "pager_status" and e[4] == 21)
    alice.send_pager("sip:bob@127.0.0.1", "via the proxy", 22)
    rx = wait_event(lambda e: e[0] == "pager" and e[4] == "via the proxy")
    ok = wait_event(lambda e: e[0] == "pager_status" and e[4] == 22)
    report(nobody=nobody, rx=rx, ok=ok)


def mwi_subscribed_and_unsolicited() -> None:

    # A registrar and voicemail server played by a UDP socket: it accepts every REGISTER and
    # SUBSCRIBE, and sends one NOTIFY inside each new subscription.
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(0.2)
    sport = srv.getsockname()[1]
    got = []
    stop = threading.Event()
    summary = ("Messages-Waiting: yes\r\nMessage-Account: sip:bob@127.0.0.1\r\n"
               "Voice-Message: 2/8 (0/2)\r\n")

    def headers(msg):
        h = {}
        for line in msg.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
            k, _, v = line.partition(":")
            h.setdefault(k.strip().lower(), v.strip())
        return h

    def notify(target, from_, to, call_id, cseq, state, addr):
        msg = (f"NOTIFY {target} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{sport};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
               "Max-Forwards: 70\r\n"
               f"From: {from_}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} NOTIFY\r\n"
               f"Contact: <sip:vm@127.0.0.1:{sport}>\r\n"
               "Event: message-summary\r\n"
               f"Subscription-State: {state}\r\n"
               "Content-Type: application/simple-message-summary\r\n"
               f"Content-Length: {len(summary)}\r\n\r\n{summary}")
        srv.sendto(msg.encode(), addr)

    def serve():
        while not stop.is_set():
            try:
                data, addr = srv.recvfrom(65535)
            except socket.timeout:
                continue
            msg = data.decode("utf-8", "replace")
            got.append(msg.split("\r\n", 1)[0])
            h = headers(msg)
            if msg.startswith("REGISTER "):  # pjsua subscribes to MWI once registered
                ok = ("SIP/2.0 200 OK\r\n"
                      f"Via: {h['via']}\r\nFrom: {h['from']}\r\nTo: {h['to']};tag=reg1\r\n"
                      f"Call-ID: {h['call-id']}\r\nCSeq: {h['cseq']}\r\n"
                      f"Contact: {h['contact']};expires={h.get('expires', '60')}\r\n"
                      "Content-Length: 0\r\n\r\n")
                srv.sendto(ok.encode(), addr)
                continue
            if not msg.startswith("SUBSCRIBE "):
                continue
            to = h["to"] if ";tag=" in h["to"] else h["to"] + ";tag=vm1"
            ok = ("SIP/2.0 200 OK\r\n"
                  f"Via: {h['via']}\r\nFrom: {h['from']}\r\nTo: {to}\r\n"
                  f"Call-ID: {h['call-id']}\r\nCSeq: {h['cseq']}\r\n"
                  f"Contact: <sip:vm@127.0.0.1:{sport}>\r\nExpires: {h.get('expires', '60')}\r\n"
                  "Content-Length: 0\r\n\r\n")
            srv.sendto(ok.encode(), addr)
            if h.get("expires") != "0":
                target = h["contact"].strip("<>").split(">")[0]
                notify(target, to, h["from"], h["call-id"], 1, "active;expires=60", addr)

    threading.Thread(target=serve, daemon=True).start()
    lib, (tb,) = start()
    cfg = pj.AccountConfig()
    cfg.id = uri_of(tb, "bob")
    cfg.transport_id = tb._id
    cfg.mwi_enabled = True
    cfg.reg_uri = f"sip:127.0.0.1:{sport}"
    cfg.proxy = [f"sip:127.0.0.1:{sport};lr"]
    cfg.rtp_transport_cfg = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
    _bob = lib.create_account(cfg, cb=AccRec("bob"))
    subscribed = wait_event(lambda e: e[0] == "mwi")
    # Unsolicited: a NOTIFY outside any subscription, straight to bob's address.
    info = tb.info()
    bob_uri = f"sip:bob@127.0.0.1:{info.port}"
    notify(bob_uri, f"<sip:vm@127.0.0.1:{sport}>;tag=u1", f"<{bob_uri}>", uuid.uuid4().hex, 7,
           "active", ("127.0.0.1", info.port))
    wait_event(lambda e: e[0] == "mwi" and e is not subscribed)
    mwi = events("mwi")
    answers = list(got)
    lib.destroy()
    stop.set()
    report(mwi=mwi, summary=summary, server_saw=answers)


if __name__ == "__main__":
    main(globals())
