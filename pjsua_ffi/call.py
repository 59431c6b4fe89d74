"""Calls: the :class:`Call` handle, its callbacks, and the handlers of call events
(its snapshots :class:`CallInfo` and :class:`RxData` are in ``call_info.py``)."""

from __future__ import annotations

import re
from typing import Any, Callable, List, Optional, Tuple, cast

from ._binding import (
    C,
    HeaderList,
    Text,
    ffi,
    from_str,
    int_to_ptr,
    msg_data,
    new_str,
    ptr_to_int,
    to_bytes,
)
from ._core import Core
from ._dispatch import Delivery, keep_event, new_delivery, register_handler
from ._object import _Handle
from .call_info import CallInfo, RxData
from .errors import Error, legacy_ops
from .security import MediaTransportInfo

__all__ = ["Call", "CallInfo", "CallCallback", "RxData"]

_GONE = C.PJFFI_CALL_GONE
_ENDED = 171140  # PJSIP_ESESSIONTERMINATED: what pjsua answers for a call that ended
_DTMF_DIGITS = re.compile(r"^[0-9*#A-Da-d]+$")


class CallCallback:
    """Override the methods you need; ``self.call`` is the call they are about.

    Every method runs with the library lock held: on the library's callback thread, or
    inside the API call whose event it reports (CALLING in ``make_call``, DISCONNECTED in
    ``hangup``), as in the legacy module.
    """

    def __init__(self, call: Optional["Call"] = None) -> None:
        # Typed as always set: it is whenever one of the methods below runs.
        self.call: "Call" = cast("Call", call)

    def _set_call(self, call: "Call") -> None:
        self.call = call

    def on_state(self) -> None:
        """The call's state changed: read it with ``self.call.info()``."""

    def on_media_state(self) -> None:
        """The call's media changed (active, held, or gone)."""

    def on_dtmf_digit(self, digits: str) -> None:
        """A DTMF digit arrived (RFC 2833 or SIP INFO)."""

    def on_transfer_request(self, dst: str, code: int) -> int:
        """The peer asks us to transfer to ``dst``; return the status to answer with
        (202 accepts; anything else rejects)."""
        return code

    def on_transfer_status(self, code: int, reason: str, final: int, cont: int) -> int:
        """Progress of a transfer we started; the return value is ignored (we always
        keep receiving the notifications)."""
        return cont

    def on_replace_request(self, code: int, reason: str) -> Tuple[int, str]:
        """An INVITE with Replaces targets this call; return (code, reason)."""
        return code, reason

    def on_replaced(self, new_call: "Call") -> None:
        """This call was replaced by ``new_call``."""

    def on_pager(self, mime_type: str, body: str) -> None:
        """A MESSAGE arrived inside this call."""

    def on_pager_status(self, body: str, im_id: int, code: int, reason: str) -> None:
        """Delivery status of a MESSAGE sent with :meth:`Call.send_pager`."""

    def on_typing(self, is_typing: int) -> None:
        """The peer started or stopped typing."""

    def on_request(self, method: str, rdata: RxData) -> None:
        """An in-dialog request pjsua does not handle itself (INFO, OPTIONS, …) arrived;
        it has been answered with 200. Not in the legacy module."""


@legacy_ops({"info": None})  # info() raises Error("info", ...) itself, as legacy names it
class Call(_Handle):
    """A call. Obtained from :meth:`Account.make_call` or ``on_incoming_call``."""

    _derived_key: Optional[Tuple[int, int]] = None  # set for calls a transfer made

    def __init__(self, lib: Core, call_id: int, cb: Optional[CallCallback] = None) -> None:
        self._lib = lib
        self._id = call_id
        self._token = 0
        self._cb: Optional[CallCallback] = None
        self._alive = True
        self._last_info: Optional[CallInfo] = None
        self._pending: List[Delivery] = []
        self._name: Optional[str] = None
        if cb is not None:
            self.set_callback(cb)

    @property
    def _obj_name(self) -> str:  # type: ignore[override]
        """The legacy text: "{Call <remote URI>}", or "{Call object}" without an id."""
        name = self._name
        if name is None:
            if self._id < 0:
                return "{Call object}"
            info = self._last_info
            if info is None and self._alive:
                ci = ffi.new("pjsua_call_info *")
                try:
                    self._c("info", C.pjsua_call_get_info, self._id, ci)
                    info = CallInfo(self._lib, ci)
                except Error:  # gone meanwhile: the name stays without the URI
                    pass
            name = self._name = "{Call " + (info.remote_uri if info else "") + "}"
        return name

    def __hash__(self) -> int:
        return hash((self._id, self._token))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Call) and (other._id, other._token) == (self._id, self._token)

    # -- state

    def _check(self, op: str) -> None:
        # pjsua reuses call ids: the token in the call's user data tells ours apart
        # (the same rule as the C hot paths of _c_own).
        if not self._alive or not C.pjffi_call_is(self._id, ffi.cast("void *", self._token)):
            raise Error(op, self, _ENDED)

    def _c_own(self, op: str, fn: Callable[..., int], *args: Any) -> None:
        """``_c`` for a C helper that checks the token itself (``_csrc``'s hot paths):
        ``fn(call_id, token, *args)``, one call into C."""
        if not self._alive:
            raise Error(op, self, _ENDED)
        try:
            self._c(op, fn, self._id, ffi.cast("void *", self._token), *args, check=False)
        except Error as exc:
            if exc.err_code == _GONE:
                raise Error(op, self, _ENDED) from None
            raise

    def is_valid(self) -> int:
        """1 while the call exists in pjsua (until it is disconnected), else 0 (ints,
        as the legacy module gives them)."""
        if not self._alive or not self._lib._running():
            return 0
        try:
            self._c("call_is_active", lambda: 0)
        except Error:
            return 0
        return 1

    def attach_to_id(self, call_id: int) -> None:
        """Make this object stand for pjsua call ``call_id`` (-1 detaches it)."""
        if isinstance(call_id, bool) or not isinstance(call_id, int):
            raise TypeError("call_id must be an int")
        lib = self._lib
        with lib._gated("call_set_user_data", self):
            if call_id != -1 and not 0 <= call_id < C.pjsua_call_get_max_count():
                raise Error("call_set_user_data", self, C.PJ_EINVAL, f"no call {call_id}")
            if self._alive and self._id >= 0:
                C.pjsua_call_set_user_data(self._id, ffi.NULL)
            lib._reg.drop_call(self)
            self._id = call_id
            self._name = None
            self._alive = call_id != -1 and bool(C.pjsua_call_is_active(call_id))
            if self._alive:
                C.pjsua_call_set_user_data(call_id, int_to_ptr(lib._reg.add_call(self)))

    def set_callback(self, cb: Optional[CallCallback]) -> None:
        """Route this call's events to ``cb``; events that arrived before it are
        delivered now, in order."""
        if cb is not None and not isinstance(cb, CallCallback):
            raise TypeError("cb must be a CallCallback")
        self._cb = cb
        if cb is None:
            return
        cb._set_call(self)
        pending, self._pending = self._pending, []
        for event in pending:
            self._lib._deliver(event)

    def info(self) -> CallInfo:
        """A :class:`CallInfo` snapshot (see its doc for what callbacks see). Raises
        :class:`Error` once the call has ended, outside its events' callbacks."""
        snap = self._lib._event_snapshot(self)
        if snap is not None:
            return snap
        # As in the legacy module: once the call is gone (outside the callbacks of its
        # events) or the library destroyed, info() raises Error "info", code -1.
        if not self._alive:
            raise Error("info", self, -1, "Invalid call")
        ci = ffi.new("pjsua_call_info *")
        try:
            self._c("info", C.pjsua_call_get_info, self._id, ci)
        except Error:
            raise Error("info", self, -1, "Invalid call") from None
        return CallInfo(self._lib, ci)

    # -- signalling

    def answer(self, code: int = 200, reason: str = "", hdr_list: HeaderList = None) -> None:
        """Send a response to the INVITE: 180 rings, 200 answers, 4xx-6xx rejects."""
        code = _status(code, 100, 699)
        keep: list = []
        md = msg_data(keep, hdr_list)
        r = to_bytes(reason, "reason") if reason else ffi.NULL
        opt = self._lib._call_setting(keep)
        self._c_own("call_answer", C.pjffi_call_answer, opt, code, r, len(r) if reason else 0,
                    md)

    def hangup(self, code: int = 603, reason: str = "", hdr_list: HeaderList = None) -> None:
        """End the call (CANCEL, BYE, or a final response, whichever fits its state)."""
        code = _status(code, 0, 699)
        keep: list = []
        md = msg_data(keep, hdr_list)
        r = to_bytes(reason, "reason") if reason else ffi.NULL
        self._c_own("call_hangup", C.pjffi_call_hangup, code, r, len(r) if reason else 0, md)

    def hold(self, hdr_list: HeaderList = None) -> None:
        """Put the call on hold (re-INVITE with sendonly media)."""
        keep: list = []
        md = msg_data(keep, hdr_list)
        self._c("call_set_hold", C.pjsua_call_set_hold, self._id, md)

    def unhold(self, hdr_list: HeaderList = None) -> None:
        """Release hold (re-INVITE with sendrecv media)."""
        self._reinvite("call_reinvite", C.PJSUA_CALL_UNHOLD, hdr_list)

    def reinvite(self, hdr_list: HeaderList = None) -> None:
        """Send a re-INVITE with a fresh offer (this also releases hold)."""
        self._reinvite("call_reinvite", C.PJSUA_CALL_UNHOLD, hdr_list)

    def update(self, hdr_list: HeaderList = None, options: int = 0) -> None:
        """Send an UPDATE with a fresh offer; ``options`` are PJSUA_CALL_* flags."""
        keep: list = []
        md = msg_data(keep, hdr_list)
        opt = self._lib._call_setting(keep, int(options))
        self._c("call_update", C.pjsua_call_update2, self._id, opt, md)

    def _reinvite(self, op: str, flag: int, hdr_list: HeaderList) -> None:
        keep: list = []
        md = msg_data(keep, hdr_list)
        opt = self._lib._call_setting(keep, flag)
        self._c(op, C.pjsua_call_reinvite2, self._id, opt, md)

    def transfer(self, dest_uri: str, hdr_list: HeaderList = None) -> None:
        """Blind transfer: ask the peer to call ``dest_uri`` (REFER). pjsua sends it as
        the Refer-To text without parsing it, as the legacy module does; only text that
        would break the header (line breaks, NUL, over 2000 characters) raises."""
        keep: list = []
        if not isinstance(dest_uri, str):
            raise TypeError(f"dest_uri must be str, not {type(dest_uri).__name__}")
        if not dest_uri or len(dest_uri) > 2000 or any(c in dest_uri for c in "\r\n\x00"):
            raise Error("call_xfer", self, C.PJ_EINVAL, f"invalid SIP URI {dest_uri!r}")
        dst = new_str(dest_uri, keep, "dest_uri")
        md = msg_data(keep, hdr_list)
        self._c("call_xfer", C.pjsua_call_xfer, self._id, dst, md)

    def transfer_to_call(self, call: "Call", hdr_list: HeaderList = None,
                         options: int = 0) -> None:
        """Attended transfer: ask the peer to replace ``call``'s peer (REFER with
        Replaces)."""
        if not isinstance(call, Call):
            raise TypeError("call must be a Call")
        if not call._alive:
            raise Error("call_xfer_replaces", self, _ENDED)  # legacy names this call
        keep: list = []
        md = msg_data(keep, hdr_list)
        self._c("call_xfer_replaces", C.pjsua_call_xfer_replaces, self._id, call._id,
                int(options), md)

    def dial_dtmf(self, digits: str) -> None:
        """Send DTMF digits in the audio stream (RFC 2833)."""
        if not isinstance(digits, str):
            raise TypeError("digits must be str")
        if not _DTMF_DIGITS.match(digits):
            raise ValueError(f"invalid DTMF digits {digits!r}")
        keep: list = []
        d = new_str(digits, keep)
        self._c("call_dial_dtmf", C.pjsua_call_dial_dtmf, self._id, d)

    def send_request(self, method: str, hdr_list: HeaderList = None,
                     content_type: Optional[str] = None, body: Optional[Text] = None) -> None:
        """Send an arbitrary request (INFO, OPTIONS, …) inside the call's dialog."""
        m = to_bytes(method, "method")
        if not m or not m.isalpha() or not m.isupper():
            raise ValueError(f"invalid SIP method {method!r}")
        if m in (b"INVITE", b"ACK", b"BYE", b"CANCEL", b"PRACK"):
            raise ValueError(f"{method} is sent by pjsua itself")
        keep: list = []
        meth = new_str(m, keep)
        md = msg_data(keep, hdr_list, content_type, body)
        self._c("call_send_request", C.pjsua_call_send_request, self._id, meth, md)

    def send_pager(self, text: Text, im_id: int = 0, content_type: str = "text/plain",
                   hdr_list: HeaderList = None) -> None:
        """Send a MESSAGE inside the call; its status arrives in ``on_pager_status``. It
        finds this object through the key in pjsua's user data (see ``im.py``) even if
        the call has ended and its id was reused."""
        if isinstance(im_id, bool) or not isinstance(im_id, int):
            raise TypeError("im_id must be an int")
        keep: list = []
        mime = new_str(content_type, keep, "content_type")
        content = new_str(text, keep, "text")
        md = msg_data(keep, hdr_list)
        reg = self._lib._reg
        key = reg.remember_im(self, im_id)
        try:
            self._c("call_send_im", C.pjsua_call_send_im, self._id, mime, content, md,
                    int_to_ptr(key))
        except BaseException:
            reg.forget_im(key)
            raise

    def send_typing_ind(self, is_typing: bool = True, hdr_list: HeaderList = None) -> None:
        """Tell the peer we started or stopped typing."""
        keep: list = []
        md = msg_data(keep, hdr_list)
        self._c("call_send_typing_ind", C.pjsua_call_send_typing_ind, self._id,
                bool(is_typing), md)

    def media_transport_info(self) -> MediaTransportInfo:
        """Whether the audio is encrypted (SRTP) and how ICE connected it."""
        m = ffi.new("pjffi_media_sec *")
        self._c("call_get_med_transport_info", C.pjffi_call_media_sec, self._id, m)
        return MediaTransportInfo(m)

    def dump_status(self, with_media: bool = True, indent: str = "", max_len: int = 1024) -> str:
        """pjsua's text dump of the call (and its media statistics); empty once the
        call is gone."""
        max_len = max(64, int(max_len))
        buf = ffi.new("char[]", max_len)
        ind = ffi.new("char[]", to_bytes(indent, "indent"))
        try:
            self._c("call_dump", C.pjsua_call_dump, self._id, bool(with_media), buf, max_len,
                    ind)
        except Error:  # the call is gone: an empty dump, as the legacy module gives
            return ""
        return ffi.string(buf).decode("utf-8", "replace")


def _status(code: Any, low: int, high: int) -> int:
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError("a SIP status code must be an int")
    if not (code == 0 or low <= code <= high):
        raise ValueError(f"SIP status code {code} is out of range")
    return code


# ---------------------------------------------------------------------- C → Python

_MAX_PENDING = 256  # events kept for a call without a callback


def call_of_event(lib: Core, ev: Any) -> Optional[Call]:
    token = ptr_to_int(ev.user_data)
    if not token:
        return None
    cid = int(ev.call_id)
    if lib._reg.derived:
        derived = lib._reg.derived.get((token, cid))
        if derived is not None:
            return derived
    call = lib._reg.calls.get(token)
    if call is not None and call._id >= 0 and cid >= 0 and call._id != cid:
        # pjsua gives the call that a transfer makes the user data of the transferred
        # call: it is a call of its own (no callback until the application sets one).
        key = (token, cid)
        call = Call(lib, cid)
        lib._reg.add_call(call)
        call._derived_key = key
        lib._reg.derived[key] = call
    return call


def dispatch_call(call: Call, snapshot: Any, method: str, *args: Any) -> Any:
    """Deliver a call event, or keep it until the call has a callback."""
    cb = call._cb
    if cb is None:
        if len(call._pending) < _MAX_PENDING:
            call._pending.append(Delivery(dispatch_call, call, snapshot, (method, *args)))
        return None
    return getattr(cb, method)(*args)


def _snapshot(lib: Core, ev: Any) -> Tuple[Optional[Call], Any]:
    """The call of a state event and the snapshot it carries, now the call's last."""
    call = call_of_event(lib, ev)
    if call is None or ev.call_info == ffi.NULL:
        return None, None
    info = call._last_info = CallInfo(lib, ev.call_info, keep_event(ev))
    return call, info


def _ev_call_state(lib: Core, ev: Any) -> Optional[Delivery]:
    call, info = _snapshot(lib, ev)
    if call is None:
        return None
    if call._id < 0:  # events raised inside make_call(), before it returned the id
        call._id = int(ev.call_id)
    if ev.call_info.state == 6:  # DISCONNECTED: the id may be reused from now on
        call._alive = False
        lib._reg.calls.pop(call._token, None)
        if call._derived_key is not None:
            lib._reg.derived.pop(call._derived_key, None)
    return new_delivery(Delivery, (dispatch_call, call, info, ("on_state",)))


def _ev_media_state(lib: Core, ev: Any) -> Optional[Delivery]:
    call, info = _snapshot(lib, ev)
    if call is None:
        return None
    return new_delivery(Delivery, (dispatch_call, call, info, ("on_media_state",)))


def _ev_incoming_call(lib: Core, ev: Any) -> Optional[Delivery]:
    acc_id = int(ev.acc_id)
    call = Call(lib, ev.call_id)
    lib._reg.add_call(call, ptr_to_int(ev.user_data))  # given by C
    info = CallInfo(lib, ev.call_info, keep_event(ev)) if ev.call_info != ffi.NULL else None
    call._last_info = info
    rdata = RxData(from_str(ev.s[5]), from_str(ev.s[4]), from_str(ev.s[3]))
    return Delivery(_deliver_incoming_call, call, info, (acc_id, rdata))


def _deliver_incoming_call(call: Call, snapshot: Any, acc_id: int, rdata: RxData) -> None:
    # Looked up now, under the library lock: create_account() holds that lock until
    # the account is known, so an event right after it still finds its account.
    acc = call._lib._reg.accounts.get(acc_id)
    if acc is None or acc._deleted:
        call.hangup(480)
        return
    acc._cb.on_incoming_call2(call, rdata)


def _ev_dtmf(lib: Core, ev: Any) -> Optional[Delivery]:
    call = call_of_event(lib, ev)
    if call is not None:
        return Delivery(dispatch_call, call, None, ("on_dtmf_digit", chr(ev.code)))
    return None


def _ev_transfer_request(lib: Core, ev: Any) -> None:
    call = call_of_event(lib, ev)
    if call is None or call._cb is None:
        return
    code = lib._run_sync(call._cb.on_transfer_request, from_str(ev.s[0]), int(ev.code))
    if isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 699:
        ev.out_code = code


def _ev_transfer_status(lib: Core, ev: Any) -> Optional[Delivery]:
    call = call_of_event(lib, ev)
    if call is not None:
        return Delivery(dispatch_call, call, None, ("on_transfer_status", int(ev.code),
                                                     from_str(ev.s[0]), int(ev.flag),
                                                     int(ev.other_id)))
    return None


def _ev_replace_request(lib: Core, ev: Any) -> None:
    call = call_of_event(lib, ev)
    if call is None or call._cb is None:
        return
    res = lib._run_sync(call._cb.on_replace_request, int(ev.code), from_str(ev.s[0]))
    if isinstance(res, tuple) and len(res) == 2:
        code, reason = res
        if isinstance(code, int) and 100 <= code <= 699:
            ev.out_code = code
        if isinstance(reason, str) and reason:
            ev.out_reason = reason.encode("utf-8")[:255]


def _ev_call_replaced(lib: Core, ev: Any) -> Optional[Delivery]:
    old = call_of_event(lib, ev)
    if old is None:
        return None
    token = ptr_to_int(ev.obj)  # C gave the replacing call its token
    new = lib._reg.calls.get(token) if token else None
    if new is None:
        new = Call(lib, ev.other_id)
        lib._reg.add_call(new, token)
    return Delivery(dispatch_call, old, None, ("on_replaced", new))


def _ev_call_request(lib: Core, ev: Any) -> Optional[Delivery]:
    call = call_of_event(lib, ev)
    if call is not None:
        rdata = RxData(from_str(ev.s[5]))
        return Delivery(dispatch_call, call, None, ("on_request", from_str(ev.s[0]), rdata))
    return None


register_handler(C.PJFFI_EV_CALL_STATE, _ev_call_state)
register_handler(C.PJFFI_EV_CALL_MEDIA_STATE, _ev_media_state)
register_handler(C.PJFFI_EV_INCOMING_CALL, _ev_incoming_call)
register_handler(C.PJFFI_EV_DTMF, _ev_dtmf)
register_handler(C.PJFFI_EV_TRANSFER_REQUEST, _ev_transfer_request)
register_handler(C.PJFFI_EV_TRANSFER_STATUS, _ev_transfer_status)
register_handler(C.PJFFI_EV_REPLACE_REQUEST, _ev_replace_request)
register_handler(C.PJFFI_EV_CALL_REPLACED, _ev_call_replaced)
register_handler(C.PJFFI_EV_CALL_REQUEST, _ev_call_request)
