"""Scenario of tests/test_soak.py (runs in its own process)."""

from __future__ import annotations

import gc
import os
import threading
import time
import weakref
from typing import Any

from pjsua_ffi._pjsua import lib as C  # noqa: N812

import pjsua_ffi as pj
from tests.scenarios import main
from tests.support import (
    report,
    ua_account,
    ua_lib,
    wait_for,
)


def calls_and_messages(peer: str, calls: str, messages: str) -> None:
    n_calls, n_messages = int(calls), int(messages)
    window = 16
    live: weakref.WeakSet[Any] = weakref.WeakSet()

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def sample(n):
        gc.collect()
        return {"n": n, "rss": rss(), "fds": len(os.listdir("/proc/self/fd")),
                "pool": C.pjffi_pool_used(), "cached": C.pjffi_pool_cached(), "calls": len(live),
                "t": time.monotonic()}

    def stuck(what: str) -> AssertionError:
        # A hang fails in a minute and says which calls never ended, and how they stand.
        states = []
        for call in list(live):
            try:
                info = call.info()
                states.append((info.state.name, info.last_code, info.sip_call_id))
            except pj.Error as exc:
                states.append(("gone", exc.err_code, ""))
        return AssertionError(f"{what} within 60 s; calls still known: {states}; "
                              f"ended {ended[0]}, messages {msg_status}; callbacks "
                              f"raised {errors[:5]}")

    def take(sem: threading.Semaphore, what: str) -> None:
        if not sem.acquire(timeout=60):
            raise stuck(what)

    slots = threading.Semaphore(window)
    ended = [0]
    failed = [0]
    errors: list = []  # what callbacks raised (logged by the library): stuck() says it

    class Cb(pj.CallCallback):
        def on_state(self):
            try:
                info = self.call.info()
                if info.state == pj.CallState.CONFIRMED:
                    self.call.hangup()
                elif info.state == pj.CallState.DISCONNECTED:
                    if info.last_code not in (200, 603):
                        failed[0] += 1
                    ended[0] += 1
                    slots.release()
            except Exception as exc:
                errors.append(f"{self.call}: {exc!r}")
                raise

    _msg_done = threading.Semaphore(0)
    msg_status = {"ok": 0, "bad": 0}
    msg_slots = threading.Semaphore(64)
    class Acc(pj.AccountCallback):
        def on_pager_status(self, to_uri, body, im_id, code, reason):
            msg_status["ok" if code == 200 else "bad"] += 1
            msg_slots.release()

    lib, (tp,) = ua_lib(max_calls=64)
    acc = ua_account(lib, tp, "soak", cb=Acc())
    samples = []
    t0 = time.monotonic()
    for i in range(n_calls):
        take(slots, "no call slot came free")
        call = acc.make_call(peer, Cb())
        live.add(call)
        del call
        if i % max(1, n_calls // 20) == 0:
            for _ in range(window):  # let the calls in flight end, so samples compare
                take(slots, "the calls in flight did not end")
            samples.append(sample(i))
            for _ in range(window):
                slots.release()
    for _ in range(window):
        take(slots, "the last calls did not end")
    call_seconds = time.monotonic() - t0
    samples.append(sample(n_calls))
    msg_samples = []
    t1 = time.monotonic()
    for i in range(n_messages):
        take(msg_slots, "no MESSAGE status came")
        acc.send_pager(peer, f"soak message {i}", im_id=i)
        if i % max(1, n_messages // 20) == 0:
            for _ in range(64):
                take(msg_slots, "the MESSAGEs in flight got no status")
            msg_samples.append(sample(i))
            for _ in range(64):
                msg_slots.release()
    for _ in range(64):
        take(msg_slots, "the last MESSAGEs got no status")
    msg_seconds = time.monotonic() - t1
    msg_samples.append(sample(n_messages))
    # pjsip keeps finished transactions for up to 32 s (RFC 3261 timers): once they expire,
    # the pools in use must be back where they started.
    base = samples[0]["pool"]
    drained = wait_for(lambda: C.pjffi_pool_used() <= base + 16, 60, 0.5)
    final = sample(-1)
    report(samples=samples, msg_samples=msg_samples, ended=ended[0], failed=failed[0],
           call_seconds=call_seconds, msg_seconds=msg_seconds, msg_status=msg_status,
           drained=drained, final=final)
    lib.destroy()


if __name__ == "__main__":
    main(globals())
