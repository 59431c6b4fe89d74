"""A call from one process to another: the callee (the same program with ``callee``)
answers, the caller sends DTMF and hangs up; both trace what they see."""

import sys
import time

import pjsua as pj
from tests.legacy_scenarios.tracer import (
    AccountTrace,
    CallTrace,
    T,
    loopback_account,
    loopback_lib,
    loopback_transport,
    spawn,
    wait,
)

lib = loopback_lib(pj.Lib())
tp = loopback_transport(lib)
lib.start()
if sys.argv[1:] == ["callee"]:
    cb = AccountTrace("callee", codes=(180, 200))
    acc = loopback_account(lib, tp, "callee", cb=cb)
    print("PORT", tp.info().port, flush=True)
    wait(lambda: cb.calls and not cb.calls[0].is_valid(), 30)
    time.sleep(0.2)
    T.call("callee: info after the caller hung up", cb.calls[0].info)
    lib.destroy()
    sys.exit(0)

peer = spawn("call_between_processes", "callee", "callee")
port = int(peer.stdout.readline().split()[1])
acc = loopback_account(lib, tp, "caller", cb=AccountTrace("caller"))
cb = CallTrace("caller/call")
call = T.call("make_call()", acc.make_call, f"sip:callee@127.0.0.1:{port}", cb)
wait(lambda: pj.CallState.CONFIRMED in cb.states)
wait(lambda: call.info().media_state == pj.MediaState.ACTIVE)
T.obj("caller: info while confirmed", call.info())
time.sleep(0.5)  # the callee sees the ACK (legacy polls SIP every 50 ms) before DTMF
T.call("dial_dtmf()", call.dial_dtmf, "*9")
time.sleep(0.5)
T.call("hangup()", call.hangup)
wait(lambda: pj.CallState.DISCONNECTED in cb.states)
T.note("callee exit", peer.wait(30))
lib.destroy()
