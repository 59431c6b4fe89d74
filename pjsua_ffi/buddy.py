"""Presence: buddies (whose presence we watch) and watchers (who watch ours).

A :class:`Buddy` wraps a pjsua buddy id. pjsua reuses ids, so each buddy carries a token
in pjsua's user data, and every operation checks that the id still holds that token.

A :class:`Watcher` is the ``pres_obj`` of ``AccountCallback.on_incoming_subscribe``: a
subscription to one of our accounts. pjsua frees the underlying object when the
subscription ends, not always with a callback; ``_csrc/presence.c`` tracks them by token
so that :meth:`Account.pres_notify` on a finished subscription raises :class:`Error`
instead of touching freed memory.
"""

from __future__ import annotations

import logging
import re
import traceback
from enum import IntEnum
from typing import Any, Optional, Tuple, cast

from ._binding import C, HeaderList, Text, ffi, from_str, msg_data, new_str, ptr_to_int
from ._core import Core
from ._dispatch import Delivery, register_handler
from ._object import _Handle
from .constants import PresenceActivity, SubscriptionState
from .errors import Error, legacy_ops
from .im import buddy_by_token, buddy_of, send_message

__all__ = ["Buddy", "BuddyInfo", "BuddyCallback", "BuddyStatus", "Watcher"]

log = logging.getLogger("pjsua_ffi")

Account = Any  # an account.Account (a layer above this one)
_NOTIFY_STATES = (SubscriptionState.PENDING, SubscriptionState.ACTIVE,
                  SubscriptionState.TERMINATED)


def _gone_status(op: str) -> int:
    """The status the legacy module reports for an operation on a deleted buddy: its
    messages go to the empty URI of an empty BuddyInfo, the rest get PJ_EINVAL."""
    return _EINVALIDURI if op.startswith("im_") else C.PJ_EINVAL


_EINVALIDURI = 171042  # the status pjsua gives a message to an empty URI


class BuddyStatus(IntEnum):
    """Values of :attr:`BuddyInfo.online_status` (pjsua's ``pjsua_buddy_status``)."""

    UNKNOWN = 0
    ONLINE = 1
    OFFLINE = 2


class BuddyInfo:
    """A snapshot of a buddy and of our subscription to its presence.

    ``online_status`` is a :class:`BuddyStatus` value and ``online_text`` its text (the
    buddy's note when it sent one); ``activity`` and ``note`` come from its RPID data.
    ``sub_state`` / ``sub_state_text`` describe the subscription; once it is terminated,
    ``sub_term_code`` and ``sub_term_reason`` say why (e.g. 403, "rejected", "timeout").
    """

    def __init__(self, pjsua_bi: Any = None) -> None:
        self.uri = ""
        self.contact = ""
        self.online_status = BuddyStatus.UNKNOWN
        self.online_text = ""
        self.activity = PresenceActivity.UNKNOWN
        self.note = ""
        self.subscribed: int = False
        self.sub_state = SubscriptionState.NULL
        self.sub_state_text = "NULL"
        self.sub_term_code = 0
        self.sub_term_reason = ""
        bi = pjsua_bi
        if bi is None:
            return
        self.uri = from_str(bi.uri)
        self.contact = from_str(bi.contact)
        self.online_status = _enum(BuddyStatus, bi.status, BuddyStatus.UNKNOWN)
        self.online_text = _xml_unescape(from_str(bi.status_text))
        self.activity = _enum(PresenceActivity, bi.rpid.activity, PresenceActivity.UNKNOWN)
        self.note = _xml_unescape(from_str(bi.rpid.note))
        self.subscribed = int(bi.monitor_pres)  # an int, as the legacy module gives it
        self.sub_state = _enum(SubscriptionState, bi.sub_state, SubscriptionState.UNKNOWN)
        if bi.sub_state_name != ffi.NULL:
            self.sub_state_text = ffi.string(bi.sub_state_name).decode("utf-8", "replace")
        self.sub_term_code = int(bi.sub_term_code)
        self.sub_term_reason = from_str(bi.sub_term_reason)


class BuddyCallback:
    """Override what you need; ``self.buddy`` is the buddy. Runs with the library lock
    held, on the callback thread or inside the API call whose event it reports."""

    def __init__(self, buddy: Optional["Buddy"] = None) -> None:
        # Typed as always set: it is whenever one of the methods below runs.
        self.buddy: "Buddy" = cast("Buddy", buddy)

    def _set_buddy(self, buddy: "Buddy") -> None:
        self.buddy = buddy

    def on_state(self) -> None:
        """The buddy's presence or our subscription changed: see ``self.buddy.info()``."""

    def on_pager(self, mime_type: str, body: str) -> None:
        """The buddy sent a MESSAGE (outside any call). ``body.raw`` holds its bytes."""

    def on_pager_status(self, body: str, im_id: int, code: int, reason: str) -> None:
        """Delivery status of a MESSAGE sent with :meth:`Buddy.send_pager`."""

    def on_typing(self, is_typing: int) -> None:
        """The buddy started or stopped typing (outside any call)."""


@legacy_ops()
class Buddy(_Handle):
    """A presence buddy of an account, from :meth:`Account.add_buddy`."""

    _is_buddy = True  # (how im.py tells a buddy from an account)

    def __init__(self, lib: Core, id: int, account: Account,  # noqa: A002
                 cb: Optional[BuddyCallback] = None) -> None:
        self._lib = lib
        self._id = id
        self._acc = account
        self._token = 0
        self._uri = ""
        self._deleted = False
        self._cb: BuddyCallback = BuddyCallback(self)
        self._obj_name = "{Buddy }"  # add_buddy() gives the URI
        if cb is not None:
            self.set_callback(cb)

    def _check(self, op: str) -> None:
        if self._deleted or self._acc._deleted:
            raise Error(op, self, _gone_status(op))
        # pjsua reuses buddy ids: the token in the user data tells ours apart.
        token = ptr_to_int(C.pjsua_buddy_get_user_data(self._id))
        if not self._token or token != self._token:
            self._deleted = True
            raise Error(op, self, _gone_status(op))

    def is_valid(self) -> bool:
        """True until the buddy (or its account) is deleted or the library destroyed."""
        return not self._deleted and not self._acc._deleted and self._lib._running()

    def info(self) -> BuddyInfo:
        """A :class:`BuddyInfo` snapshot (inside ``on_state``: as of the event)."""
        snap = self._lib._event_snapshot(self)
        if snap is not None:
            return snap
        bi = ffi.new("pjsua_buddy_info *")
        try:
            self._c("info()", C.pjsua_buddy_get_info, self._id, bi)
        except Error:  # deleted, or the library destroyed: the legacy module gives
            return BuddyInfo()  # an empty BuddyInfo then, never an error
        return BuddyInfo(bi)

    def set_callback(self, cb: Optional[BuddyCallback]) -> None:
        """Route this buddy's events to ``cb`` (None restores the default)."""
        if cb is None:
            cb = BuddyCallback(self)
        if not isinstance(cb, BuddyCallback):
            raise TypeError("cb must be a BuddyCallback")
        cb._set_buddy(self)
        self._cb = cb

    def subscribe(self) -> None:
        """Subscribe to the buddy's presence; changes arrive in ``on_state``."""
        self._c("buddy_subscribe_pres", C.pjsua_buddy_subscribe_pres, self._id, True)

    def unsubscribe(self) -> None:
        """End the presence subscription."""
        self._c("buddy_subscribe_pres", C.pjsua_buddy_subscribe_pres, self._id, False)

    def delete(self) -> None:
        """Remove the buddy (ending its subscription); the object is unusable afterwards."""
        self._c("buddy_del", C.pjsua_buddy_del, self._id)
        self._forget()

    def _forget(self) -> None:
        self._deleted = True
        if self._acc._buddies.get(self._id) is self:
            del self._acc._buddies[self._id]
        self._lib._reg.buddies.pop(self._token, None)

    def send_pager(self, text: Text, im_id: int = 0, content_type: str = "text/plain",
                   hdr_list: HeaderList = None) -> None:
        """Send a MESSAGE to the buddy; its status arrives in this buddy's
        ``on_pager_status``. ``text`` may be bytes for a non-text ``content_type``."""
        send_message(self, self._acc, self._uri, text, im_id, content_type, hdr_list)

    def send_typing_ind(self, is_typing: bool = True, hdr_list: HeaderList = None) -> None:
        """Tell the buddy we started or stopped typing."""
        keep: list = []
        to = new_str(self._uri, keep, "uri")
        md = msg_data(keep, hdr_list)
        self._c("im_typing", C.pjsua_im_typing, self._acc._id, to, bool(is_typing), md)


class Watcher:
    """Someone's subscription to our presence: the ``pres_obj`` handed to
    ``AccountCallback.on_incoming_subscribe`` and taken by :meth:`Account.pres_notify`.

    ``uri`` and ``contact`` identify the watcher; ``state`` (a :class:`SubscriptionState`)
    follows the subscription, and ``term_reason`` says why it ended.
    """

    def __init__(self, account: Optional[Account], address: int, token: int, uri: str,
                 contact: str) -> None:
        self.account: Any = account  # the Account, once the subscription is answered
        self.uri = uri
        self.contact = contact
        self.state = SubscriptionState.NULL
        self.state_text = "NULL"
        self.term_reason = ""
        self._address = address
        self._token = token
        self._ended = token == 0
        self._reg: Any = None  # the registry that knows it (see _ev_incoming_subscribe)

    def is_valid(self) -> bool:
        """Whether the subscription still exists (a NOTIFY can be sent on it)."""
        acc = self.account
        if self._ended or acc is None or acc._deleted or not acc._lib._running():
            return False
        with acc._lib._gated("pres_notify", self):
            alive = bool(C.pjffi_srv_pres_alive(ffi.cast("void *", self._address), self._token))
        if not alive:
            self._end()
        return alive

    def _end(self) -> None:
        self._ended = True
        reg = self._reg
        if reg is not None:
            reg.watchers.pop(self._token, None)

    def __repr__(self) -> str:
        return f"<Watcher {self.uri} {self.state_text}>"


# ---------------------------------------------------------------------- Account side


def add_buddy(acc: Account, uri: str, cb: Optional[BuddyCallback]) -> Buddy:
    """Implementation of :meth:`Account.add_buddy`."""
    if cb is not None and not isinstance(cb, BuddyCallback):
        raise TypeError("cb must be a BuddyCallback")
    lib = acc._lib
    lib._require_uri("buddy_add", uri, acc)
    keep: list = []
    s = new_str(uri, keep, "uri")
    token = lib._reg.token()
    p_id = ffi.new("int *", -1)
    acc._c("buddy_add", C.pjffi_buddy_add, acc._id, s, token, p_id)
    buddy = Buddy(lib, p_id[0], acc, cb)
    buddy._token = token
    buddy._uri = uri
    buddy._obj_name = "{Buddy " + uri + "}"
    acc._buddies[buddy._id] = buddy
    lib._reg.buddies[token] = buddy
    return buddy


def delete_buddies(acc: Account) -> None:
    """Delete an account's buddies in pjsua (which would keep them, without account). A
    buddy with a live subscription is unsubscribed instead and deleted once pjsua reports
    the end, which its ``on_state`` gets (the legacy module reports it at destroy())."""
    for buddy in list(acc._buddies.values()):
        try:
            bi = ffi.new("pjsua_buddy_info *")
            buddy._c("buddy_del", C.pjsua_buddy_get_info, buddy._id, bi)
            if bi.monitor_pres and SubscriptionState.NULL < bi.sub_state < \
                    SubscriptionState.TERMINATED:
                buddy.unsubscribe()
                buddy._lib._reg.ending[buddy._token] = buddy
                continue
            buddy.delete()
        except Error:
            buddy._forget()


def set_presence_status(acc: Account, is_online: bool, activity: int, pres_text: str,
                        rpid_id: str) -> None:
    """Implementation of :meth:`Account.set_presence_status`."""
    if isinstance(activity, bool) or not isinstance(activity, int):
        raise TypeError("activity must be a PresenceActivity")
    try:
        activity = PresenceActivity(activity)
    except ValueError:
        raise Error("acc_set_online_status2", acc, C.PJ_EINVAL,
                    f"unknown presence activity {activity}") from None
    for name, value in (("pres_text", pres_text), ("rpid_id", rpid_id)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be str")
    # pjlib writes these into the PIDF document as they are: escape them here.
    keep: list = []
    note = new_str(_xml_escape(pres_text), keep, "pres_text") if pres_text else ffi.NULL
    rid = new_str(_xml_escape(rpid_id), keep, "rpid_id") if rpid_id else ffi.NULL
    acc._c("acc_set_online_status2", C.pjffi_set_presence, acc._id, bool(is_online),
           int(activity), note, rid)


def pres_notify(acc: Account, pres_obj: Any, state: int, reason: str,
                hdr_list: HeaderList) -> None:
    """Implementation of :meth:`Account.pres_notify`. Presence is only sent with ACTIVE:
    a pending or rejected watcher learns nothing about us."""
    if not isinstance(pres_obj, Watcher):
        raise TypeError("pres_obj must be the Watcher given to on_incoming_subscribe")
    if isinstance(state, bool) or not isinstance(state, int):
        raise TypeError("state must be a SubscriptionState")
    if state not in _NOTIFY_STATES:
        raise Error("pres_notify", acc, C.PJ_EINVAL,
                    "state must be PENDING, ACTIVE or TERMINATED")
    if reason is not None and not isinstance(reason, str):
        raise TypeError("reason must be str")
    if pres_obj.account is not acc:
        raise Error("pres_notify", acc, C.PJ_EINVAL,
                    "the subscription belongs to another account")
    if pres_obj._ended:
        raise Error("pres_notify", acc, C.PJ_EGONE, "the subscription has ended")
    keep: list = []
    r = new_str(_one_line(reason), keep, "reason") if reason else ffi.NULL
    md = msg_data(keep, hdr_list)
    try:
        acc._c("pres_notify", C.pjffi_pres_notify, acc._id,
               ffi.cast("void *", pres_obj._address), pres_obj._token, int(state), r,
               state == SubscriptionState.ACTIVE, md)
    except Error as exc:
        if exc.err_code == C.PJ_EGONE:
            pres_obj._end()
        raise


# ---------------------------------------------------------------------- C → Python


def _enum(kind: Any, value: int, default: Any) -> Any:
    try:
        return kind(int(value))
    except ValueError:
        return default


_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
_XML_ENTITY = re.compile(r"&(lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_XML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _xml_escape(text: str) -> str:
    return "".join(_XML_ESCAPES.get(ch, ch) for ch in text)


def _xml_unescape(text: str) -> str:
    """Decode XML's character references in presence text: pjlib's XML parser leaves
    them as they are."""
    def one(m: "re.Match[str]") -> str:
        ref = m.group(1)
        if ref[0] != "#":
            return _XML_NAMED[ref]
        code = int(ref[2:], 16) if ref[1] == "x" else int(ref[1:])
        return chr(code) if 0 < code <= 0x10FFFF else m.group(0)

    return _XML_ENTITY.sub(one, text) if "&" in text else text


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ").replace("\x00", " ")


def _ev_buddy_state(lib: Core, ev: Any) -> Optional[Delivery]:
    token = ptr_to_int(ev.user_data)
    buddy = buddy_by_token(lib, token) or lib._reg.ending.get(token)
    if buddy is None or ev.buddy_info == ffi.NULL:
        return None
    return Delivery(_deliver_buddy_state, buddy, BuddyInfo(ev.buddy_info))


def _deliver_buddy_state(buddy: Buddy, snapshot: BuddyInfo) -> None:
    ending_buddies = buddy._lib._reg.ending
    ending = ending_buddies.get(buddy._token) is buddy
    try:
        if not buddy._deleted or ending:
            buddy._cb.on_state()
    finally:
        if ending and snapshot.sub_state == SubscriptionState.TERMINATED:
            del ending_buddies[buddy._token]  # the end of an account's buddy: now delete it
            if buddy._lib._running() and \
                    ptr_to_int(C.pjsua_buddy_get_user_data(buddy._id)) == buddy._token:
                C.pjsua_buddy_del(buddy._id)


def _ev_incoming_subscribe(lib: Core, ev: Any) -> None:
    token = int(C.pjffi_srv_pres_token(ev.obj))
    address = int(ffi.cast("uintptr_t", ev.obj))
    watcher = Watcher(None, address, token, from_str(ev.s[0]), from_str(ev.s[1]))
    if token:
        watcher._reg = lib._reg
        lib._reg.watchers[token] = watcher
    buddy = buddy_of(lib, ev.acc_id, watcher.uri)
    answer = lib._run_sync(_ask, lib, int(ev.acc_id), buddy, watcher)
    code, reason = answer or (500, "Server Internal Error")
    ev.out_code = code
    if reason:
        ev.out_reason = _one_line(reason).encode("utf-8")[:255]
    if code >= 300:
        watcher._end()  # pjsua ends it after answering
        watcher.state = SubscriptionState.TERMINATED
        watcher.state_text = "TERMINATED"


def _ask(lib: Core, acc_id: int, buddy: Optional[Buddy],
         watcher: Watcher) -> Tuple[int, str]:
    """The callback's answer made valid for pjsua: 200, 202, or a final 3xx-6xx code. A
    callback that fails rejects the subscription (500) rather than accepting it."""
    # Looked up here, with the library lock held: create_account() holds it until the
    # account is known, and a SUBSCRIBE may arrive before that.
    acc = lib._reg.accounts.get(acc_id)
    if acc is None or acc._deleted:
        return 480, ""
    watcher.account = acc
    try:
        ans = acc._cb.on_incoming_subscribe(buddy, watcher.uri, watcher.contact, watcher)
    except Exception:  # noqa: BLE001
        log.error("exception in on_incoming_subscribe:\n%s", traceback.format_exc())
        return 500, "Server Internal Error"
    if ans is None:
        return 200, ""
    if not isinstance(ans, (tuple, list)) or not ans:
        log.error("on_incoming_subscribe returned %r, not (code, reason)", ans)
        return 500, "Server Internal Error"
    code = ans[0]
    reason = ans[1] if len(ans) > 1 and isinstance(ans[1], str) else ""
    if isinstance(code, bool) or not isinstance(code, int) or not 200 <= code <= 699:
        log.error("on_incoming_subscribe returned the invalid code %r", code)
        return 500, "Server Internal Error"
    if 200 <= code < 300 and code != 202:
        code = 200  # pjsua sends no NOTIFY for other 2xx codes
    return code, reason


def _ev_srv_subscribe_state(lib: Core, ev: Any) -> Optional[Delivery]:
    token = ptr_to_int(ev.user_data)
    watcher = lib._reg.watchers.get(token)
    if watcher is None:
        return None
    state = _enum(SubscriptionState, ev.code, SubscriptionState.UNKNOWN)
    if state == watcher.state:
        return None  # pjsip reports every NOTIFY sent, not only changes
    watcher.state = state
    watcher.state_text = from_str(ev.s[1]) or state.name
    if state == SubscriptionState.TERMINATED:
        watcher.term_reason = from_str(ev.s[2])
        watcher._end()
    acc = watcher.account
    if acc is not None:
        return Delivery(_deliver_watcher_state, acc, None, (watcher, state))
    return None


def _deliver_watcher_state(acc: Account, snapshot: None, watcher: Watcher,
                           state: SubscriptionState) -> None:
    if not acc._deleted:
        acc._cb.on_watcher_state(watcher, state)


register_handler(C.PJFFI_EV_BUDDY_STATE, _ev_buddy_state)
register_handler(C.PJFFI_EV_INCOMING_SUBSCRIBE, _ev_incoming_subscribe)
register_handler(C.PJFFI_EV_SRV_SUBSCRIBE_STATE, _ev_srv_subscribe_state)
