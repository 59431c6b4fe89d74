"""Calls per second through a pool of pjsua_ffi workers behind kamailio, against one
worker that SIPp calls directly, with the CPU time of every process.

Run it alone on the machine (under the heavy-job lock on shared machines)::

    flock /tmp/pjsua-ffi-heavy.lock .venv/bin/python benchmarks/pool.py

Each setup is loaded by one SIPp client (``tests/peers/pool_uac.xml``: INVITE, 200, ACK,
BYE, no hold time) that keeps ``--concurrency`` calls in flight until ``--calls`` calls
are done: the rate it reaches is what the setup can take. Every worker runs the
answer-everything application (``pjsua_ffi.pool:answer_all``). CPU is user+system time
from /proc, for each worker, for kamailio (all its processes) and for SIPp.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pjsua_ffi.pool import free_udp_port, stop_process, wait_answering  # noqa: E402
from tests.peers.pool_run import PoolProcess, Sipp, _env  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
APP = "pjsua_ffi.pool:answer_all"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> List[int]:
    """Direct children of ``pid`` (kamailio's worker processes)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append(int(entry))
    return out


def measure(workdir: pathlib.Path, port: int, groups: Dict[str, List[int]], calls: int,
            concurrency: int) -> Dict[str, object]:
    """Run SIPp against ``port``; calls/s and the CPU seconds of each process group."""
    before = {name: sum(cpu_seconds(p) for p in pids) for name, pids in groups.items()}
    t0 = time.monotonic()
    sipp = Sipp(workdir, port, calls, rate=10000, hold_ms=0, limit=concurrency)
    rc = sipp.wait(600)
    elapsed = time.monotonic() - t0
    sipp_cpu = _sipp_cpu(sipp)
    after = {name: sum(cpu_seconds(p) for p in pids) for name, pids in groups.items()}
    stats = sipp.stats()
    done = stats.get("SuccessfulCall(C)", 0)
    cpu = {name: after[name] - before[name] for name in groups}
    cpu["sipp"] = sipp_cpu
    return {"rc": rc, "ok": done, "failed": stats.get("FailedCall(C)", 0),
            "seconds": elapsed, "cps": done / elapsed if elapsed else 0.0, "cpu": cpu}


def _sipp_cpu(sipp: Sipp) -> float:
    # SIPp has exited: its CPU time is in our children's totals (we reaped it).
    return 0.0 if sipp.proc.returncode is None else _reaped_cpu()


_last_children = [0.0]


def _reaped_cpu() -> float:
    t = os.times()
    total = t.children_user + t.children_system
    delta, _last_children[0] = total - _last_children[0], total
    return delta


def _why(work: pathlib.Path) -> None:
    """Print the commonest kamailio warnings and SIPp aborts of a run with failures."""
    from collections import Counter

    kam = (work / "pool" / "kamailio.log").read_text(errors="replace").splitlines()
    reasons = Counter(ln.split(": ", 2)[-1][:100] for ln in kam if "ERROR" in ln or "WARN" in ln)
    aborts: Counter = Counter()
    for path in work.glob("*errors.log"):
        for ln in path.read_text(errors="replace").splitlines():
            if "Aborting call" in ln:
                aborts[ln.split("received", 1)[-1][:80]] += 1
    print(f"failures: kamailio {reasons.most_common(3)}; SIPp {aborts.most_common(3)}",
          file=sys.stderr)


def run_direct(calls: int, concurrency: int) -> Dict[str, object]:
    """One worker, no proxy: SIPp calls the worker itself."""
    with tempfile.TemporaryDirectory(prefix="pool-bench-") as tmp:
        work = pathlib.Path(tmp)
        port = free_udp_port("127.0.0.1")
        logf = open(work / "worker.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "pjsua_ffi", "worker", "--app", APP,
                                 "--listen", f"127.0.0.1:{port}", "--max-calls", "1024"],
                                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                env=_env(), cwd=str(ROOT), start_new_session=True)
        logf.close()
        try:
            if wait_answering("127.0.0.1", port, 20, lambda: proc.poll() is None) != 200:
                raise RuntimeError("worker did not start")
            _reaped_cpu()
            return measure(work, port, {"worker1": [proc.pid]}, calls, concurrency)
        finally:
            stop_process(proc)
            _reaped_cpu()


def run_pool(workers: int, calls: int, concurrency: int) -> Dict[str, object]:
    """``workers`` workers behind kamailio; SIPp calls the proxy."""
    with tempfile.TemporaryDirectory(prefix="pool-bench-") as tmp:
        work = pathlib.Path(tmp)
        # A worker slower than --fail-timeout counts as dead: on a loaded machine
        # that would measure the failover, not the pool.
        pool = PoolProcess(work, workers, app=APP,
                           extra=["--max-calls", "1024", "--fail-timeout", "4"])
        try:
            groups = {f"worker{i + 1}": [pid] for i, pid in enumerate(pool.worker_pids)}
            groups["kamailio"] = [pool.kamailio_pid, *children(pool.kamailio_pid)]
            _reaped_cpu()
            result = measure(work, pool.port, groups, calls, concurrency)
            if result["failed"]:
                _why(work)
            return result
        finally:
            end = pool.close()
            _reaped_cpu()
            if end["left"]:
                print(f"warning: pool left {end['left']} running (killed)", file=sys.stderr)


def table(rows: List[Dict[str, object]]) -> str:
    """Markdown: rate, failures, CPU of each process (% of one core while loaded) and
    CPU milliseconds per call spent in the workers and in kamailio."""
    lines = ["| setup | calls/s | failed | workers' CPU | kamailio CPU | SIPp CPU | "
             "all CPU | workers ms/call | kamailio ms/call |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        secs = float(row["seconds"])  # type: ignore[arg-type]
        cpu: Dict[str, float] = row["cpu"]  # type: ignore[assignment]
        ok = max(1, int(row["ok"]))  # type: ignore[call-overload]
        workers = {k: v for k, v in cpu.items() if k.startswith("worker")}
        each = " + ".join(f"{100 * v / secs:.0f}%" for v in workers.values())
        kam = cpu.get("kamailio")
        lines.append(
            f"| {row['setup']} | {float(row['cps']):.0f} | {row['failed']} | {each} | "  # type: ignore[arg-type]
            + (f"{100 * kam / secs:.0f}%" if kam is not None else "-")
            + f" | {100 * cpu['sipp'] / secs:.0f}% | {100 * sum(cpu.values()) / secs:.0f}% | "
            f"{1000 * sum(workers.values()) / ok:.2f} | "
            + (f"{1000 * kam / ok:.2f} |" if kam is not None else "- |"))
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=3000, help="calls per setup")
    ap.add_argument("--concurrency", type=int, default=60, help="calls in flight")
    ap.add_argument("--workers", default="1,2,3", help="pool sizes to run")
    args = ap.parse_args(argv)
    rows = []
    result = run_direct(args.calls, args.concurrency)
    rows.append({"setup": "1 worker, no proxy", **result})
    print(table(rows[-1:]).splitlines()[-1], file=sys.stderr)
    for n in (int(x) for x in args.workers.split(",") if x):
        result = run_pool(n, args.calls, args.concurrency)
        rows.append({"setup": f"{n} worker{'s' if n > 1 else ''} + kamailio", **result})
        print(table(rows[-1:]).splitlines()[-1], file=sys.stderr)
    print(f"{args.calls} calls per setup, {args.concurrency} in flight, "
          f"{os.cpu_count()} CPUs, load before: {os.getloadavg()[0]:.2f}")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
