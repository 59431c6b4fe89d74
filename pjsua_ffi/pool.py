"""A pool of pjsua_ffi worker processes behind kamailio's dispatcher module.

pjsua is one per process, and one Python process does about one core's worth of SIP.
To go past that, run the application in several *workers* (one :class:`~pjsua_ffi.Lib`
each, in its own process) and put a SIP proxy in front of them::

    caller ──► kamailio (dispatcher) ──► worker 1  (python -m pjsua_ffi worker)
                 │  OPTIONS probes   ├─► worker 2
                 └───────────────────┴─► worker N

``python -m pjsua_ffi worker`` runs one worker; ``python -m pjsua_ffi pool`` runs N of them
and a kamailio whose configuration is made from ``pool_kamailio.cfg`` (shipped beside this
module) with the workers' addresses. kamailio spreads new calls round-robin, record-routes
them so in-dialog requests pass through it to the same worker, probes every worker with
OPTIONS and, when a worker does not answer an INVITE (dead) or answers 503 (draining),
sends the call to the next one.

A worker that *drains* (:meth:`Worker.drain`, or SIGUSR1) answers new INVITEs and OPTIONS
with 503, so the dispatcher takes it out of its set, lets its calls end, and exits.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import logging
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .pool_worker import (
    DRAIN_CODE,
    AnswerAll,
    Worker,
    answer_all,
    load_app,
    log_to_stderr,
    parse_hostport,
    run_worker,
)

# The worker side lives in pool_worker.py; its names are part of this module's API too.
__all__ = ["Pool", "Proxy", "Registration", "Worker", "AnswerAll", "answer_all",
           "run_worker", "run_pool", "add_subcommands", "load_app", "parse_hostport",
           "free_udp_port", "sip_options", "wait_answering", "stop_process", "DRAIN_CODE"]

log = logging.getLogger("pjsua_ffi.pool")

TEMPLATE = pathlib.Path(__file__).with_name("pool_kamailio.cfg")
_STOP_GRACE = 5.0


# ---------------------------------------------------------------- small helpers


def free_udp_port(host: str) -> int:
    """A UDP port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def sip_options(host: str, port: int, timeout: float = 0.2, uri: str = "") -> int:
    """Send one OPTIONS over UDP to ``host:port`` (Request-URI ``uri``, by default the
    address itself); the response code, or 0 if none came."""
    uri = uri or f"sip:{host}:{port}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        sock.settimeout(timeout)
        lport = sock.getsockname()[1]
        tag = uuid.uuid4().hex[:12]
        request = (
            f"OPTIONS {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {sock.getsockname()[0]}:{lport};rport;branch=z9hG4bK{tag}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:probe@{sock.getsockname()[0]}>;tag={tag}\r\n"
            f"To: <{uri}>\r\n"
            f"Call-ID: {tag}@pjsua-ffi-pool\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        try:
            sock.sendto(request, (host, port))
            data = sock.recv(65535)
        except (OSError, socket.timeout):
            return 0
    line = data.split(b"\r\n", 1)[0].split()
    if len(line) >= 2 and line[0] == b"SIP/2.0" and line[1].isdigit():
        return int(line[1])
    return 0


def wait_answering(host: str, port: int, timeout: float,
                   alive: Callable[[], bool] = lambda: True, uri: str = "",
                   want: Sequence[int] = ()) -> int:
    """Probe with OPTIONS until a final answer (one of ``want``, if given) comes back;
    return its code (0: none in time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        code = sip_options(host, port, uri=uri)
        if code >= 200 and (not want or code in want):
            return code
        time.sleep(0.05)
    return 0


def exited(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` s for child ``pid`` to exit, without reaping it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        if info is not None:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def stop_process(proc: "subprocess.Popen[Any]", grace: float = _STOP_GRACE,
                 group: bool = False) -> Optional[int]:
    """SIGTERM ``proc`` (by pid), SIGKILL it after ``grace`` s; return its exit code.

    With ``group`` the rest of the process group that ``proc`` leads is killed as well
    (kamailio's children); the group id is that of a process we started."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        if not exited(proc.pid, grace):
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            exited(proc.pid, grace)
    if group:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait()


def _die_with_parent() -> None:
    """In a child before exec: get SIGTERM when the pool process dies (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _child_env() -> Dict[str, str]:
    """The environment for a worker: this package and the current directory importable
    (the application's module is named relative to where the pool was started)."""
    env = dict(os.environ)
    paths = [str(pathlib.Path(__file__).resolve().parent.parent), os.getcwd()]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def kamailio_module_dir() -> Optional[str]:
    """The directory holding kamailio's modules, if it is a usual one."""
    for pattern in ("/usr/lib/*/kamailio/modules", "/usr/lib/kamailio/modules",
                    "/usr/lib64/kamailio/modules", "/usr/local/lib*/kamailio/modules"):
        for path in sorted(glob.glob(pattern)):
            if os.path.isfile(os.path.join(path, "dispatcher.so")):
                return path + "/"
    return None


# ---------------------------------------------------------------- the proxy


def render_proxy_config(workdir: pathlib.Path, listen: Tuple[str, int],
                        workers: Sequence[str], ping_interval: int = 1,
                        fail_timeout: float = 1.0, ring_timeout: float = 60.0,
                        children: int = 2, template: pathlib.Path = TEMPLATE,
                        register: Optional["Registration"] = None) -> pathlib.Path:
    """Write ``kamailio.cfg`` and ``dispatcher.list`` (one line per worker URI) into
    ``workdir`` (with ``register``, also the db_text tables for it); return the
    configuration's path."""
    workdir.mkdir(parents=True, exist_ok=True)
    ds_list = workdir / "dispatcher.list"
    lines = ["# setid destination flags priority attributes"]
    lines += [f"1 {uri} 0 0" for uri in workers]
    ds_list.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mpath = kamailio_module_dir()
    values = {
        "LISTEN_HOST": listen[0],
        "LISTEN_PORT": str(listen[1]),
        "MPATH": mpath or "",
        "DISPATCHER_LIST": str(ds_list),
        "PING_INTERVAL": str(int(ping_interval)),
        "FAIL_TIMEOUT_MS": str(int(fail_timeout * 1000)),
        "RING_TIMEOUT_MS": str(int(ring_timeout * 1000)),
        "CHILDREN": str(int(children)),
        "DBDIR": str(workdir / "db"),
    }
    text = template.read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    if mpath is None:
        text = "\n".join(line for line in text.splitlines() if not line.startswith("mpath="))
    if register is not None:
        register.write_tables(workdir / "db", listen)
        first, _, rest = text.partition("\n")
        text = f"{first}\n#!define WITH_REGISTER\n{rest}"
    cfg = workdir / "kamailio.cfg"
    cfg.write_text(text, encoding="utf-8")
    return cfg


def _dbtext_field(value: str) -> str:
    """One field of a db_text row, with its separators escaped."""
    return value.replace("\\", "\\\\").replace(":", "\\:")


class Registration:
    """What the pool's proxy registers upstream: ``aor`` (sip:user@domain) at
    ``registrar`` (sip:host:port), with digest credentials."""

    SCHEMA_DIR = pathlib.Path("/usr/share/kamailio/dbtext/kamailio")

    def __init__(self, aor: str, registrar: str, password: str, user: str = "",
                 realm: str = "", expires: int = 300) -> None:
        name = aor.split(":", 1)[-1]
        aor_user, sep, aor_domain = name.partition("@")
        if not sep or not aor_user or not aor_domain:
            raise ValueError(f"--register must be sip:USER@DOMAIN, not {aor!r}")
        self.user, self.domain = aor_user, aor_domain
        self.registrar, self.password = registrar, password
        self.auth_user, self.realm = user or aor_user, realm or aor_domain.split(":")[0]
        self.expires = expires

    def ha1(self) -> str:
        """The digest HA1 of the credentials (db_text wants every field filled)."""
        text = f"{self.auth_user}:{self.realm}:{self.password}"
        return hashlib.md5(text.encode()).hexdigest()

    def write_tables(self, db_dir: pathlib.Path, listen: Tuple[str, int]) -> None:
        """The db_text tables ``version`` and ``uacreg`` (one row) in ``db_dir``; the
        Contact and the socket are the proxy's ``listen`` address."""
        db_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.SCHEMA_DIR / "version", db_dir / "version")
        header = (self.SCHEMA_DIR / "uacreg").read_text(encoding="utf-8").splitlines()[0]
        fields = ["1", "pool", self.user, self.domain, self.user, self.domain, self.realm,
                  self.auth_user, self.password, self.ha1(), self.registrar,
                  str(self.expires), "0", "0", f"{listen[0]}:{listen[1]}",
                  f"udp:{listen[0]}:{listen[1]}"]
        row = ":".join(_dbtext_field(v) for v in fields)
        (db_dir / "uacreg").write_text(f"{header}\n{row}\n", encoding="utf-8")


class Proxy:
    """kamailio running a configuration from :func:`render_proxy_config`."""

    def __init__(self, workdir: pathlib.Path, listen: Tuple[str, int],
                 shm_mb: int = 256) -> None:
        # Shared memory holds every transaction until its wait timer ends (5 s after
        # the final answer): 64 MB ran out at about 1000 calls/s.
        self.workdir, self.listen, self.shm_mb = workdir, listen, shm_mb
        self.proc: Optional[subprocess.Popen[bytes]] = None

    def start(self, timeout: float = 10.0) -> None:
        if shutil.which("kamailio") is None:
            raise RuntimeError("kamailio is not installed (apt-get install kamailio)")
        run_dir = self.workdir / "run"
        run_dir.mkdir(exist_ok=True)
        cmd = ["kamailio", "-f", str(self.workdir / "kamailio.cfg"),
               "-P", str(self.workdir / "kamailio.pid"), "-Y", str(run_dir),
               "-DD", "-E", "-m", str(self.shm_mb), "-M", "8"]
        with open(self.workdir / "kamailio.log", "ab") as logf:
            self.proc = subprocess.Popen(cmd, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                         stdout=logf, stderr=subprocess.STDOUT,
                                         start_new_session=True,
                                         preexec_fn=_die_with_parent)
        host, port = self.listen
        if not wait_answering(host, port, timeout, lambda: self.proc is not None
                              and self.proc.poll() is None):
            tail = (self.workdir / "kamailio.log").read_text(errors="replace")[-3000:]
            self.stop()
            raise RuntimeError(f"kamailio did not start on {host}:{port}:\n{tail}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            stop_process(proc, group=True)


# ---------------------------------------------------------------- the pool


class Pool:
    """N local worker processes (plus ``remote`` worker URIs started elsewhere) behind
    one kamailio listening on ``listen``."""

    def __init__(self, app: str, workers: int, workdir: pathlib.Path,
                 listen: Tuple[str, int] = ("127.0.0.1", 5060),
                 worker_host: str = "127.0.0.1", remote: Sequence[str] = (),
                 ping_interval: int = 1, fail_timeout: float = 1.0,
                 ring_timeout: float = 60.0, worker_args: Sequence[str] = (),
                 restart: bool = False, register: Optional[Registration] = None) -> None:
        self.app, self.count, self.workdir = app, workers, workdir.resolve()
        self.listen, self.worker_host, self.remote = listen, worker_host, list(remote)
        self.ping_interval, self.fail_timeout = ping_interval, fail_timeout
        self.ring_timeout, self.worker_args, self.restart = ring_timeout, worker_args, restart
        self.ports: List[int] = []
        self.procs: List[Optional[subprocess.Popen[bytes]]] = []
        self.register = register
        self.proxy = Proxy(self.workdir, listen)

    def worker_uris(self) -> List[str]:
        return [f"sip:{self.worker_host}:{p}" for p in self.ports] + self.remote

    def _spawn(self, index: int) -> subprocess.Popen[bytes]:
        port = self.ports[index]
        cmd = [sys.executable, "-m", "pjsua_ffi", "worker", "--app", self.app,
               "--listen", f"{self.worker_host}:{port}", *self.worker_args]
        logf = open(self.workdir / f"worker-{index + 1}.log", "ab")  # noqa: SIM115
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    env=_child_env(), preexec_fn=_die_with_parent)
        finally:
            logf.close()
        if not wait_answering(self.worker_host, port, 15.0, lambda: proc.poll() is None):
            stop_process(proc)
            raise RuntimeError(f"worker {index + 1} did not start; see "
                               f"{self.workdir / f'worker-{index + 1}.log'}")
        return proc

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            for i in range(self.count):
                self.ports.append(free_udp_port(self.worker_host))
                self.procs.append(self._spawn(i))
            render_proxy_config(self.workdir, self.listen, self.worker_uris(),
                                self.ping_interval, self.fail_timeout, self.ring_timeout,
                                register=self.register)
            self.proxy.start()
        except BaseException:
            self.stop()
            raise

    def describe(self) -> str:
        """One line: the proxy's address and each local worker's port and pid."""
        parts = [f"proxy sip:{self.listen[0]}:{self.listen[1]}"]
        if self.proxy.proc is not None:
            parts.append(f"kamailio-pid {self.proxy.proc.pid}")
        for i, proc in enumerate(self.procs):
            pid = proc.pid if proc is not None else 0
            parts.append(f"worker{i + 1} {self.worker_host}:{self.ports[i]} pid {pid}")
        return " ".join(parts)

    def supervise(self) -> None:
        """Restart local workers that exited (with ``restart``); called periodically."""
        for i, proc in enumerate(self.procs):
            if proc is None or proc.poll() is None:
                continue
            log.info("worker %d exited with %s", i + 1, proc.returncode)
            self.procs[i] = None
            if self.restart:
                new = self.procs[i] = self._spawn(i)
                print(f"POOL worker{i + 1} restarted pid {new.pid}", flush=True)

    def rolling_restart(self, stop: threading.Event) -> None:
        """Replace every local worker, one at a time: drain it (SIGUSR1), wait until it
        has exited, start a new one on its address, and give the proxy two probe
        intervals to take it back before the next one. Returns early if ``stop`` is set."""
        for i, proc in enumerate(self.procs):
            if stop.is_set():
                return
            if proc is not None and proc.poll() is None:
                os.kill(proc.pid, signal.SIGUSR1)
                while proc.poll() is None:
                    if stop.wait(0.05):
                        return
            log.info("worker %d drained for the rolling restart", i + 1)
            self.procs[i] = new = self._spawn(i)
            print(f"POOL worker{i + 1} restarted pid {new.pid}", flush=True)
            if stop.wait(2 * self.ping_interval):
                return
        print("POOL rolling restart done", flush=True)

    def stop(self) -> None:
        """Stop the proxy first (no new calls), then every worker, each by pid."""
        self.proxy.stop()
        for proc in self.procs:
            if proc is not None:
                stop_process(proc)
        self.procs = []


def run_pool(args: argparse.Namespace) -> int:
    """``python -m pjsua_ffi pool``: workers + kamailio until SIGTERM/SIGINT; SIGHUP
    restarts the workers one after the other without losing a call."""
    log_to_stderr()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    roll = threading.Event()
    signal.signal(signal.SIGHUP, lambda *_: roll.set())
    worker_args = ["--max-calls", str(args.max_calls), "--log-level", str(args.log_level)]
    if args.workers < 0 or (args.workers == 0 and not args.add_worker):
        raise SystemExit("a pool needs --workers N (N >= 1) or --add-worker")
    register = None
    if args.register:
        if not args.registrar:
            raise SystemExit("--register needs --registrar")
        password = os.environ.get("PJSUA_FFI_POOL_PASSWORD", args.password or "")
        register = Registration(args.register, args.registrar, password,
                                user=args.auth_user or "")
    pool = Pool(args.app, args.workers, pathlib.Path(args.proxy_config),
                listen=parse_hostport(args.listen, 5060), worker_host=args.worker_host,
                remote=args.add_worker, ping_interval=args.ping_interval,
                fail_timeout=args.fail_timeout, ring_timeout=args.ring_timeout,
                worker_args=worker_args, restart=args.restart, register=register)
    pool.start()
    try:
        print(f"POOL READY {pool.describe()}", flush=True)
        while not stop.wait(0.2):
            pool.supervise()
            if roll.is_set():
                roll.clear()
                pool.rolling_restart(stop)
    finally:
        pool.stop()
        print("POOL STOPPED", flush=True)
    return 0


def add_subcommands(sub: Any) -> Dict[str, Callable[[argparse.Namespace], int]]:
    """Add ``worker`` and ``pool`` to ``python -m pjsua_ffi``'s subcommands."""
    w = sub.add_parser("worker", help="one pjsua_ffi worker for a pool")
    w.add_argument("--app", required=True, help="MODULE:FACTORY (e.g. pjsua_ffi.pool:answer_all)")
    w.add_argument("--listen", default="127.0.0.1:5070", help="HOST:PORT for SIP over UDP")
    w.add_argument("--user", default="pool", help="user part of the worker's account")
    w.add_argument("--drain-timeout", type=float, default=3600.0,
                   help="seconds a draining worker waits for its calls before it exits")
    p = sub.add_parser("pool", help="N workers behind kamailio's dispatcher")
    p.add_argument("--app", required=True, help="MODULE:FACTORY run by every worker")
    p.add_argument("--workers", type=int, default=2, help="local workers to start")
    p.add_argument("--proxy-config", required=True,
                   help="directory for the generated kamailio config and the logs")
    p.add_argument("--listen", default="127.0.0.1:5060", help="the proxy's HOST:PORT (UDP)")
    p.add_argument("--worker-host", default="127.0.0.1", help="address local workers bind")
    p.add_argument("--add-worker", action="append", default=[], metavar="SIP_URI",
                   help="a worker started elsewhere (e.g. sip:10.0.0.2:5070); repeatable")
    p.add_argument("--ping-interval", type=int, default=1, help="OPTIONS probe interval (s)")
    p.add_argument("--fail-timeout", type=float, default=2.0,
                   help="seconds without any answer to an INVITE before trying another worker")
    p.add_argument("--ring-timeout", type=float, default=60.0,
                   help="seconds a worker may ring before the call fails over")
    p.add_argument("--restart", action="store_true", help="restart workers that exit")
    p.add_argument("--register", metavar="AOR",
                   help="register AOR (sip:user@domain) at --registrar, Contact: the proxy")
    p.add_argument("--registrar", metavar="SIP_URI", help="e.g. sip:registrar.example:5060")
    p.add_argument("--auth-user", help="digest user name (default: the AOR's user)")
    p.add_argument("--password", help="digest password (or $PJSUA_FFI_POOL_PASSWORD)")
    for parser in (w, p):
        parser.add_argument("--max-calls", type=int, default=256)
        parser.add_argument("--log-level", type=int, default=1)
    return {"worker": run_worker, "pool": run_pool}
