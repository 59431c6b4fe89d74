"""Scenarios of tests/test_errors.py (each runs in its own process)."""

from __future__ import annotations

import random
import threading
import time
from typing import Any, Dict

import pjsua_ffi as pj
from tests.scenarios import main
from tests.support import (
    AnsweringAccount,
    CallLog,
    Events,
    raises,
    report,
    ua_account,
    ua_lib,
    uri_of,
)


def error_is_a_real_exception_with_legacy_fields() -> None:
    e = pj.Error("call_answer", None, 70013)
    try:
        raise e
    except Exception as caught:
        ok = caught is e
    report(ok=ok, op=e.op_name, obj=e.obj, code=e.err_code, msg=e.err_msg(), text=str(e),
           strerror=pj.Lib.strerror(70004))


def life_cycle_misuse() -> None:
    out: Dict[str, Any] = {}
    lib = pj.Lib()
    out["second_lib"] = raises(pj.Lib)
    out["before_init"] = raises(lambda: lib.create_transport(pj.TransportType.UDP))
    out["start_before_init"] = raises(lib.start)
    out["bad_cfg_type"] = raises(lambda: lib.init(ua_cfg="x"),  # type: ignore[arg-type]
                                 TypeError)
    ua = pj.UAConfig()
    ua.max_calls = 5000
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


def bad_arguments() -> None:
    out: Dict[str, Any] = {}
    lib, (tp,) = ua_lib()
    acc = ua_account(lib, tp)
    out["verify_bad"] = lib.verify_sip_url("not a uri")
    out["verify_good"] = lib.verify_sip_url("sip:alice@127.0.0.1:5060;transport=tcp")
    out["uri_invalid"] = raises(lambda: acc.make_call("not a uri"))
    out["uri_empty"] = raises(lambda: acc.make_call(""))
    out["uri_type"] = raises(lambda: acc.make_call(123), TypeError)
    out["uri_nul"] = raises(lambda: acc.make_call("sip:a\x00@b"))
    out["cb_type"] = raises(lambda: acc.make_call("sip:a@127.0.0.1", cb=42), TypeError)
    out["hdr_type"] = raises(lambda: acc.make_call("sip:a@127.0.0.1", hdr_list="X: y"), TypeError)
    out["hdr_name"] = raises(
        lambda: acc.make_call("sip:a@127.0.0.1", hdr_list=[("Bad Name", "v")]), ValueError)
    out["hdr_crlf"] = raises(
        lambda: acc.make_call("sip:a@127.0.0.1", hdr_list=[("X", "a\r\nB: c")]), ValueError)
    out["tp_type"] = raises(lambda: lib.create_transport("udp"), TypeError)
    out["tp_unknown"] = raises(lambda: lib.create_transport(99))
    out["tp_port"] = raises(lambda: lib.create_transport(pj.TransportType.UDP,
                                                         pj.TransportConfig(70000)), ValueError)
    out["tp_addr"] = raises(lambda: lib.create_transport(
        pj.TransportType.UDP, pj.TransportConfig(0, "no.such.addr.invalid")))
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


def api_from_any_thread_and_garbage_from_many_threads() -> None:
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
                    for bad in (lambda: lib.conf_connect(-5, 10**6),
                                lambda: call.answer(100),  # noqa: B023  (called at once)
                                lambda: lib.player_destroy(77), lambda: acc.make_call("x")):
                        try:
                            bad()
                        except (pj.Error, ValueError, TypeError):
                            pass
                call.hangup()
            except pj.Error as e:
                errors.append(str(e))
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    alive = [t.is_alive() for t in threads]
    time.sleep(0.5)
    report(confirmed=len(confirmed), errors=errors[:5], n_errors=len(errors), alive=any(alive))
    lib.destroy()


if __name__ == "__main__":
    main(globals())
