"""IPv6: UDP and TCP transports on ::1, and calls whose signalling and audio use ::1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.peers.sipp import Sipp
from tests.scenarios import ipv6
from tests.support import run_scenario

pytest.importorskip("numpy")

@pytest.mark.parametrize("kind", ["udp6", "tcp6"])
def test_ipv6_call_over_loopback_with_audio(kind: str) -> None:
    r = run_scenario(ipv6.call_over_loopback_with_audio, kind, timeout=60)
    assert all(host == "::1" for _, host, _ in r["info"]), r["info"]
    assert all(rel == (kind == "tcp6") for _, _, rel in r["info"])
    assert r["uri"].startswith("sip:b@[::1]:")
    head = r["invite"].split("\r\n")
    via = next(h for h in head if h.startswith("Via:"))
    assert f"SIP/2.0/{kind[:3].upper()} [::1]:" in via
    assert "c=IN IP6 ::1" in r["invite"]
    assert r["local_rtp"].startswith("[::1]:")
    assert r["heard_a"]["rms"] > 1000 and abs(r["heard_a"]["freq"] - 1000) < 20, r["heard_a"]
    assert r["heard_b"]["rms"] > 1000 and abs(r["heard_b"]["freq"] - 440) < 20, r["heard_b"]


def test_ipv6_media_stays_off_for_a_local_account_on_an_ipv4_transport(
        tmp_path: Path) -> None:
    # pjproject built with IPv6 lets ICE offer IPv6 addresses by default; an account
    # made for an IPv4 transport keeps its media on IPv4, as before IPv6 was built in.
    # SIPp refuses the call, so only the offer is sent (no media, no ICE checks).
    with Sipp("reject_488", tmp_path) as sipp:
        r = run_scenario(ipv6.offer, sipp.uri, timeout=60)
        assert sipp.wait() == 0, sipp.errors()
        offer = sipp.messages()
    assert r["last"][2] == 488
    assert "a=candidate:" in offer and "c=IN IP4 " in offer
    assert "IP6" not in offer and not re.search(r"a=candidate:.* [0-9a-f]*:[0-9a-f:]+ ", offer)
