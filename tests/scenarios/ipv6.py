"""Scenarios of tests/test_ipv6.py (each runs in its own process)."""

from __future__ import annotations

from tests.media_support import only_codec, wait_media, wait_state
from tests.scenarios import main
from tests.secure_support import ToneProbe
from tests.support import AnsweringAccount, CallLog, Events, report, ua_account, ua_lib, uri_of


def call_over_loopback_with_audio(kind: str) -> None:
    lib, tps = ua_lib(transports=(kind, kind))
    only_codec(lib, "PCMU/8000/1")
    pa, pb = ToneProbe(lib, 440), ToneProbe(lib, 1000)
    ev_a, ev_b = Events(), Events()
    a = ua_account(lib, tps[0], "a")
    _b = ua_account(lib, tps[1], "b", set_default=False,
                    cb=AnsweringAccount(ev_b, connect_to=pb.sink.slot,
                                        connect_from=pb.source.slot))
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
    report(info=info, invite=invite, heard_a=heard_a, heard_b=heard_b,
           uri=uri_of(tps[1], "b"), local_rtp=m.local_rtp)
    lib.destroy()


def offer(uri: str) -> None:
    lib, (tp,) = ua_lib(enable_ice=True)
    acc = lib.create_account_for_transport(tp, cb=AnsweringAccount(Events()))
    ev = Events()
    acc.make_call(uri, CallLog(ev))
    wait_state(ev, "DISCONNECTED")
    report(last=[e for e in ev.items if e[0] == "state"][-1])
    lib.destroy()


if __name__ == "__main__":
    main(globals())
