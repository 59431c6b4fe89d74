"""Scenarios of tests/test_registration.py: accounts registered at the test's kamailio
(its port is each scenario's first argument)."""

from __future__ import annotations

from typing import Any, List

import pjsua_ffi as pj
from tests.scenarios import main
from tests.support import AnsweringAccount, CallLog, Events, report, states, ua_lib


def account(port: str, lib: pj.Lib, tp: pj.Transport, user: str, password: str,
            events: Events, transport: str = "") -> pj.Account:
    reg = f"sip:127.0.0.1:{int(port)}" + (";transport=" + transport if transport else "")
    cfg = pj.AccountConfig("127.0.0.1", user, password, registrar=reg, proxy=reg)
    cfg.transport_id = tp._id
    cfg.rtp_transport_cfg = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
    return lib.create_account(cfg, cb=AnsweringAccount(events))


def regs(ev: Events) -> List[Any]:
    return [e for e in ev.items if e[0] == "reg"]


def register_with_right_and_wrong_password(port: str, transport: str) -> None:
    lib, (tp,) = ua_lib(transports=(transport,))
    good, bad = Events(), Events()
    t = transport if transport == "tcp" else ""
    acc = account(port, lib, tp, "alice", "alice-pw", good, t)
    _wrong = account(port, lib, tp, "bob", "not-bobs", bad, t)
    assert good.wait(lambda i: regs(good))
    assert bad.wait(lambda i: regs(bad))
    info = acc.info()
    acc.set_registration(False)
    assert good.wait(lambda i: len(regs(good)) >= 2)
    report(good=regs(good), bad=regs(bad), active=info.reg_active, status=info.reg_status,
           expires=info.reg_expires, uri=info.uri, after=acc.info().reg_expires)
    lib.destroy()


def calls_between_accounts_registered_at_kamailio(port: str) -> None:
    lib, (tp_a, tp_b) = ua_lib(transports=("udp", "udp"))
    ev_a, ev_b, calls = Events(), Events(), Events()
    alice = account(port, lib, tp_a, "alice", "alice-pw", ev_a)
    _bob = account(port, lib, tp_b, "bob", "bob-pw", ev_b)
    assert ev_a.wait(lambda i: regs(ev_a)) and ev_b.wait(lambda i: regs(ev_b))
    call = alice.make_call("sip:bob@127.0.0.1", CallLog(calls),
                           hdr_list=[("X-Through", "kamailio")])
    assert calls.has(("state", "CONFIRMED", 200, "OK"), 10)
    invite = [e for e in ev_b.items if e[0] == "incoming"][0]
    call.hangup()
    assert calls.wait(lambda i: any(e[1] == "DISCONNECTED" for e in i if e[0] == "state"))
    unknown = Events()
    _call2 = alice.make_call("sip:nobody@127.0.0.1", CallLog(unknown))
    assert unknown.wait(lambda i: any(e[1] == "DISCONNECTED" for e in i if e[0] == "state"), 10)
    report(states=states(calls), invite=invite[2], caller=invite[1],
           unknown=[e for e in unknown.items if e[0] == "state"][-1])
    lib.destroy()


if __name__ == "__main__":
    main(globals())
