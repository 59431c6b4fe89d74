"""Benchmarks side by side: pjsua_ffi against the C API, the legacy module and PJSUA2.

``python3 benchmarks/run.py [--quick] [--stacks c,ffi,...] [--workloads calls,...]``
prints one Markdown table (absolute figures and ratios to the C program, all from this
run) and writes it to ``benchmarks/results.md``. benchmarks/README.md says what each
column means.

How a run goes: every stack is prepared first (the C peer is compiled, the legacy
module is built into the cache, PJSUA2 is imported once). Then, round after round,
every workload runs for every stack, the order of the stacks rotating from one round to
the next so that a noisy moment on the machine does not land on one stack only. A
workload for a stack is one or two peer processes (``peers/*.py`` or the C program)
with a deadline: a peer that crashes or hangs makes that cell "fail", the run goes on.
run.py itself measures what the peers cannot report fairly about themselves (resident
memory, CPU time, UDP datagrams) from ``/proc``, and stops the peers by pid.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / "peers"
CACHE = Path(os.environ.get("PJSUA_FFI_CACHE", Path.home() / ".cache" / "pjsua-ffi"))
LOG_DIR = CACHE / "bench-logs"
VENDOR = ROOT / "vendor" / "pjproject"
CLK_TCK = os.sysconf("SC_CLK_TCK")

os.environ.setdefault("PJSUA_FFI_SKIP_FFIBUILDER", "1")  # build_pjsip: no cffi step on import
sys.path.insert(0, str(ROOT))

from tools.legacy import build_legacy  # noqa: E402
from tools.legacy import digest as _hash  # noqa: E402
from tools.legacy import lib_state as _lib_state  # noqa: E402
from tools.legacy import stamp_ok as _stamp_ok  # noqa: E402


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ======================================================================== settings


@dataclass
class Settings:
    """Workload sizes. Every loop is bounded by a count and by a time budget."""

    rounds: int = 3
    calls_n: int = 5000
    calls_seconds: float = 5.0
    warmup: int = 20
    rtt_n: int = 2000
    rtt_seconds: float = 2.0
    msgs_n: int = 100000
    msgs_seconds: float = 4.0
    window: int = 32
    settle: float = 3.0        # seconds after start before memory/CPU are read
    idle_seconds: float = 10.0
    hold_calls: int = 100
    ramp_cap: int = 600
    ramp_batch: int = 50
    ramp_hold: float = 5.0

    @classmethod
    def quick(cls) -> "Settings":
        return cls(rounds=1, calls_n=300, calls_seconds=1.0, warmup=5, rtt_n=200,
                   rtt_seconds=0.5, msgs_n=3000, msgs_seconds=1.0, settle=2.0,
                   idle_seconds=2.0, hold_calls=20, ramp_cap=100, ramp_hold=2.0)


# ======================================================================== stacks


@dataclass
class Stack:
    """One implementation under test and how to start its peer."""

    name: str
    label: str
    prepare: Callable[["Stack"], None]
    note: str = ""
    command: List[str] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)
    extra: Dict[str, List[str]] = field(default_factory=dict)  # per-workload peer options
    notes: Dict[str, str] = field(default_factory=dict)       # per-workload footnotes
    version: str = ""
    error: str = ""                                            # set when unusable
    callee: str = ""        # another stack whose peer answers (default: this one)
    versus: str = ""        # the C row its "one side" ratios compare with


def _pjproject_version() -> str:
    from build_pjsip import pjproject_version

    return ".".join(map(str, pjproject_version(VENDOR)))


def prepare_c(stack: Stack) -> None:
    """Compile benchmarks/c/pjsua_bench.c against vendor/pjproject, like build_pjsip."""
    from build_pjsip import make_vars

    src = HERE / "c" / "pjsua_bench.c"
    mv = make_vars()
    libs = mv["PJ_LIB_FILES"].split()
    flags = mv["PJ_CFLAGS"].split() + ["-O2"]
    link = mv["PJ_LDFLAGS"].split() + mv["PJ_LDLIBS"].split()
    out = CACHE / "bench" / "pjsua_bench"
    stamp_file = out.with_suffix(".stamp")
    stamp = _hash(src.read_bytes(), (HERE / "c" / "bench_ua.h").read_bytes(), flags, link,
                  _lib_state(libs))
    if not _stamp_ok(stamp_file, stamp, out):
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [os.environ.get("CC", "cc"), "-o", str(out), str(src), *flags, *link]
        log("compiling the C peer: " + " ".join(cmd[:4]) + " ...")
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError("cc failed:\n" + proc.stderr[-3000:])
        stamp_file.write_text(stamp)
    stack.command = [str(out)]
    stack.version = f"pjproject {_pjproject_version()} (vendor/)"


def prepare_ffi(stack: Stack) -> None:
    probe = subprocess.run([sys.executable, "-c", "import pjsua_ffi._pjsua"], cwd=str(ROOT),
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise RuntimeError("pjsua_ffi is not built: run `python3 build_pjsip.py` first")
    stack.command = [sys.executable, str(PEERS / "ffi_peer.py")]
    stack.env = {"PYTHONPATH": str(ROOT)}
    stack.version = f"pjproject {_pjproject_version()} (vendor/)"


def prepare_c_loop(stack: Stack) -> None:
    """The C program in event-loop shape: no pjsua worker thread, the main thread polls."""
    prepare_c(stack)
    stack.command += ["--loop", "1"]


def _prepare_loop_peer(stack: Stack, mode: str) -> None:
    prepare_ffi(stack)
    stack.command = [sys.executable, str(PEERS / "loop_peer.py"), "--mode", mode]


def prepare_ffi_loop(stack: Stack) -> None:
    _prepare_loop_peer(stack, "events")


def prepare_ffi_aio(stack: Stack) -> None:
    _prepare_loop_peer(stack, "asyncio")


def _base_tree() -> Path:
    """The checkout named by ``$PJSUA_FFI_BASE`` (built), for before/after in one run."""
    base = os.environ.get("PJSUA_FFI_BASE")
    if not base:
        raise RuntimeError("the -base stacks need PJSUA_FFI_BASE=/path/to/a/built/checkout")
    tree = Path(base).resolve()
    probe = subprocess.run([sys.executable, "-c", "import pjsua_ffi._pjsua"], cwd=str(tree),
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise RuntimeError(f"pjsua_ffi is not built in {tree}")
    return tree


def _prepare_base(stack: Stack, peer: str, *args: str) -> None:
    """Like the ffi stacks, but the peer and the package come from ``$PJSUA_FFI_BASE``."""
    tree = _base_tree()
    rev = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    stack.command = [sys.executable, str(tree / "benchmarks" / "peers" / peer), *args]
    stack.env = {"PYTHONPATH": str(tree)}
    stack.version = f"pjsua_ffi at {rev or tree}"


def prepare_ffi_base(stack: Stack) -> None:
    _prepare_base(stack, "ffi_peer.py")


def prepare_ffi_loop_base(stack: Stack) -> None:
    _prepare_base(stack, "loop_peer.py", "--mode", "events")


def prepare_floor(stack: Stack) -> None:
    """Compile peers/floor_peer.py's C part against vendor/pjproject into the cache."""
    from build_pjsip import make_vars

    sys.path.insert(0, str(PEERS))
    import floor_peer

    mv = make_vars()
    libs = mv["PJ_LIB_FILES"].split()
    flags = mv["PJ_CFLAGS"].split() + ["-O2"]
    link = mv["PJ_LDFLAGS"].split() + libs + mv["PJ_LDLIBS"].split()
    out_dir = CACHE / "bench" / "floor"
    stamp_file = out_dir / "stamp"
    stamp = _hash(floor_peer.CDEF, floor_peer.SOURCE, (HERE / "c" / "bench_ua.h").read_bytes(),
                  flags, link, _lib_state(libs), sys.version)
    if not (stamp_file.exists() and stamp_file.read_text() == stamp
            and list(out_dir.glob("_floor*.so"))):
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir(parents=True)
        log("compiling the Python-floor peer's C part with cffi ...")
        floor_peer.build(out_dir, flags, link)
        stamp_file.write_text(stamp)
    stack.command = [sys.executable, str(PEERS / "floor_peer.py")]
    stack.env = {"FLOOR_MODULE_DIR": str(out_dir)}
    stack.version = f"pjproject {_pjproject_version()} (vendor/)"


def _prepare_legacy(stack: Stack, text_off: bool) -> None:
    lib_dir = build_legacy(text_off)
    probe = subprocess.run([sys.executable, "-c", "import pjsua, _pjsua; print(pjsua.__file__)"],
                           cwd=str(lib_dir), env=dict(os.environ, PYTHONPATH=str(lib_dir)),
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise RuntimeError("the legacy module does not import: "
                           + (probe.stderr.strip().splitlines() or ["?"])[-1])
    stack.command = [sys.executable, str(PEERS / "legacy_peer.py")]
    stack.env = {"PYTHONPATH": str(lib_dir)}
    stack.version = f"pjproject {_pjproject_version()} (vendor/), built in {lib_dir}"


def prepare_legacy(stack: Stack) -> None:
    _prepare_legacy(stack, text_off=True)


def prepare_legacy_stock(stack: Stack) -> None:
    _prepare_legacy(stack, text_off=False)


def prepare_pjsua2(stack: Stack) -> None:
    probe = subprocess.run(
        [sys.executable, "-c",
         "import pjsua2 as p; e = p.Endpoint(); e.libCreate(); "
         "print('@@VERSION', e.libVersion().full, flush=True); e.libDestroy()"],
        capture_output=True, text=True)
    if probe.returncode != 0:
        raise RuntimeError("pjsua2 does not import: pip install pjsua2-python")
    stack.command = [sys.executable, str(PEERS / "pjsua2_peer.py")]
    found = [ln.split()[1] for ln in probe.stdout.splitlines() if ln.startswith("@@VERSION ")]
    stack.version = f"pjproject {found[0] if found else '?'} (pjsua2-python wheel)"
    # The wheel's stock select() ioqueue has 64 handles and frees a closed socket's
    # handle only 500 ms later: about 30 calls in half a second abort the process.
    # At most 400 timed calls, so that the rests stay short.
    stack.extra["calls"] = ["--burst", "20", "--rest", "0.6", "--n", "400"]
    stack.notes["calls"] = ("stock build (64 ioqueue handles): at most 400 calls, in bursts "
                            "of 20 with untimed 0.6 s rests; without them the process aborts "
                            "in pj_ioqueue_register_sock2 after ~30 calls")


STACKS: Dict[str, Stack] = {s.name: s for s in [
    Stack("c", "C (pjsua API)", prepare_c),
    Stack("ffi", "pjsua_ffi", prepare_ffi),
    Stack("c-loop", "C (event loop)", prepare_c_loop,
          note="the C program with --loop 1: one thread polls pjsua and reacts"),
    Stack("ffi-loop", "pjsua_ffi (event loop)", prepare_ffi_loop,
          note="start(with_thread=False) and handle_events(): peers/loop_peer.py"),
    Stack("ffi-aio", "pjsua_ffi (asyncio)", prepare_ffi_aio,
          note="pjsua_ffi.aio: peers/loop_peer.py --mode asyncio"),
    Stack("ffi-cc", "pjsua_ffi, C callee", prepare_ffi, callee="c", versus="c",
          note="the caller only is pjsua_ffi: one side's cost, as against the C pair"),
    Stack("ffi-loop-cc", "pjsua_ffi (event loop), C callee", prepare_ffi_loop,
          callee="c-loop", versus="c-loop", note="the caller only is pjsua_ffi"),
    Stack("ffi-aio-cc", "pjsua_ffi (asyncio), C callee", prepare_ffi_aio,
          callee="c-loop", versus="c-loop", note="the caller only is pjsua_ffi"),
    Stack("ffi-base", "pjsua_ffi ($PJSUA_FFI_BASE)", prepare_ffi_base,
          note="the callback-thread peer of another checkout: before/after in one run"),
    Stack("ffi-loop-base", "pjsua_ffi (event loop, $PJSUA_FFI_BASE)", prepare_ffi_loop_base,
          note="the event-loop peer of another checkout"),
    Stack("floor", "Python floor (no binding)", prepare_floor,
          note="the least any Python binding can cost: peers/floor_peer.py"),
    Stack("pjsua2", "PJSUA2 (SWIG)", prepare_pjsua2),
    Stack("legacy", "legacy pjsua", prepare_legacy,
          note="text streams off and IPv4 media by a two-line build patch"),
    Stack("legacy-stock", "legacy pjsua (as shipped)", prepare_legacy_stock),
]}
DEFAULT_STACKS = ["c", "ffi", "c-loop", "ffi-loop", "ffi-aio", "floor", "pjsua2", "legacy"]


# ======================================================================== processes


class PeerFailed(Exception):
    pass


def _proc_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _proc_cpu_seconds(pid: int) -> float:
    """CPU time of a process's live threads, in nanosecond resolution (schedstat), or
    from /proc/PID/stat in clock ticks where schedstat is missing."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/schedstat") as fh:
                    total += int(fh.read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                continue  # the thread ended meanwhile
        return total / 1e9
    except FileNotFoundError:
        pass
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def _udp_counters() -> Dict[str, int]:
    with open("/proc/net/snmp") as fh:
        rows = [line.split() for line in fh if line.startswith("Udp:")]
    return dict(zip(rows[0][1:], map(int, rows[1][1:])))


class Peer:
    """A peer process and the protocol lines it prints (see peers/common.py)."""

    def __init__(self, stack: Stack, role: str, workload: str, args: List[str],
                 log_path: Path) -> None:
        cmd = [*stack.command, "--role", role, "--workload", workload, *args]
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        env.update(stack.env)
        self.log_path = log_path
        self._log = open(log_path, "w")
        self._log.write("$ " + " ".join(cmd) + "\n")
        self._log.flush()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, text=True, env=env,
                                     cwd=str(HERE))
        self.pid = self.proc.pid
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("@@"):
                self._lines.put(line[2:].rstrip("\n"))
        self._lines.put(None)

    def expect(self, tag: str, timeout: float) -> str:
        """Wait for the next protocol line, which must be ``tag``; return its payload."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise PeerFailed(f"timeout: no {tag} within {timeout:.0f} s") from None
        if line is None:
            self.proc.wait(timeout=5)
            rc = self.proc.returncode
            how = f"killed by signal {-rc}" if rc and rc < 0 else f"exit code {rc}"
            raise PeerFailed(f"{how} before {tag}: {self.last_error()}")
        got, _, payload = line.partition(" ")
        if got == "RESULT" and tag != "RESULT":
            err = json.loads(payload).get("error", payload)
            raise PeerFailed(f"{err}")
        if got != tag:
            raise PeerFailed(f"expected {tag}, got {line[:200]}")
        return payload

    def send(self, line: str = "go") -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def last_error(self) -> str:
        self._log.flush()
        noise = ("ALSA lib", "jack", "Jack", "Cannot connect to server", "$ ")
        lines = [ln.strip() for ln in self.log_path.read_text(errors="replace").splitlines()
                 if ln.strip() and not ln.startswith(noise)]
        return lines[-1][:300] if lines else "no message"

    def rss_kib(self) -> int:
        return _proc_rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        return _proc_cpu_seconds(self.pid)

    def stop(self) -> None:
        """Stop the peer: it is our child, stopped by its pid only."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log(f"peer {self.pid} did not exit after SIGKILL")
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self._log.close()


class Pair:
    """A callee and (optionally) a caller for one stack and one workload."""

    def __init__(self, stack: Stack, workload: str, caller_args: Optional[List[str]],
                 tag: str) -> None:
        self.peers: List[Peer] = []
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        answering = STACKS[stack.callee] if stack.callee else stack
        self.callee = self._start(answering, "callee", workload, [],
                                  LOG_DIR / f"{tag}-callee.log")
        port = int(self.callee.expect("READY", 30))
        self.caller: Optional[Peer] = None
        if caller_args is not None:
            self.caller = self._start(stack, "caller", workload,
                                      ["--target", str(port), *caller_args],
                                      LOG_DIR / f"{tag}-caller.log")
            self.caller.expect("READY", 30)

    def _start(self, stack: Stack, role: str, workload: str, args: List[str],
               path: Path) -> Peer:
        peer = Peer(stack, role, workload, args, path)
        self.peers.append(peer)
        return peer

    def __enter__(self) -> "Pair":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        for peer in reversed(self.peers):
            peer.stop()


# ======================================================================== workloads

Metrics = Dict[str, Any]


def run_start(stack: Stack, s: Settings, tag: str) -> Metrics:
    """One idle user agent: resident memory after start, CPU time while idle."""
    pair = Pair(stack, "idle", None, tag)
    with pair:
        time.sleep(s.settle)
        rss = pair.callee.rss_kib()
        cpu0 = pair.callee.cpu_seconds()
        time.sleep(s.idle_seconds)
        cpu = pair.callee.cpu_seconds() - cpu0
    return {"rss_start_mib": rss / 1024, "idle_cpu_pct": 100 * cpu / s.idle_seconds}


def run_calls(stack: Stack, s: Settings, tag: str) -> Metrics:
    args = ["--n", str(s.calls_n), "--seconds", str(s.calls_seconds),
            "--warmup", str(s.warmup), *stack.extra.get("calls", [])]
    with Pair(stack, "calls", args, tag) as pair:
        assert pair.caller is not None
        pair.caller.send()
        res = json.loads(pair.caller.expect("RESULT", s.calls_seconds * 4 + 60))
    if res.get("error") and not res.get("n"):
        raise PeerFailed(res["error"])
    out: Metrics = {"calls_per_s": res["n"] / res["seconds"] if res["seconds"] else 0.0,
                    "_lat_us": res["lat_us"], "_calls_n": res["n"]}
    if res.get("failures"):
        out["_warn"] = f"{res['failures']} calls failed"
    if res.get("error"):
        out["_warn"] = f"stopped early after {res['n']} calls: {res['error']}"
    return out


def run_msgs(stack: Stack, s: Settings, tag: str) -> Metrics:
    args = ["--n", str(s.msgs_n), "--seconds", str(s.msgs_seconds), "--warmup",
            str(s.warmup), "--rtt-n", str(s.rtt_n), "--rtt-seconds", str(s.rtt_seconds),
            "--window", str(s.window), *stack.extra.get("msgs", [])]
    with Pair(stack, "msgs", args, tag) as pair:
        assert pair.caller is not None
        pair.caller.send()
        res = json.loads(pair.caller.expect("RESULT",
                                            s.msgs_seconds + s.rtt_seconds * 3 + 60))
    if res.get("error"):
        raise PeerFailed(res["error"])
    out: Metrics = {"msgs_per_s": res["tput_n"] / res["tput_seconds"] if res["tput_seconds"]
                    else 0.0, "_rtt_us": res["rtt_us"]}
    if res.get("tput_failed"):
        out["_warn"] = f"{res['tput_failed']} MESSAGEs failed"
    return out


def run_hold(stack: Stack, s: Settings, tag: str) -> Metrics:
    """Resident memory per held call with audio, averaged over both processes."""
    args = ["--n", str(s.hold_calls), "--batch", str(s.ramp_batch),
            "--max-calls", str(max(s.hold_calls, s.ramp_cap) + 16)]
    with Pair(stack, "hold", args, tag) as pair:
        assert pair.caller is not None
        time.sleep(s.settle)
        before = [p.rss_kib() for p in pair.peers]
        pair.caller.send()
        held = int(pair.caller.expect("HELD", 120))
        time.sleep(1.5)
        after = [p.rss_kib() for p in pair.peers]
        pair.caller.send("release")
        res = json.loads(pair.caller.expect("RESULT", 30))
    if held <= 0:
        raise PeerFailed(res.get("reason") or "no call came up")
    out: Metrics = {"kib_per_call": (sum(after) - sum(before)) / len(before) / held,
                    "_held_for_memory": held}
    if held < s.hold_calls:
        out["_hold_reason"] = res.get("reason", "")
    return out


def run_ramp(stack: Stack, s: Settings, tag: str) -> Metrics:
    """Add calls with audio until the cap or a failure, then hold them."""
    args = ["--cap", str(s.ramp_cap), "--batch", str(s.ramp_batch), "--hold-seconds",
            str(s.ramp_hold), "--max-calls", str(max(s.hold_calls, s.ramp_cap) + 16)]
    with Pair(stack, "ramp", args, tag) as pair:
        assert pair.caller is not None
        pair.caller.send()
        ramp_timeout = (s.ramp_cap / max(1, s.ramp_batch) + 1) * 20 + 60
        payload = pair.caller.expect("RAMPED", ramp_timeout)
        t0, udp0 = time.monotonic(), _udp_counters()
        cpu0 = [p.cpu_seconds() for p in pair.peers]
        res = json.loads(pair.caller.expect("RESULT", s.ramp_hold + 60))
        t1, udp1 = time.monotonic(), _udp_counters()
        cpu1 = [p.cpu_seconds() for p in pair.peers]
    reached = int(payload.split(" ", 1)[0])
    held = int(res["held"])
    span = max(t1 - t0, 1e-6)
    datagrams = udp1.get("InDatagrams", 0) - udp0.get("InDatagrams", 0)
    out: Metrics = {
        "max_calls": held,
        "_reached": reached,
        "_reason": res.get("reason", ""),
        "_pkts_per_call": datagrams / span / held if held else 0.0,
        "_rcvbuf_errors": udp1.get("RcvbufErrors", 0) - udp0.get("RcvbufErrors", 0),
        "_cpu_pct": [100 * (b - a) / span for a, b in zip(cpu0, cpu1)],
    }
    return out


WORKLOADS: Dict[str, Callable[[Stack, Settings, str], Metrics]] = {
    "calls": run_calls,
    "msgs": run_msgs,
    "start": run_start,
    "hold": run_hold,
    "ramp": run_ramp,
}
ONCE = {"ramp"}  # expensive: run in the first round only


# ======================================================================== report


@dataclass
class Column:
    key: str
    title: str
    unit: str
    higher_is_better: bool
    digits: int = 3


COLUMNS = [
    Column("calls_per_s", "calls/s", "", True),
    Column("setup_p50_ms", "setup p50", "ms", False),
    Column("setup_p95_ms", "setup p95", "ms", False),
    Column("msgs_per_s", "MESSAGE/s", "", True),
    Column("rtt_p50_ms", "MESSAGE RTT p50", "ms", False),
    Column("rtt_p95_ms", "MESSAGE RTT p95", "ms", False),
    Column("rss_start_mib", "RSS after start", "MiB", False),
    Column("kib_per_call", "RSS per held call", "KiB", False),
    Column("idle_cpu_pct", "idle CPU", "% core", False),
    Column("max_calls", "calls with audio held", "", True),
]

# Targets for pjsua_ffi, as ratios to C (see README.md).
TARGETS = [
    ("calls_per_s", ">=", 0.9, "calls/s ≥ 0.9× C"),
    ("setup_p50_ms", "<=", 1 / 0.9, "setup latency ≤ 1/0.9× C"),
    ("msgs_per_s", ">=", 0.8, "MESSAGE/s ≥ 0.8× C"),
    ("kib_per_call", "<=", 1.1, "memory per call ≤ 1.1× C"),
    ("idle_cpu_pct", "<=", 1.0, "idle CPU no higher than C (within noise)"),
]


def percentile(values: List[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def combine(rounds: List[Metrics]) -> Metrics:
    """Medians of per-round figures; latency percentiles over all rounds' samples."""
    out: Metrics = {}
    lat = [v for r in rounds for v in r.get("_lat_us", [])]
    rtt = [v for r in rounds for v in r.get("_rtt_us", [])]
    if lat:
        out["setup_p50_ms"] = percentile(lat, 50) / 1000
        out["setup_p95_ms"] = percentile(lat, 95) / 1000
    if rtt:
        out["rtt_p50_ms"] = percentile(rtt, 50) / 1000
        out["rtt_p95_ms"] = percentile(rtt, 95) / 1000
    keys = {k for r in rounds for k in r if not k.startswith("_")}
    for k in keys:
        vals = [r[k] for r in rounds if k in r]
        out[k] = statistics.median(vals)
    for r in rounds:
        for k, v in r.items():
            if k.startswith("_") and k not in ("_lat_us", "_rtt_us"):
                out[k] = v
    return out


def fmt(value: Optional[float], digits: int = 3) -> str:
    if value is None or value != value:
        return "–"
    if value == 0:
        return "0"
    mag = abs(value)
    if mag >= 10 ** digits:
        return f"{value:,.0f}"
    decimals = max(0, digits - 1 - int(f"{mag:e}".split("e")[1]))
    return f"{value:,.{min(decimals, 4)}f}"


def build_report(stacks: List[Stack], results: Dict[str, Dict[str, List[Metrics]]],
                 failures: Dict[str, Dict[str, str]], settings: Settings, quick: bool,
                 started: float, load: Tuple[str, str], order: List[str]) -> str:
    combined: Dict[str, Metrics] = {s.name: {} for s in stacks}
    for s in stacks:
        for w in order:
            rounds = results.get(s.name, {}).get(w)
            if rounds:
                combined[s.name].update(combine(rounds))
    c = combined.get("c", {})
    lines: List[str] = []
    mode = "--quick" if quick else "full"
    lines.append("# pjsua-ffi benchmarks\n")
    lines.append(f"One run of `python3 benchmarks/run.py` ({mode}, {settings.rounds} round(s)), "
                 f"started {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, "
                 f"{os.cpu_count()} CPUs, load average {load[0]} at start and {load[1]} "
                 f"at the end, Python {platform.python_version()}. Each cell: the figure, "
                 "then its ratio to the C program in the same run. ↑: higher is better, "
                 "↓: lower is better. See README.md for what each column measures.\n")
    head = ["stack"] + [f"{col.title}{' (' + col.unit + ')' if col.unit else ''} "
                        f"{'↑' if col.higher_is_better else '↓'}" for col in COLUMNS]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for s in stacks:
        if s.error:
            lines.append(f"| {s.label} | " + " | ".join(["n/a"] * len(COLUMNS)) + " |")
            continue
        row = [s.label]
        m = combined[s.name]
        for col in COLUMNS:
            wl = _workload_of(col.key)
            if col.key not in m:
                row.append("fail" if failures.get(s.name, {}).get(wl)
                           else ("–" if wl not in order else "n/a"))
                continue
            cell = fmt(m[col.key], col.digits)
            base = c.get(col.key)
            if s.name != "c" and base:
                cell += f" ({m[col.key] / base:.2f}×)"
            if col.key == "max_calls" and m.get("_reason"):
                cell += " ¹"
            row.append(cell)
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    # Targets for pjsua_ffi.
    f = combined.get("ffi")
    fl = combined.get("floor", {})
    if f and c:
        lines.append("## pjsua_ffi against its targets\n")
        for key, op, limit, text in TARGETS:
            if key not in f or not c.get(key):
                lines.append(f"- {text}: not measured")
                continue
            ratio = f[key] / c[key]
            ok = ratio >= limit if op == ">=" else ratio <= limit
            if key == "idle_cpu_pct":  # about 1 % of a core: allow 20 % or 0.05 % of a core
                ok = f[key] <= max(c[key] * 1.2, c[key] + 0.05)
            floor = ""
            if fl.get(key):
                # What no Python binding can beat here: a target beyond it is out of reach.
                floor = f" (Python floor: {fl[key] / c[key]:.2f}×)"
            lines.append(f"- {text}: {ratio:.2f}× — {'met' if ok else 'MISSED'}{floor}")
        if "max_calls" in f:
            ok = f["max_calls"] >= 500
            verdict = ("met" if ok else "MISSED") if settings.ramp_cap >= 500 else \
                "not measured (cap below 500)"
            lines.append(f"- ≥ 500 simultaneous calls with audio: {f['max_calls']:.0f} "
                         f"(ramp cap {settings.ramp_cap}) — {verdict}")
        lines.append("")
    # The event-loop rows against the C program of the same shape.
    cl = combined.get("c-loop")
    loop_rows = [s for s in stacks if s.name in ("ffi-loop", "ffi-aio") and combined.get(s.name)]
    if cl and loop_rows:
        lines.append("## Event-loop rows against the event-loop C program\n")
        lines.append("Targets: ≥ 0.95× on calls/s and MESSAGE/s, ≤ 1.15× on setup p50 and p95.\n")
        for s in loop_rows:
            m = combined[s.name]
            bits = []
            for key, title in (("calls_per_s", "calls/s"), ("setup_p50_ms", "setup p50"),
                               ("setup_p95_ms", "setup p95"), ("msgs_per_s", "MESSAGE/s"),
                               ("rtt_p50_ms", "RTT p50"), ("rtt_p95_ms", "RTT p95"),
                               ("max_calls", "calls held")):
                if m.get(key) is not None and cl.get(key):
                    bits.append(f"{title} {m[key] / cl[key]:.2f}×")
            lines.append(f"- {s.label}: " + ", ".join(bits))
        lines.append("")
    # Rows whose callee is a C program: the binding on one side only.
    one_side = [s for s in stacks if s.versus and combined.get(s.name)
                and combined.get(s.versus)]
    if one_side:
        lines.append("## One side: a pjsua_ffi caller against a C callee\n")
        lines.append("Each against the C program of the same shape calling the same C "
                     "callee.\n")
        for s in one_side:
            m, base = combined[s.name], combined[s.versus]
            bits = [f"{title} {m[key] / base[key]:.2f}×"
                    for key, title in (("calls_per_s", "calls/s"),
                                       ("setup_p50_ms", "setup p50"),
                                       ("setup_p95_ms", "setup p95"),
                                       ("msgs_per_s", "MESSAGE/s"), ("rtt_p50_ms", "RTT p50"),
                                       ("rtt_p95_ms", "RTT p95"))
                    if m.get(key) is not None and base.get(key)]
            lines.append(f"- {s.label} (against {STACKS[s.versus].label}): "
                         + ", ".join(bits))
        lines.append("")
    # Notes.
    lines.append("## Notes\n")
    lines.append("¹ The ramp adds calls with audio in batches of "
                 f"{settings.ramp_batch} up to {settings.ramp_cap}, then holds them for "
                 f"{settings.ramp_hold:g} s; the cell is how many were still up.\n")
    for s in stacks:
        bits: List[str] = []
        if s.error:
            bits.append(f"not run: {s.error}")
        if s.version:
            bits.append(s.version)
        if s.note:
            bits.append(s.note)
        m = combined.get(s.name, {})
        if "max_calls" in m:
            cpu = " and ".join(f"{v:.0f} %" for v in m.get("_cpu_pct", []))
            text = (f"ramp: {m['_reached']} up, {m['max_calls']:.0f} held "
                    f"({m.get('_reason')}); CPU of callee and caller while held {cpu}")
            if m["max_calls"] >= 50:  # the counters are machine-wide: few calls drown
                text += (f"; {m.get('_pkts_per_call', 0):.0f} UDP datagrams/s per call "
                         f"(100 expected), {m.get('_rcvbuf_errors', 0)} receive-buffer drops")
            bits.append(text)
        if m.get("_held_for_memory") and m["_held_for_memory"] < settings.hold_calls:
            bits.append(f"memory per call from {m['_held_for_memory']} calls only "
                        f"({m.get('_hold_reason')})")
        if "_calls_n" in m:
            bits.append(f"calls: {m['_calls_n']} timed calls in the last round")
        for w, text in s.notes.items():
            if w in order:
                bits.append(f"{w}: {text}")
        for w, text in failures.get(s.name, {}).items():
            bits.append(f"{w} failed: {text}")
        if m.get("_warn"):
            bits.append(str(m["_warn"]))
        if bits:
            lines.append(f"- **{s.label}**: " + "; ".join(bits).rstrip(".") + ".")
    lines.append("")
    return "\n".join(lines)


def _workload_of(key: str) -> str:
    return {"calls_per_s": "calls", "setup_p50_ms": "calls", "setup_p95_ms": "calls",
            "msgs_per_s": "msgs", "rtt_p50_ms": "msgs", "rtt_p95_ms": "msgs",
            "rss_start_mib": "start", "idle_cpu_pct": "start", "kib_per_call": "hold",
            "max_calls": "ramp"}[key]


# ======================================================================== main


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, one round (smoke test)")
    p.add_argument("--stacks", default=",".join(DEFAULT_STACKS),
                   help=f"comma-separated, from {', '.join(STACKS)} (default: %(default)s)")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help="comma-separated, from %(default)s")
    p.add_argument("--rounds", type=int, help="rounds (default: 3, or 1 with --quick)")
    p.add_argument("--ramp-cap", type=int, help="most calls the ramp adds")
    p.add_argument("--output", default=str(HERE / "results.md"),
                   help="where the Markdown goes (default: %(default)s; '-' for none)")
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    a = parse_args(argv)
    settings = Settings.quick() if a.quick else Settings()
    if a.rounds:
        settings.rounds = a.rounds
    if a.ramp_cap:
        settings.ramp_cap = a.ramp_cap
    names = [n.strip() for n in a.stacks.split(",") if n.strip()]
    order = [w.strip() for w in a.workloads.split(",") if w.strip()]
    unknown = [n for n in names if n not in STACKS] + [w for w in order if w not in WORKLOADS]
    if unknown:
        print(f"unknown stack or workload: {', '.join(unknown)}", file=sys.stderr)
        return 2
    if "c" not in names:
        names.insert(0, "c")  # ratios need the C program
    for n in list(names):  # a C callee or comparison row another row needs
        for need in (STACKS[n].callee, STACKS[n].versus):
            if need and need not in names:
                names.append(need)
    stacks = [STACKS[n] for n in names]
    started = time.time()
    load0 = f"{os.getloadavg()[0]:.2f}"
    for s in stacks:
        try:
            s.prepare(s)
            log(f"{s.name}: ready ({s.version})")
        except Exception as exc:  # noqa: BLE001  (a stack that cannot run is reported n/a)
            s.error = " ".join(str(exc).split())[:400]
            log(f"{s.name}: n/a — {s.error}")
    runnable = [s for s in stacks if not s.error]
    results: Dict[str, Dict[str, List[Metrics]]] = {s.name: {} for s in stacks}
    failures: Dict[str, Dict[str, str]] = {s.name: {} for s in stacks}
    for rnd in range(settings.rounds):
        shift = rnd % max(1, len(runnable))
        rotated = runnable[shift:] + runnable[:shift]
        for w in order:
            if w in ONCE and rnd > 0:
                continue
            for s in rotated:
                if w in failures[s.name]:
                    continue  # failed once: do not spend the deadline again
                tag = f"{s.name}-{w}-r{rnd + 1}"
                t0 = time.monotonic()
                try:
                    m = WORKLOADS[w](s, settings, tag)
                    results[s.name].setdefault(w, []).append(m)
                    log(f"round {rnd + 1} {w:<5} {s.name:<12} {time.monotonic() - t0:5.1f} s  "
                        + _brief(m))
                except (PeerFailed, OSError, ValueError, KeyError) as exc:
                    failures[s.name][w] = " ".join(str(exc).split())[:300]
                    log(f"round {rnd + 1} {w:<5} {s.name:<12} FAILED: {failures[s.name][w]}"
                        f" (logs: {LOG_DIR}/{tag}-*.log)")
    load1 = f"{os.getloadavg()[0]:.2f}"
    report = build_report(stacks, results, failures, settings, a.quick, started,
                          (load0, load1), order)
    print(report)
    if a.output != "-":
        Path(a.output).write_text(report)
        log(f"written to {a.output}")
    return 0


def _brief(m: Metrics) -> str:
    return ", ".join(f"{k}={fmt(v)}" for k, v in m.items()
                     if not k.startswith("_") and isinstance(v, (int, float)))


if __name__ == "__main__":
    sys.exit(main())
