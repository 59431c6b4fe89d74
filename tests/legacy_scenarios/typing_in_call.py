"""A typing indication inside a call (CallCallback.on_typing). No legacy call sends one,
so the peer is a few lines of SIP over a UDP socket: INVITE, ACK, an in-dialog MESSAGE
with an isComposing body, BYE."""

import re
import socket
import time

import pjsua as pj
from tests.legacy_scenarios.tracer import (
    AccountTrace,
    T,
    loopback_account,
    loopback_lib,
    loopback_transport,
    wait,
)

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
sock.settimeout(5)
rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # where Bob's RTP goes
rtp.bind(("127.0.0.1", 0))
me = sock.getsockname()[1]

lib = loopback_lib(pj.Lib())
tp = loopback_transport(lib)
lib.start()
bob_cb = AccountTrace("bob", codes=(200,))
bob = loopback_account(lib, tp, "bob", cb=bob_cb)
bob_port = tp.info().port
target = f"sip:bob@127.0.0.1:{bob_port}"

SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       f"m=audio {rtp.getsockname()[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
       "a=sendrecv\r\n")
COMPOSING = ('<?xml version="1.0" encoding="UTF-8"?>\r\n'
             '<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing">'
             "<state>{}</state><contenttype>text/plain</contenttype></isComposing>")


def request(method: str, cseq: int, to_tag: str = "", body: str = "",
            ctype: str = "") -> str:
    to = f"<{target}>" + (f";tag={to_tag}" if to_tag else "")
    lines = [f"{method} {target} SIP/2.0",
             f"Via: SIP/2.0/UDP 127.0.0.1:{me};rport;branch=z9hG4bK-typing-{cseq}-{method}",
             "Max-Forwards: 70", f"From: <sip:peer@127.0.0.1:{me}>;tag=peer1", f"To: {to}",
             "Call-ID: typing-in-call-1", f"CSeq: {cseq} {method}",
             f"Contact: <sip:peer@127.0.0.1:{me}>"]
    if ctype:
        lines.append(f"Content-Type: {ctype}")
    lines.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


def final(method: str) -> str:
    """The first final response to ``method`` (provisional ones and retransmissions of
    Bob's requests are skipped)."""
    while True:
        msg = sock.recv(65535).decode()
        status = msg.split("\r\n", 1)[0]
        if status.startswith("SIP/2.0 ") and f" {method}\r\n" in msg.split("CSeq:", 1)[1][:40] \
                and not status.startswith("SIP/2.0 1"):
            return msg
        if not status.startswith("SIP/2.0"):  # a request from Bob: answer it
            head = msg.split("\r\n\r\n", 1)[0]
            keep = [h for h in head.split("\r\n")[1:]
                    if h.split(":", 1)[0].lower() in ("via", "from", "to", "call-id", "cseq")]
            sock.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep)
                         + "\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", bob_port))


send = lambda text: sock.sendto(text.encode(), ("127.0.0.1", bob_port))  # noqa: E731
send(request("INVITE", 1, body=SDP, ctype="application/sdp"))
ok = final("INVITE")
T.note("INVITE answered", ok.split("\r\n", 1)[0])
tag = re.search(r"^To:.*;tag=([^;\s>]+)", ok, re.M | re.I).group(1)
send(request("ACK", 1, tag))
wait(lambda: bob_cb.calls and bob_cb.calls[0].info().state == pj.CallState.CONFIRMED)
time.sleep(0.3)
for cseq, state in ((2, "active"), (3, "idle")):
    send(request("MESSAGE", cseq, tag, COMPOSING.format(state),
                 "application/im-iscomposing+xml"))
    T.note(f"MESSAGE {state} answered", final("MESSAGE").split("\r\n", 1)[0])
send(request("BYE", 4, tag))
T.note("BYE answered", final("BYE").split("\r\n", 1)[0])
wait(lambda: not bob_cb.calls[0].is_valid())
time.sleep(0.3)
lib.destroy()
