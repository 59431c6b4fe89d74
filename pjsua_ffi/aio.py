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
pjsua runs without threads of its own (see ``lib.py``). :func:`start` starts it with
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

Awaitables and iterators
------------------------
:class:`Call`, :class:`Account` and :class:`Buddy` wrap the classic objects; each takes
over the object's callback and forwards every event to the classic callback given (or
already set), so classic callbacks and awaitables mix. Every awaitable may be cancelled
or put under ``asyncio.timeout()`` / ``asyncio.wait_for()``; failures raise
:class:`pjsua_ffi.Error`; when the library is destroyed (``await loop_lib.close()``,
``lib.destroy()``, or leaving ``async with``) everything still waiting raises
:class:`Error` and the iterators end with it.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import threading
import weakref
from typing import (
    Any,
    AsyncGenerator,
    Callable,
    Deque,
    Dict,
    List,
    Optional,
    Set,
    Tuple,
)

from ._binding import C
from ._core import _INITIALIZED
from .account import Account as _Account
from .account import AccountCallback, AccountInfo
from .buddy import Buddy as _Buddy
from .buddy import BuddyCallback, BuddyInfo
from .call import Call as _Call
from .call import CallCallback, CallInfo, RxData
from .constants import CallState, MediaState
from .errors import Error
from .lib import Lib

__all__ = ["start", "LoopLib", "Call", "Account", "Buddy", "Stream", "sip_status_error"]

log = logging.getLogger("pjsua_ffi")

_MAX_TIMER_S = 1.0      # the loop looks at pjsua's timers at least this often
_QUEUE_MAX = 4096       # items an iterator keeps for a slow consumer (oldest dropped)
_PJSIP_ERRNO_START = 170000  # pjsip's status codes: this plus the SIP status
_im_ids = itertools.count(1 << 30)


def sip_status_error(op: str, obj: Any, code: int, reason: str = "") -> Error:
    """An :class:`Error` for a failed SIP transaction (status ``code``)."""
    return Error(op, obj, _PJSIP_ERRNO_START + int(code), f"{code} {reason}".strip())


def _closed_error(obj: Any = None) -> Error:
    return Error("aio", obj, C.PJ_EINVALIDOP, "the library has been destroyed")


class Stream:
    """An async iterator fed by events (incoming calls, buddy states, audio, ...).

    ``async for item in stream`` ends when the source ends (a call's DTMF when the call
    does), and raises :class:`Error` if the library is destroyed meanwhile."""

    def __init__(self, owner: "LoopLib", maxlen: int = _QUEUE_MAX) -> None:
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
        exc = _closed_error(self.lib)
        for owner in list(self._owners):
            owner._fail_all(exc)
        for stream in list(self._streams):
            stream.end(_closed_error(self.lib))

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
            raise _closed_error(self.lib)
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


def _resolve(fut: asyncio.Future, value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


def _fail(fut: asyncio.Future, exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


# ---------------------------------------------------------------------- calls


class _CallTap(CallCallback):
    """The call's callback while wrapped: feeds the awaitables, then forwards."""

    def __init__(self, owner: "Call") -> None:
        super().__init__()
        self._w = owner

    def on_state(self) -> None:
        w = self._w
        w._on_state(self.call.info())
        if w._user is not None:
            w._user.on_state()

    def on_media_state(self) -> None:
        w = self._w
        w._on_media(self.call.info())
        if w._user is not None:
            w._user.on_media_state()

    def on_dtmf_digit(self, digits: str) -> None:
        self._w._dtmf.put(digits)
        if self._w._user is not None:
            self._w._user.on_dtmf_digit(digits)

    def on_transfer_request(self, dst: str, code: int) -> int:
        u = self._w._user
        return u.on_transfer_request(dst, code) if u is not None else code

    def on_transfer_status(self, code: int, reason: str, final: int, cont: int) -> int:
        u = self._w._user
        return u.on_transfer_status(code, reason, final, cont) if u is not None else cont

    def on_replace_request(self, code: int, reason: str) -> Tuple[int, str]:
        u = self._w._user
        return u.on_replace_request(code, reason) if u is not None else (code, reason)

    def on_replaced(self, new_call: _Call) -> None:
        if self._w._user is not None:
            self._w._user.on_replaced(new_call)

    def on_pager(self, mime_type: str, body: str) -> None:
        if self._w._user is not None:
            self._w._user.on_pager(mime_type, body)

    def on_pager_status(self, body: str, im_id: int, code: int, reason: str) -> None:
        if self._w._user is not None:
            self._w._user.on_pager_status(body, im_id, code, reason)

    def on_typing(self, is_typing: int) -> None:
        if self._w._user is not None:
            self._w._user.on_typing(is_typing)

    def on_request(self, method: str, rdata: RxData) -> None:
        if self._w._user is not None:
            self._w._user.on_request(method, rdata)


class Call:
    """A call with awaitables: :meth:`wait_state`, :meth:`confirmed`,
    :meth:`disconnected`, :meth:`media_active`; audio with :meth:`audio_frames` and
    :meth:`play`; DTMF with :meth:`dtmf`. ``call`` is the classic :class:`pjsua_ffi.Call`
    (its methods work as usual); ``cb``, or the callback it had, still gets every event.
    ``rdata`` is the INVITE of an incoming call."""

    def __init__(self, owner: LoopLib, call: _Call, cb: Optional[CallCallback] = None,
                 rdata: Optional[RxData] = None) -> None:
        self._owner = owner
        self.call = call
        self.rdata = rdata
        self._user: Optional[CallCallback] = cb if cb is not None else call._cb
        if self._user is not None:
            self._user._set_call(call)
        self._last: Optional[CallInfo] = call._last_info  # INCOMING, for a new call
        self._media: Optional[CallInfo] = None
        self._state_waiters: List[Tuple[int, asyncio.Future]] = []
        self._media_waiters: List[asyncio.Future] = []
        self._end_waiters: List[asyncio.Future] = []
        self._dtmf = Stream(owner)
        owner._owners.add(self)
        call.set_callback(_CallTap(self))  # events kept so far are delivered now

    def _fail_all(self, exc: BaseException) -> None:
        for _, fut in self._state_waiters:
            _fail(fut, exc)
        for fut in self._media_waiters + self._end_waiters:
            _fail(fut, exc)
        self._state_waiters, self._media_waiters, self._end_waiters = [], [], []

    def __repr__(self) -> str:
        state = self._last.state.name if self._last is not None else "?"
        return f"<aio.Call {self.call._id} {state}>"

    # -- events

    def _on_state(self, info: CallInfo) -> None:
        self._last = info
        state = int(info.state)
        ended = state == CallState.DISCONNECTED
        keep = []
        for target, fut in self._state_waiters:
            if fut.done():
                continue
            if ended and target != CallState.DISCONNECTED:
                _fail(fut, self._ended_error(info, target))
            elif state >= target:
                _resolve(fut, info)
            else:
                keep.append((target, fut))
        self._state_waiters = keep
        if ended:
            for fut in self._media_waiters + self._end_waiters:
                _fail(fut, self._ended_error(info, None))
            self._media_waiters, self._end_waiters = [], []
            self._dtmf.end()

    def _on_media(self, info: CallInfo) -> None:
        if info.media_state == MediaState.ACTIVE:
            self._media = info
            for fut in self._media_waiters:
                _resolve(fut, info)
            self._media_waiters = []

    def _ended_error(self, info: CallInfo, target: Optional[int]) -> Error:
        what = f"before {CallState(target).name}" if target is not None else ""
        code, reason = int(info.last_code), str(info.last_reason)
        return Error("call", self.call, _PJSIP_ERRNO_START + code if code else C.PJ_EINVALIDOP,
                     f"the call ended {what} ({code} {reason})".replace("  ", " "))

    # -- awaitables

    async def wait_state(self, state: int) -> CallInfo:
        """The snapshot of the first state at or past ``state`` (a
        :class:`CallState`); raises :class:`Error` if the call ends first (unless
        ``state`` is DISCONNECTED)."""
        last = self._last
        if last is not None:
            if last.state == CallState.DISCONNECTED and state != CallState.DISCONNECTED:
                raise self._ended_error(last, state)
            if int(last.state) >= state:
                return last
        fut = self._owner._future()
        # Drop waiters cancelled meanwhile (time-outs in a loop on a ringing call).
        self._state_waiters = [w for w in self._state_waiters if not w[1].done()]
        self._state_waiters.append((int(state), fut))
        return await fut

    async def confirmed(self) -> CallInfo:
        """Wait until the call is answered (CONFIRMED); :class:`Error` if it ends first."""
        return await self.wait_state(CallState.CONFIRMED)

    async def disconnected(self) -> CallInfo:
        """Wait for the end of the call; returns the DISCONNECTED snapshot."""
        return await self.wait_state(CallState.DISCONNECTED)

    async def media_active(self) -> CallInfo:
        """Wait until the call's audio is up; returns that snapshot (``conf_slot``)."""
        if self._media is not None:
            return self._media
        self._check_alive()
        fut = self._owner._future()
        self._media_waiters.append(fut)
        return await fut

    def _check_alive(self) -> None:
        last = self._last
        if last is not None and last.state == CallState.DISCONNECTED:
            raise self._ended_error(last, None)

    @property
    def state(self) -> Optional[CallState]:
        """The last state delivered (None before the first event)."""
        return self._last.state if self._last is not None else None

    def info(self) -> CallInfo:
        return self.call.info()

    # -- actions (the classic calls, then a poll soon for the timers they start)

    def answer(self, code: int = 200, reason: str = "", hdr_list: Any = None) -> None:
        self.call.answer(code, reason, hdr_list)
        self._owner.kick()

    def hangup(self, code: int = 603, reason: str = "", hdr_list: Any = None) -> None:
        self.call.hangup(code, reason, hdr_list)
        self._owner.kick()

    def dial_dtmf(self, digits: str) -> None:
        self.call.dial_dtmf(digits)

    def dtmf(self) -> Stream:
        """Digits received (RFC 2833), as an async iterator ending with the call."""
        return self._dtmf

    # -- audio

    async def audio_frames(self, chunk_ms: int = 20,
                           buffer_ms: int = 1000) -> AsyncGenerator[Any, None]:
        """The caller's audio as int16 numpy arrays (whole frames, about every
        ``chunk_ms``) until the call ends. A consumer slower than the call for more
        than ``buffer_ms`` loses frames (see ``AudioSink.stats()``)."""
        info = await self.media_active()
        lib = self._owner.lib
        sink = lib.create_audio_sink(None, buffer_ms=buffer_ms)
        try:
            lib.conf_connect(info.conf_slot, sink.slot)
            period = max(1, int(chunk_ms)) / 1000.0
            while True:
                if self._owner.closed:
                    raise _closed_error(lib)
                ended = self._last is not None and self._last.state == CallState.DISCONNECTED
                data = sink.read()
                if len(data):
                    yield data
                elif ended:
                    return
                else:
                    await asyncio.sleep(period)
        finally:
            if not self._owner.closed:
                sink.close()

    async def play(self, samples: Any) -> None:
        """Play int16 mono samples (at the bridge's clock rate) into the call and wait
        until they have all been played. :class:`Error` if the call ends first;
        cancelling stops the playback."""
        info = await self.media_active()
        lib = self._owner.lib
        done = self._owner._future()
        self._end_waiters.append(done)
        source = lib.create_audio_source(
            samples, on_eof=lambda src: self._owner._on_loop(_resolve, done, None))
        try:
            lib.conf_connect(source.slot, info.conf_slot)
            await done
        finally:
            if not self._owner.closed:
                source.close()


# ---------------------------------------------------------------------- accounts


class _AccountTap(AccountCallback):
    def __init__(self, owner: "Account") -> None:
        super().__init__()
        self._w = owner

    def on_reg_state(self) -> None:
        w = self._w
        w._on_reg(self.account.info())
        if w._user is not None:
            w._user.on_reg_state()

    def on_incoming_call2(self, call: _Call, rdata: RxData) -> None:
        w = self._w
        user = w._user
        forward = user is not None and (
            type(user).on_incoming_call2 is not AccountCallback.on_incoming_call2
            or type(user).on_incoming_call is not AccountCallback.on_incoming_call)
        if forward:
            assert user is not None
            user.on_incoming_call2(call, rdata)
            if not call._alive:
                return
        w._incoming.put(Call(w._owner, call, call._cb, rdata))

    def on_incoming_subscribe(self, buddy: Any, from_uri: str, contact_uri: str,
                              pres_obj: Any) -> Tuple[int, str]:
        u = self._w._user
        if u is None:
            return 200, ""
        return u.on_incoming_subscribe(buddy, from_uri, contact_uri, pres_obj)

    def on_pager(self, from_uri: str, contact: str, mime_type: str, body: str) -> None:
        w = self._w
        if w._messages is not None:
            w._messages.put((from_uri, contact, mime_type, body))
        if w._user is not None:
            w._user.on_pager(from_uri, contact, mime_type, body)

    def on_pager_status(self, to_uri: str, body: str, im_id: int, code: int,
                        reason: str) -> None:
        w = self._w
        fut = w._sent.pop(im_id, None)
        if fut is not None:
            if 200 <= code < 300:
                _resolve(fut, (code, reason))
            else:
                _fail(fut, sip_status_error("send_message", w.account, code, reason))
            return
        if w._user is not None:
            w._user.on_pager_status(to_uri, body, im_id, code, reason)

    def on_typing(self, from_uri: str, contact: str, is_typing: int) -> None:
        if self._w._user is not None:
            self._w._user.on_typing(from_uri, contact, is_typing)

    def on_mwi_info(self, body: str) -> None:
        if self._w._user is not None:
            self._w._user.on_mwi_info(body)

    def on_watcher_state(self, pres_obj: Any, state: int) -> None:
        if self._w._user is not None:
            self._w._user.on_watcher_state(pres_obj, state)


class Account:
    """An account with awaitables: outgoing calls (:meth:`make_call`), incoming calls
    (:meth:`incoming_calls`), registration (:meth:`registered`, :meth:`register`,
    :meth:`unregister`), MESSAGEs (:meth:`send_message`, :meth:`messages`) and buddies
    (:meth:`add_buddy`). ``account`` is the classic :class:`pjsua_ffi.Account`.

    Incoming calls are queued from the moment the account is wrapped, ringing until
    the application answers them; a classic ``cb`` that overrides ``on_incoming_call``
    sees them first, and a call it hung up is not queued."""

    def __init__(self, owner: LoopLib, acc: _Account, cb: Optional[AccountCallback] = None) -> None:
        self._owner = owner
        self.account = acc
        user = cb if cb is not None else acc._cb
        self._user: Optional[AccountCallback] = None if isinstance(user, _AccountTap) else user
        if self._user is not None:
            self._user._set_account(acc)
        self._incoming = Stream(owner)
        self._messages: Optional[Stream] = None
        self._sent: Dict[int, asyncio.Future] = {}
        self._reg: Optional[AccountInfo] = None
        self._reg_seq = 0
        self._reg_waiters: List[Tuple[int, asyncio.Future]] = []
        owner._owners.add(self)
        acc.set_callback(_AccountTap(self))

    def _fail_all(self, exc: BaseException) -> None:
        for fut in self._sent.values():
            _fail(fut, exc)
        for _, fut in self._reg_waiters:
            _fail(fut, exc)
        self._sent.clear()
        self._reg_waiters = []

    def _on_reg(self, info: AccountInfo) -> None:
        if int(info.reg_status) < 200:
            return  # still trying
        self._reg = info
        self._reg_seq += 1
        keep = []
        for after, fut in self._reg_waiters:
            if self._reg_seq > after:
                self._settle_reg(fut, info)
            else:
                keep.append((after, fut))
        self._reg_waiters = keep

    def _settle_reg(self, fut: asyncio.Future, info: AccountInfo) -> None:
        code = int(info.reg_status)
        if 200 <= code < 300:
            _resolve(fut, info)
        else:
            _fail(fut, sip_status_error("register", self.account, code, info.reg_reason))

    async def _reg_result(self, after: int) -> AccountInfo:
        fut = self._owner._future()
        if self._reg_seq > after and self._reg is not None:
            self._settle_reg(fut, self._reg)
        else:
            self._reg_waiters.append((after, fut))
        return await fut

    async def registered(self) -> AccountInfo:
        """The result of the registration in progress (or the last one): the account's
        snapshot for a 2xx; :class:`Error` carrying the SIP status otherwise."""
        return await self._reg_result(self._reg_seq - 1 if self._reg is not None else 0)

    async def register(self) -> AccountInfo:
        """Register (again) and wait for the result, as :meth:`registered`."""
        seq = self._reg_seq
        self.account.set_registration(True)
        self._owner.kick()
        return await self._reg_result(seq)

    async def unregister(self) -> AccountInfo:
        """Unregister and wait for the registrar's answer."""
        seq = self._reg_seq
        self.account.set_registration(False)
        self._owner.kick()
        return await self._reg_result(seq)

    def make_call(self, uri: str, cb: Optional[CallCallback] = None,
                  hdr_list: Any = None) -> Call:
        """Start a call to ``uri``; await its :meth:`Call.confirmed`."""
        call = Call(self._owner, self.account.make_call(uri, None, hdr_list), cb)
        self._owner.kick()
        return call

    def incoming_calls(self) -> Stream:
        """Incoming calls (:class:`Call`, still ringing) as an async iterator."""
        return self._incoming

    def messages(self) -> Stream:
        """MESSAGEs from outside any call and from none of its buddies, as
        ``(from_uri, contact, mime_type, body)``; queued from the first call on."""
        if self._messages is None:
            self._messages = Stream(self._owner)
        return self._messages

    async def send_message(self, uri: str, text: Any, content_type: str = "text/plain",
                           hdr_list: Any = None) -> Tuple[int, str]:
        """Send a MESSAGE and wait for its final status: ``(code, reason)`` for a 2xx,
        :class:`Error` carrying the SIP status otherwise."""
        im_id = next(_im_ids)
        fut = self._owner._future()
        self._sent[im_id] = fut
        try:
            self.account.send_pager(uri, text, im_id, content_type, hdr_list)
            self._owner.kick()
            return await fut
        finally:
            self._sent.pop(im_id, None)

    def add_buddy(self, uri: str, cb: Optional[BuddyCallback] = None) -> "Buddy":
        """Add a buddy; its presence changes come from :meth:`Buddy.states`."""
        return Buddy(self._owner, self.account.add_buddy(uri), cb)


# ---------------------------------------------------------------------- buddies


class _BuddyTap(BuddyCallback):
    def __init__(self, owner: "Buddy") -> None:
        super().__init__()
        self._w = owner

    def on_state(self) -> None:
        self._w._states.put(self.buddy.info())
        if self._w._user is not None:
            self._w._user.on_state()

    def on_pager(self, mime_type: str, body: str) -> None:
        if self._w._user is not None:
            self._w._user.on_pager(mime_type, body)

    def on_pager_status(self, body: str, im_id: int, code: int, reason: str) -> None:
        if self._w._user is not None:
            self._w._user.on_pager_status(body, im_id, code, reason)

    def on_typing(self, is_typing: int) -> None:
        if self._w._user is not None:
            self._w._user.on_typing(is_typing)


class Buddy:
    """A buddy whose presence changes are an async iterator (:meth:`states`).
    ``buddy`` is the classic :class:`pjsua_ffi.Buddy`."""

    def __init__(self, owner: LoopLib, buddy: _Buddy, cb: Optional[BuddyCallback] = None) -> None:
        self._owner = owner
        self.buddy = buddy
        user = cb if cb is not None else buddy._cb
        self._user: Optional[BuddyCallback] = user if type(user) is not BuddyCallback else None
        if self._user is not None:
            self._user._set_buddy(buddy)
        self._states = Stream(owner)
        buddy.set_callback(_BuddyTap(self))

    def subscribe(self) -> None:
        self.buddy.subscribe()
        self._owner.kick()

    def states(self) -> Stream:
        """Every :class:`BuddyInfo` snapshot pjsua reports, in order."""
        return self._states

    async def wait_status(self, pred: Callable[[BuddyInfo], bool]) -> BuddyInfo:
        """The first state (from now on, queued ones included) for which ``pred``
        is true."""
        async for info in self._states:
            if pred(info):
                return info
        raise _closed_error(self.buddy)
