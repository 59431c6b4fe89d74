"""Accounts: identity, registration, outgoing calls, presence and pager messages."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, cast

from . import buddy as _buddy
from . import im as _im
from ._binding import (
    C,
    HeaderList,
    Text,
    ffi,
    from_str,
    int_to_ptr,
    msg_data,
    new_str,
    strerror,
)
from ._core import Core
from ._dispatch import Delivery, register_handler
from ._object import _Handle
from .buddy import Buddy, BuddyCallback
from .call import Call, CallCallback, RxData
from .constants import PresenceActivity
from .errors import Error, legacy_ops
from .transport import Transport
from .uri import _uri_text, uri_error

__all__ = ["Account", "AccountInfo", "AccountCallback"]


class AccountInfo:
    """A snapshot of an account and its registration."""

    def __init__(self, ai: Any = None) -> None:
        self.is_default: int = False
        self.uri = ""
        self.reg_active: int = False
        self.reg_expires = -1
        self.reg_status = 0
        self.reg_reason = ""
        self.online_status: int = False
        self.online_text = ""
        # Beyond the legacy module: why the last registration failed when no SIP
        # response says it (a transport or TLS error), as a status and its text.
        self.reg_last_err = 0
        self.reg_last_err_msg = ""
        if ai is None:
            return
        self.is_default = int(ai.is_default)  # ints, as the legacy module has them
        self.uri = from_str(ai.acc_uri)
        self.reg_active = int(ai.has_registration)
        self.reg_expires = int(ffi.cast("int", ai.expires))
        self.reg_status = int(ai.status)
        self.reg_reason = from_str(ai.status_text)
        self.online_status = int(ai.online_status)
        self.online_text = from_str(ai.online_status_text)
        self.reg_last_err = int(ai.reg_last_err)
        if self.reg_last_err:
            self.reg_last_err_msg = strerror(self.reg_last_err)


class AccountCallback:
    """Override what you need; ``self.account`` is the account. Runs with the library
    lock held, on the callback thread, or inside the API call whose event it reports
    (``on_incoming_subscribe`` on pjsua's thread, since its answer is needed at once)."""

    def __init__(self, account: Optional["Account"] = None) -> None:
        # Typed as always set: it is whenever one of the methods below runs.
        self.account: "Account" = cast("Account", account)

    def _set_account(self, account: "Account") -> None:
        self.account = account

    def on_reg_state(self) -> None:
        """Registration state changed: see ``self.account.info()``."""

    def on_incoming_call(self, call: Call) -> None:
        """A call arrived. Without an override it is rejected (603 Decline, as in the
        legacy module)."""
        call.hangup()

    def on_incoming_call2(self, call: Call, rdata: RxData) -> None:
        """Like :meth:`on_incoming_call`, with the INVITE's text in ``rdata``."""
        self.on_incoming_call(call)

    def on_incoming_subscribe(self, buddy: Optional[Buddy], from_uri: str, contact_uri: str,
                              pres_obj: Any) -> Tuple[int, str]:
        """A presence SUBSCRIBE arrived; return (code, reason): 200 accepts, 202 leaves
        it pending (the watcher is told so at once; finish with :meth:`Account.pres_notify`
        ACTIVE or TERMINATED), 3xx-6xx (e.g. 403) rejects. ``pres_obj`` is a
        :class:`Watcher`. An exception or an invalid answer rejects with 500."""
        return 200, ""

    def on_pager(self, from_uri: str, contact: str, mime_type: str, body: str) -> None:
        """A MESSAGE arrived outside any call and from none of our buddies. ``body`` is
        a str whose ``raw`` attribute holds the bytes as received."""

    def on_pager_status(self, to_uri: str, body: str, im_id: int, code: int,
                        reason: str) -> None:
        """Delivery status of a MESSAGE sent with :meth:`Account.send_pager`."""

    def on_typing(self, from_uri: str, contact: str, is_typing: int) -> None:
        """Someone (not a buddy, not in a call) started or stopped typing."""

    def on_mwi_info(self, body: str) -> None:
        """A message-waiting NOTIFY arrived; ``body`` is its message-summary text."""

    def on_watcher_state(self, pres_obj: Any, state: int) -> None:
        """A subscription to our presence (the ``pres_obj`` of
        :meth:`on_incoming_subscribe`) changed to ``state``, a :class:`SubscriptionState`;
        after TERMINATED it is gone. Not in the legacy module."""


@legacy_ops()
class Account(_Handle):
    """A SIP account created by :meth:`Lib.create_account`."""

    def __init__(self, lib: Core, id: int, cb: Optional[AccountCallback] = None) -> None:  # noqa: A002
        self._lib = lib
        self._id = id
        self._deleted = False
        self._reg_err_msg = ""  # why the last registration failed, from its event
        self._cb: AccountCallback = AccountCallback(self)
        self._buddies: Dict[int, Buddy] = {}
        ai = ffi.new("pjsua_acc_info *")  # created by the caller: it is alive
        C.pjsua_acc_get_info(id, ai)
        self._obj_name = "{Account " + from_str(ai.acc_uri) + "}"
        if cb is not None:
            self.set_callback(cb)

    def _check(self, op: str) -> None:
        if self._deleted:  # PJ_EINVAL: what pjsua answers the legacy module then
            raise Error(op, self, C.PJ_EINVAL)

    def is_valid(self) -> int:
        """1 until the account is deleted (or the library destroyed), then 0 (ints, as
        the legacy module gives them)."""
        return int(not self._deleted and self._lib._running())

    def info(self) -> AccountInfo:
        """An :class:`AccountInfo` snapshot (inside ``on_reg_state``: as of the event)."""
        snap = self._lib._event_snapshot(self)
        if snap is not None:
            return snap
        ai = ffi.new("pjsua_acc_info *")
        try:
            self._c("info()", C.pjsua_acc_get_info, self._id, ai)
        except Error:  # deleted, or the library destroyed: as the legacy module says it
            raise Error("info()", self, -1, "Invalid account") from None
        info = AccountInfo(ai)
        if info.reg_status >= 300 and not info.reg_last_err_msg:
            info.reg_last_err_msg = self._reg_err_msg
        return info

    def set_callback(self, cb: Optional[AccountCallback]) -> None:
        """Route this account's events to ``cb`` (None restores the default)."""
        if cb is None:
            cb = AccountCallback(self)
        if not isinstance(cb, AccountCallback):
            raise TypeError("cb must be an AccountCallback")
        cb._set_account(self)
        self._cb = cb

    def set_default(self) -> None:
        """Make this the account used when no other one matches."""
        self._c("acc_set_default", C.pjsua_acc_set_default, self._id)

    def is_default(self) -> Any:
        """Whether this is the default account (0 once it is no longer valid, as in the
        legacy module)."""
        if not self.is_valid():
            return 0
        with self._lib._gated("acc_get_default", self):
            self._check("acc_get_default")
            return bool(C.pjsua_acc_get_default() == self._id)

    def delete(self) -> None:
        """Remove the account (unregistering it); the object is unusable afterwards."""
        self._check("acc_del")
        _buddy.delete_buddies(self)  # pjsua would keep them, detached from any account
        self._c("acc_del", C.pjsua_acc_del, self._id)
        self._deleted = True
        self._lib._reg.drop_account(self)
        for buddy in list(self._buddies.values()):
            buddy._deleted = True
        self._buddies.clear()

    def set_registration(self, renew: bool) -> None:
        """Register (``renew`` True) or unregister now."""
        self._c("acc_set_registration", C.pjsua_acc_set_registration, self._id, bool(renew))

    def set_transport(self, transport: Transport) -> None:
        """Send this account's requests through ``transport`` only."""
        if not isinstance(transport, Transport):
            raise TypeError("transport must be a Transport")
        self._c("acc_set_transport", C.pjsua_acc_set_transport, self._id, transport._id)

    def make_call(self, dst_uri: str, cb: Optional[CallCallback] = None,
                  hdr_list: HeaderList = None) -> Call:
        """Call ``dst_uri``; ``cb`` receives every event from the first (CALLING) on."""
        if cb is not None and not isinstance(cb, CallCallback):
            raise TypeError("cb must be a CallCallback")
        _uri_text("call_make_call", dst_uri, self, C.PJSIP_EINVALIDREQURI)  # pjsua parses it
        keep: list = []
        dst = dst_uri.encode("utf-8")
        md = msg_data(keep, hdr_list)
        lib = self._lib
        call = Call(lib, -1, cb)
        token = lib._reg.add_call(call)
        opt = lib._call_setting(keep)
        p_id = ffi.new("int *", -1)
        try:
            self._c("call_make_call", C.pjffi_call_make_call, self._id, dst, len(dst), opt,
                    int_to_ptr(token), md, p_id)
        except Error as exc:
            lib._reg.drop_call(call)
            raise uri_error(exc, dst_uri) from None
        except BaseException:
            lib._reg.drop_call(call)
            raise
        call._id = p_id[0]
        return call

    # -- presence and messages (see also buddy.py)

    def add_buddy(self, uri: str, cb: Optional[BuddyCallback] = None) -> Buddy:
        """Add ``uri`` to the buddy list (presence is not subscribed until
        :meth:`Buddy.subscribe`)."""
        return _buddy.add_buddy(self, uri, cb)

    def set_basic_status(self, is_online: bool) -> None:
        """Publish online/offline to subscribers (and PUBLISH, when enabled)."""
        self._c("acc_set_online_status", C.pjsua_acc_set_online_status, self._id,
                bool(is_online))

    def set_presence_status(self, is_online: bool, activity: int = PresenceActivity.UNKNOWN,
                            pres_text: str = "", rpid_id: str = "") -> None:
        """Publish online status with an RPID activity and note."""
        _buddy.set_presence_status(self, is_online, activity, pres_text, rpid_id)

    def pres_notify(self, pres_obj: Any, state: int, reason: str = "",
                    hdr_list: HeaderList = None) -> None:
        """Send a NOTIFY to a subscriber handed over by ``on_incoming_subscribe``."""
        _buddy.pres_notify(self, pres_obj, state, reason, hdr_list)

    def send_pager(self, uri: str, text: Text, im_id: int = 0,
                   content_type: str = "text/plain", hdr_list: HeaderList = None) -> None:
        """Send a MESSAGE outside any call; its status arrives in ``on_pager_status``.
        ``text`` may be bytes for a non-text ``content_type``."""
        _im.send_message(self, self, uri, text, im_id, content_type, hdr_list)

    def send_typing_ind(self, uri: str, is_typing: bool = True,
                        hdr_list: HeaderList = None) -> None:
        """Send a typing indication outside any call."""
        self._lib._require_uri("im_typing", uri, self)
        keep: list = []
        to = new_str(uri, keep, "uri")
        md = msg_data(keep, hdr_list)
        self._c("im_typing", C.pjsua_im_typing, self._id, to, bool(is_typing), md)


# ---------------------------------------------------------------------- C → Python


def _ev_reg_state(lib: Core, ev: Any) -> Delivery:
    info = AccountInfo(ev.acc_info) if ev.acc_info != ffi.NULL else None
    if info is not None and int(ev.code) >= 300 and not info.reg_last_err_msg:
        # pjsua's status text is the code's generic phrase; the event has the reason
        # pjsip gave (for a transport or TLS failure: what failed).
        info.reg_last_err_msg = from_str(ev.s[0])
    return Delivery(_deliver_reg_state, lib, info, (int(ev.acc_id),))


def _deliver_reg_state(lib: Core, snapshot: Any, acc_id: int) -> None:
    acc = lib._reg.accounts.get(acc_id)  # under the lock: see _deliver_incoming_call
    if acc is None or acc._deleted:
        return
    lib._set_snapshot(acc, snapshot)  # _deliver restores the previous value
    if snapshot is not None:
        acc._reg_err_msg = snapshot.reg_last_err_msg
    acc._cb.on_reg_state()


register_handler(C.PJFFI_EV_REG_STATE, _ev_reg_state)
