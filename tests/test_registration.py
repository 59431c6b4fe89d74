"""Registration with digest auth against a real kamailio, and calls routed through it."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from peers.kamailio import Kamailio
from support import run_scenario

pytestmark = pytest.mark.kamailio

PROLOGUE = """
import sys, time
import pjsua_ffi as pj
from tests.support import *
PORT = int(sys.argv[1])

def account(lib, tp, user, password, events, transport=""):
    reg = f"sip:127.0.0.1:{PORT}" + (";transport=" + transport if transport else "")
    cfg = pj.AccountConfig("127.0.0.1", user, password, registrar=reg, proxy=reg)
    cfg.transport_id = tp._id
    cfg.rtp_transport_cfg = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
    return lib.create_account(cfg, cb=AnsweringAccount(events))

def regs(ev):
    return [e for e in ev.items if e[0] == "reg"]
"""


@pytest.fixture(scope="module")
def kam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kamailio]:
    work: Path = tmp_path_factory.mktemp("kamailio")
    server = Kamailio(work, users={"alice": "alice-pw", "bob": "bob-pw"}, presence=False)
    with server.start():
        yield server


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_register_with_right_and_wrong_password(kam: Kamailio, transport: str) -> None:
    r = run_scenario(PROLOGUE + f"""
lib, (tp,) = ua_lib(transports=("{transport}",))
good, bad = Events(), Events()
t = "{transport}" if "{transport}" == "tcp" else ""
acc = account(lib, tp, "alice", "alice-pw", good, t)
wrong = account(lib, tp, "bob", "not-bobs", bad, t)
assert good.wait(lambda i: regs(good))
assert bad.wait(lambda i: regs(bad))
info = acc.info()
acc.set_registration(False)
assert good.wait(lambda i: len(regs(good)) >= 2)
report(good=regs(good), bad=regs(bad), active=info.reg_active, status=info.reg_status,
       expires=info.reg_expires, uri=info.uri, after=acc.info().reg_expires)
lib.destroy()
""", str(kam.port))
    status, reason, expires = r["good"][0][1:]
    assert (status, reason) == (200, "OK") and expires > 0
    assert r["active"] == 1 and r["status"] == 200 and r["expires"] > 0
    assert r["uri"] == "<sip:alice@127.0.0.1>"
    assert r["bad"][0][1] in (401, 403)
    assert r["good"][1][1] == 200 and r["after"] <= 0  # unregistered


def test_calls_between_accounts_registered_at_kamailio(kam: Kamailio) -> None:
    r = run_scenario(PROLOGUE + """
lib, (tp_a, tp_b) = ua_lib(transports=("udp", "udp"))
ev_a, ev_b, calls = Events(), Events(), Events()
alice = account(lib, tp_a, "alice", "alice-pw", ev_a)
bob = account(lib, tp_b, "bob", "bob-pw", ev_b)
assert ev_a.wait(lambda i: regs(ev_a)) and ev_b.wait(lambda i: regs(ev_b))
call = alice.make_call("sip:bob@127.0.0.1", CallLog(calls),
                       hdr_list=[("X-Through", "kamailio")])
assert calls.has(("state", "CONFIRMED", 200, "OK"), 10)
invite = [e for e in ev_b.items if e[0] == "incoming"][0]
call.hangup()
assert calls.wait(lambda i: any(e[1] == "DISCONNECTED" for e in i if e[0] == "state"))
unknown = Events()
call2 = alice.make_call("sip:nobody@127.0.0.1", CallLog(unknown))
assert unknown.wait(lambda i: any(e[1] == "DISCONNECTED" for e in i if e[0] == "state"), 10)
report(states=states(calls), invite=invite[2], caller=invite[1],
       unknown=[e for e in unknown.items if e[0] == "state"][-1])
lib.destroy()
""", str(kam.port))
    assert r["states"][-2:] == ["CONFIRMED", "DISCONNECTED"]
    assert "sip:alice@127.0.0.1" in r["caller"]
    assert "X-Through: kamailio" in r["invite"] and "Record-Route:" in r["invite"]
    assert r["unknown"][2] == 404
