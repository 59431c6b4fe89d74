"""Where pjsua_ffi spends its time in a workload, next to the C program.

    python3 benchmarks/profile_ffi.py calls      # or msgs; --seconds N (default 4)

Runs the workload twice, once with the C peers and once with pjsua_ffi peers whose
binding entry points are wrapped in timers, and prints for each process:

* CPU time per operation for every thread (from /proc/PID/task/*/schedstat), so the
  two stacks can be compared thread by thread;
* for pjsua_ffi, the wall time per operation spent in the binding's parts: the event
  handlers that run on pjsua's thread, the wait in the event queue, the delivery on
  the callback thread, and the Python wrappers around pjsua calls (``_c`` is the gate
  plus the pjsua call itself).

The timers wrap private parts of pjsua_ffi (``_dispatch.HANDLERS``, ``Lib._post``,
``Lib._deliver``, ``_Handle._c``): this is a development tool and follows the binding's
internals, not its API. A timer adds about a microsecond to what it wraps.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------- peer side


def _instrument(out_path: str) -> None:
    """Wrap the binding's entry points with timers; dump totals to ``out_path``."""
    sys.path.insert(0, str(HERE / "peers"))
    sys.path.append(str(HERE.parent))
    import common  # noqa: PLC0415
    import ffi_peer  # noqa: PLC0415

    from pjsua_ffi import _dispatch, account, call, call_info, lib  # noqa: PLC0415
    from pjsua_ffi._object import _Handle  # noqa: PLC0415

    totals: Dict[str, List[float]] = collections.defaultdict(lambda: [0, 0.0])
    clock = time.perf_counter

    def add(name: str, seconds: float) -> None:
        entry = totals[name]
        entry[0] += 1
        entry[1] += seconds

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                add(name, clock() - t)
        return wrapper

    def wrap_handlers() -> None:
        for kind, handler in list(_dispatch.HANDLERS.items()):
            if not getattr(handler, "_timed", False):
                w = timed(f"handler {handler.__name__}", handler)
                w._timed = True  # type: ignore[attr-defined]
                _dispatch.HANDLERS[kind] = w

    wrap_handlers()

    posted: Dict[int, float] = {}
    post, deliver = lib.Lib._post, lib.Lib._deliver

    def timed_post(self: Any, item: Any) -> None:
        posted[id(item)] = clock()
        post(self, item)

    def timed_deliver(self: Any, item: Any) -> None:
        t = posted.pop(id(item), None)
        if t is not None:
            add("event queue: wait until delivery starts", clock() - t)
        deliver(self, item)

    lib.Lib._post = timed_post  # type: ignore[method-assign]
    lib.Lib._deliver = timed("callback thread: _deliver incl. the app's callback",  # type: ignore[method-assign]
                             timed_deliver)
    call_info.CallInfo.__init__ = timed("CallInfo snapshot", call_info.CallInfo.__init__)  # type: ignore[method-assign]
    lib.Lib.verify_sip_url = timed("Lib.verify_sip_url", lib.Lib.verify_sip_url)  # type: ignore[method-assign]
    for cls, name in ((account.Account, "make_call"), (account.Account, "send_pager"),
                      (call.Call, "hangup"), (call.Call, "answer"), (call.Call, "info"),
                      (call.Call, "set_callback"), (lib.Lib, "conf_connect")):
        setattr(cls, name, timed(f"{cls.__name__}.{name}", getattr(cls, name)))
    handle_c = _Handle._c

    def timed_c(self: Any, op: str, fn: Callable[..., int], *args: Any, **kw: Any) -> None:
        t = clock()
        try:
            handle_c(self, op, fn, *args, **kw)
        finally:
            add(f"_c {op} (gate + pjsua)", clock() - t)

    _Handle._c = timed_c  # type: ignore[method-assign]

    def dump() -> None:
        tmp = out_path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(totals, fh)
        os.replace(tmp, out_path)

    def dumper() -> None:
        while True:
            time.sleep(0.25)
            dump()

    threading.Thread(target=dumper, daemon=True).start()
    result = common.result

    def result_and_dump(values: Dict[str, Any]) -> None:
        dump()
        result(values)

    common.result = result_and_dump
    common.main(ffi_peer.FfiStack())


# ---------------------------------------------------------------- driver side


def _threads(pid: int) -> Dict[str, int]:
    out = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as fh:
                comm = fh.read().strip()
            with open(f"/proc/{pid}/task/{task}/schedstat") as fh:
                out[f"{comm} ({task})"] = int(fh.read().split()[0])
        except FileNotFoundError:
            continue
    return out


def _run(stack: Any, workload: str, seconds: float, tag: str) -> Tuple[int, float, list]:
    import run as bench  # noqa: PLC0415

    args = ["--n", "1000000", "--seconds", str(seconds), "--warmup", "10"]
    if workload == "msgs":
        args += ["--rtt-n", "0", "--rtt-seconds", "0"]
    args += stack.extra.get(workload, [])
    with bench.Pair(stack, workload, args, tag) as pair:
        assert pair.caller is not None
        time.sleep(1.0)
        before = [_threads(p.pid) for p in pair.peers]
        pair.caller.send()
        res = json.loads(pair.caller.expect("RESULT", seconds + 60))
        after = [_threads(p.pid) for p in pair.peers]
        time.sleep(0.5)  # let the callee's timers reach its dump file
    n = int(res.get("n") or res.get("tput_n") or 0)
    secs = float(res.get("seconds") or res.get("tput_seconds") or 0.0)
    cpu = [{k: (a[k] - b[k]) for k in a if k in b} for b, a in zip(before, after)]
    return n, secs, cpu


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("workload", choices=("calls", "msgs"))
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--plain", action="store_true",
                   help="no timers in the pjsua_ffi peers: CPU per thread only")
    if argv and argv[0] == "--peer":  # we are an instrumented ffi peer
        sys.argv.remove("--peer")
        _instrument(os.environ["PJSUA_FFI_PROFILE_OUT"] + "." + argv[argv.index("--role") + 1])
        return 0
    a = p.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import run as bench  # noqa: PLC0415

    out = str(bench.CACHE / "bench-logs" / "profile")
    (bench.CACHE / "bench-logs").mkdir(parents=True, exist_ok=True)
    c = bench.STACKS["c"]
    c.prepare(c)
    ffi = bench.STACKS["ffi"]
    ffi.prepare(ffi)
    if not a.plain:
        ffi.command = [sys.executable, str(Path(__file__).resolve()), "--peer"]
        ffi.env = dict(ffi.env, PJSUA_FFI_PROFILE_OUT=out)
    unit = "call" if a.workload == "calls" else "MESSAGE"
    for stack in (c, ffi):
        n, secs, cpu = _run(stack, a.workload, a.seconds, f"profile-{stack.name}")
        print(f"\n== {stack.label}: {n} {unit}s in {secs:.2f} s = {n / secs:.0f}/s")
        for role, threads in zip(("callee", "caller"), cpu):
            total = sum(threads.values()) / n / 1000
            print(f"  {role}: {total:.0f} µs CPU per {unit}")
            for name, ns in sorted(threads.items(), key=lambda kv: -kv[1]):
                if ns / n >= 500:
                    print(f"      {name:28} {ns / n / 1000:7.1f} µs")
        if stack is ffi and not a.plain:
            for role in ("callee", "caller"):
                try:
                    with open(f"{out}.{role}") as fh:
                        totals = json.load(fh)
                except FileNotFoundError:
                    continue
                print(f"  {role}: wall time in the binding (per {unit}: count, µs each, µs)")
                for name, (count, total) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
                    if count:
                        print(f"      {name:52} {count / n:5.2f} {total / count * 1e6:8.1f}"
                              f" {total / n * 1e6:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
