"""Run ``python -m pjsua_ffi pool`` and a SIPp load generator against it, for the pool
tests and ``benchmarks/pool.py``.

Everything binds 127.0.0.1 and picks its ports at run time. Every process started here
is stopped by pid: the pool (which stops its workers and kamailio), and whatever of
those is still alive afterwards.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIO = pathlib.Path(__file__).with_name("pool_uac.xml")
LOOPBACK = "127.0.0.1"


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _free_port() -> int:
    from pjsua_ffi.pool import free_udp_port

    return free_udp_port(LOOPBACK)


class PoolProcess:
    """``python -m pjsua_ffi pool`` as a child process, read until it is ready."""

    def __init__(self, workdir: pathlib.Path, workers: int, app: str = "tests.pool_app:make",
                 extra: Sequence[str] = ()) -> None:
        self.workdir = workdir
        self.port = _free_port()
        cmd = [sys.executable, "-m", "pjsua_ffi", "pool", "--workers", str(workers),
               "--app", app, "--proxy-config", str(workdir / "pool"),
               "--listen", f"{LOOPBACK}:{self.port}", "--ping-interval", "1",
               "--fail-timeout", "1", *extra]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=_env(),
                                     cwd=str(ROOT), start_new_session=True)
        self.lines: List[str] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.worker_pids: List[int] = []
        self.worker_ports: List[int] = []
        self.kamailio_pid = 0
        self.started_pids: List[int] = []
        if not self._ready.wait(60) or self.proc.poll() is not None:
            out = "\n".join(self.lines[-40:])
            self.close()
            raise RuntimeError(f"the pool did not start:\n{out}")
        ready = next(line for line in self.lines if line.startswith("POOL READY"))
        self.kamailio_pid = int(re.search(r"kamailio-pid (\d+)", ready).group(1))  # type: ignore[union-attr]
        for port, pid in re.findall(r"worker\d+ [0-9.]+:(\d+) pid (\d+)", ready):
            self.worker_ports.append(int(port))
            self.worker_pids.append(int(pid))
        self.started_pids = [self.kamailio_pid, *self.worker_pids]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("POOL READY"):
                self._ready.set()
            m = re.match(r"POOL worker\d+ restarted pid (\d+)", line)
            if m:
                self.started_pids.append(int(m.group(1)))
        self._ready.set()

    def wait_line(self, pattern: str, timeout: float) -> Optional[str]:
        """The first output line matching ``pattern``, waiting up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if re.search(pattern, line):
                    return line
            time.sleep(0.05)
        return None

    def worker_log(self, index: int) -> str:
        path = self.workdir / "pool" / f"worker-{index + 1}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> Dict[str, Any]:
        """SIGTERM the pool; return its exit code and the pids it left running (those
        are then killed by pid)."""
        rc: Optional[int] = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
        left = [pid for pid in self.started_pids if _alive(pid)]
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return {"rc": rc, "left": left}


@dataclass
class CallRecord:
    number: int
    invite: float      # wall-clock time the INVITE was sent
    answer: float      # wall-clock time the 200 came
    worker_port: int
    bye: int           # final response to the caller's BYE


class Sipp:
    """A SIPp client running ``pool_uac.xml`` against ``port``: ``calls`` calls at
    ``rate`` per second, each held ``hold_ms``."""

    def __init__(self, workdir: pathlib.Path, port: int, calls: int, rate: float,
                 hold_ms: int, limit: int = 0) -> None:
        self.log_path = workdir / "sipp-calls.log"
        self.out_path = workdir / "sipp.out"
        cmd = ["sipp", "-sf", str(SCENARIO), "-i", LOOPBACK, "-mi", LOOPBACK,
               "-p", str(_free_port()), "-mp", str(_free_port()), "-trace_err",
               "-m", str(calls), "-r", str(rate), "-d", str(hold_ms), "-nostdin",
               "-timeout", "120", "-timeout_error", "-recv_timeout", "20000",
               "-log_file", str(self.log_path), "-trace_logs",
               "-trace_stat", "-stf", str(workdir / "sipp-stat.csv"), "-fd", "1"]
        if limit:
            cmd += ["-l", str(limit)]
        cmd.append(f"{LOOPBACK}:{port}")
        self.started = time.time()
        with open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=str(workdir), stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def records(self) -> List[CallRecord]:
        out = []
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        for line in text.splitlines():
            f = line.split()
            if len(f) >= 10 and f[0] == "CALL":
                out.append(CallRecord(int(f[1]), float(f[2]) + float(f[3]) / 1e6,
                                      float(f[4]) + float(f[5]) / 1e6, int(float(f[7])),
                                      int(f[9])))
        return out

    def stats(self) -> Dict[str, int]:
        """SIPp's own totals from its last statistics row."""
        path = self.out_path.parent / "sipp-stat.csv"
        rows = path.read_text(errors="replace").splitlines() if path.exists() else []
        if len(rows) < 2:
            return {}
        head, last = rows[0].split(";"), rows[-1].split(";")
        values = dict(zip(head, last))
        return {k: int(values[k]) for k in ("TotalCallCreated", "SuccessfulCall(C)",
                                            "FailedCall(C)") if k in values}
