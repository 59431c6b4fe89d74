"""Which thread runs a callback: those of the events an API call raises (CALLING for
make_call(), DISCONNECTED for hangup()) run inside the call, on the caller's thread,
before it returns; those of what the network brings, on the library's own thread. The
callee is call_between_processes's, in another process, so that nothing of its side
runs in this one."""

import threading
import time

import pjsua as pj
from tests.legacy_scenarios.tracer import (
    T,
    loopback_account,
    loopback_lib,
    loopback_transport,
    spawn,
    wait,
)

lib = loopback_lib(pj.Lib())
tp = loopback_transport(lib)
lib.start()
seen = []  # (state, on the main thread), and where each API call returned


class Where(pj.CallCallback):
    def on_state(self) -> None:
        main = threading.current_thread() is threading.main_thread()
        seen.append([self.call.info().state_text, "main thread" if main else "other"])


peer = spawn("call_between_processes", "callee", "callee")
port = int(peer.stdout.readline().split()[1])
acc = loopback_account(lib, tp, "caller")
lck = lib.auto_lock()  # no other callback gets in before "returned" is noted
call = acc.make_call(f"sip:callee@127.0.0.1:{port}", Where())
seen.append(["make_call() returned", ""])
del lck
wait(lambda: ["CONFIRMED", "other"] in seen)
wait(lambda: call.info().media_state == pj.MediaState.ACTIVE)
time.sleep(0.5)  # as in call_between_processes: the callee (legacy polls every 50 ms)
# has seen the ACK and its media before the BYE, so its side traces the same each run
lck = lib.auto_lock()
call.hangup()
seen.append(["hangup() returned", ""])
del lck
wait(lambda: any(s[0].startswith("DISCONN") for s in seen))
T.note("callbacks, in order, and their threads", seen)
T.note("callee exit", peer.wait(30))
lib.destroy()
