"""Scenario of tests/test_stress.py (runs in its own process)."""

from __future__ import annotations

import random
import threading
import time

import pjsua_ffi as pj
from tests.scenarios import main
from tests.support import (
    Watchdog,
    report,
    ua_account,
    ua_lib,
    uri_of,
    wait_for,
)


def eight_threads(seconds: str) -> None:
    duration = float(seconds)
    stop = threading.Event()
    lock = threading.Lock()
    count = {"calls": 0, "confirmed": 0, "ended": 0, "sent": 0, "status_ok": 0, "status_bad": 0,
             "received": 0, "presence": 0, "api": 0, "errors": 0, "locks": 0}

    dog = Watchdog(20.0, "progress")

    def bump(key, n=1):
        with lock:
            count[key] += n
        dog.kick()

    lib, (tp_a, tp_b) = ua_lib(max_calls=128, transports=("udp", "udp"))
    live_calls = []

    class CallCb(pj.CallCallback):
        def on_state(self):
            state = self.call.info().state
            if state == pj.CallState.CONFIRMED:
                bump("confirmed")
            elif state == pj.CallState.DISCONNECTED:
                bump("ended")

    class B(pj.AccountCallback):
        def on_incoming_call(self, call):
            call.answer(200)
        def on_pager(self, from_uri, contact, mime_type, body):
            bump("received")

    class A(pj.AccountCallback):
        def on_pager_status(self, to_uri, body, im_id, code, reason):
            bump("status_ok" if code == 200 else "status_bad")

    class Watch(pj.BuddyCallback):
        def on_state(self):
            self.buddy.info()
            bump("presence")
        # A's pagers go to b's address, which is this buddy's: as in the legacy module,
        # their statuses come here, not to A's account callback.
        def on_pager_status(self, body, im_id, code, reason):
            bump("status_ok" if code == 200 else "status_bad")

    b = ua_account(lib, tp_b, "b", cb=B(), set_default=False)
    a = ua_account(lib, tp_a, "a", cb=A())
    uri_b = uri_of(tp_b, "b")
    buddy = a.add_buddy(uri_b, Watch())
    buddy.subscribe()

    def caller():
        while not stop.is_set():
            try:
                call = a.make_call(uri_b, CallCb())
                bump("calls")
                with lock:
                    live_calls.append(call)
                time.sleep(random.uniform(0.01, 0.1))
                call.hangup()
            except pj.Error:
                bump("errors")

    def sender():
        i = 0
        while not stop.is_set():
            try:
                a.send_pager(uri_b, f"stress {i}", im_id=i)
                bump("sent")
            except pj.Error:
                bump("errors")
            i += 1
            time.sleep(0.002)

    def presence():
        while not stop.is_set():
            b.set_presence_status(random.random() < 0.5, pj.PresenceActivity.BUSY,
                                  f"note {random.random():f}")
            bump("api")
            time.sleep(0.05)

    def poker():
        while not stop.is_set():
            with lock:
                calls = list(live_calls[-20:])
            for call in calls:
                for op in (call.info, call.is_valid,
                           lambda: call.dial_dtmf("1"),  # noqa: B023  (called at once)
                           call.hold, call.unhold,
                           lambda: call.send_request("INFO")):  # noqa: B023
                    try:
                        op()
                    except pj.Error:
                        bump("errors")
                    bump("api")
            try:
                lib.conf_connect(random.randint(-3, 300), random.randint(-3, 300))
            except (pj.Error, ValueError):
                bump("errors")
            time.sleep(0.01)

    def locker():
        while not stop.is_set():
            with lib.auto_lock():
                a.info()
                buddy.info()
                time.sleep(0.005)
            bump("locks")
            time.sleep(0.01)

    threads = [threading.Thread(target=f, name=f.__name__ + str(i))
               for i, f in enumerate([caller, caller, sender, sender, presence, poker, poker,
                                      locker])]
    for t in threads:
        t.start()
    time.sleep(duration)
    stop.set()
    dog.stop()
    dog = Watchdog(60.0, "step of the wind-down")   # each step below is bounded
    for t in threads:
        t.join(30)
        dog.kick()
    hung = [t.name for t in threads if t.is_alive()]
    # Let the last calls and messages finish, then check that nothing was lost.
    lib.hangup_all()
    dog.kick()
    done = wait_for(lambda: count["ended"] == count["calls"] and
                    count["status_ok"] + count["status_bad"] == count["sent"], 40, 0.1)
    dog.kick()
    report(hung=hung, done=done, **count)
    lib.destroy()
    dog.stop()


if __name__ == "__main__":
    main(globals())
