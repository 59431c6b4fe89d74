"""Nothing crashes the interpreter: random API sequences on live, stale and garbage
objects from several threads (hypothesis), and hostile SIP from the network."""

from __future__ import annotations

import json
import os
import random
import socket
import time

import pytest
from support import Peer, communicate, run_scenario, start_scenario

from tests.scenarios import robustness

SEQUENCES = int(os.environ.get("PJSUA_FFI_FUZZ_SEQUENCES", "60"))

@pytest.mark.slow
def test_random_api_sequences_never_crash() -> None:
    with Peer() as peer:
        r = run_scenario(robustness.machine, peer.uri, str(SEQUENCES), timeout=600)
        assert peer.alive(), "the answering peer died"
    print(f"hypothesis: {r['sequences']} sequences, {r['steps']} steps, {r['errors']} errors "
          f"raised as exceptions, {r['libs']} libraries, {r['threads']} calls from threads")
    assert r["sequences"] >= SEQUENCES and r["steps"] > SEQUENCES * 5


# ---------------------------------------------------------------- hostile network input

VALID_TORTURE = [
    # Line folding, odd spacing and case, compact headers, escaped characters.
    "OPTIONS sip:{user}@127.0.0.1:{port} SIP/2.0\r\n"
    "v:  SIP/2.0/UDP 127.0.0.1:{src};branch=z9hG4bK{b}\r\n"
    "TO :\r\n <sip:{user}@127.0.0.1:{port}>\r\n"
    "f: \"J Rosenb\\\\\\\"erg \\\\\\\"\" <sip:jdrosen@127.0.0.1>;tag=98asjd8\r\n"
    "MaX-fOrWaRdS: 0068\r\n"
    "Call-ID: wsinv.ndaksdj@127.0.0.1\r\n"
    "cseq: 0009\r\n  OPTIONS\r\n"
    "Unknown-LongerThan-Any-Header:  =;tag\r\n   continuing   \r\n"
    "l: 0\r\n\r\n",
    "OPTIONS sip:%75ser@127.0.0.1:{port};lr SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{src};branch=z9hG4bK{b}\r\n"
    "To: sip:%75ser@127.0.0.1\r\nFrom: <sip:I%20have%20spaces@127.0.0.1>;tag=1\r\n"
    "Call-ID: esc01.{b}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
    "MESSAGE sip:{user}@127.0.0.1:{port} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{src};branch=z9hG4bK{b}\r\n"
    "To: <sip:{user}@127.0.0.1>\r\nFrom: <sip:x@127.0.0.1>;tag=2\r\n"
    "Call-ID: msg.{b}\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Length: 6\r\n\r\n\xe9t\xe9\xff\x00!",
]

INVALID_TORTURE = [
    "INVITE sip:{user}@127.0.0.1:{port} SIP/2.0\r\nContent-Length: 9999\r\n\r\nshort",
    "INVITE sip:{user}@127.0.0.1:{port} SIP/7.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{src}\r\n\r\n",
    "OPTIONS sip:{user}@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{src};"
    "branch=z9hG4bK{b}\r\nCSeq: -5 OPTIONS\r\nCall-ID: neg.{b}\r\n"
    "From: <sip:a@b>;tag=3\r\nTo: <sip:c@d>\r\nMax-Forwards: -1\r\n\r\n",
    "INVITE sip:{user}@127.0.0.1:{port} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{src};branch=z9hG4bK{b}\r\n"
    "From: \"unterminated <sip:a@b>;tag=4\r\nTo: <sip:c@d\r\nCall-ID: {b}\r\n"
    "CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 20\r\n\r\n"
    "v=0\r\no=- 1 1 IN IP4 \r\n",
    "NOTAMETHOD\r\n\r\n",
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKnotours\r\n\r\n",
    "INVITE sip:{user}@127.0.0.1:{port} SIP/2.0\r\n" + "X-Long: " + "a" * 5000 + "\r\n\r\n",
    "\x00\x01\x02\x03" * 100,
    "INVITE <sip:{user}@127.0.0.1:{port}> SIP/2.0\r\n\r\n",
]

REAL_INVITE = (
    "INVITE sip:{user}@127.0.0.1:{port} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{src};rport;branch=z9hG4bK{b}\r\n"
    "Max-Forwards: 70\r\nFrom: <sip:fuzz@127.0.0.1>;tag={b}\r\n"
    "To: <sip:{user}@127.0.0.1:{port}>\r\nContact: <sip:fuzz@127.0.0.1:{src}>\r\n"
    "Call-ID: fz{b}@127.0.0.1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
    "Content-Length: {len}\r\n\r\n{sdp}")
SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 4999 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
       "a=rtpmap:101 telephone-event/8000\r\n")
REAL_MESSAGE = (
    "MESSAGE sip:{user}@127.0.0.1:{port} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{src};branch=z9hG4bK{b}\r\nMax-Forwards: 70\r\n"
    "From: <sip:fuzz@127.0.0.1>;tag={b}\r\nTo: <sip:{user}@127.0.0.1>\r\n"
    "Call-ID: fm{b}\r\nCSeq: 2 MESSAGE\r\nContent-Type: text/plain\r\n"
    "Content-Length: 5\r\n\r\nhello")
REAL_REGISTER = (
    "REGISTER sip:127.0.0.1:{port} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{src};branch=z9hG4bK{b}\r\nMax-Forwards: 70\r\n"
    "From: <sip:fuzz@127.0.0.1>;tag={b}\r\nTo: <sip:fuzz@127.0.0.1>\r\n"
    "Call-ID: fr{b}\r\nCSeq: 3 REGISTER\r\nContact: <sip:fuzz@127.0.0.1:{src}>\r\n"
    "Expires: 60\r\nContent-Length: 0\r\n\r\n")

def _mutate(rnd: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rnd.randint(1, 8)):
        op = rnd.random()
        pos = rnd.randrange(len(buf)) if buf else 0
        if op < 0.3 and buf:
            buf[pos] = rnd.randrange(256)
        elif op < 0.5:
            buf[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 20)))
        elif op < 0.7 and buf:
            del buf[pos:pos + rnd.randint(1, 40)]
        elif op < 0.85:
            buf[pos:pos] = rnd.choice([b"\r\n", b":", b";", b"<", b">", b"\"", b"%", b"\x00",
                                       b"\r\n\r\n", b" SIP/2.0", b"Content-Length: 999999\r\n"])
        else:
            buf = buf[: rnd.randrange(len(buf) + 1)]
    return bytes(buf)


def test_hostile_network_input() -> None:
    target = start_scenario(robustness.target)
    try:
        line = target.stdout.readline()
        assert line.startswith("PORT"), target.stderr.read()
        port = int(line.split()[1])
        rnd = random.Random(4475)
        sent = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            src = s.getsockname()[1]
            s.settimeout(0.001)

            def fill(t: str, b: str) -> bytes:
                return t.format(user="target", port=port, src=src, b=b, len=len(SDP),
                                sdp=SDP).encode("latin-1")

            for i, t in enumerate(VALID_TORTURE + INVALID_TORTURE):
                s.sendto(fill(t, f"t{i}"), ("127.0.0.1", port))
                sent += 1
            seeds = [REAL_INVITE, REAL_MESSAGE, REAL_REGISTER]
            for i in range(1500):
                s.sendto(_mutate(rnd, fill(rnd.choice(seeds), f"m{i}")), ("127.0.0.1", port))
                sent += 1
                if i % 50 == 0:
                    time.sleep(0.01)
                    try:
                        while True:
                            s.recv(65535)
                    except OSError:
                        pass
        time.sleep(1.0)
        assert target.poll() is None, f"the UA died: {target.stderr.read()[-3000:]}"
        out, err = communicate(target, "go\n", timeout=60, what="the user agent")
    finally:
        if target.poll() is None:
            target.kill()
    assert target.returncode == 0, err[-3000:]
    lines = [ln for ln in out.splitlines() if ln.startswith("@@REPORT@@")]
    assert lines, err[-3000:]
    r = json.loads(lines[0].split(" ", 1)[1])
    print(f"hostile input: {sent} datagrams, {r['events']} callbacks delivered")
    assert r["ok"] is True and r["final"][1] == "DISCONNECTED"
    assert r["odd"] == []  # callbacks got text and numbers only (MessageBody is a str)
