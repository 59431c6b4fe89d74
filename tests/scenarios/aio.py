"""Scenarios of tests/test_aio.py: event-loop mode and pjsua_ffi.aio.

Every scenario is @watched: faulthandler dumps every thread's stack and the process
exits if it is still running after WATCHDOG seconds, so a hang fails fast with its stack
instead of waiting for the test's time-out.
"""

from __future__ import annotations

import asyncio
import faulthandler
import functools
import json
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Coroutine, Dict, List, Tuple

import numpy as np

import pjsua_ffi as pj
from pjsua_ffi import aio
from tests.media_support import band, dominant, rms, tone
from tests.scenarios import main
from tests.support import (
    AnsweringAccount,
    CallLog,
    Events,
    report,
    scenario_argv,
    scenario_env,
    states,
    ua_account,
    ua_lib,
    uri_of,
)

WATCHDOG = 25


def watched(fn: Callable[..., None]) -> Callable[..., None]:
    """Run ``fn`` under the WATCHDOG (see the module's docstring)."""
    @functools.wraps(fn)
    def run_watched(*args: str) -> None:
        faulthandler.dump_traceback_later(WATCHDOG, exit=True)
        fn(*args)
    return run_watched


def options_probe(port: int, tries: int = 1) -> str:
    """An OPTIONS from a plain socket; pjsua answers it itself. Returns the status line."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(10)
    me = s.getsockname()[1]
    msg = (f"OPTIONS sip:x@127.0.0.1:{port} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-probe{me};rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p1\r\n"
           f"To: <sip:x@127.0.0.1:{port}>\r\nCall-ID: probe{me}@127.0.0.1\r\n"
           "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    s.sendto(msg.encode(), ("127.0.0.1", port))
    try:
        return s.recv(65536).decode("utf-8", "replace").split("\r\n")[0]
    except socket.timeout:
        return "no answer"
    finally:
        s.close()


def aio_lib(n_tp: int = 1, **media: Any) -> Tuple[pj.Lib, List[pj.Transport]]:
    """An initialised library (not started: aio.start() does that) on 127.0.0.1."""
    lib = pj.Lib()
    mc = pj.MediaConfig()
    mc.enable_ice = False
    mc.no_vad = True
    for k, v in media.items():
        setattr(mc, k, v)
    lib.init(pj.UAConfig(), pj.LogConfig(level=1, console_level=1), mc)
    lib.set_null_snd_dev()
    tps = [lib.create_transport(pj.TransportType.UDP,
                                pj.TransportConfig(0, "127.0.0.1", "127.0.0.1"))
           for _ in range(n_tp)]
    return lib, tps


def accounts_a_b(ll: Any, lib: pj.Lib, tps: List[pj.Transport]) -> Tuple[Any, Any]:
    """Accounts "a" (the default) on ``tps[0]`` and "b" on ``tps[1]``, for the loop
    ``ll``."""
    a = ll.account(ua_account(lib, tps[0], "a"))
    b = ll.account(ua_account(lib, tps[1], "b", set_default=False))
    return a, b


def run(coro: Coroutine[Any, Any, Any]) -> None:
    asyncio.run(coro)


def caller_peer(uri: str, seconds: str) -> None:
    """A classic (threaded) process that calls ``uri``, keeps the call up for
    ``seconds`` after it is answered while playing a 440 Hz tone, then hangs up and
    prints what it saw."""
    lib, (tp,) = ua_lib(clock_rate=16000, snd_clock_rate=16000)
    acc = ua_account(lib, tp, "caller")
    src = lib.create_audio_source(tone(440, 1.0, 16000), loop=True)
    ev = Events()
    call = acc.make_call(uri, CallLog(ev, connect_from=src.slot))
    ok = ev.wait(lambda i: ("state", "CONFIRMED", 200, "OK") in i, 10)
    time.sleep(float(seconds))
    if ok:
        call.hangup()
    ev.wait(lambda i: any(e[:2] == ("state", "DISCONNECTED") for e in i), 10)
    print("DONE", json.dumps(states(ev)), flush=True)
    lib.destroy()


@watched
def event_loop_mode_and_backup_poller() -> None:
    lib, (tp,) = ua_lib(with_thread=False)
    port = tp.info().port
    seen: Dict[str, Any] = {}
    class Slow(pj.CallCallback):
        def on_state(self):
            info = self.call.info()
            seen.setdefault("threads", set()).add(threading.get_ident())
            if info.state == pj.CallState.CONFIRMED and "probe" not in seen:
                # Block this callback (and with it the only thread that polls) until pjsua
                # has answered an OPTIONS: only the backup poller can answer it meanwhile.
                done = threading.Event()
                def probe():
                    seen["probe"] = options_probe(port)
                    done.set()
                threading.Thread(target=probe).start()
                seen["answered_inside"] = done.wait(15)
                self.call.hangup()
            if info.state == pj.CallState.DISCONNECTED:
                seen["ended"] = True
    acc = ua_account(lib, tp, cb=AnsweringAccount(Events()))
    _call = acc.make_call(uri_of(tp), Slow())
    end = time.time() + 15
    while time.time() < end and not seen.get("ended"):
        lib.handle_events(10)
    report(threads=[t == threading.get_ident() for t in seen["threads"]],
           probe=seen.get("probe"), inside=seen.get("answered_inside"),
           names=sorted(t.name for t in threading.enumerate()))
    lib.destroy()


@watched
def calls_both_ways(peer_uri: str) -> None:
    async def main(peer_uri):
        lib, (tp,) = aio_lib()
        async with aio.start(lib) as ll:
            # Outgoing, with a classic callback watching the same call.
            ev = Events()
            acc = ll.account(ua_account(lib, tp, "me"))
            call = acc.make_call(peer_uri, CallLog(ev))
            info = await call.confirmed()
            out = {"confirmed": [info.state.name, info.last_code, "sip:peer@" in info.remote_uri]}
            media = await call.media_active()
            out["slot"] = media.conf_slot >= 0
            call.hangup()
            end = await call.disconnected()
            out["ended"] = [end.state.name, call.state.name]
            out["classic"] = states(ev)
            out["thread"] = threading.current_thread().name
            # Incoming: a second process calls us; we answer from the async iterator.
            me = uri_of(tp, "me")
            caller = subprocess.Popen(scenario_argv(caller_peer, (me, "0.5")),
                                      stdout=subprocess.PIPE, text=True, env=scenario_env())
            async for inc in acc.incoming_calls():
                out["ringing"] = inc.state.name
                out["invite"] = "INVITE sip:me@" in inc.rdata.msg_info
                inc.answer(200)
                break
            out["in_confirmed"] = (await inc.confirmed()).state.name
            end = await inc.disconnected()   # the caller hangs up
            out["in_end"] = [end.state.name, end.last_code]
            line = await asyncio.get_running_loop().run_in_executor(None, caller.stdout.readline)
            out["caller"] = line.split(" ", 1)[1].strip()
            caller.wait()
            out["names"] = sorted(t.name for t in threading.enumerate())
        report(**out)
    run(main(peer_uri))


@watched
def a_rejected_call_raises_the_sip_status_and_late_awaits_answer_at_once() -> None:
    async def main():
        lib, tps = aio_lib(2)
        async with aio.start(lib) as ll:
            a, b = accounts_a_b(ll, lib, tps)
            call = a.make_call(uri_of(tps[1], "b"))
            inc = await b.incoming_calls().__anext__()
            inc.hangup(486)
            out = {}
            try:
                await call.confirmed()
            except pj.Error as exc:
                out["err"] = [exc.err_code, exc.op_name, "486" in str(exc)]
            # The call is over: every later await answers at once.
            out["end"] = (await call.disconnected()).last_code
            try:
                await call.media_active()
            except pj.Error as exc:
                out["media_err"] = exc.err_code
            try:
                a.make_call("not a uri")
            except pj.Error as exc:
                out["bad_uri"] = exc.op_name
            report(**out)
    run(main())


@watched
def start_refuses_a_library_with_a_callback_thread() -> None:
    async def main():
        lib, (tp,) = ua_lib()
        try:
            aio.start(lib)
        except pj.Error as exc:
            report(err=exc.err_code)
        lib.destroy()
    run(main())


@watched
def a_library_outliving_its_loop_and_destroyed_from_a_callback() -> None:
    out = {}
    async def first():
        lib, tps = aio_lib(2)
        ll = aio.start(lib)
        ll.account(ua_account(lib, tps[0], "a"))
        await asyncio.sleep(0.1)
        return lib
    lib = asyncio.run(first())   # the loop ends, the library is still up
    lib.destroy()                # must neither raise nor hang
    out["first"] = pj.Lib.instance() is None

    class Stop(pj.CallCallback):
        def on_state(self):
            if self.call.info().state == pj.CallState.CONFIRMED:
                pj.Lib.instance().destroy()   # from inside a callback on the loop's thread
    async def second():
        lib, tps = aio_lib(2)
        ll = aio.start(lib)
        a = ll.account(ua_account(lib, tps[0], "a"))
        _b = ll.account(ua_account(lib, tps[1], "b", set_default=False),
                        AnsweringAccount(Events()))
        call = a.make_call(uri_of(tps[1], "b"), Stop())
        try:
            await asyncio.wait_for(call.disconnected(), 10)
            out["second"] = "returned"
        except pj.Error as exc:
            out["second"] = exc.err_code
        out["closed"] = ll.closed
    run(second())
    report(**out)


@watched
def cancellation_and_timeouts_leave_the_call_usable() -> None:
    async def main():
        lib, tps = aio_lib(2)
        async with aio.start(lib) as ll:
            a, b = accounts_a_b(ll, lib, tps)
            call = a.make_call(uri_of(tps[1], "b"))   # b lets it ring
            out = {}
            try:
                await asyncio.wait_for(call.confirmed(), 0.3)
            except asyncio.TimeoutError:
                out["wait_for"] = "timeout"
            if sys.version_info >= (3, 11):
                try:
                    async with asyncio.timeout(0.3):
                        await call.confirmed()
                except TimeoutError:
                    out["timeout"] = "timeout"
            task = asyncio.create_task(call.confirmed())
            await asyncio.sleep(0.05)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                out["cancelled"] = True
            out["waiters_left"] = sum(not f.done() for _, f in call._state_waiters)
            # Still a live call: answer it now and the next await succeeds.
            inc = await b.incoming_calls().__anext__()
            inc.answer(200)
            out["state"] = (await asyncio.wait_for(call.confirmed(), 5)).state.name
            # A playback cancelled midway stops and frees its port.
            await call.media_active()
            long = tone(440, 5.0, 16000)
            play = asyncio.create_task(call.play(long))
            await asyncio.sleep(0.3)
            play.cancel()
            try:
                await play
            except asyncio.CancelledError:
                out["play_cancelled"] = True
            out["ports"] = len(lib._reg.ports)
            call.hangup()
            await call.disconnected()
            report(**out)
    run(main())


@watched
def shutdown_from_the_loop_fails_every_waiter_with_error() -> None:
    async def main():
        lib, tps = aio_lib(2)
        ll = aio.start(lib)
        a, b = accounts_a_b(ll, lib, tps)
        ringing = a.make_call(uri_of(tps[1], "b"))
        inc = await b.incoming_calls().__anext__()
        async def incoming():
            async for _c in a.incoming_calls():
                pass
        async def frames():
            async for _f in inc.audio_frames():
                pass
        dead = "sip:nobody@127.0.0.1:9"   # nothing listens: the MESSAGE stays in flight
        tasks = {"confirmed": asyncio.create_task(ringing.confirmed()),
                 "incoming": asyncio.create_task(incoming()),
                 "message": asyncio.create_task(a.send_message(dead, "hi")),
                 "media": asyncio.create_task(inc.media_active())}
        await asyncio.sleep(0.2)
        await ll.close()
        out = {}
        for name, t in tasks.items():
            try:
                await asyncio.wait_for(t, 5)
                out[name] = "returned"
            except pj.Error as exc:
                out[name] = exc.err_code
        try:
            a.make_call(uri_of(tps[1], "b"))
        except pj.Error as exc:
            out["after"] = exc.err_code
        out["closed"] = ll.closed
        report(**out)
    run(main())


@watched
def messages_status_and_delivery_and_buddy_states() -> None:
    async def main():
        lib, tps = aio_lib(2)
        async with aio.start(lib) as ll:
            a, b = accounts_a_b(ll, lib, tps)
            inbox = b.messages()
            out = {"status": list(await a.send_message(uri_of(tps[1], "b"), "hello é"))}
            frm, contact, mime, body = await asyncio.wait_for(inbox.__anext__(), 5)
            out["got"] = [frm.startswith("<sip:a@"), mime, str(body)]
            # Many in flight at once, each with its own status.
            codes = await asyncio.gather(*[a.send_message(uri_of(tps[1], "b"), f"m{i}")
                                           for i in range(50)])
            out["many"] = sorted({c for c, _ in codes})
            n = 0
            while inbox.get_nowait() is not None:
                n += 1
            out["received"] = n
            # Presence: a subscribes to b (peer to peer); b goes online, then offline.
            buddy = a.add_buddy(uri_of(tps[1], "b"))
            buddy.subscribe()
            await asyncio.wait_for(buddy.wait_status(
                lambda i: i.online_status == pj.BuddyStatus.OFFLINE), 5)
            b.account.set_basic_status(True)
            on = await asyncio.wait_for(buddy.wait_status(
                lambda i: i.online_status == pj.BuddyStatus.ONLINE), 5)
            b.account.set_basic_status(False)
            off = await asyncio.wait_for(buddy.wait_status(
                lambda i: i.online_status == pj.BuddyStatus.OFFLINE), 5)
            out["presence"] = [on.online_status.name, off.online_status.name]
            report(**out)
    run(main())


@watched
def audio_frames_in_and_playback_out_carry_tones() -> None:
    async def main():
        lib, tps = aio_lib(2, clock_rate=16000, snd_clock_rate=16000)
        async with aio.start(lib) as ll:
            a, b = accounts_a_b(ll, lib, tps)
            call = a.make_call(uri_of(tps[1], "b"))
            inc = await b.incoming_calls().__anext__()
            inc.answer(200)
            await call.media_active()
            heard = []
            async def listen():
                async for chunk in inc.audio_frames(chunk_ms=40):
                    heard.append(chunk)
            listener = asyncio.create_task(listen())
            await call.play(tone(700, 1.0, 16000))   # returns once all of it was played
            played = sum(len(c) for c in heard)
            await inc.play(tone(1100, 0.4, 16000))    # and the other way
            call.hangup()
            await call.disconnected()
            await asyncio.wait_for(listener, 5)       # the iterator ends with the call
            x = np.concatenate(heard)
            report(n=len(x), played=played, f=dominant(x, 16000), share=band(x, 16000, 700),
                   dtype=str(x.dtype), frames=all(len(c) % 320 == 0 for c in heard))
    run(main())


@watched
def registration_results_at_kamailio(port: str) -> None:
    port_n = int(port)
    def cfg(tp, user, password):
        c = pj.AccountConfig("127.0.0.1", user, password, registrar=f"sip:127.0.0.1:{port_n}",
                             proxy=f"sip:127.0.0.1:{port_n}")
        c.transport_id = tp._id
        c.rtp_transport_cfg = pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")
        return c
    async def main():
        lib, (tp,) = aio_lib()
        async with aio.start(lib) as ll:
            good = ll.account(lib.create_account(cfg(tp, "alice", "alice-pw")))
            bad = ll.account(lib.create_account(cfg(tp, "bob", "wrong"), set_default=False))
            info = await good.registered()
            out = {"good": [info.reg_status, info.reg_active, info.reg_expires > 0]}
            try:
                await bad.registered()
            except pj.Error as exc:
                out["bad"] = [exc.err_code, exc.op_name]
            info = await good.register()      # a refresh gets its own result
            out["again"] = info.reg_status
            # A MESSAGE the registrar refuses (no such user) raises its status.
            try:
                await good.send_message(f"sip:nobody@127.0.0.1:{port_n}", "hi")
            except pj.Error as exc:
                out["msg"] = [exc.err_code, exc.op_name]
            info = await good.unregister()
            out["off"] = [info.reg_status, good.account.info().reg_expires <= 0]
            report(**out)
    run(main())


@watched
def a_blocked_loop_still_answers_sip_and_an_idle_loop_does_not_spin() -> None:
    async def main():
        lib, (tp,) = aio_lib()
        async with aio.start(lib) as _ll:
            port = tp.info().port
            out = {"idle": options_probe(port)}   # answered by the loop itself (it polls)
            # Block the loop (a coroutine that never yields) until pjsua has answered an
            # OPTIONS: only the backup poller can answer it meanwhile.
            done, box = threading.Event(), []
            threading.Thread(target=lambda: (box.append(options_probe(port)), done.set())).start()
            out["inside"] = done.wait(15)
            out["blocked"] = box[0] if box else None
            # Idle: the loop polls pjsua only for its timers, not in a busy loop.
            steps = [0]
            poll = lib.handle_events
            def counted(ms):
                steps[0] += 1
                return poll(ms)
            lib.handle_events = counted
            await asyncio.sleep(1.0)
            out["idle_steps"] = steps[0]
            report(**out)
    run(main())


@watched
def asyncio_bot_example_against_a_second_process(bot_uri: str) -> None:
    lib, (tp,) = ua_lib(clock_rate=16000, snd_clock_rate=16000)
    acc = ua_account(lib, tp, "caller")
    src = lib.create_audio_source(tone(440, 3.0, 16000))
    heard = []
    sink = lib.create_audio_sink(lambda x: heard.append(x.copy()))
    ev = Events()
    _call = acc.make_call(bot_uri, CallLog(ev, connect_to=sink.slot, connect_from=src.slot))
    ok = ev.wait(lambda i: any(e[:2] == ("state", "DISCONNECTED") for e in i), 20)
    voiced = [c for c in heard if rms(c) > 300]
    loud = np.concatenate(voiced) if voiced else np.zeros(0, np.int16)
    report(states=states(ev), ended=ok, n=len(loud), f=dominant(loud, 16000),
           share=band(loud, 16000, 880))
    lib.destroy()


if __name__ == "__main__":
    main(globals())
