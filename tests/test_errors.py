"""Bad input gets a clear error that names the operation, never a crash."""

from __future__ import annotations

from support import run_scenario

PROLOGUE = """
import threading, time
import pjsua_ffi as pj
from tests.support import *

def raises(fn, *exc):
    exc = exc or (pj.Error,)
    try:
        fn()
    except exc as e:
        return [type(e).__name__, getattr(e, "op_name", ""), getattr(e, "err_code", 0), str(e)]
    return None
"""


def test_error_is_a_real_exception_with_legacy_fields() -> None:
    r = run_scenario(PROLOGUE + """
e = pj.Error("call_answer", None, 70013)
try:
    raise e
except Exception as caught:
    ok = caught is e
report(ok=ok, op=e.op_name, obj=e.obj, code=e.err_code, msg=e.err_msg(), text=str(e),
       strerror=pj.Lib.strerror(70004))
""")
    assert r["ok"] is True
    assert (r["op"], r["obj"], r["code"]) == ("call_answer", None, 70013)
    assert r["msg"] and r["text"] == f"Object: None, operation=call_answer, error={r['msg']}"
    assert "Invalid value or argument" in r["strerror"]


def test_life_cycle_misuse() -> None:
    r = run_scenario(PROLOGUE + """
out = {}
lib = pj.Lib()
out["second_lib"] = raises(pj.Lib)
out["before_init"] = raises(lambda: lib.create_transport(pj.TransportType.UDP))
out["start_before_init"] = raises(lib.start)
out["bad_cfg_type"] = raises(lambda: lib.init(ua_cfg="x"), TypeError)
ua = pj.UAConfig(); ua.max_calls = 5000
out["too_many_calls"] = raises(lambda: lib.init(ua), ValueError)
lib.init(log_cfg=pj.LogConfig(level=0, console_level=0))
out["init_twice"] = raises(lib.init)
lib.set_null_snd_dev()
tp = lib.create_transport(pj.TransportType.UDP, pj.TransportConfig(0, "127.0.0.1"))
lib.start()
acc = ua_account(lib, tp)
lib.destroy()
lib.destroy()  # twice is harmless
out["after_destroy"] = raises(lambda: lib.create_transport(pj.TransportType.UDP))
out["acc_after_destroy"] = raises(acc.info)
out["tp_after_destroy"] = raises(tp.info)
out["call_after_destroy"] = raises(lambda: acc.make_call("sip:a@127.0.0.1"))
out["events_after_destroy"] = lib.handle_events(10)
out["instance_after"] = pj.Lib.instance() is None
lib2 = pj.Lib()  # a new library may be created after destroy()
lib2.init(log_cfg=pj.LogConfig(level=0, console_level=0))
lib2.start()
out["second_life"] = lib2.verify_sip_url("sip:a@b")
lib2.destroy()
report(**out)
""")
    for key in ("second_lib", "before_init", "start_before_init", "init_twice",
                "after_destroy", "acc_after_destroy", "tp_after_destroy", "call_after_destroy"):
        assert r[key] and r[key][0] == "Error", key
    assert r["second_lib"][1] == "__init()__"  # the legacy module's operation names
    assert "destroyed" in r["after_destroy"][3] and r["after_destroy"][1] == "create_transport()"
    assert r["acc_after_destroy"][1:3] == ["info()", -1]
    assert r["bad_cfg_type"][0] == "TypeError"
    assert r["too_many_calls"][0] == "ValueError"
    assert r["events_after_destroy"] == 0 and r["instance_after"] is True
    assert r["second_life"] == 0


def test_bad_arguments() -> None:
    r = run_scenario(PROLOGUE + """
out = {}
lib, (tp,) = ua_lib()
acc = ua_account(lib, tp)
out["verify_bad"] = lib.verify_sip_url("not a uri")
out["verify_good"] = lib.verify_sip_url("sip:alice@127.0.0.1:5060;transport=tcp")
out["uri_invalid"] = raises(lambda: acc.make_call("not a uri"))
out["uri_empty"] = raises(lambda: acc.make_call(""))
out["uri_type"] = raises(lambda: acc.make_call(123), TypeError)
out["uri_nul"] = raises(lambda: acc.make_call("sip:a\\x00@b"))
out["cb_type"] = raises(lambda: acc.make_call("sip:a@127.0.0.1", cb=42), TypeError)
out["hdr_type"] = raises(lambda: acc.make_call("sip:a@127.0.0.1", hdr_list="X: y"), TypeError)
out["hdr_name"] = raises(lambda: acc.make_call("sip:a@127.0.0.1", hdr_list=[("Bad Name", "v")]),
                         ValueError)
out["hdr_crlf"] = raises(lambda: acc.make_call("sip:a@127.0.0.1", hdr_list=[("X", "a\\r\\nB: c")]),
                         ValueError)
out["tp_type"] = raises(lambda: lib.create_transport("udp"), TypeError)
out["tp_unknown"] = raises(lambda: lib.create_transport(99))
out["tp_port"] = raises(lambda: lib.create_transport(pj.TransportType.UDP,
                                                     pj.TransportConfig(70000)), ValueError)
out["tp_addr"] = raises(lambda: lib.create_transport(pj.TransportType.UDP,
                                                     pj.TransportConfig(0, "no.such.addr.invalid")))
out["acc_cfg"] = raises(lambda: lib.create_account("sip:x@y"), TypeError)
out["modify_unknown"] = raises(lambda: lib.modify_account(55, pj.AccountConfig()))
tp2 = lib.create_transport(pj.TransportType.UDP, pj.TransportConfig(0, "127.0.0.1"))
tp2.close()
out["closed_tp"] = raises(lambda: lib.create_account_for_transport(tp2))
out["tp_enable"] = raises(tp.disable)
# A call that ended.
ev_a, ev_b = Events(), Events()
call = acc.make_call(uri_of(tp), CallLog(ev_a))
out["dtmf_early_bad"] = raises(lambda: call.dial_dtmf("xyz"), ValueError)
out["answer_type"] = raises(lambda: call.answer("200"), TypeError)
out["answer_range"] = raises(lambda: call.answer(9999), ValueError)
assert ev_a.wait(lambda i: any(e[:2] == ("state", "DISCONNECTED") for e in i))  # 486 default
for name in ("answer", "hangup", "hold", "unhold", "reinvite", "update"):
    out["dead_" + name] = raises(getattr(call, name))
out["dead_dtmf"] = raises(lambda: call.dial_dtmf("1"))
out["dead_xfer"] = raises(lambda: call.transfer("sip:a@127.0.0.1"))
out["dead_request"] = raises(lambda: call.send_request("INFO"))
out["dead_info"] = raises(call.info)
out["dead_valid"] = call.is_valid()
out["method_bad"] = raises(lambda: call.send_request("in fo"), ValueError)
# A deleted account.
acc2 = ua_account(lib, tp, "gone", set_default=False)
acc2.delete()
out["acc_deleted_call"] = raises(lambda: acc2.make_call("sip:a@127.0.0.1"))
out["acc_deleted_info"] = raises(acc2.info)
out["acc_deleted_delete"] = raises(acc2.delete)
out["acc_valid"] = acc2.is_valid()
# The library still works after all that.
ev_a, ev_b = Events(), Events()
acc3 = ua_account(lib, tp, "ok", cb=AnsweringAccount(ev_b), set_default=False)
call = acc3.make_call(uri_of(tp, "ok"), CallLog(ev_a))
out["still_works"] = ev_a.has(("state", "CONFIRMED", 200, "OK"))
# A Call object for a live call id that is not its call (the token check in C).
stranger = pj.Call(lib, call._id)
out["stranger_hangup"] = raises(stranger.hangup)
out["stranger_answer"] = raises(lambda: stranger.answer(200))
out["live_after_stranger"] = call.is_valid()
lib.destroy()
report(**out)
""")
    assert r["verify_bad"] != 0 and r["verify_good"] == 0
    for key, kind in [("uri_invalid", "Error"), ("uri_empty", "Error"), ("uri_type", "TypeError"),
                      ("uri_nul", "Error"), ("cb_type", "TypeError"), ("hdr_type", "TypeError"),
                      ("hdr_name", "ValueError"), ("hdr_crlf", "ValueError"),
                      ("tp_type", "TypeError"), ("tp_unknown", "Error"), ("tp_port", "ValueError"),
                      ("tp_addr", "Error"), ("acc_cfg", "TypeError"), ("modify_unknown", "Error"),
                      ("closed_tp", "Error"), ("tp_enable", "Error"),
                      ("dtmf_early_bad", "ValueError"), ("answer_type", "TypeError"),
                      ("answer_range", "ValueError"), ("method_bad", "ValueError"),
                      ("acc_deleted_call", "Error"), ("acc_deleted_info", "Error"),
                      ("acc_deleted_delete", "Error")]:
        assert r[key] and r[key][0] == kind, (key, r[key])
    assert r["uri_invalid"][1] == "make_call()" and "Invalid Request URI" in r["uri_invalid"][3]
    for name in ("answer", "hangup", "hold", "unhold", "reinvite", "update", "dtmf", "xfer",
                 "request"):
        # PJSIP_ESESSIONTERMINATED, as pjsua answers the legacy module
        assert r["dead_" + name][0] == "Error" and r["dead_" + name][2] == 171140, name
    assert r["dead_hangup"][1] == "hangup()"
    assert r["dead_info"][:3] == ["Error", "info", -1] and r["dead_valid"] == 0
    assert r["acc_valid"] == 0 and "Invalid account" in r["acc_deleted_info"][3]
    assert r["still_works"] is True
    for name in ("stranger_hangup", "stranger_answer"):
        assert r[name][0] == "Error" and r[name][2] == 171140, (name, r[name])
    assert r["live_after_stranger"] == 1


def test_api_from_any_thread_and_garbage_from_many_threads() -> None:
    r = run_scenario(PROLOGUE + """
import random
lib, (tp,) = ua_lib(max_calls=64)
ev_b = Events()
acc = ua_account(lib, tp, cb=AnsweringAccount(ev_b, codes=(200,)))
errors, confirmed = [], []
def worker(seed):
    rnd = random.Random(seed)
    for _ in range(15):
        ev = Events()
        try:
            call = acc.make_call(uri_of(tp), CallLog(ev))
            if ev.has(("state", "CONFIRMED", 200, "OK"), 5):
                confirmed.append(1)
            op = rnd.choice(["hangup", "hold", "dtmf", "info", "garbage"])
            if op == "hold":
                call.hold()
            elif op == "dtmf":
                call.dial_dtmf("5")
            elif op == "info":
                call.info()
            elif op == "garbage":
                for bad in (lambda: lib.conf_connect(-5, 10**6), lambda: call.answer(100),
                            lambda: lib.player_destroy(77), lambda: acc.make_call("x")):
                    try:
                        bad()
                    except (pj.Error, ValueError, TypeError):
                        pass
            call.hangup()
        except pj.Error as e:
            errors.append(str(e))
threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join(60)
alive = [t.is_alive() for t in threads]
time.sleep(0.5)
report(confirmed=len(confirmed), errors=errors[:5], n_errors=len(errors), alive=any(alive))
lib.destroy()
""", timeout=120)
    assert r["alive"] is False
    assert r["confirmed"] >= 100, r
