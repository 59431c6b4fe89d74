"""IPv6: UDP and TCP transports on ::1, and calls whose signalling and audio use ::1."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.media_support import scenario_head
from tests.peers.sipp import Sipp
from tests.support import run_scenario

pytest.importorskip("numpy")

CALL = scenario_head("pjffi-ipv6-") + """
from tests.secure_support import ToneProbe
kind = sys.argv[1]
lib, tps = ua_lib(transports=(kind, kind))
only_codec(lib, "PCMU/8000/1")
pa, pb = ToneProbe(lib, 440), ToneProbe(lib, 1000)
ev_a, ev_b = Events(), Events()
a = ua_account(lib, tps[0], "a")
b = ua_account(lib, tps[1], "b", set_default=False,
               cb=AnsweringAccount(ev_b, connect_to=pb.sink.slot, connect_from=pb.source.slot))
call = a.make_call(uri_of(tps[1], "b"), CallLog(ev_a, connect_to=pa.sink.slot,
                                                 connect_from=pa.source.slot))
wait_state(ev_a, "CONFIRMED")
wait_media(ev_a)
wait_media(ev_b)
heard_a, heard_b = pa.heard(1.0), pb.heard(1.0)
invite = [e for e in ev_b.items if e[0] == "incoming"][0][2]
info = [(t.info().type, t.info().host, t.info().is_reliable) for t in tps]
m = call.media_transport_info()
call.hangup()
wait_state(ev_b, "DISCONNECTED")
report(info=info, invite=invite, heard_a=heard_a, heard_b=heard_b, uri=uri_of(tps[1], "b"),
       local_rtp=m.local_rtp)
lib.destroy()
"""


@pytest.mark.parametrize("kind", ["udp6", "tcp6"])
def test_ipv6_call_over_loopback_with_audio(kind: str) -> None:
    r = run_scenario(textwrap.dedent(CALL), kind, timeout=60)
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


OFFER = scenario_head("pjffi-ipv6-") + """
lib, (tp,) = ua_lib(enable_ice=True)
acc = lib.create_account_for_transport(tp, cb=AnsweringAccount(Events()))
ev = Events()
acc.make_call(sys.argv[1], CallLog(ev))
wait_state(ev, "DISCONNECTED")
report(last=[e for e in ev.items if e[0] == "state"][-1])
lib.destroy()
"""


def test_ipv6_media_stays_off_for_a_local_account_on_an_ipv4_transport(
        tmp_path: Path) -> None:
    # pjproject built with IPv6 lets ICE offer IPv6 addresses by default; an account
    # made for an IPv4 transport keeps its media on IPv4, as before IPv6 was built in.
    # SIPp refuses the call, so only the offer is sent (no media, no ICE checks).
    with Sipp("reject_488", tmp_path) as sipp:
        r = run_scenario(textwrap.dedent(OFFER), sipp.uri, timeout=60)
        assert sipp.wait() == 0, sipp.errors()
        offer = sipp.messages()
    assert r["last"][2] == 488
    assert "a=candidate:" in offer and "c=IN IP4 " in offer
    assert "IP6" not in offer and not re.search(r"a=candidate:.* [0-9a-f]*:[0-9a-f:]+ ", offer)
