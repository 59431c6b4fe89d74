"""Scenarios of tests/test_lib.py (each runs in its own process)."""

from __future__ import annotations

import ctypes
import logging
import os
import socket
import tempfile
import threading
import time

import pjsua_ffi as pj
from tests.scenarios import main
from tests.scenarios.common import three_parties
from tests.support import (
    LOOPBACK,
    AnsweringAccount,
    CallLog,
    Events,
    report,
    states,
    ua_account,
    ua_lib,
    uri_of,
    wait_for,
)


def exception_in_callback_is_logged_and_events_keep_coming() -> None:
    records = []
    class Catch(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())
    logging.getLogger("pjsua_ffi").addHandler(Catch())
    lib, (tp,) = ua_lib()
    ev = Events()
    class Boom(pj.CallCallback):
        def on_state(self):
            ev.add(self.call.info().state.name)
            raise RuntimeError("user bug " + self.call.info().state.name)
    acc = ua_account(lib, tp, cb=AnsweringAccount(Events()))
    call = acc.make_call(uri_of(tp), Boom())
    assert ev.has("CONFIRMED")
    call.hangup()
    assert ev.has("DISCONNECTED")
    assert wait_for(lambda: len([r for r in records if "user bug" in r]) == 5)
    report(states=ev.items, logged=[r for r in records if "user bug" in r],
           thread=lib._thread.is_alive())
    lib.destroy()


def callbacks_run_on_one_thread_under_the_library_lock() -> None:
    lib, (tp,) = ua_lib()
    seen = []
    class Probe(pj.CallCallback):
        def on_state(self):
            # The lock is ours (RLock re-entry works); which thread runs us is reported.
            got = lib._lock.acquire(blocking=False)
            if got:
                lib._lock.release()
            seen.append((threading.current_thread().name, got, self.call.info().state.name))
    acc = ua_account(lib, tp, cb=AnsweringAccount(Events()))
    # While the application holds the lock, no callback runs, except those of the events
    # its own call raises (CALLING): as in the legacy module, they run inside make_call(),
    # on its thread.
    lck = lib.auto_lock()
    call = acc.make_call(uri_of(tp), Probe())
    time.sleep(0.5)
    during = list(seen)
    del lck
    assert wait_for(lambda: any(s[2] == "CONFIRMED" for s in seen))
    # `with` works too: hangup() delivers DISCONNECTED before it returns.
    with lib.auto_lock():
        call.hangup()
        inside = list(seen)
    report(during=during, seen=seen, inside=inside)
    lib.destroy()


def api_call_delivers_the_events_queued_before_its_own_first() -> None:
    lib, (tp,) = ua_lib()
    seen = []
    def where(what):
        seen.append([what, threading.current_thread().name])
    class Probe(pj.CallCallback):
        def on_state(self):
            where(self.call.info().state.name)
    class Slow(pj.AccountCallback):
        def on_incoming_call(self, call):
            call.answer(200)
        def on_pager(self, from_uri, contact, mime_type, body):
            where("on_pager start")
            time.sleep(0.3)
            where("on_pager end")
    acc = ua_account(lib, tp, cb=Slow())
    call = acc.make_call(uri_of(tp), Probe())
    assert wait_for(lambda: ["CONFIRMED", "pjsua-callbacks"] in seen)
    time.sleep(0.3)
    with lib.auto_lock():
        # The MESSAGE is queued, but the callback thread takes no batch while this
        # thread holds the lock: hangup() delivers it, then DISCONNECTED, in order.
        acc.send_pager(uri_of(tp), "hello")
        time.sleep(0.3)
        held = list(seen)
        call.hangup()
        where("hangup() returned")
    report(held=held, seen=seen)
    lib.destroy()


def callback_sees_the_state_of_its_own_event() -> None:
    lib, (tp,) = ua_lib()
    pairs = []
    class Slow(pj.CallCallback):
        def on_state(self):
            time.sleep(0.2)  # later states happen meanwhile
            pairs.append(self.call.info().state.name)
    acc = ua_account(lib, tp, cb=AnsweringAccount(Events()))
    call = acc.make_call(uri_of(tp), Slow())
    assert wait_for(lambda: "CONFIRMED" in pairs, 5)
    call.hangup()
    assert wait_for(lambda: "DISCONNECTED" in pairs, 5)
    report(states=pairs)
    lib.destroy()


def events_before_set_callback_are_delivered_later_in_order() -> None:
    lib, (tp,) = ua_lib()
    incoming = []
    class Later(pj.AccountCallback):
        def on_incoming_call(self, call):
            incoming.append(call)
            call.answer(200)  # no callback set yet
    acc = ua_account(lib, tp, cb=Later())
    ev_a = Events()
    _call = acc.make_call(uri_of(tp), CallLog(ev_a))
    assert ev_a.has(("state", "CONFIRMED", 200, "OK"))
    time.sleep(0.3)
    ev_b = Events()
    incoming[0].set_callback(CallLog(ev_b))  # from the main thread, after the fact
    assert ev_b.wait(lambda i: ("state", "CONFIRMED", 200, "OK") in i)
    report(b=states(ev_b))
    lib.destroy()


def callbacks_may_call_back_into_the_library() -> None:
    lib, (tp,) = ua_lib()
    ev = Events()
    class HangupWhenConfirmed(pj.CallCallback):
        def on_state(self):
            info = self.call.info()
            ev.add(info.state.name)
            if info.state == pj.CallState.CONFIRMED:
                self.call.dial_dtmf("1")
                self.call.hangup()
    acc = ua_account(lib, tp, cb=AnsweringAccount(Events()))
    acc.make_call(uri_of(tp), HangupWhenConfirmed())
    assert ev.has("DISCONNECTED")
    report(states=ev.items)
    lib.destroy()


def answer_needed_now_while_another_thread_holds_the_lock() -> None:
    lib, tps, _, _, _, b_cb, _, ev_a, _, ev_c = three_parties()
    with lib.auto_lock():
        b_cb.calls[0].transfer(uri_of(tps[2], "c"))
        time.sleep(1.5)
    assert ev_c.wait(lambda i: any(e[:2] == ("state", "CONFIRMED") for e in i), 10)
    report(request=[e for e in ev_a.items if e[0] == "transfer_request"])
    lib.destroy()


def polling_without_a_thread() -> None:
    lib, (tp,) = ua_lib(with_thread=False)
    ev = Events()
    acc = ua_account(lib, tp, cb=AnsweringAccount(Events()))
    _call = acc.make_call(uri_of(tp), CallLog(ev))
    names = set()
    class Tag(pj.CallCallback):
        pass
    end = time.time() + 5
    while time.time() < end and ("state", "CONFIRMED", 200, "OK") not in ev.items:
        lib.handle_events(20)
        names.add(threading.current_thread().name)
    report(states=states(ev), thread=lib._thread is None)
    lib.destroy()


def logging_reaches_python_logging_and_the_callback() -> None:
    lines, records = [], []
    class Catch(logging.Handler):
        def emit(self, record):
            records.append((record.levelname, record.getMessage()))
    logging.getLogger("pjsua_ffi.pjsip").addHandler(Catch())
    logging.getLogger("pjsua_ffi.pjsip").setLevel(logging.DEBUG)
    lib = pj.Lib()
    mc = pj.MediaConfig()
    mc.enable_ice = False
    lib.init(log_cfg=pj.LogConfig(level=4, console_level=3,
                                  callback=lambda lvl, s, n: lines.append((lvl, s, n))),
             media_cfg=mc)
    lib.set_null_snd_dev()
    lib.create_transport(pj.TransportType.UDP, pj.TransportConfig(0, "127.0.0.1", "127.0.0.1"))
    lib.start()
    time.sleep(0.3)
    lib.handle_events(10)
    report(lines=lines[:50], levels=sorted({lv for lv, _, _ in lines}),
           records=len(records), debug=sum(1 for lv, _ in records if lv == "DEBUG"))
    lib.destroy()


def destroy_from_a_callback_with_calls_alive() -> None:
    lib, (tp,) = ua_lib()
    done = threading.Event()
    class Destroyer(pj.CallCallback):
        def on_state(self):
            if self.call.info().state == pj.CallState.CONFIRMED:
                lib.destroy()
                done.set()
    acc = ua_account(lib, tp, cb=AnsweringAccount(Events()))
    acc.make_call(uri_of(tp), CallLog(Events()))
    call = acc.make_call(uri_of(tp), Destroyer())
    assert done.wait(10)
    err = None
    try:
        call.hangup()
    except pj.Error as e:
        err = e.op_name
    report(err=err, instance=pj.Lib.instance() is None)


def exit_without_destroy_and_destroy_with_live_objects() -> None:
    lib, (tp,) = ua_lib()
    ev = Events()
    acc = ua_account(lib, tp, cb=AnsweringAccount(Events()))
    _call = acc.make_call(uri_of(tp), CallLog(ev))
    assert ev.has(("state", "CONFIRMED", 200, "OK"))
    report(ok=True)
    # no destroy(): the interpreter exits with a call up


def a_callback_that_blocks_delays_only_callbacks(peer_uri: str) -> None:
    lib, (tp,) = ua_lib()
    ev = Events()
    class Sleepy(pj.CallCallback):
        def on_state(self):
            ev.add((self.call.info().state.name, round(time.monotonic(), 3)))
            if self.call.info().state == pj.CallState.CALLING:
                time.sleep(1.0)
    acc = ua_account(lib, tp)
    t0 = time.monotonic()
    call = acc.make_call(peer_uri, Sleepy())
    # SIP goes on while the callback sleeps: the call is up before the callback returns.
    up = wait_for(lambda: call.info().state == pj.CallState.CONFIRMED, 0.9)
    assert ev.wait(lambda i: any(e[0] == "CONFIRMED" for e in i), 5)
    call.hangup()
    assert ev.wait(lambda i: any(e[0] == "DISCONNECTED" for e in i), 5)
    report(up_while_blocked=up, states=[e[0] for e in ev.items],
           delay=[e for e in ev.items if e[0] == "CONFIRMED"][0][1] - t0)
    lib.destroy()


def destroy_with_calls_and_media_alive() -> None:
    from pjsua_ffi._audio import write_tone
    lib, (tp,) = ua_lib(max_calls=32)
    wav = os.path.join(tempfile.mkdtemp(), "t.wav")
    write_tone(wav, 440, 1.0)
    player = lib.create_player(wav, loop=True)
    _rec = lib.create_recorder(wav + ".rec.wav")
    acc = ua_account(lib, tp, cb=AnsweringAccount(Events()))
    logs = [Events() for _ in range(10)]
    calls = [acc.make_call(uri_of(tp), CallLog(e)) for e in logs]
    for e in logs:
        assert e.has(("state", "CONFIRMED", 200, "OK"))
    lib.conf_connect(lib.player_get_slot(player), calls[0].info().conf_slot)
    t0 = time.monotonic()
    lib.destroy()
    took = time.monotonic() - t0
    report(took=took, valid=[c.is_valid() for c in calls],
           rec_exists=os.path.exists(wav + ".rec.wav"))


def a_crash_in_c_prints_the_c_stack_then_the_python_one() -> None:
    _lib = pj.Lib()
    ctypes.string_at(0)


def events_raised_on_the_application_thread_wake_the_polling_thread() -> None:
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind((LOOPBACK, 0))  # takes the INVITE and never answers
    lib, (tp,) = ua_lib()
    acc = ua_account(lib, tp)
    time.sleep(0.3)  # the callback thread is now waiting in its poll
    ev = Events()
    t0 = time.monotonic()
    call = acc.make_call(f"sip:nobody@{LOOPBACK}:{sink.getsockname()[1]}", CallLog(ev))
    got_calling = ev.has(("state", "CALLING", 0, ""), 5)
    calling_after = time.monotonic() - t0
    time.sleep(0.3)
    t1 = time.monotonic()
    call.hangup()
    got_end = ev.wait(lambda i: "DISCONNECTED" in [e[1] for e in i if e[0] == "state"], 5)
    end_after = time.monotonic() - t1
    report(calling=got_calling, calling_after=calling_after, end=got_end, end_after=end_after,
           thread=lib._thread.name)
    lib.destroy()


if __name__ == "__main__":
    main(globals())
