"""SRTP: encrypted calls between two processes with audio checked each way, SDES keys
in the SDP, and what happens when one side insists on SRTP and the other refuses it."""

from __future__ import annotations

import json
from textwrap import dedent
from typing import Any, Dict, Tuple

import pytest

from tests.secure_support import make_pki, sniff_udp_payloads, ulaw_tone_share
from tests.ua_peer import Peer

pytest.importorskip("numpy")

F_CALLER, F_CALLEE = 440.0, 1000.0


def _setup(peer: Peer, name: str, freq: float, use_srtp: int, secure: int, kind: str,
           pki: Dict[str, str]) -> str:
    """Start ``peer`` with one account (SRTP settings given) that answers calls and
    plays ``freq``; return its URI."""
    return peer.run(dedent(f"""
        import json
        from tests.secure_support import ToneProbe, make_tls
        from tests.support import AnsweringAccount, CallLog
        from tests.media_support import only_codec
        P = json.loads({json.dumps(pki)!r})
        TLS = make_tls(P, cert="server") if {kind!r} == "tls" else None
        LIB, tps = start(transports=({kind!r},), tls=TLS)
        only_codec(LIB, "PCMU/8000/1")
        PROBE = ToneProbe(LIB, {freq})
        cfg = pj.AccountConfig()
        cfg.id = uri_of(tps[0], {name!r})
        cfg.transport_id = tps[0]._id
        cfg.rtp_transport_cfg = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
        cfg.use_srtp = {use_srtp}
        cfg.srtp_secure_signaling = {secure}
        CB = AnsweringAccount(EV, connect_to=PROBE.sink.slot, connect_from=PROBE.source.slot)
        ACC = LIB.create_account(cfg, cb=CB)
        result = cfg.id
        """))


@pytest.fixture
def pair() -> Any:
    with Peer("caller") as caller, Peer("callee") as callee:
        yield caller, callee


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _call(caller: Peer, uri: str) -> Any:
    return caller.run(f"""
        CALL = ACC.make_call({uri!r}, CallLog(EV, connect_to=PROBE.sink.slot,
                                              connect_from=PROBE.source.slot))
        result = wait_event(lambda e: e[0] == "state" and e[1] in
                            ("CONFIRMED", "DISCONNECTED"), 10)
        """)


MEDIA = """
wait_event(lambda e: e[:2] == ("media", "ACTIVE"))
call = CALL if "CALL" in globals() else CB.calls[0]
m = call.media_transport_info()
result = {"srtp": m.srtp_active, "suite": m.srtp_suite, "dump": call.dump_status(),
          "heard": PROBE.heard(1.0), "rtp": m.local_rtp}
"""


@pytest.mark.parametrize("kind,use,secure", [("udp", 2, 0), ("tls", 2, 1), ("udp", 0, 0)])
def test_srtp_mandatory_both_sides_gives_an_encrypted_call_with_audio(
        pair: Tuple[Peer, Peer], pki: Dict[str, str], kind: str, use: int,
        secure: int) -> None:
    """Both sides mandatory: encrypted on the wire, clear at each end. The last case
    (no SRTP) shows that the wire check does see a plain tone."""
    caller, callee = pair
    _setup(caller, "caller", F_CALLER, use, secure, kind, pki)
    uri = _setup(callee, "callee", F_CALLEE, use, secure, kind, pki)
    if secure:  # srtp_secure_signaling=1 wants a TLS hop; 2 would want sips: end to end
        assert uri.endswith(";transport=tls")
    assert _call(caller, uri) == ["state", "CONFIRMED", 200, "OK"]
    invite = callee.run("result = wait_event(lambda e: e[0] == 'incoming')[2]")
    assert "m=audio" in invite
    assert (("RTP/SAVP" in invite and "a=crypto:" in invite) if use else
            ("RTP/AVP" in invite and "a=crypto:" not in invite))
    got = {}
    for name, peer in (("caller", caller), ("callee", callee)):
        got[name] = peer.run(MEDIA)
    # What travels to the callee's RTP port, read as PCMU: noise when encrypted.
    wire = sniff_udp_payloads(int(got["callee"]["rtp"].rsplit(":", 1)[1]), 0.6)
    assert len(wire) > 10
    share = ulaw_tone_share(wire, F_CALLER)
    for name, other in (("caller", F_CALLEE), ("callee", F_CALLER)):
        g = got[name]
        assert g["srtp"] is bool(use), (name, g["suite"])
        assert g["suite"].startswith("AES") if use else g["suite"] == ""
        assert ("SRTP status: Active" if use else "SRTP status: Not active") in g["dump"]
        assert g["heard"]["rms"] > 1000 and abs(g["heard"]["freq"] - other) < 20, (name, g)
    assert share < 0.1 if use else share > 0.8, share
    caller.run("CALL.hangup()")
    callee.run("wait_event(lambda e: e[:2] == ('state', 'DISCONNECTED'))")


@pytest.mark.parametrize("caller_srtp,callee_srtp", [(2, 0), (0, 2)])
def test_srtp_mandatory_against_disabled_fails_with_a_clear_reason(
        pair: Tuple[Peer, Peer], pki: Dict[str, str], caller_srtp: int,
        callee_srtp: int) -> None:
    caller, callee = pair
    _setup(caller, "caller", F_CALLER, caller_srtp, 0, "udp", pki)
    uri = _setup(callee, "callee", F_CALLEE, callee_srtp, 0, "udp", pki)
    last = _call(caller, uri)
    assert last[:3] == ["state", "DISCONNECTED", 488], last
    assert last[3] == "Not Acceptable Here"
    # The callee never had a call with media up.
    assert callee.run("result = [e for e in EV.items if e[:2] == ('media', 'ACTIVE')]") == []
