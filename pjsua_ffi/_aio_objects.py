"""The awaitables and iterators of :mod:`pjsua_ffi.aio` (import them from there).

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
import itertools
import logging
from typing import (
    Any,
    AsyncGenerator,
    Callable,
    Dict,
    List,
    Optional,
    Tuple,
)

from ._aio_stream import (
    PJSIP_ERRNO_START,
    LoopOwner,
    Stream,
    closed_error,
    fail,
    resolve,
    sip_status_error,
)
from ._binding import C
from .account import Account as _Account
from .account import AccountCallback, AccountInfo
from .buddy import Buddy as _Buddy
from .buddy import BuddyCallback, BuddyInfo
from .call import Call as _Call
from .call import CallCallback, CallInfo, RxData
from .constants import CallState, MediaState
from .errors import Error

__all__ = ["Call", "Account", "Buddy"]

log = logging.getLogger("pjsua_ffi")

_im_ids = itertools.count(1 << 30)


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

    def __init__(self, owner: LoopOwner, call: _Call, cb: Optional[CallCallback] = None,
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
            fail(fut, exc)
        for fut in self._media_waiters + self._end_waiters:
            fail(fut, exc)
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
                fail(fut, self._ended_error(info, target))
            elif state >= target:
                resolve(fut, info)
            else:
                keep.append((target, fut))
        self._state_waiters = keep
        if ended:
            for fut in self._media_waiters + self._end_waiters:
                fail(fut, self._ended_error(info, None))
            self._media_waiters, self._end_waiters = [], []
            self._dtmf.end()

    def _on_media(self, info: CallInfo) -> None:
        if info.media_state == MediaState.ACTIVE:
            self._media = info
            for fut in self._media_waiters:
                resolve(fut, info)
            self._media_waiters = []

    def _ended_error(self, info: CallInfo, target: Optional[int]) -> Error:
        what = f"before {CallState(target).name}" if target is not None else ""
        code, reason = int(info.last_code), str(info.last_reason)
        return Error("call", self.call, PJSIP_ERRNO_START + code if code else C.PJ_EINVALIDOP,
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
                    raise closed_error(lib)
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
            samples, on_eof=lambda src: self._owner._on_loop(resolve, done, None))
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
                resolve(fut, (code, reason))
            else:
                fail(fut, sip_status_error("send_message", w.account, code, reason))
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

    def __init__(self, owner: LoopOwner, acc: _Account,
                 cb: Optional[AccountCallback] = None) -> None:
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
            fail(fut, exc)
        for _, fut in self._reg_waiters:
            fail(fut, exc)
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
            resolve(fut, info)
        else:
            fail(fut, sip_status_error("register", self.account, code, info.reg_reason))

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

    def __init__(self, owner: LoopOwner, buddy: _Buddy, cb: Optional[BuddyCallback] = None) -> None:
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
        raise closed_error(self.buddy)


