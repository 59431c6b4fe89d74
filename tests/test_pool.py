"""A pool of pjsua_ffi workers behind kamailio's dispatcher (``python -m pjsua_ffi pool``),
loaded by SIPp: spread, failover when a worker is killed, and draining.

Each test runs a real pool (3 worker processes + kamailio) and a SIPp client that makes
every call through the proxy: INVITE, 200 from a worker, then ACK and BYE along the
Record-Route set, through kamailio to the worker that answered.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, List

import pytest

from pjsua_ffi.pool import wait_answering
from tests.peers.pool_run import CallRecord, PoolProcess, Sipp, _alive
from tests.scenarios import pool
from tests.support import run_scenario

pytestmark = [
    pytest.mark.kamailio,
    pytest.mark.skipif(shutil.which("sipp") is None,
                       reason="SIPp is not installed (tools/dev installs sip-tester)"),
]

CALLS = 300


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")


def _load(tmp_path: Path, pool: PoolProcess, rate: float, hold_ms: int) -> Sipp:
    return Sipp(tmp_path, pool.port, CALLS, rate, hold_ms)


def _finish(pool: PoolProcess, sipp: Sipp) -> List[CallRecord]:
    rc = sipp.wait()
    records = sipp.records()
    assert rc == 0, f"SIPp exited {rc}: {sipp.stats()}\n" + sipp.out_path.read_text()[-3000:]
    assert sipp.stats().get("FailedCall(C)") == 0
    assert sorted(r.number for r in records) == list(range(1, CALLS + 1))
    return records


def test_pool_spreads_calls_evenly(tmp_path: Path) -> None:
    pool = PoolProcess(tmp_path, workers=3)
    try:
        records = _finish(pool, _load(tmp_path, pool, rate=60, hold_ms=200))
        # Every call answered by a worker of the pool, ended through the proxy.
        assert {r.bye for r in records} == {200}
        shares = Counter(r.worker_port for r in records)
        assert set(shares) == set(pool.worker_ports)
        for n in shares.values():
            assert abs(n - CALLS / 3) <= 0.25 * CALLS / 3, shares
        _print(f"spread over 3 workers: {dict(shares)}")
    finally:
        end = pool.close()
    assert end == {"rc": 0, "left": []}
    # Each worker stopped cleanly on the pool's SIGTERM and counted what it took.
    taken = []
    for i in range(3):
        log = pool.worker_log(i)
        assert "exits:" in log, log
        taken.append(int(log.split("exits: ")[1].split()[0]))
    assert taken == [shares[p] for p in pool.worker_ports]


def test_killed_worker_fails_over(tmp_path: Path) -> None:
    pool = PoolProcess(tmp_path, workers=3)
    try:
        sipp = _load(tmp_path, pool, rate=50, hold_ms=1000)
        dead_port, dead_pid = pool.worker_ports[1], pool.worker_pids[1]
        # Kill once the pool is busy: some calls on every worker.
        assert _wait_calls(sipp, 60)
        os.kill(dead_pid, signal.SIGKILL)
        killed_at = time.time()
        records = _finish(pool, sipp)
        hold = 1.0
        on_dead = [r for r in records if r.worker_port == dead_port]
        on_live = [r for r in records if r.worker_port != dead_port]
        # No INVITE failed. Nothing was answered by the dead worker after its death,
        # and the calls it held ended with a timeout or 481 only if still up then.
        # (a 200 already on its way through the proxy may arrive just after the kill)
        assert all(r.answer < killed_at + 0.5 for r in on_dead)
        assert {r.bye for r in on_live} == {200}
        for r in on_dead:
            if r.bye != 200:
                assert r.bye in (408, 481)
                assert r.answer + hold > killed_at - 0.2
        later = [r for r in records if r.invite > killed_at + 0.1]
        assert later and all(r.worker_port != dead_port for r in later)
        # What the caller saw: calls that waited for failover (their INVITE went to the
        # dead worker first), and over which seconds.
        slow = [r for r in records if r.answer - r.invite > 0.5]
        window = (max(r.invite for r in slow) - min(r.invite for r in slow)) if slow else 0.0
        lost = sum(1 for r in on_dead if r.bye != 200)
        _print(f"kill: 0 failed calls of {CALLS}; {len(slow)} calls failed over "
               f"(INVITEs sent over {window:.2f} s after the kill); {lost} calls held by the "
               f"dead worker ended with BYE 408/481")
    finally:
        end = pool.close()
    assert end["rc"] == 0 and end["left"] == []


def test_draining_worker_loses_no_call(tmp_path: Path) -> None:
    pool = PoolProcess(tmp_path, workers=3, extra=["--restart"])
    try:
        sipp = _load(tmp_path, pool, rate=50, hold_ms=1000)
        pid = pool.worker_pids[1]
        assert _wait_calls(sipp, 60)
        os.kill(pid, signal.SIGUSR1)
        records = _finish(pool, sipp)
        # Every call, also those on the draining worker, ended normally.
        assert {r.bye for r in records} == {200}
        drained = pool.worker_ports[1]
        shares = Counter(r.worker_port for r in records)
        assert shares[drained] > 0
        # The worker exited by itself once its calls had ended, and the pool started
        # a new one on the same address, which answers OPTIONS again.
        line = pool.wait_line(r"POOL worker2 restarted", 30)
        assert line is not None, pool.lines
        assert not _alive(pid)
        log = pool.worker_log(1)
        assert log.count("exits:") == 1  # the drained one; its successor still runs
        assert wait_answering("127.0.0.1", drained, 20) == 200
        _print(f"drain: 0 failed calls of {CALLS}; shares {dict(shares)}")
    finally:
        end = pool.close()
    assert end["rc"] == 0 and end["left"] == []


def _wait_calls(sipp: Sipp, n: int) -> bool:
    """Wait until SIPp has logged ``n`` finished calls (or exited)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sipp.proc.poll() is None:
        if len(sipp.records()) >= n:
            return True
        time.sleep(0.05)
    return False


def test_drain_gate_in_process(tmp_path: Any) -> None:
    """``Worker.drain()``: OPTIONS and new INVITEs get 503, a call in progress goes on
    and ends normally, then ``run()`` returns."""
    result = run_scenario(pool.drain_gate_in_process)
    assert result["before"] == 200
    assert result["during"] == 503
    assert result["still_up"] == "CONFIRMED"
    assert result["waited"] is True
    assert result["counts"]["refused_invites"] == 1
    assert result["counts"]["refused_options"] >= 1


def test_pool_registers_and_takes_calls_through_registrar(tmp_path: Path) -> None:
    """``--register``: the pool's proxy registers the AOR (digest auth) at a registrar
    with its own address as Contact, and calls to the AOR reach the workers."""
    from tests.peers.kamailio import Kamailio

    with Kamailio(tmp_path / "registrar", users={"bot": "secret"}, presence=False) as kam:
        aor_uri = f"sip:bot@127.0.0.1:{kam.port}"
        # Unknown before the pool registers it.
        assert wait_answering("127.0.0.1", kam.port, 5, uri=aor_uri) == 404
        pool = PoolProcess(tmp_path, workers=2, extra=[
            "--register", "sip:bot@127.0.0.1", "--registrar", kam.uri, "--password", "secret"])
        try:
            # Registered: an OPTIONS to the AOR goes registrar -> proxy -> a worker.
            assert wait_answering("127.0.0.1", kam.port, 30, uri=aor_uri, want=(200,)) == 200
            sipp = Sipp(tmp_path, kam.port, 30, rate=20, hold_ms=100)
            rc = sipp.wait()
            records = sipp.records()
            assert rc == 0, sipp.out_path.read_text()[-3000:]
            assert len(records) == 30 and {r.bye for r in records} == {200}
            assert set(Counter(r.worker_port for r in records)) == set(pool.worker_ports)
        finally:
            end = pool.close()
        assert end == {"rc": 0, "left": []}
        assert "auth_check for sip:bot@127.0.0.1" in kam.log_text()


def test_pool_with_a_worker_started_elsewhere(tmp_path: Path) -> None:
    """``--add-worker``: a worker run on its own (here on another loopback address,
    127.0.0.2, as another machine would be) takes its share next to a local one."""
    from tests.peers.pool_run import _env

    proc = subprocess.Popen([sys.executable, "-m", "pjsua_ffi", "worker", "--app",
                             "tests.pool_app:make", "--listen", "127.0.0.2:0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=_env(),
                            cwd=str(Path(__file__).resolve().parent.parent))
    try:
        assert proc.stdout is not None
        line = next((ln for ln in proc.stdout if ln.startswith("WORKER ")), "")
        assert line.startswith("WORKER sip:pool@127.0.0.2:"), line
        remote_port = int(line.split()[1].rsplit(":", 1)[1])
        pool = PoolProcess(tmp_path, workers=1,
                           extra=["--add-worker", f"sip:127.0.0.2:{remote_port}"])
        try:
            sipp = Sipp(tmp_path, pool.port, 40, rate=20, hold_ms=100)
            assert sipp.wait() == 0, sipp.out_path.read_text()[-3000:]
            records = sipp.records()
            assert len(records) == 40 and {r.bye for r in records} == {200}
            shares = Counter(r.worker_port for r in records)
            assert shares == {pool.worker_ports[0]: 20, remote_port: 20}
        finally:
            end = pool.close()
        assert end == {"rc": 0, "left": []}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    assert rc == 0


def test_rolling_restart_loses_no_call(tmp_path: Path) -> None:
    """SIGHUP to the pool: each worker in turn drains, exits and is replaced, while
    SIPp keeps calling; no call fails and each worker ends up a new process."""
    pool = PoolProcess(tmp_path, workers=3)
    try:
        sipp = _load(tmp_path, pool, rate=25, hold_ms=500)
        assert _wait_calls(sipp, 30)
        os.kill(pool.proc.pid, signal.SIGHUP)
        records = _finish(pool, sipp)
        assert pool.wait_line(r"POOL rolling restart done", 60) is not None, pool.lines
        assert {r.bye for r in records} == {200}
        restarted = [ln for ln in pool.lines if "restarted pid" in ln]
        assert [ln.split()[1] for ln in restarted] == ["worker1", "worker2", "worker3"]
        assert not any(_alive(pid) for pid in pool.worker_pids)
        for i, port in enumerate(pool.worker_ports):
            assert wait_answering("127.0.0.1", port, 20) == 200
            assert pool.worker_log(i).count("exits:") == 1
        shares = Counter(r.worker_port for r in records)
        _print(f"rolling restart: 0 failed calls of {CALLS}; shares {dict(shares)}")
    finally:
        end = pool.close()
    assert end["rc"] == 0 and end["left"] == []
