"""The library object: its life cycle and public API.

:class:`Lib` is the top of the package. The engine below it (the library lock, the gate
every API call passes, the thread that delivers events, the registry of what it handed
out) is :class:`~pjsua_ffi._core.Core`, whose module notes describe how an event travels
from pjsua to a callback. The area modules (transport, call, account, buddy, im, media)
know only that engine; ``Lib`` imports them.

Destroy
-------
Every API call passes a gate that counts calls in flight. ``destroy()`` closes the gate
(later calls raise :class:`Error`), waits for calls in flight, stops the callback
thread, and only then calls ``pjsua_destroy``; the events that raises (the calls it
hangs up) are delivered on the destroying thread before the queue is dropped. It may be
called from a callback.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from typing import Any, Optional

from . import _binding
from ._binding import C, ffi, to_bytes
from ._core import (
    _CLOSING,
    _CREATED,
    _DESTROYED,
    _INITIALIZED,
    _STARTED,
    Core,
    _state_text,
)
from ._dispatch import live
from ._threads import NO_LOCK as _NO_LOCK
from .account import Account, AccountCallback
from .config import (
    AccountConfig,
    LogConfig,
    MediaConfig,
    TransportConfig,
    UAConfig,
    fill_acc_config,
    fill_log_config,
    fill_media_config,
    fill_transport_config,
    fill_ua_config,
)
from .constants import TransportType
from .errors import Error, legacy_ops
from .media import _MediaMixin
from .transport import Transport

__all__ = ["Lib"]

log = logging.getLogger("pjsua_ffi")

_DESTROY_LOCK_WAIT = 30.0  # seconds destroy() waits for a thread holding auto_lock()


class _LibMutex:
    """Holds the library lock from creation until ``release()``, ``del``, or the end
    of a ``with`` block (the legacy idiom is ``lck = lib.auto_lock(); ...; del lck``)."""

    def __init__(self, lock: "threading.RLock") -> None:
        self._lock: Optional[threading.RLock] = lock
        lock.acquire()

    def release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def __enter__(self) -> "_LibMutex":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __del__(self) -> None:
        try:
            self.release()
        except RuntimeError:  # released from another thread: nothing left to do
            pass


@legacy_ops({"handle_events": None})  # raises no Error (callbacks' errors are logged)
class Lib(_MediaMixin):
    """The pjsua library. One instance per process at a time."""

    _instance: Optional["Lib"] = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        with Lib._instance_lock:
            if Lib._instance is not None:
                raise Error("__init()__", None, -1, "Library instance already exist")
            Lib._instance = self
        self._obj_name = "Lib"
        Core.__init__(self)
        self._log_cfg: Optional[LogConfig] = None  # until init(): Python logging only
        self._txt_cnt = 0
        self._closers: list = []  # run by destroy() before pjsua goes (aio.py)
        live.attach(self)
        C.pjffi_install_crash_report()  # a crash in pjsua's threads shows its C stack
        C.pjffi_enable_log(1)
        C.pjffi_install_early_log(4)
        status = C.pjsua_create()
        if status != 0:
            with Lib._instance_lock:
                Lib._instance = None
            live.detach(self)
            raise Error("_pjsua.create()", None, status)
        atexit.register(self._atexit)

    def __str__(self) -> str:
        return "Lib"

    # ------------------------------------------------------------------ life cycle

    @staticmethod
    def instance() -> Optional["Lib"]:
        """The current library object, or None."""
        return Lib._instance

    def init(self, ua_cfg: Optional[UAConfig] = None, log_cfg: Optional[LogConfig] = None,
             media_cfg: Optional[MediaConfig] = None) -> None:
        """Initialise pjsua with these settings (defaults where None)."""
        if self._state != _CREATED:
            raise Error("init", self, C.PJ_EINVALIDOP)  # pjsua's text, as legacy shows
        ua_cfg = ua_cfg or UAConfig()
        log_cfg = log_cfg or LogConfig()
        media_cfg = media_cfg or MediaConfig()
        for obj, kind in ((ua_cfg, UAConfig), (log_cfg, LogConfig), (media_cfg, MediaConfig)):
            if not isinstance(obj, kind):
                raise TypeError(f"expected {kind.__name__}, got {type(obj).__name__}")
        keep: list = []
        ua = ffi.new("pjsua_config *")
        lg = ffi.new("pjsua_logging_config *")
        md = ffi.new("pjsua_media_config *")
        fill_ua_config(ua, ua_cfg, keep)
        fill_log_config(lg, log_cfg, keep)
        fill_media_config(md, media_cfg, int(ua_cfg.max_calls), keep)
        C.pjffi_install_callbacks(ua, lg)
        C.pjffi_install_presence_callbacks(ua)
        C.pjffi_install_secure_callbacks(ua)
        C.pjffi_set_follow_redirects(int(bool(getattr(ua_cfg, "follow_redirects", False))))
        self._log_cfg = log_cfg
        live.log_cfg = log_cfg
        # Lines for the log callback come through the event queue (see _ev_log).
        C.pjffi_set_log_cb_level(int(log_cfg.console_level) if log_cfg.callback else -1)
        self._txt_cnt = 1 if getattr(ua_cfg, "text_streams", False) else 0
        C.pjffi_set_txt_cnt(self._txt_cnt)
        _raise_fd_limit(int(ua_cfg.max_calls))
        C.pjffi_enable_log(1)
        C.pjffi_quiet_audio_backends()
        C.pjffi_enable_events(1)
        C.pjffi_thread_register(b"python")
        status = C.pjsua_init(ua, lg, md)
        if status != 0:
            raise Error("init", self, status)
        status = C.pjffi_poll_attach()  # pjsua has no thread of its own: we poll it
        if status != 0:
            raise Error("init", self, status)
        with self._gate_cv:
            self._state = _INITIALIZED
        self._flush_before_start()

    def start(self, with_thread: bool = True) -> None:
        """Start pjsua. With ``with_thread`` a thread delivers callbacks; without it the
        application calls :meth:`handle_events` regularly."""
        if self._state != _INITIALIZED:
            raise Error("start", self, C.PJ_EINVALIDOP, "call init() before start(), once")
        with self._gated("start", self):
            status = C.pjsua_start()
        if status != 0:
            raise Error("start", self, status)
        self._flush_before_start()
        with self._gate_cv:
            self._state = _STARTED
        self._has_thread = bool(with_thread)
        if with_thread:
            self._thread = threading.Thread(target=self._callback_loop,
                                            name="pjsua-callbacks", daemon=True)
            self._thread.start()

    def destroy(self) -> None:
        """Shut pjsua down: calls are hung up, every object becomes unusable, and a new
        :class:`Lib` may be created afterwards. Safe to call from a callback. Waits
        while another thread holds the library lock (``auto_lock()``), as every
        library call does."""
        locked = not self._tls.unlocked and self._lock.acquire(timeout=_DESTROY_LOCK_WAIT)
        try:
            with self._gate_cv:
                if self._state in (_CLOSING, _DESTROYED):
                    return
                self._state = _CLOSING
        finally:
            if locked:
                self._lock.release()
        if self._tls.sync:
            # Inside a callback that pjsua is waiting on: finish on another thread.
            threading.Thread(target=self._finish_destroy, name="pjsua-destroy").start()
            return
        self._finish_destroy()

    def _finish_destroy(self) -> None:
        with self._gate_cv:
            if not self._gate_cv.wait_for(lambda: self._in_flight == 0, timeout=10.0):
                log.warning("destroy(): %d calls into pjsua still running", self._in_flight)
        me = threading.current_thread()
        self._quit = True
        if self._thread is not None and self._thread is not me:
            C.pjffi_wake()
            self._thread.join(timeout=10.0)
        for closer in self._closers:
            try:
                closer()
            except Exception:  # noqa: BLE001  (destroy goes on)
                log.exception("error while detaching from the library")
        C.pjffi_thread_register(b"python")
        self._media_shutdown()  # Python audio ports must go before the bridge does
        C.pjffi_poll_detach()
        # Events that pjsua_destroy raises (the calls it hangs up) still reach the
        # callbacks, on this thread, as the legacy module delivers them from inside it.
        C.pjsua_destroy()
        C.pjffi_enable_events(0)
        C.pjffi_enable_log(0)
        self._deliver_queued()
        C.pjffi_set_log_cb_level(-1)
        C.pjffi_queue_clear()
        self._reg.close()
        self._drain_logs()
        with self._gate_cv:
            self._state = _DESTROYED
        with Lib._instance_lock:
            if Lib._instance is self:
                Lib._instance = None
        live.detach(self)

    def _atexit(self) -> None:
        if self._state not in (_CLOSING, _DESTROYED):
            try:
                self.destroy()
            except Exception:  # noqa: BLE001  (never fail interpreter exit)
                log.exception("destroy() at exit failed")

    # ------------------------------------------------------------------ events

    def handle_events(self, timeout: int = 50) -> int:
        """Deliver pending callbacks on this thread, waiting up to ``timeout`` ms for
        the first one. Returns how many were delivered."""
        if self._state not in (_INITIALIZED, _STARTED):
            return 0
        if self._thread is not None:
            # The callback thread delivers; polling here would only race with it.
            time.sleep(max(0, int(timeout)) / 1000.0)
            return 0
        if not self._tls.registered:
            C.pjffi_thread_register(b"python")
            self._tls.registered = True
        return self._pump(max(0, int(timeout)))

    # ------------------------------------------------------------------ utilities

    def auto_lock(self) -> _LibMutex:
        """Hold the library lock (no callback runs meanwhile) until the returned object
        is released, deleted, or its ``with`` block ends."""
        return _LibMutex(_NO_LOCK if self._tls.unlocked else self._lock)

    @property
    def dropped_events(self) -> int:
        """Events pjsua raised that were lost because the event queue was full (each
        loss is also logged as a warning); 0 unless callbacks fall far behind."""
        self._check_dropped()
        return self._dropped

    def thread_register(self, name: str) -> None:
        """Register the calling thread with pjlib (done automatically on every call)."""
        # Without the library lock, as in the legacy module: it does not wait for another
        # thread's auto_lock(). Registering touches only this thread's pjlib record; the
        # gate still keeps destroy() from closing pjlib meanwhile.
        data = to_bytes(name, "name")[:31]
        with self._gate_lock:
            if self._state not in (_INITIALIZED, _STARTED):
                raise Error("thread_register", self, C.PJ_EINVALIDOP,
                            _state_text(self._state))
            self._in_flight += 1
        try:
            C.pjffi_thread_register(data)
            self._tls.registered = True
        finally:
            with self._gate_lock:
                self._in_flight -= 1
                if self._in_flight == 0 and self._state == _CLOSING:
                    self._gate_cv.notify_all()

    def verify_sip_url(self, sip_url: str) -> int:
        """0 if ``sip_url`` is a valid SIP (or SIPS) URI, else an error status."""
        return self._verify_url(sip_url, sip_only=True)

    @staticmethod
    def strerror(err: int) -> str:
        """pjsua's text for a status code."""
        return _binding.strerror(err)

    # ------------------------------------------------------------------ transports

    def tls_failures(self) -> "list[str]":
        """TLS connections that failed or whose certificate did not verify, oldest
        first (the last 16 since the process started), each with its reason."""
        buf = ffi.new("char[]", 400)
        total = C.pjffi_tls_failure(0, ffi.NULL, 0)
        out = []
        for i in range(max(0, total - 16), total):
            C.pjffi_tls_failure(i, buf, 400)
            out.append(ffi.string(buf).decode("utf-8", "replace"))
        return out

    def create_transport(self, type: int, cfg: Optional[TransportConfig] = None) -> Transport:  # noqa: A002
        """Create a SIP transport of ``type`` (a :class:`TransportType`)."""
        if isinstance(type, bool) or not isinstance(type, int):
            raise TypeError("type must be a TransportType")
        try:
            TransportType(type)
        except ValueError:
            raise Error("transport_create", self, C.PJ_EINVAL,
                        f"unknown transport type {type}") from None
        if cfg is not None and not isinstance(cfg, TransportConfig):
            raise TypeError("cfg must be a TransportConfig")
        keep: list = []
        c = ffi.new("pjsua_transport_config *")
        fill_transport_config(c, cfg, keep)
        p_id = ffi.new("int *")
        self._call("transport_create", C.pjsua_transport_create, int(type), c, p_id)
        tp = Transport(self, p_id[0])
        self._reg.transports[tp._id] = tp
        self._flush_before_start()
        return tp

    # ------------------------------------------------------------------ accounts

    def create_account(self, acc_config: AccountConfig, set_default: bool = True,
                       cb: Optional[AccountCallback] = None) -> Account:
        """Add an account (registering it if ``reg_uri`` is set)."""
        keep: list = []
        c = ffi.new("pjsua_acc_config *")
        fill_acc_config(c, acc_config, keep)
        if cb is not None and not isinstance(cb, AccountCallback):
            raise TypeError("cb must be an AccountCallback")
        p_id = ffi.new("int *")
        # Hold the lock so no event for the account is delivered before it is known.
        with _NO_LOCK if self._tls.unlocked else self._lock:
            self._call("acc_add", C.pjsua_acc_add, c, bool(set_default), p_id)
            acc = Account(self, p_id[0], cb)
            self._reg.accounts[acc._id] = acc
        self._flush_before_start()
        return acc

    def create_account_for_transport(self, transport: Transport, set_default: bool = True,
                                     cb: Optional[AccountCallback] = None) -> Account:
        """Add a local account (sip:address:port) for ``transport``; no registration."""
        if not isinstance(transport, Transport):
            raise TypeError("transport must be a Transport")
        if cb is not None and not isinstance(cb, AccountCallback):
            raise TypeError("cb must be an AccountCallback")
        if transport._closed:
            raise Error("acc_add_local", transport, C.PJ_EINVALIDOP, "transport is closed")
        p_id = ffi.new("int *")
        with _NO_LOCK if self._tls.unlocked else self._lock:
            self._call("acc_add_local", C.pjffi_acc_add_local, transport._id,
                       bool(set_default), p_id)
            acc = Account(self, p_id[0], cb)
            self._reg.accounts[acc._id] = acc
        self._flush_before_start()
        return acc

    def modify_account(self, acc_id: int, acc_config: AccountConfig) -> None:
        """Change an account's settings (``acc_id`` may also be the Account)."""
        if isinstance(acc_id, Account):
            acc_id = acc_id._id
        if isinstance(acc_id, bool) or not isinstance(acc_id, int):
            raise TypeError("acc_id must be an int or an Account")
        if acc_id not in self._reg.accounts:
            raise Error("acc_modify", self, C.PJ_EINVAL, f"no account {acc_id}")
        keep: list = []
        c = ffi.new("pjsua_acc_config *")
        fill_acc_config(c, acc_config, keep)
        self._call("acc_modify", C.pjsua_acc_modify, acc_id, c)

    def hangup_all(self) -> None:
        """Hang up every call."""
        with self._gated("call_hangup_all", self):
            C.pjsua_call_hangup_all()



def _raise_fd_limit(max_calls: int) -> None:
    """Each call with audio uses two sockets: make sure the process may open them."""
    try:
        import resource
    except ImportError:  # pragma: no cover  (not POSIX)
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(1024, max_calls * 4 + 256)
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        except (ValueError, OSError):
            pass


