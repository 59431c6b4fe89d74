"""Instant messages nobody receives: a MESSAGE (and a typing indication) to a buddy on a
127.0.0.1 port that nothing listens on, over UDP and over TCP: what on_pager_status
reports (code, reason) and when.

The library runs without its thread, polled by this program between its calls. Over
TCP, pjsip starts the connect() when it sends the first message; whether the refusal
is seen before that message is handed to the socket depends on whether another thread
polls in between: then the send fails at once with EPIPE (raised), otherwise the
message waits for the connect and fails later with 503. The legacy module's thread
polls for 1 ms in every 51 and almost never gets in between; ours polls all the time.
Polled from here, both see the refusal after the send, every time."""

import socket

import pjsua as pj
from tests.legacy_scenarios.tracer import (
    AccountTrace,
    BuddyTrace,
    T,
    loopback_account,
    loopback_lib,
    loopback_transport,
    wait,
)


def closed_port(kind: int) -> int:
    """A port on 127.0.0.1 that was free a moment ago and that nothing listens on."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class StatusTrace(BuddyTrace):  # type: ignore[misc,valid-type]
    """Traces as BuddyTrace does and keeps the codes of on_pager_status."""

    def __init__(self, channel: str) -> None:
        BuddyTrace.__init__(self, channel)
        self.codes: list = []

    def on_pager_status(self, body: str, im_id: int, code: int, reason: str) -> None:
        BuddyTrace.on_pager_status(self, body, im_id, code, reason)
        self.codes.append(code)


lib = loopback_lib(pj.Lib())
udp = loopback_transport(lib)
tcp = loopback_transport(lib, "TCP")
lib.start(with_thread=False)
acc_cb = AccountTrace("alice")
acc = loopback_account(lib, udp, "alice", cb=acc_cb)
acc_tcp = loopback_account(lib, tcp, "alice", cb=AccountTrace("alice/tcp"),
                           set_default=False)

udp_cb = StatusTrace("buddy/udp")
buddy_udp = T.call("add_buddy(udp)", acc.add_buddy,
                   f"sip:nobody@127.0.0.1:{closed_port(socket.SOCK_DGRAM)}", cb=udp_cb)
tcp_cb = StatusTrace("buddy/tcp")
buddy_tcp = T.call("add_buddy(tcp)", acc_tcp.add_buddy,
                   f"sip:nobody@127.0.0.1:{closed_port(socket.SOCK_STREAM)};transport=tcp",
                   cb=tcp_cb)

# TCP: the connection is refused at once, so the status comes quickly. Over the UDP
# account's transport, pjsua refuses to send it at all.
T.call("tcp send_typing_ind()", buddy_tcp.send_typing_ind, True)
T.call("tcp send_pager()", buddy_tcp.send_pager, "hello over tcp", im_id=7)
# (Another user at that address: a buddy of the same URI would get this status in
# legacy, whichever buddy sent it; see test_legacy_diff.py's test of "buddy-match".)
T.call("tcp via udp send_pager()", acc.add_buddy(
    str(buddy_tcp.info().uri).replace("nobody@", "other@"),
    cb=BuddyTrace("buddy/tcp-via-udp")).send_pager, "x")
T.note("tcp status came", wait(lambda: tcp_cb.codes, 20, lib))

# UDP: pjsip sees no ICMP error on its unconnected socket; the MESSAGE is sent again
# until its transaction times out (32 s), or lib.destroy() ends it first.
T.call("udp send_pager()", buddy_udp.send_pager, "hello over udp", im_id=8)
T.note("udp status within 1 s", wait(lambda: udp_cb.codes, 1, lib))
T.call("lib.destroy()", lib.destroy)
