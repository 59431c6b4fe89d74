"""Awkward SIP exchanges scripted with SIPp (Debian's ``sip-tester``), our scenarios
in ``tests/sipp/``: each test checks that SIPp's scenario ran to its end (what we
sent was right) and what our callbacks reported."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.peers.sipp import Sipp
from tests.support import wait_for
from tests.ua_peer import Peer

pytest.importorskip("numpy")

if shutil.which("sipp") is None:
    pytest.skip("sipp is not installed (tools/dev installs it)", allow_module_level=True)

PASSWORD = "secret"

SETUP = f"""
from tests.secure_support import ToneProbe
from tests.support import AnsweringAccount, CallLog, Events
from tests.media_support import only_codec
ua = pj.UAConfig()
ua.follow_redirects = True
LIB, tps = start(transports=("udp", "udp"), ua=ua)
only_codec(LIB, "PCMU/8000/1")
PROBE = ToneProbe(LIB, 440)
CB = AnsweringAccount(EV, connect_to=PROBE.sink.slot, connect_from=PROBE.source.slot)
cfg = pj.AccountConfig()
cfg.id = uri_of(tps[0], "alice")
cfg.transport_id = tps[0]._id
cfg.rtp_transport_cfg = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
cfg.auth_cred = [pj.AuthCred("*", "alice", {PASSWORD!r})]
ACC = LIB.create_account(cfg, cb=CB)
EV2 = Events()   # the redirect target's events
TARGET = ua_account(LIB, tps[1], "target", cb=AnsweringAccount(EV2), set_default=False)

def call(uri):
    global CALL
    CALL = ACC.make_call(uri, CallLog(EV, connect_to=PROBE.sink.slot,
                                      connect_from=PROBE.source.slot))

def states():
    return [e[1:] for e in EV.items if e[0] == "state"]
"""


@pytest.fixture(scope="module")
def us_module() -> Iterator[Peer]:
    with Peer("us") as us:
        us.run(SETUP)
        yield us


@pytest.fixture
def us(us_module: Peer) -> Peer:
    us_module.run("EV.items.clear(); EV2.items.clear()")
    return us_module


def _wait_state(us: Peer, name: str, timeout: float = 10.0) -> list:
    return us.run(f"result = wait_event(lambda e: e[:2] == ('state', {name!r}), {timeout})")


def test_sipp_183_early_media_then_200(us: Peer, tmp_path: Path) -> None:
    with Sipp("early_media", tmp_path, rtp_echo=True) as sipp:
        us.run(f"call({sipp.uri!r})")
        assert _wait_state(us, "EARLY")[2:] == [183, "Session Progress"]
        us.run("wait_event(lambda e: e[:2] == ('media', 'ACTIVE'))")
        # SIPp echoes our RTP during early media: we hear our own tone before the 200.
        early = us.run("result = PROBE.heard(0.6, skip=0.2); EV.add(('heard',))")
        _wait_state(us, "CONFIRMED")
        us.run("CALL.hangup()")
        assert sipp.wait() == 0, sipp.errors()
    items = us.run("result = [e[:2] for e in EV.items]")
    assert items.index(["heard"]) < items.index(["state", "CONNECTING"]), items
    assert early["rms"] > 1000 and abs(early["freq"] - 440) < 20, early
    assert [s[0] for s in us.run("result = states()")] == [
        "CALLING", "EARLY", "CONNECTING", "CONFIRMED", "DISCONNECTED"]


def test_sipp_cancel_racing_200_is_acked_and_ended_with_bye(us: Peer, tmp_path: Path) -> None:
    with Sipp("cancel_race", tmp_path) as sipp:
        us.run(f"call({sipp.uri!r})")
        _wait_state(us, "EARLY")
        us.run("CALL.hangup()")  # CANCEL; SIPp's 200 for the INVITE crosses it
        assert sipp.wait() == 0, sipp.errors()
        got = [r.split()[0] for r in sipp.requests()]
    assert got == ["INVITE", "CANCEL", "ACK", "BYE"]
    seen = us.run("result = states()")
    assert [s[0] for s in seen] == ["CALLING", "EARLY", "DISCONNECTED"], seen


def test_sipp_reinvite_glare_491_both_ways_keeps_the_call(us: Peer, tmp_path: Path) -> None:
    with Sipp("glare_491", tmp_path) as sipp:
        us.run(f"call({sipp.uri!r})")
        _wait_state(us, "CONFIRMED")
        # Our re-INVITE (hold) crosses SIPp's (which would put us on hold): we must
        # refuse SIPp's with 491, and SIPp refuses ours with 491.
        us.run("CALL.hold()")
        assert wait_for(lambda: [r.split()[0] for r in sipp.requests()].count("ACK") == 2)
        after = us.run("i = CALL.info(); result = [i.state.name, i.media_state.name]")
        us.run("CALL.hangup()")
        assert sipp.wait() == 0, sipp.errors()  # our 491 and our ACK were right
        got = sipp.requests()
    assert [r.split()[0] for r in got] == ["INVITE", "ACK", "INVITE", "SIP/2.0", "ACK",
                                           "BYE"]
    assert got[3].startswith("SIP/2.0 491 ")
    assert after == ["CONFIRMED", "ACTIVE"]  # neither hold took effect
    media = us.run("result = [e[1] for e in EV.items if e[0] == 'media']")
    assert "LOCAL_HOLD" not in media and "REMOTE_HOLD" not in media


def test_sipp_bye_before_ack_ends_our_answered_call(us: Peer, tmp_path: Path) -> None:
    port = us.run("result = tps[0].info().port")
    with Sipp("bye_before_ack", tmp_path, remote=f"127.0.0.1:{port}",
              service="alice") as sipp:
        assert sipp.wait() == 0, sipp.errors()
        assert sipp.requests() == ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing",
                                   "SIP/2.0 200 OK", "SIP/2.0 200 OK"]
    last = _wait_state(us, "DISCONNECTED")
    assert last[2:] == [200, "Normal call clearing"]
    seen = [s[0] for s in us.run("result = states()")]
    assert seen == ["EARLY", "CONNECTING", "DISCONNECTED"]  # never CONFIRMED


def test_sipp_302_redirect_is_followed(us: Peer, tmp_path: Path) -> None:
    target = us.run("result = uri_of(tps[1], 'target')")
    with Sipp("redirect_302", tmp_path, keys={"target": target}) as sipp:
        us.run(f"call({sipp.uri!r})")
        _wait_state(us, "CONFIRMED")
        assert sipp.wait() == 0, sipp.errors()  # got our ACK for the 302
    # The target account got the call, and our call is now with it.
    assert us.run("result = [e[:2] for e in EV2.items][:1]") == [["incoming",
                                                                  "<sip:alice@127.0.0.1>"]]
    assert us.run("result = CALL.info().remote_contact").startswith("<sip:target@127.0.0.1")
    us.run("CALL.hangup()")
    assert us.run("result = wait_event(lambda e: e[:2] == ('state', 'DISCONNECTED'))")


def test_sipp_407_on_invite_is_answered_with_credentials(us: Peer, tmp_path: Path) -> None:
    with Sipp("auth_407", tmp_path) as sipp:
        us.run(f"call({sipp.uri!r})")
        _wait_state(us, "CONFIRMED")
        us.run("CALL.hangup()")
        assert sipp.wait() == 0, sipp.errors()
        log = sipp.messages()
    # The retried INVITE carries a digest that is right for our password.
    auth = re.search(r"Proxy-Authorization: Digest (.*)", log)
    assert auth, log[-3000:]
    f = dict(re.findall(r'(\w+)="([^"]*)"', auth.group(1)))
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    ha1 = md5(f"{f['username']}:{f['realm']}:{PASSWORD}")
    assert f["username"] == "alice" and f["realm"] == "sipp.test"
    assert f["response"] == md5(f"{ha1}:{f['nonce']}:{md5('INVITE:' + f['uri'])}")
    seen = [s[0] for s in us.run("result = states()")]
    assert seen == ["CALLING", "CONNECTING", "CONFIRMED", "DISCONNECTED"]


def test_sipp_session_timer_refresh_is_answered_and_keeps_the_call(
        us: Peer, tmp_path: Path) -> None:
    port = us.run("result = tps[0].info().port")
    with Sipp("session_timer", tmp_path, remote=f"127.0.0.1:{port}",
              service="alice") as sipp:
        assert sipp.wait() == 0, sipp.errors()  # both 200s carried the timer
        got = sipp.requests()
    assert got.count("SIP/2.0 200 OK") == 3  # INVITE, refresh, BYE
    assert _wait_state(us, "DISCONNECTED")[2:] == [200, "Normal call clearing"]
    # The refresh is a re-INVITE with the same SDP: the call stays confirmed (one
    # CONFIRMED), and media is reported active again after it.
    seen = [s[0] for s in us.run("result = states()")]
    assert seen == ["EARLY", "CONNECTING", "CONFIRMED", "DISCONNECTED"]
    media = us.run("result = [e[1] for e in EV.items if e[0] == 'media']")
    assert media == ["ACTIVE", "ACTIVE"], media
