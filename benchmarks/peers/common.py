"""What the Python peers share: the command line, the line protocol, and the workloads.

A peer is one process holding one SIP user agent on 127.0.0.1. ``benchmarks/run.py``
starts a *callee* (answers every call with 200, takes every MESSAGE) and, for the
two-process workloads, a *caller* that drives the workload against it. Each stack
(pjsua_ffi, the legacy ``pjsua`` module, PJSUA2) only supplies a small :class:`Stack`
adapter; the loops below are the same for all of them and mirror the C peer
(``benchmarks/c/pjsua_bench.c``) step by step, so the figures differ only by what each
binding costs.

Line protocol on stdout (other output, such as library logs, is ignored):

* ``@@READY <port>``: the user agent is up; a caller then waits for a line on stdin;
* ``@@HELD <n>`` (hold): n calls with audio are up; waits for another line on stdin;
* ``@@RAMPED <n> <reason>`` (ramp): no more calls are added; they are held for
  ``--hold-seconds``;
* ``@@RESULT <json>``: the workload's raw figures. The process then idles until stdin
  closes or it is killed, and exits without tearing down (teardown is not part of any
  workload).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Protocol

ANSWER_TIMEOUT = 5.0   # seconds a call may take to be answered or to end
BATCH_TIMEOUT = 15.0   # seconds a batch of calls may take to come up (hold, ramp)
STATUS_TIMEOUT = 5.0   # seconds a MESSAGE may take to get its final response


class CallRec:
    """What the workload knows about one call; the stack's callbacks fill it in."""

    __slots__ = ("confirmed_at", "media", "gone")

    def __init__(self) -> None:
        self.confirmed_at = 0.0
        self.media = False
        self.gone = False


class Tracker:
    """Events from the stack's callbacks (any thread) to the workload (main thread)."""

    def __init__(self) -> None:
        self.cv = threading.Condition()
        self.n_confirmed = 0
        self.n_media = 0
        self.n_gone = 0
        self.msg_ok = 0
        self.msg_fail = 0
        self.msg_rx = 0
        self.last_status_at = 0.0

    def confirmed(self, rec: CallRec) -> None:
        t = time.perf_counter()
        with self.cv:
            if not rec.confirmed_at:
                rec.confirmed_at = t
                self.n_confirmed += 1
                self.cv.notify_all()

    def media_active(self, rec: CallRec) -> None:
        with self.cv:
            if not rec.media:
                rec.media = True
                self.n_media += 1
                self.cv.notify_all()

    def disconnected(self, rec: CallRec) -> None:
        with self.cv:
            if not rec.gone:
                rec.gone = True
                self.n_gone += 1
                self.cv.notify_all()

    def message_status(self, code: int) -> None:
        t = time.perf_counter()
        with self.cv:
            if 200 <= code < 300:
                self.msg_ok += 1
            else:
                self.msg_fail += 1
            self.last_status_at = t
            self.cv.notify_all()

    def message_received(self) -> None:
        with self.cv:
            self.msg_rx += 1


class Stack(Protocol):
    """The adapter each Python stack provides."""

    def start(self, port: int, max_calls: int, audio: bool, tracker: Tracker) -> int:
        """Start a user agent on 127.0.0.1:port (0: any) and return its SIP port.

        The callee side answers every incoming call with 200 and reports its calls to
        ``tracker``; with ``audio`` every call's media is connected both ways to the
        (null) sound device's bridge slot once it is active."""

    def make_call(self, uri: str, rec: CallRec) -> Any:
        """Start a call; its events go to ``rec`` through the tracker."""

    def hangup(self, call: Any) -> None:
        """Hang up a call returned by :meth:`make_call`."""

    def send_message(self, uri: str, seq: int) -> None:
        """Send one MESSAGE outside any call; its final status goes to the tracker."""


# ---------------------------------------------------------------- protocol


def emit(tag: str, payload: str = "") -> None:
    sys.stdout.write(f"@@{tag} {payload}\n")
    sys.stdout.flush()


def result(values: Dict[str, Any]) -> None:
    emit("RESULT", json.dumps(values))


def wait_line() -> bool:
    return bool(sys.stdin.readline())


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="a benchmark peer (see benchmarks/README.md)")
    p.add_argument("--role", choices=("callee", "caller"), required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--target", type=int, default=0, help="the callee's SIP port")
    p.add_argument("--workload", default="idle",
                   choices=("idle", "calls", "msgs", "hold", "ramp"))
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--rtt-n", type=int, default=500)
    p.add_argument("--rtt-seconds", type=float, default=2.0)
    p.add_argument("--window", type=int, default=32)
    p.add_argument("--cap", type=int, default=600)
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--hold-seconds", type=float, default=5.0)
    p.add_argument("--max-calls", type=int, default=1024)
    p.add_argument("--burst", type=int, default=0,
                   help="calls: rest after every BURST calls (0: never); rests are not timed")
    p.add_argument("--rest", type=float, default=0.6, help="calls: seconds of each rest")
    return p.parse_args(argv)


# ---------------------------------------------------------------- workloads


def describe(exc: BaseException) -> str:
    """An exception as one line (PJSUA2's errors have an empty str())."""
    text = str(exc)
    reason = getattr(exc, "reason", None)
    if not text and reason:
        text = f"{reason} (status {getattr(exc, 'status', '?')})"
    return " ".join((text or type(exc).__name__).split())


def _wait(tracker: Tracker, pred: Any, timeout: float) -> bool:
    with tracker.cv:
        return bool(tracker.cv.wait_for(pred, timeout))


def workload_calls(stack: Stack, tracker: Tracker, uri: str, a: argparse.Namespace) -> None:
    """Sequential calls: make_call, wait for CONFIRMED, hang up, wait for the end."""
    lat_us: List[int] = []
    failures = 0
    error = ""
    rested = 0.0
    start = time.perf_counter()
    for i in range(a.warmup + a.n):
        if i == a.warmup:
            start = time.perf_counter()
            rested = 0.0
        if i >= a.warmup and time.perf_counter() - start - rested >= a.seconds:
            break
        if a.burst and i and i % a.burst == 0:
            time.sleep(a.rest)
            rested += a.rest
        rec = CallRec()
        t0 = time.perf_counter()
        try:
            call = stack.make_call(uri, rec)
        except Exception as exc:  # noqa: BLE001  (reported, not raised)
            error = f"make_call: {describe(exc)}"
            break
        if not _wait(tracker, lambda r=rec: r.confirmed_at or r.gone, ANSWER_TIMEOUT):
            error = f"no answer within {ANSWER_TIMEOUT:g} s"
            break
        if rec.gone or not rec.confirmed_at:
            failures += 1
        elif i >= a.warmup:
            lat_us.append(int((rec.confirmed_at - t0) * 1e6))
        if not rec.gone:
            try:
                stack.hangup(call)
            except Exception as exc:  # noqa: BLE001
                error = f"hangup: {describe(exc)}"
                break
        if not _wait(tracker, lambda r=rec: r.gone, ANSWER_TIMEOUT):
            error = f"no end of call within {ANSWER_TIMEOUT:g} s"
            break
    out: Dict[str, Any] = {"n": len(lat_us), "seconds": time.perf_counter() - start - rested,
                           "failures": failures, "lat_us": lat_us}
    if error:
        out["error"] = error
    result(out)


def workload_msgs(stack: Stack, tracker: Tracker, uri: str, a: argparse.Namespace) -> None:
    """MESSAGE round trips one at a time, then throughput with a window in flight."""
    rtt_us: List[int] = []
    start = time.perf_counter()
    for i in range(a.warmup + a.rtt_n):
        if i == a.warmup:
            start = time.perf_counter()
        if i >= a.warmup and time.perf_counter() - start >= a.rtt_seconds:
            break
        with tracker.cv:
            before = tracker.msg_ok + tracker.msg_fail
        t0 = time.perf_counter()
        try:
            stack.send_message(uri, i)
        except Exception as exc:  # noqa: BLE001
            result({"error": f"send_message: {describe(exc)}"})
            return
        if not _wait(tracker, lambda b=before: tracker.msg_ok + tracker.msg_fail > b,
                     STATUS_TIMEOUT):
            result({"error": f"no MESSAGE status within {STATUS_TIMEOUT:g} s"})
            return
        if i >= a.warmup:
            rtt_us.append(int((tracker.last_status_at - t0) * 1e6))

    with tracker.cv:
        base = tracker.msg_ok + tracker.msg_fail
        base_ok, base_fail = tracker.msg_ok, tracker.msg_fail

    def done() -> int:
        return tracker.msg_ok + tracker.msg_fail - base

    sent = 0
    start = time.perf_counter()
    while sent < a.n and time.perf_counter() - start < a.seconds:
        if not _wait(tracker, lambda n=sent: n - done() < a.window, STATUS_TIMEOUT):
            break
        try:
            stack.send_message(uri, sent)
        except Exception:  # noqa: BLE001  (counted as not sent)
            break
        sent += 1
    _wait(tracker, lambda: done() >= sent, STATUS_TIMEOUT)
    with tracker.cv:
        end = tracker.last_status_at if tracker.last_status_at > start else time.perf_counter()
        result({"tput_n": tracker.msg_ok - base_ok, "tput_failed": tracker.msg_fail - base_fail,
                "tput_sent": sent, "tput_seconds": end - start, "rtt_us": rtt_us})


def add_calls(stack: Stack, tracker: Tracker, uri: str, target: int, batch: int,
              keep: List[Any]) -> tuple:
    """Start calls in batches until ``target`` are up with audio.

    Returns (how many are up, why it stopped or "")."""
    made = 0
    reason = ""
    while made < target and not reason:
        want = min(made + batch, target)
        while made < want:
            try:
                keep.append(stack.make_call(uri, CallRec()))
            except Exception as exc:  # noqa: BLE001
                reason = f"make_call failed at call {made + 1}: {describe(exc)}"
                break
            made += 1
        ok = _wait(tracker, lambda m=made: tracker.n_gone > 0 or
                   (tracker.n_confirmed >= m and tracker.n_media >= m), BATCH_TIMEOUT)
        with tracker.cv:
            if reason:
                pass
            elif tracker.n_gone:
                reason = f"{tracker.n_gone} calls ended by themselves"
            elif not ok:
                up = min(tracker.n_confirmed, tracker.n_media)
                reason = f"only {up} of {made} calls up after {BATCH_TIMEOUT:g} s"
    with tracker.cv:
        up = min(tracker.n_confirmed, tracker.n_media) - tracker.n_gone
    return up, reason


def workload_hold(stack: Stack, tracker: Tracker, uri: str, a: argparse.Namespace) -> None:
    keep: List[Any] = []
    up, reason = add_calls(stack, tracker, uri, a.n, a.batch, keep)
    emit("HELD", str(up))
    wait_line()
    result({"held": up, "reason": reason})


def workload_ramp(stack: Stack, tracker: Tracker, uri: str, a: argparse.Namespace) -> None:
    keep: List[Any] = []
    up, reason = add_calls(stack, tracker, uri, a.cap, a.batch, keep)
    reason = reason or "cap reached"
    emit("RAMPED", f"{up} {reason}")
    time.sleep(a.hold_seconds)
    with tracker.cv:
        alive = min(tracker.n_confirmed, tracker.n_media) - tracker.n_gone
    result({"reached": up, "held": alive, "reason": reason})


WORKLOADS = {
    "calls": workload_calls,
    "msgs": workload_msgs,
    "hold": workload_hold,
    "ramp": workload_ramp,
}


def main(stack: Stack, argv: Optional[List[str]] = None) -> None:
    """Run one peer: start the stack, then serve (callee) or drive a workload (caller)."""
    a = parse_args(argv)
    raise_fd_limit()
    tracker = Tracker()
    audio = a.workload in ("hold", "ramp")
    try:
        port = stack.start(a.port, a.max_calls, audio, tracker)
    except Exception as exc:  # noqa: BLE001
        result({"error": f"start: {describe(exc)}"})
        os._exit(1)
    emit("READY", str(port))
    if a.role == "callee":
        while wait_line():  # serve until stdin closes or a signal ends us
            pass
        os._exit(0)
    if not wait_line():
        os._exit(0)
    uri = f"sip:peer@127.0.0.1:{a.target}"
    fn = WORKLOADS.get(a.workload)
    if fn is None:
        result({"error": f"unknown workload {a.workload}"})
    else:
        fn(stack, tracker, uri, a)
    sys.stdout.flush()
    # Teardown is not measured: stay as we are (run.py reads /proc meanwhile) until
    # stdin closes or run.py stops us, then leave without shutting the library down.
    while wait_line():
        pass
    os._exit(0)
