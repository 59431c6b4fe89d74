"""One worker of a :mod:`pjsua_ffi.pool`: a :class:`~pjsua_ffi.Lib` in its own process
that answers the calls the pool's proxy sends it, and drains on request (new INVITEs and
OPTIONS get 503 while its calls end). ``python -m pjsua_ffi worker`` runs one."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, Dict, Optional, Tuple

from . import config as _config
from ._binding import C
from .account import AccountCallback
from .constants import TransportType
from .lib import Lib

__all__ = ["Worker", "AnswerAll", "answer_all", "run_worker", "load_app", "parse_hostport",
           "DRAIN_CODE", "log_to_stderr"]

log = logging.getLogger("pjsua_ffi.pool")

DRAIN_CODE = 503

AppFactory = Callable[["Worker"], AccountCallback]


def load_app(spec: str) -> AppFactory:
    """Import ``MODULE:FACTORY`` and return the factory."""
    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"--app must be MODULE:FACTORY, not {spec!r}")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"{spec} is not callable")
    return obj


def parse_hostport(text: str, default_port: int = 0) -> Tuple[str, int]:
    """``HOST:PORT`` (or ``HOST``) as a tuple."""
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, default_port
    return host.strip("[]"), int(port)



# ---------------------------------------------------------------- the worker


class AnswerAll(AccountCallback):
    """A minimal application: answer every call with 200 and keep it until hung up."""

    def on_incoming_call(self, call: Any) -> None:
        call.answer(200)


def answer_all(worker: "Worker") -> AccountCallback:
    """The factory for :class:`AnswerAll` (``--app pjsua_ffi.pool:answer_all``)."""
    return AnswerAll()


class Worker:
    """One :class:`Lib` running the user's application on a UDP address.

    ``app`` is called once with the worker and returns the account callback that gets
    the calls. The worker's account is ``sip:USER@HOST:PORT``; media is bound to
    ``host`` too.
    """

    def __init__(self, app: AppFactory, host: str = "127.0.0.1", port: int = 5070,
                 user: str = "pool", max_calls: int = 256, log_level: int = 1,
                 drain_timeout: float = 3600.0) -> None:
        self.app, self.host, self.port, self.user = app, host, port, user
        self.max_calls, self.log_level = max_calls, log_level
        self.drain_timeout = drain_timeout
        self.lib: Optional[Lib] = None
        self.account: Any = None
        self._draining = threading.Event()
        self._stop = threading.Event()
        self._drain_started = 0.0
        self._probes_at_drain = 0
        self._drain_requested = False

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@{self.host}:{self.port}"

    def start(self) -> None:
        """Start pjsua, the transport and the account with the application's callback."""
        lib = Lib()
        ua = _config.UAConfig()
        ua.max_calls = self.max_calls
        media = _config.MediaConfig()
        media.enable_ice = False
        media.no_vad = True
        media.clock_rate = 8000
        lib.init(ua, _config.LogConfig(level=self.log_level, console_level=self.log_level),
                 media)
        self.lib = lib
        lib.set_null_snd_dev()
        lib.set_codec_priority("PCMU", 255)
        tp = lib.create_transport(TransportType.UDP,
                                  _config.TransportConfig(self.port, self.host, self.host))
        self.port = tp.info().port
        lib._call("gate_set", C.pjffi_gate_set, 0)  # install the gate, open
        lib.start()
        cfg = _config.AccountConfig()
        cfg.id = self.uri
        cfg.transport_id = tp._id
        cfg.rtp_transport_cfg = _config.TransportConfig(0, self.host, self.host)
        self.account = lib.create_account(cfg)
        self.account.set_callback(self.app(self))
        log.info("worker %s ready", self.uri)

    def active_calls(self) -> int:
        """Calls this worker has now (any state)."""
        lib = self._lib()
        with lib._gated("call_get_count", lib):
            return int(C.pjsua_call_get_count())

    def counters(self) -> Dict[str, int]:
        """New INVITEs and OPTIONS let in, and those refused while draining."""
        names = ("invites", "refused_invites", "refused_options", "options")
        return {name: int(C.pjffi_gate_count(i)) for i, name in enumerate(names)}

    def drain(self) -> None:
        """Refuse new calls (INVITE and OPTIONS get 503); :meth:`run` returns once the
        calls in progress have ended and the proxy has seen a 503 probe."""
        if self._draining.is_set():
            return
        lib = self._lib()
        lib._call("gate_set", C.pjffi_gate_set, DRAIN_CODE)
        self._probes_at_drain = int(C.pjffi_gate_count(3))  # OPTIONS answered so far
        self._drain_started = time.monotonic()
        self._draining.set()
        log.info("worker %s draining (%d calls in progress)", self.uri, self.active_calls())

    @property
    def draining(self) -> bool:
        return self._draining.is_set()

    def request_stop(self) -> None:
        """Make :meth:`run` return at once (safe from a signal handler)."""
        self._stop.set()

    def request_drain(self) -> None:
        """Ask :meth:`run` to drain (safe from a signal handler)."""
        self._drain_requested = True

    def drained(self) -> bool:
        """True once draining with no call left, and, if a proxy probes this worker,
        once it has refused a probe (so the proxy knows); or after ``drain_timeout``."""
        if not self._draining.is_set():
            return False
        if time.monotonic() - self._drain_started > self.drain_timeout:
            return True
        if self.active_calls():
            return False
        probed = self._probes_at_drain > 0
        return not probed or int(C.pjffi_gate_count(2)) > 0

    def run(self, poll: float = 0.05) -> None:
        """Serve until stopped, or until drained."""
        while not self._stop.wait(poll):
            if self._drain_requested and not self.draining:
                self.drain()
            if self.drained():
                log.info("worker %s drained", self.uri)
                return

    def stop(self) -> None:
        """Refuse new calls, hang up those left, and destroy the library."""
        lib, self.lib = self.lib, None
        if lib is None:
            return
        with contextlib.suppress(Exception):
            lib._call("gate_set", C.pjffi_gate_set, DRAIN_CODE)
        with contextlib.suppress(Exception):
            if int(C.pjsua_call_get_count()):
                lib.hangup_all()
                deadline = time.monotonic() + 2.0
                while C.pjsua_call_get_count() and time.monotonic() < deadline:
                    time.sleep(0.05)
        lib.destroy()

    def _lib(self) -> Lib:
        if self.lib is None:
            raise RuntimeError("worker not started")
        return self.lib


def log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")


def run_worker(args: argparse.Namespace) -> int:
    """``python -m pjsua_ffi worker``: one worker until SIGTERM/SIGINT, or drained."""
    log_to_stderr()
    host, port = parse_hostport(args.listen, 5070)
    worker = Worker(load_app(args.app), host, port, user=args.user,
                    max_calls=args.max_calls, log_level=args.log_level,
                    drain_timeout=args.drain_timeout)
    signal.signal(signal.SIGTERM, lambda *_: worker.request_stop())
    signal.signal(signal.SIGINT, lambda *_: worker.request_stop())
    signal.signal(signal.SIGUSR1, lambda *_: worker.request_drain())
    worker.start()
    print(f"WORKER {worker.uri} pid {os.getpid()}", flush=True)
    try:
        worker.run()
    finally:
        counts = worker.counters()
        worker.stop()
        print(f"WORKER {worker.uri} exits: {counts['invites']} calls taken, "
              f"{counts['refused_invites']} refused while draining", flush=True)
    return 0


