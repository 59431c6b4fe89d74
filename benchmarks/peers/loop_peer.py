"""Benchmark peer on pjsua_ffi in event-loop shape (see common.py for the protocol).

``--mode events``: ``lib.start(with_thread=False)`` and the main thread calls
``lib.handle_events()``; the callbacks drive the workloads inline, like the C program
with ``--loop 1`` (CONFIRMED hangs up, DISCONNECTED makes the next call, a MESSAGE's
status sends the next).

``--mode asyncio``: ``pjsua_ffi.aio`` on an asyncio loop, written the way an asyncio
application is: ``call = acc.make_call(uri); await call.confirmed(); call.hangup();
await call.disconnected()``, and ``await acc.send_message(...)`` from 32 tasks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.append(str(Path(__file__).resolve().parents[2]))  # after PYTHONPATH: see run.py

import common  # noqa: E402
from common import describe, emit, parse_args, raise_fd_limit  # noqa: E402

import pjsua_ffi as pj  # noqa: E402
from pjsua_ffi import aio  # noqa: E402
from tests.support import ua_account, ua_lib  # noqa: E402

_on_result: List[Callable[[], Any]] = []


def result(values: Dict[str, Any]) -> None:
    for fn in _on_result:
        fn()
    common.result(values)


ANSWER_TIMEOUT = 5.0
BATCH_TIMEOUT = 15.0


class Lines:
    """Lines on stdin, read by a thread; the end of input ends the process."""

    def __init__(self, on_line: Callable[[], None] = lambda: None) -> None:
        self.n = 0
        self._on_line = on_line
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while sys.stdin.readline():
            self.n += 1
            self._on_line()
        os._exit(0)


def start_lib(a: argparse.Namespace) -> Any:
    audio = a.workload in ("hold", "ramp")
    lib, (tp,) = ua_lib(max_calls=a.max_calls, log_level=1, port=a.port, with_thread=False,
                        clock_rate=8000, snd_clock_rate=8000, snd_auto_close_time=1)
    lib.set_codec_priority("PCMU", 255)
    return lib, tp, audio


# ---------------------------------------------------------------- events mode


class EventsPeer:
    """Callbacks that drive the workloads; the main thread only polls."""

    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.lib, self.tp, self.audio = start_lib(a)
        self.acc = ua_account(self.lib, self.tp, "bench", cb=self._account_cb())
        self.uri = f"sip:peer@127.0.0.1:{a.target}"
        self.done = False
        self.deadline = 0.0
        self.n_confirmed = self.n_media = self.n_gone = 0
        # calls
        self.i = 0
        self.lat: List[int] = []
        self.failures = 0
        self.t0 = self.start = 0.0
        self.error = ""
        # messages
        self.phase = 0
        self.rtt: List[int] = []
        self.sent = self.ok = self.fail = 0
        self.last = 0.0

    def _account_cb(self) -> pj.AccountCallback:
        peer = self

        class Acc(pj.AccountCallback):
            def on_incoming_call(self, call: pj.Call) -> None:
                call.set_callback(peer.CallCb(peer, False))
                call.answer(200)

            def on_pager_status(self, to_uri: str, body: str, im_id: int, code: int,
                                reason: str) -> None:
                peer.on_status(code)
        return Acc()

    class CallCb(pj.CallCallback):
        def __init__(self, peer: "EventsPeer", timed: bool) -> None:
            super().__init__()
            self.peer, self.timed, self.confirmed = peer, timed, False

        def on_state(self) -> None:
            peer = self.peer
            state = self.call.info().state
            if state == pj.CallState.CONFIRMED:
                t = time.perf_counter()
                self.confirmed = True
                peer.n_confirmed += 1
                if self.timed:
                    if peer.i >= peer.a.warmup:
                        peer.lat.append(int((t - peer.t0) * 1e6))
                    peer.deadline = time.perf_counter() + ANSWER_TIMEOUT
                    self.call.hangup()
            elif state == pj.CallState.DISCONNECTED:
                peer.n_gone += 1
                if self.timed:
                    if not self.confirmed:
                        peer.failures += 1
                    peer.i += 1
                    peer.next_call()

        def on_media_state(self) -> None:
            info = self.call.info()
            if info.media_state == pj.MediaState.ACTIVE:
                if self.peer.audio:
                    self.peer.lib.conf_connect(info.conf_slot, 0)
                    self.peer.lib.conf_connect(0, info.conf_slot)
                self.peer.n_media += 1

    def poll_until(self, pred: Callable[[], bool], timeout: float) -> bool:
        end = time.perf_counter() + timeout
        while not pred():
            if time.perf_counter() > end:
                return False
            self.lib.handle_events(10)
        return True

    def poll_while_deadline(self) -> bool:
        while not self.done:
            self.lib.handle_events(10)
            if time.perf_counter() > self.deadline:
                return False
        return True

    # calls

    def next_call(self) -> None:
        a = self.a
        if self.i == a.warmup:
            self.start = time.perf_counter()
        if self.i >= a.warmup + a.n or (
                self.i >= a.warmup and time.perf_counter() - self.start >= a.seconds):
            self.done = True
            return
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + ANSWER_TIMEOUT
        try:
            self.acc.make_call(self.uri, self.CallCb(self, True))
        except pj.Error as exc:
            self.error = f"make_call: {describe(exc)}"
            self.done = True

    def calls(self) -> None:
        self.start = time.perf_counter()
        self.next_call()
        if not self.poll_while_deadline():
            self.error = self.error or "no answer or end of call within 5 s"
        out: Dict[str, Any] = {"n": len(self.lat), "seconds": time.perf_counter() - self.start,
                               "failures": self.failures, "lat_us": self.lat}
        if self.error:
            out["error"] = self.error
        result(out)

    # messages

    def send(self, seq: int) -> None:
        self.acc.send_pager(self.uri, f"benchmark message {seq}", im_id=seq)

    def rtt_next(self) -> None:
        a = self.a
        if self.i == a.warmup:
            self.start = time.perf_counter()
        if self.i >= a.warmup + a.rtt_n or (
                self.i >= a.warmup and time.perf_counter() - self.start >= a.rtt_seconds):
            self.phase = 1
            self.start = time.perf_counter()
            self.fill()
            return
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + ANSWER_TIMEOUT
        self.send(self.i)

    def fill(self) -> None:
        a = self.a
        while (self.sent - self.ok - self.fail < a.window and self.sent < a.n
               and time.perf_counter() - self.start < a.seconds):
            self.send(self.sent)
            self.sent += 1
        self.deadline = time.perf_counter() + ANSWER_TIMEOUT
        if self.ok + self.fail >= self.sent:
            self.done = True

    def on_status(self, code: int) -> None:
        t = time.perf_counter()
        if self.done:
            return
        if self.phase == 0:
            if self.i >= self.a.warmup:
                self.rtt.append(int((t - self.t0) * 1e6))
            self.i += 1
            self.rtt_next()
            return
        if 200 <= code < 300:
            self.ok += 1
        else:
            self.fail += 1
        self.last = t
        self.fill()

    def msgs(self) -> None:
        self.rtt_next()
        if not self.poll_while_deadline() and self.phase == 0:
            result({"error": "no MESSAGE status within 5 s"})
            return
        end = self.last if self.last > self.start else time.perf_counter()
        result({"tput_n": self.ok, "tput_failed": self.fail, "tput_sent": self.sent,
                "tput_seconds": end - self.start, "rtt_us": self.rtt})

    # held calls

    def add_calls(self, target: int) -> tuple:
        made, reason = 0, ""
        while made < target and not reason:
            want = min(made + self.a.batch, target)
            while made < want:
                try:
                    self.acc.make_call(self.uri, self.CallCb(self, False))
                except pj.Error as exc:
                    reason = f"make_call failed at call {made + 1}: {describe(exc)}"
                    break
                made += 1
            ok = self.poll_until(lambda m=made: self.n_gone > 0 or (
                self.n_confirmed >= m and self.n_media >= m), BATCH_TIMEOUT)
            if reason:
                pass
            elif self.n_gone:
                reason = f"{self.n_gone} calls ended by themselves"
            elif not ok:
                reason = f"only {min(self.n_confirmed, self.n_media)} of {made} calls up"
        return min(self.n_confirmed, self.n_media) - self.n_gone, reason


def run_events(a: argparse.Namespace) -> None:
    peer = EventsPeer(a)
    emit("READY", str(peer.tp.info().port))
    lines = Lines()
    if a.role == "callee":
        while True:
            peer.lib.handle_events(1000)
    peer.poll_until(lambda: lines.n >= 1, 1e9)
    if a.workload == "calls":
        peer.calls()
    elif a.workload == "msgs":
        peer.msgs()
    elif a.workload in ("hold", "ramp"):
        up, reason = peer.add_calls(a.n if a.workload == "hold" else a.cap)
        if a.workload == "hold":
            emit("HELD", str(up))
            peer.poll_until(lambda: lines.n >= 2, 1e9)
            result({"held": up, "reason": reason})
        else:
            reason = reason or "cap reached"
            emit("RAMPED", f"{up} {reason}")
            end = time.perf_counter() + a.hold_seconds
            peer.poll_until(lambda: time.perf_counter() > end, a.hold_seconds + 1)
            alive = min(peer.n_confirmed, peer.n_media) - peer.n_gone
            result({"reached": up, "held": alive, "reason": reason})
    while True:
        peer.lib.handle_events(1000)


# ---------------------------------------------------------------- asyncio mode


class _Deadline:
    """``asyncio.timeout()`` before Python 3.11: cancel the task when time is up."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handle = asyncio.get_running_loop().call_later(self.seconds, self._fire, task)

    def _fire(self, task: "asyncio.Task[Any]") -> None:
        self.fired = True
        task.cancel()

    async def __aexit__(self, kind: Any, *rest: Any) -> None:
        self.handle.cancel()
        if self.fired and kind is asyncio.CancelledError:
            raise asyncio.TimeoutError


# One timer per call or message, not a task as wait_for() makes before Python 3.12.
deadline: Callable[[float], Any] = getattr(asyncio, "timeout", _Deadline)


async def aio_main(a: argparse.Namespace) -> None:
    lib, tp, audio = start_lib(a)
    loop = asyncio.get_running_loop()
    ll = aio.LoopLib(lib)
    acc = ll.account(ua_account(lib, tp, "bench"))
    uri = f"sip:peer@127.0.0.1:{a.target}"
    counts = {"confirmed": 0, "media": 0, "gone": 0}
    changed = asyncio.Event()
    got_line = asyncio.Event()
    lines = Lines(lambda: loop.call_soon_threadsafe(got_line.set))

    async def watch(call: aio.Call) -> None:
        """Count a held call's progress; connect its audio."""
        try:
            await call.confirmed()
            counts["confirmed"] += 1
            info = await call.media_active()
            if audio:
                lib.conf_connect(info.conf_slot, 0)
                lib.conf_connect(0, info.conf_slot)
            counts["media"] += 1
        except pj.Error:
            pass
        changed.set()
        await call.disconnected()
        counts["gone"] += 1
        changed.set()

    async def serve() -> None:
        async for call in acc.incoming_calls():
            call.answer(200)
            if audio:
                asyncio.ensure_future(watch(call))

    emit("READY", str(tp.info().port))
    if a.role == "callee":
        await serve()
        return
    await got_line.wait()
    got_line.clear()

    if a.workload == "calls":
        lat: List[int] = []
        failures, error = 0, ""
        start = time.perf_counter()
        for i in range(a.warmup + a.n):
            if i == a.warmup:
                start = time.perf_counter()
            if i >= a.warmup and time.perf_counter() - start >= a.seconds:
                break
            t0 = time.perf_counter()
            try:
                async with deadline(ANSWER_TIMEOUT):
                    call = acc.make_call(uri)
                    await call.confirmed()
                    if i >= a.warmup:
                        lat.append(int((time.perf_counter() - t0) * 1e6))
                    call.hangup()
                    await call.disconnected()
            except pj.Error:
                failures += 1
            except asyncio.TimeoutError:
                error = "no answer or end of call within 5 s"
                break
        out: Dict[str, Any] = {"n": len(lat), "seconds": time.perf_counter() - start,
                               "failures": failures, "lat_us": lat}
        if error:
            out["error"] = error
        result(out)
    elif a.workload == "msgs":
        rtt: List[int] = []
        start = time.perf_counter()
        for i in range(a.warmup + a.rtt_n):
            if i == a.warmup:
                start = time.perf_counter()
            if i >= a.warmup and time.perf_counter() - start >= a.rtt_seconds:
                break
            t0 = time.perf_counter()
            try:
                async with deadline(ANSWER_TIMEOUT):
                    await acc.send_message(uri, f"benchmark message {i}")
            except asyncio.TimeoutError:
                result({"error": "no MESSAGE status within 5 s"})
                return
            except pj.Error:
                pass
            if i >= a.warmup:
                rtt.append(int((time.perf_counter() - t0) * 1e6))
        tally = {"sent": 0, "ok": 0, "fail": 0, "last": 0.0}
        start = time.perf_counter()

        async def sender() -> None:
            while tally["sent"] < a.n and time.perf_counter() - start < a.seconds:
                tally["sent"] += 1
                try:
                    await acc.send_message(uri, f"benchmark message {tally['sent']}")
                    tally["ok"] += 1
                except pj.Error:
                    tally["fail"] += 1
                tally["last"] = time.perf_counter()

        await asyncio.gather(*[sender() for _ in range(a.window)])
        end = tally["last"] if tally["last"] > start else time.perf_counter()
        result({"tput_n": tally["ok"], "tput_failed": tally["fail"],
                "tput_sent": tally["sent"], "tput_seconds": end - start, "rtt_us": rtt})
    elif a.workload in ("hold", "ramp"):
        target = a.n if a.workload == "hold" else a.cap
        made, reason, keep = 0, "", []
        while made < target and not reason:
            want = min(made + a.batch, target)
            while made < want:
                try:
                    call = acc.make_call(uri)
                except pj.Error as exc:
                    reason = f"make_call failed at call {made + 1}: {describe(exc)}"
                    break
                keep.append(asyncio.ensure_future(watch(call)))
                made += 1
            end = time.perf_counter() + BATCH_TIMEOUT
            while not (counts["gone"] or (counts["confirmed"] >= made
                                          and counts["media"] >= made)):
                left = end - time.perf_counter()
                if left <= 0:
                    break
                changed.clear()
                try:
                    await asyncio.wait_for(changed.wait(), left)
                except asyncio.TimeoutError:
                    break
            if reason:
                pass
            elif counts["gone"]:
                reason = f"{counts['gone']} calls ended by themselves"
            elif counts["confirmed"] < made or counts["media"] < made:
                reason = f"only {min(counts['confirmed'], counts['media'])} of {made} calls up"
        up = min(counts["confirmed"], counts["media"]) - counts["gone"]
        if a.workload == "hold":
            emit("HELD", str(up))
            await got_line.wait()
            result({"held": up, "reason": reason})
        else:
            reason = reason or "cap reached"
            emit("RAMPED", f"{up} {reason}")
            await asyncio.sleep(a.hold_seconds)
            alive = min(counts["confirmed"], counts["media"]) - counts["gone"]
            result({"reached": up, "held": alive, "reason": reason})
    del lines
    await asyncio.Event().wait()  # idle (polling pjsua) until stdin closes


def main() -> None:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--mode", choices=("events", "asyncio"), default="events")
    mode, rest = pre.parse_known_args()
    a = parse_args(rest)
    raise_fd_limit()
    prof_path = os.environ.get("LOOP_PEER_PROFILE")  # cProfile the caller's workload
    if prof_path and a.role == "caller":
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
        _on_result.append(lambda: (prof.disable(), prof.dump_stats(prof_path)))
    try:
        if mode.mode == "events":
            run_events(a)
        else:
            asyncio.run(aio_main(a))
    except Exception as exc:  # noqa: BLE001
        result({"error": f"{describe(exc)}"})
        os._exit(1)


if __name__ == "__main__":
    main()
