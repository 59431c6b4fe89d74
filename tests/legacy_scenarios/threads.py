"""auto_lock(): while the main thread holds it, a library call from another thread
waits for it; handle_events() from the program's own loop (no worker thread)."""

import threading
import time

import pjsua as pj
from tests.legacy_scenarios.tracer import T, loopback_lib, loopback_transport

lib = loopback_lib(pj.Lib())
tp = loopback_transport(lib)
T.call("start(with_thread=False)", lib.start, with_thread=False)
T.call("handle_events(0)", lib.handle_events, 0)
order = []


def other() -> None:
    lib.thread_register("other")
    order.append("other: calling")
    lib.verify_sip_url("sip:x@y")
    order.append("other: returned")


lck = lib.auto_lock()
th = threading.Thread(target=other)
th.start()
time.sleep(0.5)
order.append("main: releasing")
del lck
th.join(5)
T.note("order", order)
T.call("Transport.info() from a thread", lambda: [tp.info().host])
lib.destroy()
