"""Helpers for tests: run a scenario in a fresh Python process (pjsua is a per-process
singleton, and a crash must fail one test, not the run), and build a library bound to
loopback inside that process.

A scenario is a function of a ``tests.scenarios`` module (or, in older tests, Python
source). It uses this module's ``ua_*`` helpers, and reports with ``report(**values)``,
which prints one JSON line that the test reads back from ``run_scenario``'s result.
"""

from __future__ import annotations

import faulthandler
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Type, Union

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
_REPORT = "@@REPORT@@ "


# ---------------------------------------------------------------- test-process side


def scenario_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONFAULTHANDLER"] = "1"
    if extra:
        env.update(extra)
    return env


class ScenarioFailed(AssertionError):
    pass


Scenario = Union[str, Callable[..., Any]]


def scenario_argv(scenario: Scenario, args: Tuple[str, ...]) -> List[str]:
    """The command that runs ``scenario``: a function of a tests.scenarios module (run
    with ``python -m``, see tests/scenarios/__init__.py), or Python source."""
    if callable(scenario):
        module, name = scenario.__module__, scenario.__name__
        if module == "__main__":  # a scenario starting another of its own module
            spec = sys.modules["__main__"].__spec__
            module = spec.name if spec else module
        assert module.startswith("tests.scenarios."), module
        return [sys.executable, "-m", module, name, *args]
    return [sys.executable, "-c", textwrap.dedent(scenario), *args]


def run_scenario(source: Scenario, *args: str, timeout: float = 60.0,
                 env: Optional[Dict[str, str]] = None, expect_rc: int = 0) -> Dict[str, Any]:
    """Run ``source`` (a scenario function, or Python source) in a new interpreter;
    return what it reported.

    The process must exit with ``expect_rc`` within ``timeout`` seconds; otherwise the
    assertion shows its output (a crash shows as a negative return code; a hang shows
    every thread's C and Python stacks, see :func:`communicate`).
    """
    proc = subprocess.Popen(scenario_argv(source, args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=scenario_env(env),
                            cwd=str(ROOT))
    stdout, stderr = communicate(proc, timeout=timeout, what="scenario")
    if proc.returncode != expect_rc:
        raise ScenarioFailed(f"scenario exited {proc.returncode} (expected {expect_rc})\n"
                             f"--- stdout\n{stdout[-4000:]}\n"
                             f"--- stderr\n{stderr[-40000:]}")
    result: Dict[str, Any] = {}
    for line in stdout.splitlines():
        if line.startswith(_REPORT):
            result.update(json.loads(line[len(_REPORT):]))
    result["_stdout"] = stdout
    result["_stderr"] = stderr
    return result


def c_stacks(pid: int) -> str:
    """Every thread's C stack in process ``pid``, from gdb (or why there are none)."""
    gdb = shutil.which("gdb")
    if gdb is None:
        return "(no C stacks: gdb is not installed)"
    try:
        r = subprocess.run([gdb, "-p", str(pid), "-batch", "-nx", "-ex", "set pagination off",
                            "-ex", "thread apply all bt"],
                           capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        return "(no C stacks: gdb timed out)"
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith(("Thread ", "#"))]
    return "\n".join(lines) or r.stdout + r.stderr


def abort_with_stacks(proc: subprocess.Popen) -> str:
    """Every thread's C stack in the hung ``proc`` (returned), then SIGABRT, on which
    faulthandler writes every thread's Python stack to the process's stderr."""
    stacks = c_stacks(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGABRT)
    return stacks


def communicate(proc: subprocess.Popen, input: Optional[str] = None, timeout: float = 60.0,
                what: str = "process") -> tuple:
    """``proc.communicate`` with a watchdog: if ``proc`` has not exited after ``timeout``
    seconds, show every thread's C stack (gdb) and Python stack (SIGABRT, which makes
    faulthandler print them: scenario processes run with it on), and fail."""
    try:
        return proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    stacks = abort_with_stacks(proc)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    raise ScenarioFailed(f"{what} hung: no exit after {timeout} s\n--- C stacks\n{stacks}\n"
                         f"--- stdout\n{_text(out)[-4000:]}\n"
                         f"--- stderr (Python stacks at the end)\n{_text(err)[-40000:]}")


def _text(data: Any) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)


def start_scenario(source: Scenario, *args: str,
                   env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
    """Start ``source`` in the background (a peer process); the caller stops it."""
    return subprocess.Popen(scenario_argv(source, args),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=scenario_env(env),
                            cwd=str(ROOT))


class Peer:
    """Runs ``tests.scenarios.common.answering_peer`` for a ``with`` block; ``uri`` calls
    it."""

    def __init__(self, max_calls: int = 256) -> None:
        from tests.scenarios.common import answering_peer

        self.proc = start_scenario(answering_peer, str(max_calls))
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        if not ready:
            communicate(self.proc, timeout=0, what="the answering peer (starting)")
        line = self.proc.stdout.readline()
        if not line.startswith("PORT"):
            self.close()
            raise RuntimeError("the answering peer did not start: " + line)
        self.port = int(line.split()[1])
        self.uri = f"sip:peer@{LOOPBACK}:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def __enter__(self) -> "Peer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port free for both UDP and TCP on loopback right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind((LOOPBACK, 0))
            port = s.getsockname()[1]
        other = socket.SOCK_STREAM if kind == socket.SOCK_DGRAM else socket.SOCK_DGRAM
        try:
            with socket.socket(socket.AF_INET, other) as s2:
                s2.bind((LOOPBACK, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")


# ---------------------------------------------------------------- scenario side


def report(**values: Any) -> None:
    """Send values back to the test (one JSON line on stdout)."""
    print(_REPORT + json.dumps(values, default=str), flush=True)


class Watchdog:
    """Inside a scenario: unless :meth:`kick` is called at least every ``seconds``, print
    every thread's C stack (gdb) and Python stack and end the process with code 70, so
    a hang fails at once and says where. Stop it with :meth:`stop`."""

    def __init__(self, seconds: float, what: str = "progress") -> None:
        self.seconds = seconds
        self.what = what
        self._last = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._last = time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(min(1.0, self.seconds / 4)):
            if time.monotonic() - self._last > self.seconds:
                break
        else:
            return
        sys.stderr.write(f"WATCHDOG: no {self.what} for {self.seconds} s\n--- C stacks\n"
                         f"{c_stacks(os.getpid())}\n--- Python stacks\n")
        sys.stderr.flush()
        faulthandler.dump_traceback(all_threads=True)
        sys.stdout.flush()
        os._exit(70)


def raises(fn: Callable[[], Any], *exc: Type[BaseException]) -> Optional[List[Any]]:
    """[type, op_name, err_code, text] of what ``fn()`` raised (pjsua_ffi.Error unless
    ``exc`` says otherwise), or None if it returned."""
    kinds = exc or (_pj().Error,)
    try:
        fn()
    except kinds as e:
        return [type(e).__name__, getattr(e, "op_name", ""), getattr(e, "err_code", 0), str(e)]
    return None


def ua_lib(max_calls: int = 16, log_level: int = 1, with_thread: bool = True,
           transports: tuple = ("udp",), port: int = 0, tls: Any = None,
           ua: Any = None, **media: Any) -> tuple:
    """A started Lib with a null sound device and transports on 127.0.0.1 (kinds
    ending in 6, e.g. ``"tls6"``, on ::1).

    Returns ``(lib, [transport, ...])``. Media settings may be given as keywords
    (``clock_rate=8000``); ICE is off, since its candidates would name other addresses.
    ``tls`` is the TLSSetting of TLS transports; ``ua`` a UAConfig to start from.
    """
    import pjsua_ffi as pj

    lib = pj.Lib()
    ua = ua or pj.UAConfig()
    ua.max_calls = max_calls
    mc = pj.MediaConfig()
    mc.enable_ice = False
    mc.no_vad = True
    for key, value in media.items():
        setattr(mc, key, value)
    lib.init(ua, pj.LogConfig(level=log_level, console_level=log_level), mc)
    lib.set_null_snd_dev()
    tps = []
    for i, kind in enumerate(transports):
        host = "::1" if kind.endswith("6") else LOOPBACK
        cfg = pj.TransportConfig(port if (port and i == 0) else 0, host, host)
        if tls is not None:
            cfg.tls_setting = tls
        kind_name = kind.rstrip("6").upper() + ("_IPV6" if kind.endswith("6") else "")
        tps.append(lib.create_transport(pj.TransportType[kind_name], cfg))
    lib.start(with_thread=with_thread)
    return lib, tps


def ua_account(lib: Any, transport: Any, user: str = "", cb: Any = None,
               set_default: bool = True) -> Any:
    """A local account on ``transport`` (no registrar), media bound to 127.0.0.1."""
    import pjsua_ffi as pj

    cfg = pj.AccountConfig()
    cfg.id = uri_of(transport, user)
    cfg.transport_id = transport._id
    media = LOOPBACK
    if ":" in transport.info().host:
        media = "::1"
        cfg.ipv6_media_use = pj.IPv6Use.IPV6_ONLY
    cfg.rtp_transport_cfg = pj.TransportConfig(0, media, media)
    return lib.create_account(cfg, set_default=set_default, cb=cb)


def uri_of(transport: Any, user: str = "x") -> str:
    """The SIP URI of ``user`` at ``transport`` (no user part if ``user`` is empty)."""
    info = transport.info()
    kind = info.type.upper()
    suffix = next((f";transport={k.lower()}" for k in ("TCP", "TLS") if kind.startswith(k)),
                  "")
    host = f"[{info.host}]" if ":" in info.host else info.host
    return f"sip:{user + '@' if user else ''}{host}:{info.port}{suffix}"


def wait_for(pred: Callable[[], Any], timeout: float = 5.0, step: float = 0.01) -> bool:
    """Poll ``pred`` until it is true or ``timeout`` passes."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())


class Events:
    """A thread-safe event log with waiting."""

    def __init__(self) -> None:
        self.items: List[Any] = []
        self._cv = threading.Condition()

    def add(self, item: Any) -> None:
        with self._cv:
            self.items.append(item)
            self._cv.notify_all()

    def wait(self, pred: Callable[[List[Any]], Any], timeout: float = 5.0) -> bool:
        with self._cv:
            return bool(self._cv.wait_for(lambda: pred(self.items), timeout))

    def has(self, item: Any, timeout: float = 5.0) -> bool:
        return self.wait(lambda items: item in items, timeout)


def _pj() -> Any:
    import pjsua_ffi

    return pjsua_ffi


class _Recorders:
    """Callback classes that log what they see; built on first use so that importing
    this module does not need the compiled extension."""

    _made: Dict[str, Any] = {}

    @classmethod
    def get(cls) -> Dict[str, Any]:
        if cls._made:
            return cls._made
        import pjsua_ffi as pj

        class CallLog(pj.CallCallback):
            """Logs ('state', NAME, code, reason), ('media', NAME, slot), ('dtmf', d), …"""

            def __init__(self, events: Events, answer: Optional[int] = None,
                         connect_to: Optional[int] = None,
                         connect_from: Optional[int] = None) -> None:
                super().__init__()
                self.events = events
                self.connect_to = connect_to
                self.connect_from = connect_from

            def on_state(self) -> None:
                i = self.call.info()
                self.events.add(("state", i.state.name, i.last_code, i.last_reason))

            def on_media_state(self) -> None:
                i = self.call.info()
                self.events.add(("media", i.media_state.name, i.conf_slot))
                if i.media_state == pj.MediaState.ACTIVE:
                    lib = pj.Lib.instance()
                    assert lib is not None
                    if self.connect_to is not None:
                        lib.conf_connect(i.conf_slot, self.connect_to)
                    if self.connect_from is not None:
                        lib.conf_connect(self.connect_from, i.conf_slot)

            def on_dtmf_digit(self, digits: str) -> None:
                self.events.add(("dtmf", digits))

            def on_pager(self, mime_type: str, body: str) -> None:
                self.events.add(("pager", mime_type, body))

            def on_pager_status(self, body: str, im_id: int, code: int, reason: str) -> None:
                self.events.add(("pager_status", body, im_id, code, reason))

            def on_typing(self, is_typing: int) -> None:
                self.events.add(("typing", bool(is_typing)))

            def on_transfer_request(self, dst: str, code: int) -> int:
                self.events.add(("transfer_request", dst, code))
                return code

            def on_transfer_status(self, code: int, reason: str, final: int, cont: int) -> int:
                self.events.add(("transfer_status", code, reason, bool(final)))
                return cont

            def on_replaced(self, new_call: Any) -> None:
                self.events.add(("replaced", new_call._id))
                new_call.set_callback(CallLog(self.events))

            def on_request(self, method: str, rdata: Any) -> None:
                self.events.add(("request", method, rdata.msg_info))

        class AnsweringAccount(pj.AccountCallback):
            """Answers each incoming call with ``codes`` in turn; logs into ``events``."""

            def __init__(self, events: Events, codes: tuple = (180, 200),
                         connect_to: Optional[int] = None,
                         connect_from: Optional[int] = None) -> None:
                super().__init__()
                self.events = events
                self.codes = codes
                self.calls: List[Any] = []
                self.connect_to = connect_to
                self.connect_from = connect_from

            def on_incoming_call2(self, call: Any, rdata: Any) -> None:
                self.calls.append(call)
                self.events.add(("incoming", call.info().remote_uri, rdata.msg_info))
                call.set_callback(CallLog(self.events, connect_to=self.connect_to,
                                          connect_from=self.connect_from))
                for code in self.codes:
                    call.answer(code)

            def on_reg_state(self) -> None:
                i = self.account.info()
                self.events.add(("reg", i.reg_status, i.reg_reason, i.reg_expires))

            def on_pager(self, from_uri: str, contact: str, mime_type: str, body: str) -> None:
                self.events.add(("acc_pager", from_uri, mime_type, body))

            def on_pager_status(self, to_uri: str, body: str, im_id: int, code: int,
                                reason: str) -> None:
                self.events.add(("acc_pager_status", to_uri, im_id, code, reason))

        cls._made = {"CallLog": CallLog, "AnsweringAccount": AnsweringAccount}
        return cls._made


def CallLog(*args: Any, **kw: Any) -> Any:  # noqa: N802  (a class factory)
    """A CallCallback that logs into an :class:`Events` (see _Recorders)."""
    return _Recorders.get()["CallLog"](*args, **kw)


def AnsweringAccount(*args: Any, **kw: Any) -> Any:  # noqa: N802
    """An AccountCallback that answers incoming calls (see _Recorders)."""
    return _Recorders.get()["AnsweringAccount"](*args, **kw)


def states(events: Events) -> List[str]:
    return [e[1] for e in list(events.items) if e[0] == "state"]
