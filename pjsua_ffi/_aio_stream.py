"""The plumbing of :mod:`pjsua_ffi.aio`'s awaitables: :class:`Stream` (an async
iterator fed by events), what the wrappers need of the loop driver, and the errors and
futures helpers they share."""

from __future__ import annotations

import asyncio
import collections
from typing import Any, Callable, Deque, Optional, Protocol, Set

from ._binding import C
from .errors import Error
from .lib import Lib

__all__ = ["Stream", "LoopOwner", "sip_status_error", "closed_error"]

_QUEUE_MAX = 4096       # items an iterator keeps for a slow consumer (oldest dropped)
PJSIP_ERRNO_START = 170000  # pjsip's status codes: this plus the SIP status


class LoopOwner(Protocol):
    """What the wrappers use of :class:`pjsua_ffi.aio.LoopLib` (which builds on them)."""

    lib: Lib
    _loop: asyncio.AbstractEventLoop
    _owners: Any
    _streams: Set["Stream"]

    @property
    def closed(self) -> bool: ...

    def kick(self) -> None: ...

    def _future(self) -> asyncio.Future: ...

    def _on_loop(self, fn: Callable[..., Any], *args: Any) -> None: ...


def sip_status_error(op: str, obj: Any, code: int, reason: str = "") -> Error:
    """An :class:`Error` for a failed SIP transaction (status ``code``)."""
    return Error(op, obj, PJSIP_ERRNO_START + int(code), f"{code} {reason}".strip())


def closed_error(obj: Any = None) -> Error:
    return Error("aio", obj, C.PJ_EINVALIDOP, "the library has been destroyed")



class Stream:
    """An async iterator fed by events (incoming calls, buddy states, audio, ...).

    ``async for item in stream`` ends when the source ends (a call's DTMF when the call
    does), and raises :class:`Error` if the library is destroyed meanwhile."""

    def __init__(self, owner: LoopOwner, maxlen: int = _QUEUE_MAX) -> None:
        self._owner = owner
        self._items: Deque[Any] = collections.deque(maxlen=maxlen)
        self._waiter: Optional[asyncio.Future] = None
        self._end: Optional[BaseException] = None
        self._ended = False
        owner._streams.add(self)

    def put(self, item: Any) -> None:
        if self._ended:
            return
        self._items.append(item)
        self._wake()

    def end(self, exc: Optional[BaseException] = None) -> None:
        """No more items: the iterator stops (or raises ``exc``) once drained."""
        if not self._ended:
            self._ended, self._end = True, exc
            self._owner._streams.discard(self)
            self._wake()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def __aiter__(self) -> "Stream":
        return self

    async def __anext__(self) -> Any:
        while not self._items:
            if self._ended:
                if self._end is not None:
                    raise self._end
                raise StopAsyncIteration
            self._waiter = self._owner._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def get_nowait(self) -> Any:
        """The next item if one is waiting, else None."""
        return self._items.popleft() if self._items else None


def resolve(fut: asyncio.Future, value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


def fail(fut: asyncio.Future, exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)



