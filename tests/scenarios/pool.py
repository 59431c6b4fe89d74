"""Scenarios of tests/test_pool.py (each runs in its own process)."""

from __future__ import annotations

import threading

import pjsua_ffi as pj
from pjsua_ffi.pool import Worker, sip_options
from tests.pool_app import make
from tests.scenarios import main
from tests.support import (
    LOOPBACK,
    CallLog,
    Events,
    report,
    ua_account,
)


def drain_gate_in_process() -> None:
    worker = Worker(make, "127.0.0.1", 0)
    worker.start()
    lib = worker.lib
    assert lib is not None
    port = worker.port
    before = sip_options("127.0.0.1", port)
    tp = lib.create_transport(pj.TransportType.UDP, pj.TransportConfig(0, LOOPBACK, LOOPBACK))
    caller = ua_account(lib, tp, "caller", set_default=False)
    ev = Events()
    call = caller.make_call(f"sip:pool@127.0.0.1:{port}", CallLog(ev))
    assert ev.has(("state", "CONFIRMED", 200, "OK"))
    worker.drain()
    during = sip_options("127.0.0.1", port)
    ev2 = Events()
    _refused = caller.make_call(f"sip:pool@127.0.0.1:{port}", CallLog(ev2))
    assert ev2.has(("state", "DISCONNECTED", 503, "Service Unavailable"))
    still_up = call.info().state.name
    done = threading.Event()

    def run_then_set() -> None:
        worker.run()
        done.set()

    t = threading.Thread(target=run_then_set)
    t.start()
    not_done_with_call = not done.wait(1.5)
    call.hangup()
    assert ev.wait(lambda items: any(i[:2] == ("state", "DISCONNECTED") for i in items))
    assert done.wait(10)
    t.join()
    report(before=before, during=during, still_up=still_up, waited=not_done_with_call,
           counts=worker.counters())
    worker.stop()


if __name__ == "__main__":
    main(globals())
