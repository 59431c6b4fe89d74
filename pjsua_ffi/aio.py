"""asyncio on top of pjsua_ffi: the library driven by a running event loop, in its thread.

::

    from pjsua_ffi import aio

    async def main():
        lib = pj.Lib()
        lib.init(...)
        tp = lib.create_transport(...)
        async with aio.start(lib) as loop_lib:          # lib.start(with_thread=False)
            acc = loop_lib.account(lib.create_account_for_transport(tp))
            call = acc.make_call("sip:bob@127.0.0.1:5070")
            info = await call.confirmed()                # the CONFIRMED snapshot
            await call.play(samples)                     # int16 numpy array
            call.hangup()
            await call.disconnected()

How the loop drives pjsua
-------------------------
pjsua runs without threads of its own (see ``_core.py``). :func:`start` starts it with
no callback thread and gives the loop's selector pjsua's epoll fd (``_csrc/loop.c``):
when a SIP or RTP socket is ready, or when pjsua's next timer is due (a loop timer is
kept at that deadline), the loop's thread polls pjsua once without waiting and delivers
the events inline, exactly like ``lib.handle_events(0)``. No event crosses a thread on
its way to Python and nothing runs while nothing happens. An event raised elsewhere
(the media clock's DTMF, a Python audio port's end, an API call) makes the fd readable
through the library's wake socket. While the loop is blocked (a coroutine that does
not yield), the library's backup poller keeps SIP going once pjsua has had work waiting
for 20-40 ms. The alternative, polling with ``handle_events(0)`` from a repeating loop
timer, adds up to its period to every event and costs CPU while idle: in one
measurement of an idle process, 4.1 % of a core with a 1 ms period, 1.4 % with 5 ms and
1.0 % with 20 ms, against 0.6 % for the fd (most of it the library's other threads).

The awaitable wrappers (:class:`Call`, :class:`Account`, :class:`Buddy`) and
:class:`Stream` live in ``_aio_objects.py`` and are imported from here.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from typing import Any, Callable, Optional, Set

from ._aio_objects import Account, Buddy, Call
from ._aio_stream import Stream, closed_error, sip_status_error
from ._binding import C
from ._core import _INITIALIZED
from .account import Account as _Account
from .account import AccountCallback
from .call import Call as _Call
from .call import CallCallback
from .errors import Error
from .lib import Lib

__all__ = ["start", "LoopLib", "Call", "Account", "Buddy", "Stream", "sip_status_error"]

log = logging.getLogger("pjsua_ffi")

_MAX_TIMER_S = 1.0      # the loop looks at pjsua's timers at least this often


class LoopLib:
    """A started :class:`Lib` driven by the running asyncio loop (see the module doc)."""

    def __init__(self, lib: Lib, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        if lib._has_thread or lib._thread is not None:
            raise Error("aio", lib, C.PJ_EINVALIDOP,
                        "the library runs a callback thread: start it with_thread=False")
        self.lib = lib
        self._loop = loop or asyncio.get_running_loop()
        self._thread_id = threading.get_ident()
        self._owners: "weakref.WeakSet[Any]" = weakref.WeakSet()  # wrappers with futures
        self._streams: Set[Stream] = set()
        self._timer: Optional[asyncio.TimerHandle] = None
        self._timer_at = 0.0
        self._closed = False
        with lib._gated("aio", lib):  # registers this thread with pjlib, checks the state
            fd = int(C.pjffi_loop_attach())
        if fd < 0:
            raise Error("aio", lib, -fd, "pjsua's ioqueue has no epoll fd to watch")
        self._fd = fd
        lib._closers.append(self._detach)
        self._loop.add_reader(fd, self._step)
        self._step()

    # -- the loop side

    def _step(self) -> None:
        """Poll pjsua once without waiting and deliver what it raised (loop thread)."""
        if self._closed:
            return
        self.lib.handle_events(0)
        self.kick()

    def kick(self) -> None:
        """Keep the loop's timer at pjsua's next timer deadline (also after an API call
        that may have started timers of its own)."""
        if self._closed:
            return
        ms = int(C.pjffi_next_timer_ms())
        delay = _MAX_TIMER_S if ms < 0 else min(ms / 1000.0, _MAX_TIMER_S)
        at = self._loop.time() + delay
        if self._timer is not None:
            if at >= self._timer_at - 0.0005:
                return  # the timer we have comes first
            self._timer.cancel()
        self._timer_at = at
        self._timer = self._loop.call_at(at, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._step()

    def _detach(self) -> None:
        """Lib.destroy(): stop watching pjsua, fail what waits (before pjsua goes)."""
        if self._closed:
            return
        if self._loop.is_closed():  # the loop ended first: nothing left to wake
            self._closed = True
            C.pjffi_loop_detach()
            return
        if threading.get_ident() != self._thread_id:
            done = threading.Event()

            def run() -> None:
                self._detach()
                done.set()
            self._loop.call_soon_threadsafe(run)
            if not done.wait(5.0):
                self._closed = True
                C.pjffi_loop_detach()
            return
        self._closed = True
        self._loop.remove_reader(self._fd)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        C.pjffi_loop_detach()
        exc = closed_error(self.lib)
        for owner in list(self._owners):
            owner._fail_all(exc)
        for stream in list(self._streams):
            stream.end(closed_error(self.lib))

    async def close(self) -> None:
        """Destroy the library (tasks still waiting get :class:`Error`)."""
        self.lib.destroy()
        await asyncio.sleep(0)

    @property
    def closed(self) -> bool:
        return self._closed

    async def __aenter__(self) -> "LoopLib":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # -- futures

    def _future(self) -> asyncio.Future:
        if self._closed:
            raise closed_error(self.lib)
        return self._loop.create_future()

    def _on_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` now if on the loop's thread, else soon on it."""
        if threading.get_ident() == self._thread_id:
            fn(*args)
        else:
            self._loop.call_soon_threadsafe(fn, *args)

    # -- wrappers

    def account(self, acc: _Account, cb: Optional[AccountCallback] = None) -> "Account":
        """Wrap ``acc`` (see :class:`Account`)."""
        return Account(self, acc, cb)

    def call(self, call: _Call, cb: Optional[CallCallback] = None) -> "Call":
        """Wrap ``call`` (see :class:`Call`)."""
        return Call(self, call, cb)


def start(lib: Lib, loop: Optional[asyncio.AbstractEventLoop] = None) -> LoopLib:
    """Start ``lib`` (if it is only initialised) without a callback thread and drive it
    from the running loop. Call it from a coroutine; returns the :class:`LoopLib`."""
    if lib._state == _INITIALIZED:
        lib.start(with_thread=False)
    return LoopLib(lib, loop)


