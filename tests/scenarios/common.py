"""Pieces shared by scenarios (they run inside the scenario's process)."""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from typing import Any, List, NamedTuple

import pjsua_ffi as pj
from tests.scenarios import main
from tests.support import AnsweringAccount, CallLog, Events, ua_account, ua_lib, uri_of


class ThreeParties(NamedTuple):
    """A (transport 0) has called B (transport 1) and the call is up; C (transport 2)
    answers anything."""

    lib: pj.Lib
    tps: List[pj.Transport]
    a: pj.Account
    b: pj.Account
    c: pj.Account
    b_cb: Any  # B's AnsweringAccount: its ``calls`` are the calls B answered
    call: pj.Call
    ev_a: Events
    ev_b: Events
    ev_c: Events


def three_parties() -> ThreeParties:
    lib, tps = ua_lib(transports=("udp", "udp", "udp"))
    ev_a, ev_b, ev_c = Events(), Events(), Events()
    a = ua_account(lib, tps[0], "a", cb=AnsweringAccount(Events()))
    b_cb = AnsweringAccount(ev_b)
    b = ua_account(lib, tps[1], "b", cb=b_cb, set_default=False)
    c = ua_account(lib, tps[2], "c", cb=AnsweringAccount(ev_c), set_default=False)
    call = a.make_call(uri_of(tps[1], "b"), CallLog(ev_a))
    assert ev_a.has(("state", "CONFIRMED", 200, "OK"))
    return ThreeParties(lib, tps, a, b, c, b_cb, call, ev_a, ev_b, ev_c)


class SelfCall(NamedTuple):
    """An account on one transport that has called itself; ``answer`` (the account's
    AnsweringAccount) answers with 180 then 200."""

    lib: pj.Lib
    tp: pj.Transport
    acc: pj.Account
    answer: Any
    call: pj.Call
    ev_a: Events  # the caller's events
    ev_b: Events  # the callee's


def self_call(**make_call: Any) -> SelfCall:
    lib, (tp,) = ua_lib()
    ev_a, ev_b = Events(), Events()
    answer = AnsweringAccount(ev_b)
    acc = ua_account(lib, tp, cb=answer)
    call = acc.make_call(uri_of(tp), CallLog(ev_a), **make_call)
    return SelfCall(lib, tp, acc, answer, call, ev_a, ev_b)


def media_dir(prefix: str) -> str:
    """A temporary folder for a media scenario's files, removed when the process exits."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, True)
    return path


def answering_peer(max_calls: str = "256") -> None:
    """A user agent that answers every call with 200 and keeps going until its standard
    input closes. It prints "PORT <n>" first."""

    class Answer(pj.AccountCallback):
        def on_incoming_call(self, call: pj.Call) -> None:
            call.answer(200)

    lib, (tp,) = ua_lib(max_calls=int(max_calls))
    _acc = ua_account(lib, tp, "peer", cb=Answer())
    print("PORT", tp.info().port, flush=True)
    sys.stdin.read()
    lib.destroy()


if __name__ == "__main__":
    main(globals())
