"""The library's engine, below every area: the library lock, the gate every API call
passes, the thread that takes events from C and delivers them, and the registry.
:class:`~pjsua_ffi.lib.Lib` (the life cycle and the public API) is a :class:`Core`.

How events reach Python
-----------------------
pjsua runs without SIP worker threads of its own: the thread that waits for events
polls pjsua's SIP sockets and timers itself, in C and without the GIL
(``pjffi_next_events``, in ``_csrc/``). That thread is the callback thread
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
(the callback thread once it holds the library lock), turns each event into Python
objects (the handler its area module registered in ``_dispatch.py`` returns a
:class:`~pjsua_ffi._dispatch.Delivery`) and calls the user's callbacks with the library
lock held, outside every pjsua lock: no thread hand-off between pjsua and Python. A
call snapshot reads its fields from the event's C copy on first use; the copy lives as
long as the snapshot does. A callback may call back into the library (answer in
``on_incoming_call``, hang up in ``on_state``, even ``destroy()``) without deadlock.
Inside a callback, ``call.info()`` / ``account.info()`` return the event's snapshot.

While callbacks run nobody polls; a C backup poller notices when that lasts a whole
tick (20 to 40 ms: a slow or blocked callback) and polls pjsua until the callbacks
return, so SIP (answers, retransmissions, timers) goes on behind a slow callback.

C's queue holds at most 200 000 events; beyond that C drops the event and counts it.
After every full batch and every 256 batches the count is read, a warning logged with
the number dropped since, and ``Lib.dropped_events`` gives the library's total.

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
callbacks of events that an API call raises (CALLING for ``make_call``, DISCONNECTED
for ``hangup``, log lines) inside that call, on its thread, and so does this one. C
numbers the queued events and remembers, per thread, the last one the thread queued;
as the call leaves the gate, still under the library lock, it takes the events up to
that one off the queue, with any queued before them, and delivers them in order
(``_deliver_inline``; without a callback thread, ``_deliver_own``). One thread at a
time holds events taken off the queue (C's ``q_held``), and the callback thread takes a
batch only once it holds the library lock (``_callback_loop``, C's
``pjffi_wait_events``): a call, which holds that lock, never finds earlier events held
by another thread. Should it still (a callback running on a lent lock), that thread
delivers the call's events too, and the call waits for that (``_wait_delivered``),
lending it the library lock if the caller holds it (``auto_lock()``: ``_loans``,
``tls.unlocked``; ``_release_waiters`` lets it take the lock back). Not in callbacks
pjsua waits on. Before ``start()``, calls deliver their events on the calling thread
(``_flush_before_start``).

The gate
--------
Every API call runs inside ``with lib._gated(op, obj):``. It takes the library lock
(see above), counts the call in flight so that ``destroy()`` (``lib.py``) can close the
gate and wait for the calls inside, registers the thread with pjlib once, and on the
way out waits for the callbacks of the events the call raised. A call on a library that
is not running raises :class:`Error` at the gate.
"""

from __future__ import annotations

import logging
import queue
import threading
import traceback
from typing import Any, Callable, Optional

from ._binding import C, ffi
from ._dispatch import HANDLERS, Delivery, deliver_log
from ._registry import Registry
from ._threads import ThreadState
from .errors import Error
from .uri import _uri_text

__all__ = ["Core"]

log = logging.getLogger("pjsua_ffi")

# Library states.
_CREATED, _INITIALIZED, _STARTED, _CLOSING, _DESTROYED = range(5)
_SYNC_LOCK_WAIT = 0.5  # seconds a callback that needs an answer waits for the lock
_SEQ_WAIT = 5.0        # seconds an API call waits for the callbacks of its own events
_SEQ_HANDOVER = 1.0    # seconds the callback thread waits for such a call to go on
_BATCH = 64            # events taken from the C queue per call into C
_OWN_BATCH = 16        # the same, for the events of one API call (_deliver_own)
_DROP_CHECK = 256      # batches between two looks at C's count of dropped events


class _Gate:
    """What ``with core._gated(op, obj):`` holds: :meth:`Core._gated` enters the gate
    (raising :class:`Error` when the library is not running) and returns the library's
    one instance of this class, whose ``__exit__`` leaves it. No state per use, and
    both halves written out in place: this runs for every API call."""

    __slots__ = ("_core",)

    def __init__(self, core: "Core") -> None:
        self._core = core

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        core = self._core
        with core._gate_lock:
            core._in_flight -= 1
            if core._in_flight == 0 and core._state == _CLOSING:
                core._gate_cv.notify_all()
        if core._thread is not None:
            tls = core._tls
            if tls.own:
                # This thread delivers what the call raised, still under the library
                # lock (see _deliver_inline); if the callback thread holds earlier
                # events, it delivers them all and this call waits for that.
                tls.own = False
                try:
                    handed_over = core._deliver_inline()
                finally:
                    core._lock.release()
                if handed_over:
                    core._wait_delivered()
                return
            if not tls.unlocked:
                core._lock.release()
            # In a callback delivered by _deliver_inline, what this call raised comes
            # next in that loop.
            if not tls.inline and C.pjffi_my_last_seq() > core._done_seq:
                core._wait_delivered()
            return
        # Event-loop mode: what this call raised is delivered here, on this thread and
        # under the library lock, before the call returns (see _deliver_own). Not in a
        # callback that pjsua waits on: this thread may hold pjsua's locks there.
        if not core._delivering and core._has_thread is False and not core._tls.sync \
                and core._state == _STARTED and C.pjffi_my_last_seq() > core._done_seq:
            try:
                core._deliver_own()
            finally:
                if not core._tls.unlocked:
                    core._lock.release()
        elif not core._tls.unlocked:
            core._lock.release()


class Core:
    """A library as the area modules see it, and all they use of it: the gate
    (:meth:`_gated`, :meth:`_call`), the registry (``_reg``), event delivery
    (:meth:`_deliver`, :meth:`_post`, :meth:`_run_sync`, :meth:`_event_snapshot`,
    :meth:`_set_snapshot`), the library lock (``_lock``), its state (:meth:`_running`),
    and two helpers of calls (:meth:`_call_setting`, :meth:`_require_uri`)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._gate_lock = threading.Lock()  # taken directly on the hot path
        self._gate_cv = threading.Condition(self._gate_lock)
        self._gate = _Gate(self)
        self._in_flight = 0
        self._state = _CREATED
        self._events: "queue.SimpleQueue[Delivery]" = queue.SimpleQueue()
        self._thread: Optional[threading.Thread] = None
        self._has_thread = False
        self._quit = False
        self._delivering = 0  # the thread running the handlers of a batch (see _post)
        self._done_seq = C.pjffi_event_seq()  # queued events handled (_wait_delivered)
        self._seq_cv = threading.Condition(threading.Lock())
        self._seq_waiters: list = []  # (target, lent the lock) of threads in _wait_delivered
        self._loans = 0  # how many of them hold the library lock, lent to callbacks
        self._batch = ffi.new("pjffi_event *[]", _BATCH)
        self._default_setting: Any = None
        self._tls = ThreadState()
        self._reg = Registry()
        self._dropped_seen = int(C.pjffi_queue_dropped())  # C counts for the process
        self._dropped = 0
        self._batches = 0

    def _running(self) -> bool:
        return self._state in (_INITIALIZED, _STARTED)

    # ------------------------------------------------------------------ the gate

    def _gated(self, op: str, obj: Any) -> _Gate:
        """Enter the gate for ``op`` on ``obj``: ``with lib._gated(op, obj): ...``.

        Every call holds the library lock, as in the legacy module: while another
        thread holds auto_lock() (or a callback runs), it waits. Not in a callback that
        pjsua waits on (see _run_sync): that thread may hold pjsua's locks; nor in one
        delivered on the lock of a thread waiting for it (_wait_delivered). Leaving
        delivers the events the call raised (see the module doc)."""
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
        if self._thread is not None and not (tls.unlocked or tls.sync or tls.inline
                                             or tls.cb_thread):
            C.pjffi_api_enter()  # its events wake nobody: it delivers them (_Gate)
            tls.own = True
        return self._gate

    def _call(self, op: str, fn: Callable[..., int], *args: Any) -> None:
        """``fn(*args)`` inside the gate; a failed status raises :class:`Error`."""
        with self._gated(op, self):
            status = fn(*args)
        if status != 0:
            raise Error(op, self, status)

    # ------------------------------------------------------------------ events

    def _callback_loop(self) -> None:
        """The callback thread, until the library closes. Per batch: the library lock
        first, then the events (pjffi_wait_events): an API call, which holds the lock,
        never finds earlier events held here, and delivers its own itself."""
        C.pjffi_thread_register(b"pjsua-callbacks")  # handlers call pjsua (see _gated)
        tls = self._tls
        tls.registered = tls.cb_thread = True
        batch, size, lock = self._batch, len(self._batch), self._lock
        me = threading.get_ident()
        while not (self._quit or self._state == _DESTROYED):
            self._delivering = 0
            if C.pjffi_wait_events(batch, -1, 0):
                held = self._lock_for_batch()
                if held is None:
                    break
                count = 0
                try:
                    count = C.pjffi_take_events(batch, size, 0)
                    self._delivering = me
                    self._run_batch(batch, count)
                finally:
                    C.pjffi_take_events(batch, 0, count)  # freed and let go, then the lock
                    if held:
                        lock.release()
                self._batches += 1
                if count == size or not self._batches % _DROP_CHECK:
                    self._check_dropped()
            if not self._events.empty():
                self._delivering = me
                self._run_posted()
        self._delivering = 0

    def _lock_for_batch(self) -> Optional[bool]:
        """The library lock for the callback thread (True), or a lender's (False, see
        _deliver); None once the library closes."""
        lock = self._lock
        while not lock.acquire(timeout=0.02):
            if self._quit or self._state == _DESTROYED:
                return None
            if self._loans:
                return False
        return True

    def _deliver_own(self) -> None:
        """Event-loop mode, as an API call leaves the gate: deliver the events it raised
        (and those queued before them) now. In the legacy module without its thread,
        pjsua runs those callbacks inside the call (a MESSAGE that cannot be sent
        reports its status before ``send_pager`` raises); here they would otherwise wait
        for the next ``handle_events``. Not inside a batch being delivered (a callback
        calling the API): that batch's loop delivers them next."""
        tls = self._tls
        if tls.batch is None:
            tls.batch = ffi.new("pjffi_event *[]", _OWN_BATCH)
        self._pump(0, poll=False, batch=tls.batch)

    def _deliver_inline(self) -> bool:
        """Callback-thread mode, an API call leaving the gate (library lock held): deliver
        the events it raised, and those queued before them, on this thread (see the
        module doc). True if the callback thread holds earlier events: it delivers these
        too (_wait_delivered). API calls from these callbacks wait for nothing
        (tls.inline): their events come next in this loop."""
        tls = self._tls
        batch = tls.batch
        if batch is None:
            batch = tls.batch = ffi.new("pjffi_event *[]", _OWN_BATCH)
        size = len(batch)
        nfree = 0
        tls.inline = True
        try:
            while True:
                count = C.pjffi_take_own(batch, size, nfree)
                if count <= 0:
                    nfree = 0
                    return count < 0
                nfree = count
                for i in range(count):
                    self._handle(batch[i])
                    self._done_seq += 1
                    if self._seq_waiters:
                        self._release_waiters()
        finally:
            tls.inline = False
            if nfree:
                C.pjffi_take_own(batch, 0, nfree)

    def _pump(self, timeout_ms: int, poll: bool = True, batch: Any = None) -> int:
        """Take events from the C queue (waiting up to ``timeout_ms`` for the first) and
        deliver them, until none is left; without ``poll``, only what is queued, without
        polling pjsua. Returns how many callbacks ran."""
        n = 0
        if batch is None:
            batch = self._batch
        size = len(batch)
        me = threading.get_ident()
        nfree = 0  # the previous batch, freed by the next call into C
        first = True
        try:
            while True:
                # One call into C per batch: it frees the previous batch, then polls
                # pjsua until events come (see the module docstring).
                # Log lines that pjsua writes meanwhile on this thread are queued: it
                # holds pjsua's locks then (see _post).
                self._delivering = 0
                if first and poll:
                    count = C.pjffi_next_events(batch, size, timeout_ms, nfree)
                else:
                    count = C.pjffi_take_events(batch, size, nfree)
                self._delivering = me
                nfree = count
                first = False
                n += self._run_batch(batch, count)
                self._batches += 1
                if count == size or not self._batches % _DROP_CHECK:
                    self._check_dropped()
                if not self._events.empty():
                    n += self._run_posted()
                if not count or self._quit or self._state == _DESTROYED:
                    break
        finally:
            self._delivering = 0
            if nfree:
                C.pjffi_take_events(batch, 0, nfree)
        return n

    def _run_batch(self, batch: Any, count: int) -> int:
        """Deliver the first ``count`` events of ``batch``; returns how many had a
        handler."""
        n = 0
        handlers = HANDLERS
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
                log.error("error while handling a pjsua event:\n%s", traceback.format_exc())
            self._done_seq += 1
            if self._seq_waiters:  # an API call waits for this event
                self._release_waiters()
        # The caller waits in C next: this frame must not keep the last call alive.
        return n

    def _check_dropped(self) -> None:
        """Log the events C dropped (its queue was full) since the last look."""
        total = int(C.pjffi_queue_dropped())
        new = total - self._dropped_seen
        if new > 0:
            self._dropped_seen = total
            self._dropped += new
            log.warning("%d pjsua events dropped: the event queue was full (callbacks "
                        "too slow?)", new)

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

    def _deliver(self, item: Delivery) -> None:
        """Run one queued event under the library lock, with its snapshot visible."""
        fn, target, snapshot, args = item
        lock = self._lock
        tls = self._tls
        borrowed = False
        if not lock.acquire(False):  # positional: no keyword dict per event
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
                tls.snap = (target, snapshot)
            elif prev is not None:
                tls.snap = None
            try:
                fn(target, snapshot, *args)
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
        (and those before them): an API call leaving the gate whose events that thread
        holds, or that may not deliver them itself (see the module doc). If this thread
        holds the library lock (``auto_lock()``), the callbacks run on its loan."""
        thread = self._thread
        if thread is None or threading.current_thread() is thread or self._tls.sync:
            return
        target = C.pjffi_my_last_seq()
        if self._done_seq >= target:
            return
        # Holding the library lock, this thread lends it to the callback thread until
        # its events are delivered: no other thread gets in meanwhile, as in legacy.
        lending = bool(self._lock._is_owned())  # type: ignore[attr-defined]
        entry = (target, lending)
        cv = self._seq_cv
        with cv:
            self._seq_waiters.append(entry)
            self._loans += lending
            try:
                cv.wait_for(lambda: self._done_seq >= target or self._state != _STARTED,
                            timeout=_SEQ_WAIT)
            finally:
                self._loans -= lending
                self._seq_waiters.remove(entry)
                if lending:  # the callback thread waits for the lock's return
                    cv.notify_all()

    def _release_waiters(self) -> None:
        """Callback thread, after an event: wake the threads whose events are delivered
        now, and let those that lent it the library lock take it back before it goes on
        (the legacy module delivers nothing while the lock is held). A thread that lent
        nothing is not waited for: it goes on beside the callback thread."""
        cv = self._seq_cv
        with cv:
            done = self._done_seq
            if any(t <= done for t, _ in self._seq_waiters):
                cv.notify_all()
                cv.wait_for(lambda: not any(lent and t <= self._done_seq
                                            for t, lent in self._seq_waiters),
                            timeout=_SEQ_HANDOVER)

    def _set_snapshot(self, obj: Any, snapshot: Any) -> None:
        """Inside a delivery: make ``snapshot`` what ``obj.info()`` returns."""
        self._tls.snap = (obj, snapshot)

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

    def _post(self, item: Delivery) -> None:
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
            if item.fn is deliver_log:
                self._deliver(item)

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
                    self._handle(batch[i])
        finally:
            if nfree:
                C.pjffi_take_events(batch, 0, nfree)

    def _handle(self, ev: Any) -> None:
        """Turn one C event into its delivery and run it (_pump does the same inline)."""
        try:
            handler = HANDLERS.get(ev.kind)
            item = handler(self, ev) if handler is not None else None
            if item is not None:
                self._deliver(item)
        except Exception:  # noqa: BLE001  (a bad event must not stop delivery)
            log.error("error while handling a pjsua event:\n%s", traceback.format_exc())

    # ------------------------------------------------------------------ helpers of the areas

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

    def _verify_url(self, url: str, sip_only: bool) -> int:
        if not isinstance(url, str):
            raise TypeError("sip_url must be str")
        data = url.encode("utf-8")
        if len(data) > 2000 or "\x00" in url:
            return C.PJ_EINVAL
        with self._gated("verify_sip_url", self):
            return int(C.pjffi_verify_url(data, int(sip_only)))


def _state_text(state: int) -> str:
    return {
        _CREATED: "the library is not initialised (call init() and start())",
        _CLOSING: "the library is being destroyed",
        _DESTROYED: "the library has been destroyed",
    }.get(state, "the library is not running")
