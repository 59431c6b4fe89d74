"""Two accounts in one process call each other: every callback with the call's info,
hold/unhold/reinvite/update, DTMF, requests and IM inside the call, transfer, hangup,
and what Call objects say after the call and after lib.destroy()."""

import time

import pjsua as pj
from tests.legacy_scenarios.tracer import (
    AccountTrace,
    CallTrace,
    T,
    loopback_account,
    loopback_lib,
    loopback_transport,
    uri,
    wait,
)

lib = loopback_lib(pj.Lib())
tp_a = loopback_transport(lib)
tp_b = loopback_transport(lib)
lib.start()
a = loopback_account(lib, tp_a, "alice", cb=AccountTrace("alice", codes=()))
b_cb = AccountTrace("bob", codes=(180, 200))
b = loopback_account(lib, tp_b, "bob", cb=b_cb, set_default=False)

ca = CallTrace("alice/call1")
call = T.call("make_call()", a.make_call, uri(tp_b, "bob"), cb=ca,
              hdr_list=[("X-Harness", "1")])
T.str("str(call)", call)
wait(lambda: pj.CallState.CONFIRMED in ca.states)
wait(lambda: b_cb.calls and b_cb.calls[0].info().media_state == pj.MediaState.ACTIVE)
bcall = b_cb.calls[0]
wait(lambda: bcall.info().state == pj.CallState.CONFIRMED)  # legacy polls SIP every 50 ms
time.sleep(0.2)
T.obj("caller info while confirmed", call.info())
T.obj("callee info while confirmed", bcall.info())
T.call("call.is_valid()", call.is_valid)
T.call("dump_status()", lambda: type(call.dump_status()).__name__)
T.call("dump_status(kw)", lambda: type(call.dump_status(with_media=False, indent="  ",
                                                        max_len=200)).__name__)
T.call("dial_dtmf()", call.dial_dtmf, "12#")
time.sleep(0.5)
T.call("send_pager()", call.send_pager, "hello in call")
T.call("send_pager(kw)", call.send_pager, text="<b>x</b>", im_id=7,
       content_type="text/html", hdr_list=[("X-Pager", "2")])
T.call("send_request(INFO)", call.send_request, "INFO", hdr_list=[("X-Info", "1")],
       content_type="application/dtmf-relay", body="Signal=5\r\nDuration=160\r\n")
T.call("send_request(OPTIONS)", call.send_request, "OPTIONS")
time.sleep(0.5)
for op in ("hold", "unhold", "reinvite", "update"):
    T.call(f"{op}()", getattr(call, op), hdr_list=[("X-Op", op)])
    wait(lambda: call.info().media_state in (pj.MediaState.ACTIVE, pj.MediaState.LOCAL_HOLD),
         2)
    time.sleep(0.6)
for op in ("hold", "unhold", "reinvite"):  # and with their defaults
    T.call(f"{op}() with defaults", getattr(call, op))
    time.sleep(0.6)
T.call("update(options=0)", call.update, options=0)
time.sleep(0.6)
T.call("answer() on the caller's side", call.answer, 200)
T.call("call.set_callback()", call.set_callback, ca)
T.call("transfer() to a bad uri", call.transfer, "not a uri")
# No transfer_to_call() to the call's own peer here: the call pjsua makes for it is the
# deliberate difference "transfer-call" (transfer.py compares transfers between calls).
time.sleep(1)
T.call("hangup()", call.hangup, 486, "Busy Here", hdr_list=[("X-Bye", "1")])
wait(lambda: pj.CallState.DISCONNECTED in ca.states)
wait(lambda: not bcall.is_valid())
time.sleep(0.3)
T.call("call.is_valid() after", call.is_valid)
T.call("call.info() after", call.info)
T.call("call.hangup() after", call.hangup)
T.call("call.dial_dtmf() after", call.dial_dtmf, "1")
T.call("call.transfer_to_call() after", call.transfer_to_call, bcall)
c2 = T.call("make_call() to a user who does not answer", a.make_call, uri(tp_b, "busy"),
            CallTrace("alice/call2"))
time.sleep(0.2)
# Hung up on its own first: if hangup_all() ended both sides of this call, which side
# ended first would decide its code (487 or the other side's 603). In legacy SIP waits
# for the call to return; here it runs on (the deliberate difference "callback-thread").
T.call("hangup() of a ringing call", c2.hangup)
wait(lambda: not c2.is_valid(), 5)
time.sleep(0.5)
# Legacy's hangup_all() may raise SystemError here (the deliberate difference
# "callback-error-leaks"): called, not compared.
try:
    lib.hangup_all()
except SystemError:
    pass
time.sleep(0.3)
lib.destroy()
T.call("call.info() after destroy", call.info)
# Legacy: pjsua's error status (the deliberate difference "valid-after-destroy").
T.call("call.is_valid() after destroy", lambda: type(call.is_valid()).__name__)
