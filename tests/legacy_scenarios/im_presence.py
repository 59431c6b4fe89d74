"""Presence and instant messages between two accounts in one process: buddies,
subscriptions, status changes, pagers and typing, pres_notify, and misuse."""

import socket
import time

import pjsua as pj
from tests.legacy_scenarios.tracer import (
    AccountTrace,
    BuddyTrace,
    T,
    loopback_account,
    loopback_lib,
    loopback_transport,
    uri,
    wait,
)

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
udp_port = sock.getsockname()[1]
lib = loopback_lib(pj.Lib())
tp_a = loopback_transport(lib)
tp_b = loopback_transport(lib)
lib.start()
a_cb = AccountTrace("alice")
a = loopback_account(lib, tp_a, "alice", cb=a_cb)
b_cb = AccountTrace("bob")
b = loopback_account(lib, tp_b, "bob", cb=b_cb, set_default=False)
T.call("b.set_basic_status(True)", b.set_basic_status, True)
buddy = T.call("add_buddy()", a.add_buddy, uri(tp_b, "bob"), cb=BuddyTrace("alice/buddy"))
T.str("str(buddy)", buddy)
T.obj("buddy.info() before subscribe", buddy.info())
T.call("subscribe()", buddy.subscribe)
wait(lambda: b_cb.subscribers, 5)
time.sleep(0.5)
if b_cb.subscribers:
    T.call("pres_notify(ACTIVE)", b.pres_notify, b_cb.subscribers[0],
           pj.SubscriptionState.ACTIVE, reason="", hdr_list=[("X-N", "1")])
time.sleep(0.5)
T.obj("buddy.info() subscribed", buddy.info())
T.call("set_presence_status(busy)", b.set_presence_status, True, pj.PresenceActivity.BUSY,
       "In a meeting", "rpid1")
time.sleep(0.5)
T.call("set_presence_status(defaults)", b.set_presence_status, is_online=True)
time.sleep(0.5)
T.call("set_basic_status(False)", b.set_basic_status, False)
time.sleep(0.5)
T.obj("buddy.info() offline", buddy.info())
T.call("buddy.send_typing_ind()", buddy.send_typing_ind)
T.call("buddy.send_typing_ind(False)", buddy.send_typing_ind, is_typing=False, hdr_list=None)
T.call("buddy.send_pager()", buddy.send_pager, "hello bob")
T.call("buddy.send_pager(kw)", buddy.send_pager, text="<i>x</i>", im_id=3,
       content_type="text/html", hdr_list=[("X-P", "1")])
T.call("a.send_pager()", a.send_pager, uri(tp_b, "bob"), "direct")
T.call("a.send_pager(kw)", a.send_pager, uri="sip:nobody@127.0.0.1:9", text="lost", im_id=9,
       content_type="text/plain", hdr_list=[("X-Q", "2")])
T.call("a.send_pager(bad uri)", a.send_pager, "not a uri", "x")
time.sleep(1.5)  # all of the above reached Bob before he adds Alice as a buddy
# Bob knows Alice as a buddy: what she sends him reaches that buddy's callback.
alice = T.call("b.add_buddy(alice)", b.add_buddy, uri(tp_a, "alice"),
               BuddyTrace("bob/buddy"))
# The From of Alice's requests carries no port: a buddy by that URI matches it.
alice2 = T.call("b.add_buddy(alice without port)", b.add_buddy, "sip:alice@127.0.0.1",
                BuddyTrace("bob/buddy-noport"))
T.call("a.send_pager() to a buddy", a.send_pager, uri(tp_b, "bob"), "to my buddy")
T.call("buddy.send_typing_ind() to a buddy", buddy.send_typing_ind, True)
time.sleep(1.5)
T.call("alice.delete()", alice.delete)
T.call("alice2.delete()", alice2.delete)
# An unsolicited MWI NOTIFY (pjsua accepts them by default) reaches on_mwi_info.
mwi_body = "Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n"
bob = tp_b.info()
notify = (f"NOTIFY sip:bob@127.0.0.1:{bob.port} SIP/2.0\r\n"
          f"Via: SIP/2.0/UDP 127.0.0.1:{udp_port};branch=z9hG4bK-mwi-1\r\n"
          "Max-Forwards: 70\r\n"
          f"From: <sip:voicemail@127.0.0.1:{udp_port}>;tag=mwi1\r\n"
          f"To: <sip:bob@127.0.0.1:{bob.port}>\r\n"
          "Call-ID: mwi-harness-1\r\nCSeq: 1 NOTIFY\r\n"
          f"Contact: <sip:voicemail@127.0.0.1:{udp_port}>\r\n"
          "Event: message-summary\r\nSubscription-State: active\r\n"
          "Content-Type: application/simple-message-summary\r\n"
          f"Content-Length: {len(mwi_body)}\r\n\r\n{mwi_body}")
sock.sendto(notify.encode(), ("127.0.0.1", bob.port))
sock.settimeout(5)
T.note("MWI NOTIFY answered", sock.recv(4096).split(b"\r\n")[0].decode())
time.sleep(0.5)
T.call("buddy.set_callback()", buddy.set_callback, BuddyTrace("alice/buddy2"))
T.call("unsubscribe()", buddy.unsubscribe)
time.sleep(0.5)
T.obj("buddy.info() unsubscribed", buddy.info())
T.call("buddy.delete()", buddy.delete)
T.call("buddy.info() after delete", buddy.info)
T.call("add_buddy(bad uri)", a.add_buddy, "not a uri")
lib.destroy()
