"""The library singleton: life cycle, the callback thread, and the library lock.

How events reach Python
-----------------------
pjsua runs without SIP worker threads of its own: the thread that waits for events
polls pjsua's SIP sockets and timers itself, in C and without the GIL
(``pjffi_next_events`` in ``_csrc/helpers.c``). That thread is the callback thread
(``start(with_thread=True)``) or the application inside ``handle_events()`` (an asyncio
loop in ``aio.py`` calls it when pjsua's epoll fd is readable or a timer is due).

pjsua calls our C shims from whichever thread produced an event: mostly that polling
thread, but also the conference clock thread for DTMF and the *caller's* thread for
events raised inside an API call (``make_call`` reports CALLING before it returns).
Each shim copies the event — with a snapshot of the call, account or buddy as it is
*now*, and every string it needs — onto a queue in C and returns, still inside pjsua
and never waiting for the GIL or the library lock. An event queued by another thread
wakes the poll through a socket registered with pjsua's ioqueue.

As soon as a poll returns with events queued, the same thread takes them as one batch
(one call into C frees the previous batch and polls for the next), turns each event
into Python objects (a handler per kind returns what to deliver) and calls the user's
callbacks with the library lock held, outside every pjsua lock: no thread hand-off
between pjsua and Python. A call snapshot reads its fields from the event's C copy on
first use; the copy lives as long as the snapshot does. A callback may call
back into the library (answer in ``on_incoming_call``, hang up in ``on_state``, even
``destroy()``) without deadlock. Inside a callback, ``call.info()`` / ``account.info()`` return
the event's snapshot, so a callback never sees a later state than the one it reports.

While callbacks run nobody polls; a C backup poller notices when that lasts a whole
tick (20 to 40 ms: a slow or blocked callback) and polls pjsua until the callbacks
return, so SIP (answers, retransmissions, timers) goes on behind a slow callback.

Three events need an answer before pjsua can go on: a transfer request (REFER), an
INVITE with Replaces, and an incoming SUBSCRIBE. Their callbacks run at once on the
thread that raised them. They try to take the library lock for a short while and, if
another thread holds it (possibly waiting for a pjsua lock that this thread holds), run
without it rather than deadlock; the event is logged at debug level when that happens.

Events for a call whose callback is not set yet are kept and delivered, in order, by
``Call.set_callback``. An exception raised by a callback is logged with its traceback
and the callback thread goes on. Lines for the application's log callback are events
too, so they come in order with the others.

The legacy module's order
-------------------------
Every API call holds the library lock while it runs, as in the legacy module: while a
thread holds ``auto_lock()``, other threads' calls wait. The legacy module runs the
callbacks of events that an API call raises (CALLING for ``make_call``, log lines)
inside that call; here C numbers the queued events and remembers, per thread, the last
one the thread queued, and the call waits in ``_leave`` until the callback thread has
delivered it (``_wait_delivered``). A caller that holds the library lock lends it to
the callback thread meanwhile (``_loans``; those callbacks run with ``tls.unlocked``),
and the callback thread lets it take the lock back before it goes on to later events
(``_release_waiters``). Not done on the callback thread itself, in callbacks pjsua
waits on, nor without a callback thread: before ``start()``, calls deliver their events
on the calling thread (``_flush_before_start``).

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
import itertools
import logging
import queue
import sys
import threading
import time
import traceback
from typing import Any, Callable, Dict, Optional, Tuple

from . import _binding
from ._binding import C, ffi, from_str, from_str_bytes, ptr_to_int, to_bytes
from .account import Account, AccountCallback, AccountInfo
from .call import Call, CallInfo, RxData
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
from .uri import _uri_text, uri_error  # noqa: F401  (im.py takes them from here)

__all__ = ["Lib"]

log = logging.getLogger("pjsua_ffi")
log.addHandler(logging.NullHandler())  # the application decides where lines go
pjsip_log = logging.getLogger("pjsua_ffi.pjsip")

_PJ_TO_LOGGING = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}

# Library states.
_CREATED, _INITIALIZED, _STARTED, _CLOSING, _DESTROYED = range(5)
_SYNC_LOCK_WAIT = 0.5  # seconds a callback that needs an answer waits for the lock
_MAX_PENDING = 256     # events kept for a call without a callback
_DESTROY_LOCK_WAIT = 30.0  # seconds destroy() waits for a thread holding auto_lock()
_SEQ_WAIT = 5.0        # seconds an API call waits for the callbacks of its own events
_SEQ_HANDOVER = 1.0    # seconds the callback thread waits for such a call to go on
_BATCH = 64            # events taken from the C queue per call into C
_PY_TOKENS = itertools.count(-1, -1)

# What an event handler returns: (function, target, snapshot, *args), run by _deliver as
# function(target, snapshot, *args) under the library lock; or None (nothing to run).
Delivery = Optional[Tuple[Any, ...]]


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


class _NoLock:
    """The library lock's stand-in where this thread must not take it (tls.unlocked)."""

    def acquire(self, *args: Any) -> bool:
        return True

    def release(self) -> None:
        pass

    def __enter__(self) -> bool:
        return True

    def __exit__(self, *exc: Any) -> None:
        pass


_NO_LOCK: Any = _NoLock()


class _ThreadState(threading.local):
    """Per-thread flags of the library (class attributes are the defaults)."""

    registered = False  # registered with pjlib
    sync = False        # inside a callback that pjsua waits on
    unlocked = False    # API calls do not take the library lock (see _enter)
    snap: Any = None    # (object, snapshot) of the event being delivered


@legacy_ops()
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
        self._lock = threading.RLock()
        self._gate_lock = threading.Lock()  # taken directly on the hot path
        self._gate = threading.Condition(self._gate_lock)
        self._in_flight = 0
        self._state = _CREATED
        self._events: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._thread: Optional[threading.Thread] = None
        self._has_thread = False
        self._quit = False
        self._delivering = 0  # the thread running the handlers of a batch (see _post)
        self._done_seq = C.pjffi_event_seq()  # queued events handled (_wait_delivered)
        self._seq_cv = threading.Condition(threading.Lock())
        self._seq_waiters: list = []  # the targets of threads in _wait_delivered
        self._loans = 0  # how many of them hold the library lock, lent to callbacks
        self._batch = ffi.new("pjffi_event *[]", _BATCH)
        self._default_setting: Any = None
        self._tls = _ThreadState()
        self._accounts: Dict[int, Account] = {}
        self._calls: Dict[int, Call] = {}
        self._derived: Dict[Tuple[int, int], Call] = {}  # (token, call id): see _call_for
        self._transports: Dict[int, Transport] = {}
        self._log_cfg: Optional[LogConfig] = None  # until init(): Python logging only
        self._txt_cnt = 0
        self._closers: list = []  # run by destroy() before pjsua goes (aio.py)
        _events.lib = self
        C.pjffi_install_crash_report()  # a crash in pjsua's threads shows its C stack
        C.pjffi_enable_log(1)
        C.pjffi_install_early_log(4)
        status = C.pjsua_create()
        if status != 0:
            with Lib._instance_lock:
                Lib._instance = None
            _events.lib = None
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
        with self._gate:
            self._state = _INITIALIZED
        self._flush_before_start()

    def start(self, with_thread: bool = True) -> None:
        """Start pjsua. With ``with_thread`` a thread delivers callbacks; without it the
        application calls :meth:`handle_events` regularly."""
        if self._state != _INITIALIZED:
            raise Error("start", self, C.PJ_EINVALIDOP, "call init() before start(), once")
        self._enter("start", self)
        try:
            status = C.pjsua_start()
        finally:
            self._leave()
        if status != 0:
            raise Error("start", self, status)
        self._flush_before_start()
        with self._gate:
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
            with self._gate:
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
        with self._gate:
            if not self._gate.wait_for(lambda: self._in_flight == 0, timeout=10.0):
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
        for call in list(self._calls.values()):
            call._alive = False
        self._calls.clear()
        self._derived.clear()
        for acc in self._accounts.values():
            acc._deleted = True
            for buddy in acc._buddies.values():
                buddy._deleted = True
        self._accounts.clear()
        for tp in self._transports.values():
            tp._closed = True
        self._drain_logs()
        with self._gate:
            self._state = _DESTROYED
        with Lib._instance_lock:
            if Lib._instance is self:
                Lib._instance = None
        if _events.lib is self:
            _events.lib = None

    def _deliver_queued(self) -> None:
        """destroy(): deliver what is still queued in C, on this thread (library calls
        from these callbacks raise Error: the library is closing). Its own batch: a
        destroy() from a callback runs inside _pump, which still holds self._batch."""
        batch, nfree = ffi.new("pjffi_event *[]", _BATCH), 0
        try:
            while True:
                count = C.pjffi_take_events(batch, _BATCH, nfree)
                nfree = count
                if not count:
                    break
                for i in range(count):
                    handler = _HANDLERS.get(batch[i].kind)
                    try:
                        item = handler(self, batch[i]) if handler is not None else None
                        if item is not None:
                            self._deliver(item)
                    except Exception:  # noqa: BLE001
                        log.error("error while handling a pjsua event:\n%s",
                                  traceback.format_exc())
        finally:
            if nfree:
                C.pjffi_take_events(batch, 0, nfree)

    def _atexit(self) -> None:
        if self._state not in (_CLOSING, _DESTROYED):
            try:
                self.destroy()
            except Exception:  # noqa: BLE001  (never fail interpreter exit)
                log.exception("destroy() at exit failed")

    def _running(self) -> bool:
        return self._state in (_INITIALIZED, _STARTED)

    # ------------------------------------------------------------------ the gate

    def _enter(self, op: str, obj: Any) -> None:
        # Every call holds the library lock, as in the legacy module: while another
        # thread holds auto_lock() (or a callback runs), it waits. Not in a callback
        # that pjsua waits on (see _run_sync): that thread may hold pjsua's locks; nor
        # in one delivered on the lock of a thread waiting for it (_wait_delivered).
        tls = self._tls
        if not tls.unlocked:
            self._lock.acquire()
        try:
            with self._gate_lock:
                if self._state not in (_INITIALIZED, _STARTED):
                    raise Error(op, obj, C.PJ_EINVALIDOP, _state_text(self._state))
                self._in_flight += 1
        except BaseException:
            if not tls.unlocked:
                self._lock.release()
            raise
        if not tls.registered:
            # Once per thread and library: pjlib aborts on calls from unknown threads.
            C.pjffi_thread_register(b"python")
            tls.registered = True

    def _leave(self) -> None:
        with self._gate_lock:
            self._in_flight -= 1
            if self._in_flight == 0 and self._state == _CLOSING:
                self._gate.notify_all()
        if not self._tls.unlocked:
            self._lock.release()
        if C.pjffi_my_last_seq() > self._done_seq:  # the call raised events
            self._wait_delivered()

    def _call(self, op: str, fn: Callable[..., int], *args: Any) -> None:
        self._enter(op, self)
        try:
            status = fn(*args)
        finally:
            self._leave()
        if status != 0:
            raise Error(op, self, status)

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

    def _callback_loop(self) -> None:
        # Event handlers may call into pjsua (e.g. buddy look-ups): pjsua's lock
        # bookkeeping goes wrong on a thread pjlib does not know.
        C.pjffi_thread_register(b"pjsua-callbacks")
        self._tls.registered = True
        self._pump(-1, forever=True)

    def _pump(self, timeout_ms: int, forever: bool = False) -> int:
        """Take events from the C queue (waiting up to ``timeout_ms`` for the first;
        -1: until woken) and deliver them; with ``forever``, until the library closes.
        Returns how many callbacks ran."""
        n = 0
        batch = self._batch
        me = threading.get_ident()
        handlers = _HANDLERS
        events = self._events
        nfree = 0  # the previous batch, freed by the next call into C
        first = True
        try:
            while True:
                # One call into C per batch: it frees the previous batch, then polls
                # pjsua until events come (see the module docstring).
                # Log lines that pjsua writes meanwhile on this thread are queued: it
                # holds pjsua's locks then (see _post).
                self._delivering = 0
                if first or forever:
                    count = C.pjffi_next_events(batch, _BATCH, timeout_ms, nfree)
                else:
                    count = C.pjffi_take_events(batch, _BATCH, nfree)
                self._delivering = me
                nfree = count
                first = False
                for i in range(count):
                    ev = batch[i]
                    try:
                        handler = handlers.get(ev.kind)
                        if handler is not None:
                            item = handler(self, ev)  # what to deliver, if anything
                            n += 1
                            if item is not None:
                                self._deliver(item)
                    except Exception:  # noqa: BLE001  (a bad event must not stop the thread)
                        log.error("error while handling a pjsua event:\n%s",
                                  traceback.format_exc())
                    self._done_seq += 1
                    if self._seq_waiters:  # an API call waits for this event
                        self._release_waiters()
                # This frame waits in C next: it must not keep the last call alive.
                item = ev = None
                if not events.empty():
                    n += self._run_posted()
                if self._quit or self._state == _DESTROYED:
                    break
                if not count and not forever:
                    break
        finally:
            self._delivering = 0
            if nfree:
                C.pjffi_take_events(batch, 0, nfree)
        return n

    def _run_posted(self) -> int:
        n = 0
        events = self._events
        while not events.empty():
            try:
                item = events.get_nowait()
            except queue.Empty:  # another thread (handle_events) took it
                break
            self._deliver(item)
            n += 1
        return n

    def _deliver(self, item: Tuple[Any, ...]) -> None:
        """Run one queued event under the library lock, with its snapshot visible."""
        snapshot = item[2]
        lock = self._lock
        tls = self._tls
        borrowed = False
        if not lock.acquire(blocking=False):
            # Held by another thread (auto_lock(), an API call): wait, unless that
            # thread waits for this event and lends us its lock (_wait_delivered), or the
            # library is being destroyed meanwhile (then the event is dropped).
            while not self._loans and not lock.acquire(timeout=0.02):
                if self._quit or self._state == _DESTROYED:
                    return
            if self._loans and not lock._is_owned():  # type: ignore[attr-defined]
                borrowed = tls.unlocked = True
        try:
            prev = tls.snap
            if snapshot is not None:
                tls.snap = (item[1], snapshot)
            elif prev is not None:
                tls.snap = None
            try:
                item[0](*item[1:])
            except Exception:  # noqa: BLE001  (a user callback must not kill this thread)
                log.error("exception in a pjsua_ffi callback:\n%s", traceback.format_exc())
            finally:
                if snapshot is not None or prev is not None:
                    tls.snap = prev
        finally:
            if borrowed:
                tls.unlocked = False
            else:
                lock.release()

    def _flush_before_start(self) -> None:
        """Before start(), deliver on this thread what an API call queued (the log
        callback's lines): the legacy module calls it while the call runs."""
        if self._thread is None and self._state == _INITIALIZED:
            self._pump(0)

    def _wait_delivered(self) -> None:
        """Wait until the callback thread has delivered the events this thread queued
        (and those before them); every API call does, in ``_leave``.

        In the legacy module the callbacks of events that an API call raises (the
        CALLING state of ``make_call``, the DISCONNECTED state of ``hangup``) run before
        the call returns; this keeps that order for the calling thread. If this thread
        holds the library lock (``auto_lock()``), the callbacks run on its loan (the
        legacy module runs them inside the call, under that lock). Not done on the
        callback thread, in a callback pjsua waits on, or without a callback thread."""
        thread = self._thread
        if thread is None or threading.current_thread() is thread or self._tls.sync:
            return
        target = C.pjffi_my_last_seq()
        if self._done_seq >= target:
            return
        # Holding the library lock, this thread lends it to the callback thread until
        # its events are delivered: no other thread gets in meanwhile, as in legacy.
        lending = bool(self._lock._is_owned())  # type: ignore[attr-defined]
        cv = self._seq_cv
        with cv:
            self._seq_waiters.append(target)
            self._loans += lending
        try:
            with cv:
                cv.wait_for(lambda: self._done_seq >= target or self._state != _STARTED,
                            timeout=_SEQ_WAIT)
        finally:
            with cv:  # before the callback thread goes on (see _release_waiters)
                self._loans -= lending
                self._seq_waiters.remove(target)
                cv.notify_all()

    def _release_waiters(self) -> None:
        """Callback thread, after a batch: wake the threads whose events are delivered
        now, and let those that held the library lock take it back before the next
        batch (the legacy module delivers nothing while the lock is held)."""
        cv = self._seq_cv
        with cv:
            if any(t <= self._done_seq for t in self._seq_waiters):
                cv.notify_all()
                cv.wait_for(lambda: not any(t <= self._done_seq
                                            for t in self._seq_waiters),
                            timeout=_SEQ_HANDOVER)

    def _event_snapshot(self, obj: Any) -> Any:
        snap = self._tls.snap
        if snap is not None and snap[0] is obj:
            return snap[1]
        return None

    def _run_sync(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a callback whose answer pjsua waits for, on this thread (see module doc)."""
        got = self._lock.acquire(timeout=_SYNC_LOCK_WAIT)
        if not got:
            log.debug("library lock busy: running %s without it", getattr(fn, "__name__", fn))
        tls = self._tls
        was_sync, tls.sync = tls.sync, True
        was_unlocked, tls.unlocked = tls.unlocked, True
        try:
            return fn(*args)
        except Exception:  # noqa: BLE001
            log.error("exception in a pjsua_ffi callback:\n%s", traceback.format_exc())
            return None
        finally:
            tls.sync = was_sync
            tls.unlocked = was_unlocked
            if got:
                self._lock.release()

    def _post(self, item: Tuple[Any, ...]) -> None:
        """Deliver ``item`` now if this thread is running a batch's handlers (events are
        delivered in order), else queue it for the thread that takes events, and wake it."""
        if threading.get_ident() == self._delivering:
            self._deliver(item)
            return
        self._events.put(item)
        C.pjffi_wake()  # the callback thread may be waiting in C

    def _drain_logs(self) -> None:
        """Deliver log lines that were queued after the callback thread stopped."""
        while True:
            try:
                item = self._events.get_nowait()
            except queue.Empty:
                return
            if item[0] is _deliver_log:
                self._deliver(item)

    # ------------------------------------------------------------------ registries

    def _register_call(self, call: Call, token: int = 0) -> int:
        # C numbers the calls it sees first (incoming, replacing) upwards from 1; we
        # number ours downwards from -1, without a call into C.
        token = token or next(_PY_TOKENS)
        call._token = token
        self._calls[token] = call
        return token

    def _unregister_call(self, call: Call) -> None:
        self._calls.pop(call._token, None)

    def _forget_account(self, acc: Account) -> None:
        if self._accounts.get(acc._id) is acc:
            del self._accounts[acc._id]

    def _call_setting(self, keep: list, flag: int = 0) -> Any:
        """Our default call settings (pjsua only reads them); a copy if ``flag`` is set."""
        default = self._default_setting
        if default is None:
            default = self._default_setting = ffi.new("pjsua_call_setting *")
            C.pjffi_call_setting_default(default)
        if not flag:
            return default
        opt = ffi.new("pjsua_call_setting *")
        keep.append(opt)
        ffi.memmove(opt, default, ffi.sizeof("pjsua_call_setting"))
        opt.flag = flag
        return opt

    def _require_uri(self, op: str, uri: Any, obj: Any) -> None:
        """Check a URI in full (pjsip's parser) before an operation that needs it."""
        _uri_text(op, uri, obj)
        if self._verify_url(uri, sip_only=False) != 0:  # tel: URIs too
            raise Error(op, obj, C.PJSIP_EINVALIDURI)  # pjsua's status and text, as legacy

    # ------------------------------------------------------------------ utilities

    def auto_lock(self) -> _LibMutex:
        """Hold the library lock (no callback runs meanwhile) until the returned object
        is released, deleted, or its ``with`` block ends."""
        return _LibMutex(_NO_LOCK if self._tls.unlocked else self._lock)

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
                    self._gate.notify_all()

    def verify_sip_url(self, sip_url: str) -> int:
        """0 if ``sip_url`` is a valid SIP (or SIPS) URI, else an error status."""
        return self._verify_url(sip_url, sip_only=True)

    def _verify_url(self, url: str, sip_only: bool) -> int:
        if not isinstance(url, str):
            raise TypeError("sip_url must be str")
        data = url.encode("utf-8")
        if len(data) > 2000 or "\x00" in url:
            return C.PJ_EINVAL
        self._enter("verify_sip_url", self)
        try:
            return int(C.pjffi_verify_url(data, int(sip_only)))
        finally:
            self._leave()

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
        self._transports[tp._id] = tp
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
            self._accounts[acc._id] = acc
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
            self._accounts[acc._id] = acc
        self._flush_before_start()
        return acc

    def modify_account(self, acc_id: int, acc_config: AccountConfig) -> None:
        """Change an account's settings (``acc_id`` may also be the Account)."""
        if isinstance(acc_id, Account):
            acc_id = acc_id._id
        if isinstance(acc_id, bool) or not isinstance(acc_id, int):
            raise TypeError("acc_id must be an int or an Account")
        if acc_id not in self._accounts:
            raise Error("acc_modify", self, C.PJ_EINVAL, f"no account {acc_id}")
        keep: list = []
        c = ffi.new("pjsua_acc_config *")
        fill_acc_config(c, acc_config, keep)
        self._call("acc_modify", C.pjsua_acc_modify, acc_id, c)

    def hangup_all(self) -> None:
        """Hang up every call."""
        self._enter("call_hangup_all", self)
        try:
            C.pjsua_call_hangup_all()
        finally:
            self._leave()


def _state_text(state: int) -> str:
    return {
        _CREATED: "the library is not initialised (call init() and start())",
        _CLOSING: "the library is being destroyed",
        _DESTROYED: "the library has been destroyed",
    }.get(state, "the library is not running")


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


# ---------------------------------------------------------------------- C → Python


def _deliver_log(level: int, text: str, snapshot: None = None) -> None:
    lib = _events.lib
    cfg = lib._log_cfg if lib is not None else None
    cb = cfg.callback if cfg is not None else None
    if cb is not None:
        cb(level, text, len(text))


class _Events:
    """Where C events land (see the module docstring); ``lib`` is the live library."""

    lib: Optional[Lib] = None


_events = _Events()


@ffi.def_extern()
def pjffi_py_log(level: int, data: Any, length: int) -> None:
    try:
        text = ffi.unpack(data, length).decode("utf-8", "replace")
        lib = _events.lib
        line = text.rstrip("\r\n")
        pjsip_log.log(_PJ_TO_LOGGING.get(level, logging.DEBUG), "%s", line)
        if lib is None:
            return
        cfg = lib._log_cfg
        if cfg is None or level > cfg.console_level:
            return
        if cfg.callback is None:  # (with a callback, the line comes as a queued event)
            try:
                sys.stdout.write(text if text.endswith("\n") else text + "\n")
            except Exception:  # noqa: BLE001  (stdout closed at exit)
                pass
    except BaseException:  # noqa: BLE001  (never raise into C)
        pass


@ffi.def_extern()
def pjffi_py_event(ev: Any) -> None:
    lib = _events.lib
    if lib is None:
        return
    try:
        handler = _HANDLERS.get(ev.kind)
        if handler is not None:
            handler(lib, ev)
    except BaseException:  # noqa: BLE001  (never raise into C)
        try:
            log.error("error while handling a pjsua event:\n%s", traceback.format_exc())
        except Exception:  # noqa: BLE001
            pass


def _keep(ev: Any) -> Any:
    """Keep a queued event alive past its batch (a lazy snapshot reads from it)."""
    ev.kept = 1
    return ffi.gc(ev, C.pjffi_free_event)


def _call_for(lib: Lib, ev: Any) -> Optional[Call]:
    token = ptr_to_int(ev.user_data)
    if not token:
        return None
    cid = int(ev.call_id)
    if lib._derived:
        derived = lib._derived.get((token, cid))
        if derived is not None:
            return derived
    call = lib._calls.get(token)
    if call is not None and call._id >= 0 and cid >= 0 and call._id != cid:
        # pjsua gives the call that a transfer makes the user data of the transferred
        # call: it is a call of its own (no callback until the application sets one).
        key = (token, cid)
        call = Call(lib, cid)
        lib._register_call(call)
        call._derived_key = key
        lib._derived[key] = call
    return call


def _dispatch_call(call: Call, snapshot: Any, method: str, *args: Any) -> Any:
    """Deliver a call event, or keep it until the call has a callback."""
    cb = call._cb
    if cb is None:
        if len(call._pending) < _MAX_PENDING:
            call._pending.append((_dispatch_call, call, snapshot, method, *args))
        return None
    return getattr(cb, method)(*args)


def _ev_call_state(lib: Lib, ev: Any) -> Delivery:
    call = _call_for(lib, ev)
    if call is None or ev.call_info == ffi.NULL:
        return None
    info = CallInfo(lib, ev.call_info, _keep(ev))
    call._last_info = info
    if call._id < 0:  # events raised inside make_call(), before it returned the id
        call._id = int(ev.call_id)
    if ev.call_info.state == 6:  # DISCONNECTED: the id may be reused from now on
        call._alive = False
        lib._calls.pop(call._token, None)
        if call._derived_key is not None:
            lib._derived.pop(call._derived_key, None)
    return (_dispatch_call, call, info, "on_state")


def _ev_media_state(lib: Lib, ev: Any) -> Delivery:
    call = _call_for(lib, ev)
    if call is None or ev.call_info == ffi.NULL:
        return None
    info = CallInfo(lib, ev.call_info, _keep(ev))
    call._last_info = info
    return (_dispatch_call, call, info, "on_media_state")


def _ev_incoming_call(lib: Lib, ev: Any) -> Delivery:
    acc_id = int(ev.acc_id)
    call = Call(lib, ev.call_id)
    lib._register_call(call, ptr_to_int(ev.user_data))  # given by C
    info = CallInfo(lib, ev.call_info, _keep(ev)) if ev.call_info != ffi.NULL else None
    call._last_info = info
    rdata = RxData(from_str(ev.s[5]), from_str(ev.s[4]), from_str(ev.s[3]))
    return (_deliver_incoming_call, call, info, acc_id, rdata)


def _deliver_incoming_call(call: Call, snapshot: Any, acc_id: int, rdata: RxData) -> None:
    # Looked up now, under the library lock: create_account() holds that lock until
    # the account is known, so an event right after it still finds its account.
    acc = call._lib._accounts.get(acc_id)
    if acc is None or acc._deleted:
        call.hangup(480)
        return
    acc._cb.on_incoming_call2(call, rdata)


def _ev_dtmf(lib: Lib, ev: Any) -> Delivery:
    call = _call_for(lib, ev)
    if call is not None:
        return (_dispatch_call, call, None, "on_dtmf_digit", chr(ev.code))
    return None


def _ev_transfer_request(lib: Lib, ev: Any) -> None:
    call = _call_for(lib, ev)
    if call is None or call._cb is None:
        return
    code = lib._run_sync(call._cb.on_transfer_request, from_str(ev.s[0]), int(ev.code))
    if isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 699:
        ev.out_code = code


def _ev_transfer_status(lib: Lib, ev: Any) -> Delivery:
    call = _call_for(lib, ev)
    if call is not None:
        return (_dispatch_call, call, None, "on_transfer_status", int(ev.code),
                from_str(ev.s[0]), int(ev.flag), int(ev.other_id))
    return None


def _ev_replace_request(lib: Lib, ev: Any) -> None:
    call = _call_for(lib, ev)
    if call is None or call._cb is None:
        return
    res = lib._run_sync(call._cb.on_replace_request, int(ev.code), from_str(ev.s[0]))
    if isinstance(res, tuple) and len(res) == 2:
        code, reason = res
        if isinstance(code, int) and 100 <= code <= 699:
            ev.out_code = code
        if isinstance(reason, str) and reason:
            ev.out_reason = reason.encode("utf-8")[:255]


def _ev_call_replaced(lib: Lib, ev: Any) -> Delivery:
    old = _call_for(lib, ev)
    if old is None:
        return None
    token = ptr_to_int(ev.obj)  # C gave the replacing call its token
    new = lib._calls.get(token) if token else None
    if new is None:
        new = Call(lib, ev.other_id)
        lib._register_call(new, token)
    return (_dispatch_call, old, None, "on_replaced", new)


def _ev_call_request(lib: Lib, ev: Any) -> Delivery:
    call = _call_for(lib, ev)
    if call is not None:
        rdata = RxData(from_str(ev.s[5]))
        return (_dispatch_call, call, None, "on_request", from_str(ev.s[0]), rdata)
    return None


def _ev_reg_state(lib: Lib, ev: Any) -> Delivery:
    info = AccountInfo(ev.acc_info) if ev.acc_info != ffi.NULL else None
    if info is not None and int(ev.code) >= 300 and not info.reg_last_err_msg:
        # pjsua's status text is the code's generic phrase; the event has the reason
        # pjsip gave (for a transport or TLS failure: what failed).
        info.reg_last_err_msg = from_str(ev.s[0])
    return (_deliver_reg_state, lib, info, int(ev.acc_id))


def _deliver_reg_state(lib: Lib, snapshot: Any, acc_id: int) -> None:
    acc = lib._accounts.get(acc_id)  # under the lock: see _deliver_incoming_call
    if acc is None or acc._deleted:
        return
    lib._tls.snap = (acc, snapshot)  # _deliver restores the previous value
    if snapshot is not None:
        acc._reg_err_msg = snapshot.reg_last_err_msg
    acc._cb.on_reg_state()


def _ev_log(lib: Lib, ev: Any) -> Delivery:
    # (level, text): the tuple's third item is the snapshot slot, unused here
    return (_deliver_log, int(ev.code), from_str(ev.s[0]), None)


def _body_text(s: Any) -> str:
    return from_str_bytes(s).decode("utf-8", "replace")


_HANDLERS: Dict[int, Callable[[Lib, Any], Delivery]] = {
    C.PJFFI_EV_CALL_STATE: _ev_call_state,
    C.PJFFI_EV_CALL_MEDIA_STATE: _ev_media_state,
    C.PJFFI_EV_INCOMING_CALL: _ev_incoming_call,
    C.PJFFI_EV_DTMF: _ev_dtmf,
    C.PJFFI_EV_TRANSFER_REQUEST: _ev_transfer_request,
    C.PJFFI_EV_TRANSFER_STATUS: _ev_transfer_status,
    C.PJFFI_EV_REPLACE_REQUEST: _ev_replace_request,
    C.PJFFI_EV_CALL_REPLACED: _ev_call_replaced,
    C.PJFFI_EV_CALL_REQUEST: _ev_call_request,
    C.PJFFI_EV_REG_STATE: _ev_reg_state,
    C.PJFFI_EV_LOG: _ev_log,
}


def register_handler(kind: int, handler: Callable[[Lib, Any], Delivery]) -> None:
    """Let another facade module (IM, presence) take an event kind. A handler turns the
    C event into Python values and returns what to deliver (see :data:`Delivery`)."""
    _HANDLERS[kind] = handler
