"""Scenarios of tests/test_calls.py (each runs in its own process)."""

from __future__ import annotations

import gc
import time
from typing import Any, List

import pjsua_ffi as pj
from tests.scenarios import main
from tests.scenarios.common import self_call, three_parties
from tests.support import (
    AnsweringAccount,
    CallLog,
    Events,
    raises,
    report,
    states,
    ua_account,
    ua_lib,
    uri_of,
    wait_for,
)


def call_states_and_codes_in_one_process() -> None:
    lib, tp, acc, _, call, ev_a, ev_b = self_call()
    assert ev_a.has(("state", "CONFIRMED", 200, "OK"))
    assert ev_b.has(("state", "CONFIRMED", 200, "OK"))
    during = call.info()
    time.sleep(1.1)
    later = call.info()
    call.hangup()
    assert ev_a.wait(lambda i: any(e[:2] == ("state", "DISCONNECTED") for e in i))
    assert ev_b.wait(lambda i: any(e[:2] == ("state", "DISCONNECTED") for e in i))
    report(a=[e for e in ev_a.items if e[0] == "state"],
           b=[e for e in ev_b.items if e[0] in ("state", "incoming")],
           role=int(during.role), remote=during.remote_uri, call_time=later.call_time,
           valid_after=call.is_valid(), final=raises(call.info))
    lib.destroy()


def snapshots_outlive_their_events() -> None:
    lib, (tp,) = ua_lib()
    ev_b = Events()
    kept = []
    class Keep(pj.CallCallback):
        def on_state(self):
            kept.append(self.call.info())  # no field is read here
    acc = ua_account(lib, tp, cb=AnsweringAccount(ev_b))
    call = acc.make_call(uri_of(tp), Keep())
    assert ev_b.has(("state", "CONFIRMED", 200, "OK"))
    time.sleep(0.2)
    call.hangup()
    assert wait_for(lambda: len(kept) >= 5)
    gc.collect()
    lib.destroy()
    _junk = [bytearray(b"x" * 4096) for _ in range(4000)]  # reuse what was freed
    report(states=[i.state.name for i in kept], texts=[i.state_text for i in kept],
           codes=[i.last_code for i in kept], ids=sorted({i.sip_call_id for i in kept}),
           remote=kept[0].remote_uri, roles=sorted({int(i.role) for i in kept}),
           last=str([getattr(kept[-1], f) for f in ("state_text", "last_code", "last_reason",
                                                     "media_state", "conf_slot")]),
           acc_ok=kept[0].account is acc)


def rejected_and_cancelled_calls() -> None:
    lib, (tp,) = ua_lib()
    out = {}

    def done(ev: Events) -> List[Any]:
        return [e for e in ev.items if e[:2] == ("state", "DISCONNECTED")]

    for codes, name in (((486,), "busy"), ((180, 603), "declined"), ((180,), "cancelled")):
        ev_a, ev_b = Events(), Events()
        acc = ua_account(lib, tp, cb=AnsweringAccount(ev_b, codes=codes))
        call = acc.make_call(uri_of(tp), CallLog(ev_a))
        if name == "cancelled":
            assert ev_a.has(("state", "EARLY", 180, "Ringing"))
            call.hangup()
        assert ev_a.wait(lambda i: done(ev_a))  # noqa: B023  (waited for at once)
        assert ev_b.wait(lambda i: done(ev_b))  # noqa: B023
        out[name] = done(ev_a)[0][2:]
        out[name + "_callee"] = done(ev_b)[0][2:]
        acc.delete()
    report(**out)
    lib.destroy()


def hold_unhold_reinvite_update() -> None:
    lib, tp, acc, _, call, ev_a, ev_b = self_call()
    assert ev_a.has(("state", "CONFIRMED", 200, "OK"))
    assert ev_a.wait(lambda i: any(e[:2] == ("media", "ACTIVE") for e in i))
    def media(ev):
        return [e[1] for e in ev.items if e[0] == "media"]
    call.hold()
    assert ev_a.wait(lambda i: media(ev_a)[-1] == "LOCAL_HOLD")
    assert ev_b.wait(lambda i: media(ev_b)[-1] == "REMOTE_HOLD")
    held = call.info().media_state.name
    call.unhold()
    assert ev_a.wait(lambda i: media(ev_a)[-1] == "ACTIVE")
    assert ev_b.wait(lambda i: media(ev_b)[-1] == "ACTIVE")
    n = len(media(ev_a))
    call.reinvite()
    assert ev_a.wait(lambda i: len(media(ev_a)) > n)
    n = len(media(ev_a))
    call.update()
    assert ev_a.wait(lambda i: len(media(ev_a)) > n)
    report(a=media(ev_a), b=media(ev_b), held=held, state=call.info().state.name)
    call.hangup()
    lib.destroy()


def dtmf_both_ways() -> None:
    lib, tp, acc, answer, call, ev_a, ev_b = self_call()
    assert ev_a.wait(lambda i: any(e[:2] == ("media", "ACTIVE") for e in i))
    assert ev_b.wait(lambda i: any(e[:2] == ("media", "ACTIVE") for e in i))
    call.dial_dtmf("123#")
    answer.calls[0].dial_dtmf("*9A")
    def digits(ev):
        return "".join(e[1] for e in ev.items if e[0] == "dtmf")
    assert ev_b.wait(lambda i: len(digits(ev_b)) >= 4, 10)
    assert ev_a.wait(lambda i: len(digits(ev_a)) >= 3, 10)
    report(at_b=digits(ev_b), at_a=digits(ev_a))
    lib.destroy()


def custom_headers_reach_the_peer() -> None:
    lib, _, _, _, call, ev_a, ev_b = self_call(hdr_list=[("X-Case", "invite-42")])
    assert ev_a.has(("state", "CONFIRMED", 200, "OK"))
    call.send_request("INFO", hdr_list=[("X-Info", "hello there")],
                      content_type="application/x-test", body="payload=1")
    assert ev_b.wait(lambda i: any(e[0] == "request" for e in i))
    invite = [e for e in ev_b.items if e[0] == "incoming"][0][2]
    info = [e for e in ev_b.items if e[0] == "request"][0]
    call.hangup()
    report(invite=invite, method=info[1], info=info[2])
    lib.destroy()


def tcp_call() -> None:
    lib, tps = ua_lib(transports=("tcp",))
    tp = tps[0]
    ev_a, ev_b = Events(), Events()
    acc = ua_account(lib, tp, cb=AnsweringAccount(ev_b))
    call = acc.make_call(uri_of(tp), CallLog(ev_a))
    ok = ev_a.has(("state", "CONFIRMED", 200, "OK"))
    incoming = [e for e in ev_b.items if e[0] == "incoming"][0][2]
    call.hangup()
    assert ev_a.wait(lambda i: any(e[:2] == ("state", "DISCONNECTED") for e in i))
    report(ok=ok, kind=tp.info().type, reliable=tp.info().is_reliable, invite=incoming)
    lib.destroy()


def blind_transfer() -> None:
    lib, tps, _, _, _, b_cb, _, ev_a, ev_b, ev_c = three_parties()
    b_call = b_cb.calls[0]
    b_call.transfer(uri_of(tps[2], "c"))
    assert ev_c.wait(lambda i: any(e[:2] == ("state", "CONFIRMED") for e in i), 10)
    assert ev_b.wait(lambda i: any(e[0] == "transfer_status" and e[3] for e in i), 10)
    report(request=[e for e in ev_a.items if e[0] == "transfer_request"],
           status=[e for e in ev_b.items if e[0] == "transfer_status"],
           c_from=[e[1] for e in ev_c.items if e[0] == "incoming"])
    lib.destroy()


def attended_transfer() -> None:
    lib, tps = ua_lib(transports=("udp", "udp", "udp"))
    ev_a, ev_b1, ev_b2, ev_c = Events(), Events(), Events(), Events()
    _a = ua_account(lib, tps[0], "a", cb=AnsweringAccount(ev_a))
    b = ua_account(lib, tps[1], "b", cb=AnsweringAccount(Events()), set_default=False)
    c_cb = AnsweringAccount(ev_c)
    _c = ua_account(lib, tps[2], "c", cb=c_cb, set_default=False)
    # B calls A, then B calls C; B joins A and C together.
    call1 = b.make_call(uri_of(tps[0], "a"), CallLog(ev_b1))
    call2 = b.make_call(uri_of(tps[2], "c"), CallLog(ev_b2))
    assert ev_b1.has(("state", "CONFIRMED", 200, "OK"))
    assert ev_b2.has(("state", "CONFIRMED", 200, "OK"))
    call1.transfer_to_call(call2)
    assert ev_c.wait(lambda i: any(e[0] == "replaced" for e in i), 10)
    assert ev_b2.wait(lambda i: any(e[:2] == ("state", "DISCONNECTED") for e in i), 10)

    def after() -> List[Any]:
        return ev_c.items[[e[0] for e in ev_c.items].index("replaced"):]

    assert ev_c.wait(lambda i: ("state", "CONFIRMED", 200, "OK") in after(), 10)
    new_id = [e for e in ev_c.items if e[0] == "replaced"][0][1]
    new_call_states = [e[1] for e in after() if e[0] == "state"]
    report(replaced=new_id, incoming=len(c_cb.calls), c_states=new_call_states,
           b2=states(ev_b2), a_states=states(ev_a))
    lib.destroy()


def callee() -> None:
    lib, (tp,) = ua_lib()
    ev = Events()
    _acc = ua_account(lib, tp, cb=AnsweringAccount(ev))
    print("PORT", tp.info().port, flush=True)
    assert ev.wait(lambda i: any(e[:2] == ("state", "DISCONNECTED") for e in i), 20)
    report(states=states(ev), incoming=[e[1] for e in ev.items if e[0] == "incoming"])
    lib.destroy()


def caller(port: str) -> None:
    lib, (tp,) = ua_lib()
    ev = Events()
    acc = ua_account(lib, tp, "caller")
    call = acc.make_call(f"sip:callee@127.0.0.1:{port}", CallLog(ev))
    assert ev.has(("state", "CONFIRMED", 200, "OK"))
    assert ev.wait(lambda i: any(e[:2] == ("media", "ACTIVE") for e in i))
    time.sleep(0.3)
    call.hangup(200)
    assert ev.wait(lambda i: any(e[:2] == ("state", "DISCONNECTED") for e in i))
    report(states=states(ev))
    lib.destroy()


def account_and_call_utilities() -> None:
    lib, (tp, tp2) = ua_lib(transports=("udp", "udp"))
    ev_b = Events()
    b = ua_account(lib, tp2, "b", cb=AnsweringAccount(ev_b, codes=(200,)), set_default=False)
    a = ua_account(lib, tp, "a")
    out = {"default_a": a.is_default(), "default_b": b.is_default()}
    b.set_default()
    out["default_after"] = (a.is_default(), b.is_default())
    cfg = pj.AccountConfig()
    cfg.id = f"sip:renamed@127.0.0.1:{tp.info().port}"
    cfg.transport_id = tp._id
    cfg.rtp_transport_cfg = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
    lib.modify_account(a, cfg)
    out["renamed"] = a.info().uri
    a.set_transport(tp)
    logs = [Events() for _ in range(3)]
    calls = [a.make_call(uri_of(tp2, "b"), CallLog(e)) for e in logs]
    for e in logs:
        assert e.has(("state", "CONFIRMED", 200, "OK"))
    info = calls[0].info()
    out["fields"] = [info.uri, info.contact, info.remote_uri, bool(info.sip_call_id),
                     info.state_text, info.media_state.name, info.conf_slot >= 0,
                     info.account is a]
    out["dump"] = calls[0].dump_status()
    out["incoming_from"] = [e[1] for e in ev_b.items if e[0] == "incoming"]
    tinfo = tp.info()
    out["transport"] = [tinfo.type, tinfo.host, tinfo.port > 0, tinfo.is_datagram,
                        tinfo.is_reliable, tinfo.ref_cnt >= 1, bool(tinfo.description)]
    lib.hangup_all()
    for e in logs:
        assert e.wait(lambda i: any(x[:2] == ("state", "DISCONNECTED") for x in i))
    out["after_hangup_all"] = [c.is_valid() for c in calls]
    lib.destroy()
    out["after_destroy"] = [c.is_valid() for c in calls]
    report(**out)


if __name__ == "__main__":
    main(globals())
