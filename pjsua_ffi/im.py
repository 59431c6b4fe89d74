"""Instant messages, typing indications and message-waiting notifications.

Routing of what arrives: a MESSAGE or typing indication inside a call goes to that call's
:class:`CallCallback`; outside a call, from one of the receiving account's buddies, to
the buddy's :class:`BuddyCallback`; otherwise to the :class:`AccountCallback`.

A delivery status goes back to whoever sent the message: the call, the buddy
(:meth:`Buddy.send_pager`) or the account (:meth:`Account.send_pager`). pjsua carries one
pointer of user data per message; we put a key there and keep ``(sender, im_id)`` under
that key until the status arrives.

Bodies reach Python as :class:`MessageBody`: a ``str`` (decoded as UTF-8, invalid bytes
replaced) whose ``raw`` attribute holds the bytes exactly as received.
"""

from __future__ import annotations

from typing import Any, Optional

from ._binding import (
    C,
    HeaderList,
    Text,
    from_str,
    from_str_bytes,
    int_to_ptr,
    msg_data,
    new_str,
    ptr_to_int,
    to_bytes,
)
from ._core import Core
from ._dispatch import Delivery, new_delivery, register_handler
from .call import Call, call_of_event, dispatch_call
from .errors import Error
from .uri import _uri_text, uri_error

__all__ = ["MessageBody"]

Account = Any  # an account.Account (a layer above this one)
Buddy = Any    # a buddy.Buddy (a layer above this one; it has ``_is_buddy`` set)


class MessageBody(str):
    """A received message body: the text, plus ``raw`` (the bytes as received) and
    ``content_type``. Being a ``str``, it works wherever the text is expected."""

    raw: bytes
    content_type: str

    def __new__(cls, raw: bytes = b"", content_type: str = "") -> "MessageBody":
        self = super().__new__(cls, raw.decode("utf-8", "replace"))
        self.raw = raw
        self.content_type = content_type
        return self

    def __reduce__(self) -> Any:
        return (MessageBody, (self.raw, self.content_type))


def send_message(handle: Any, acc: Account, uri: str, text: Text, im_id: int,
                 content_type: str, hdr_list: HeaderList) -> None:
    """Send a MESSAGE from ``acc`` to ``uri``; ``handle`` (the account or a buddy) is
    checked first and receives the delivery status."""
    if isinstance(im_id, bool) or not isinstance(im_id, int):
        raise TypeError("im_id must be an int")
    _uri_text("im_send", uri, acc, C.PJSIP_EINVALIDREQURI)  # pjsua parses it in full
    if not isinstance(content_type, str):
        raise TypeError("content_type must be str")
    if "/" not in content_type:
        raise ValueError(f"invalid content type {content_type!r}")
    keep: list = []
    to = uri.encode("utf-8")
    mime = content_type.encode("utf-8")
    content = to_bytes(text, "text")
    md = msg_data(keep, hdr_list)
    reg = acc._lib._reg
    key = reg.remember_im(handle, im_id)
    try:
        handle._c("im_send", C.pjffi_im_send, acc._id, to, len(to), mime, len(mime), content,
                  len(content), md, int_to_ptr(key))
    except Error as exc:
        reg.forget_im(key)
        raise uri_error(exc, uri) from None
    except BaseException:
        reg.forget_im(key)
        raise


def buddy_by_token(lib: Core, token: int) -> Optional[Buddy]:
    """The live buddy whose pjsua user data is ``token``."""
    buddy = lib._reg.buddies.get(token) if token else None
    return buddy if buddy is not None and not buddy._deleted else None


_PJSUA_STATE_NULL, _PJSUA_STATE_CLOSING = 0, 5  # pjsua_state (pjsua.h)


def buddy_of(lib: Core, acc_id: int, uri: str) -> Optional[Buddy]:
    """The buddy of account ``acc_id`` for ``uri`` (matched as pjsua does, see
    ``_csrc/presence.c``), or None. Called on pjsua's thread while an event is handled."""
    if acc_id < 0 or not uri or not lib._reg.buddies:
        return None
    if C.pjsua_get_state() in (_PJSUA_STATE_NULL, _PJSUA_STATE_CLOSING):
        return None  # destroy() delivering what pjsua_destroy raised: pjsua is gone
    keep: list = []
    bid = C.pjffi_buddy_find(acc_id, new_str(uri, keep))
    if bid < 0:
        return None
    buddy = buddy_by_token(lib, ptr_to_int(C.pjsua_buddy_get_user_data(bid)))
    return buddy if buddy is not None and buddy._acc._id == acc_id else None



# ---------------------------------------------------------------------- C → Python


def _call_of(lib: Core, ev: Any) -> Optional[Call]:
    """The call a MESSAGE came in, from the user data C read when it arrived: asked
    again now, pjsua may have cleared it (a BYE right after resets the call slot)."""
    if ev.call_id < 0:
        return None
    return call_of_event(lib, ev)


def _account_ref(lib: Core, acc_id: int) -> Any:
    """The account, or its id if it is not known yet: an event may arrive while
    ``create_account`` is still running; it is resolved when delivered, under the
    library lock that ``create_account`` holds until the account is registered."""
    acc = lib._reg.accounts.get(acc_id)
    return acc if acc is not None else acc_id


def _account(lib: Core, ref: Any) -> Optional[Account]:
    acc = lib._reg.accounts.get(ref) if isinstance(ref, int) else ref
    return acc if acc is not None and not acc._deleted else None


def _ev_pager(lib: Core, ev: Any) -> Optional[Delivery]:
    mime = from_str(ev.s[3])
    body = MessageBody(from_str_bytes(ev.s[4]), mime)
    call = _call_of(lib, ev)
    if call is not None:
        return Delivery(dispatch_call, call, None, ("on_pager", mime, body))
    from_uri = from_str(ev.s[0])
    # No buddy lookup for a call we do not know: it would take pjsua's lock while the
    # call's dialog is locked.
    buddy = buddy_of(lib, ev.acc_id, from_uri) if ev.call_id < 0 else None
    return Delivery(_deliver_pager, lib, None, (_account_ref(lib, ev.acc_id), buddy,
                                                from_uri, from_str(ev.s[2]), mime, body))


def _is_buddy(sender: Any) -> bool:
    return bool(getattr(sender, "_is_buddy", False))


def _deliver_pager(lib: Core, snapshot: None, ref: Any, buddy: Optional[Buddy],
                   from_uri: str, contact: str, mime: str, body: MessageBody) -> None:
    acc = _account(lib, ref)
    if buddy is not None and not buddy._deleted:
        buddy._cb.on_pager(mime, body)
    elif acc is not None:
        acc._cb.on_pager(from_uri, contact, mime, body)


def _ev_pager_status(lib: Core, ev: Any) -> Optional[Delivery]:
    key = ptr_to_int(ev.user_data)
    body = MessageBody(from_str_bytes(ev.s[1]))
    code, reason = int(ev.code), from_str(ev.s[2])
    sender, im_id = lib._reg.recall_im(key)
    if ev.call_id >= 0 or isinstance(sender, Call):
        if isinstance(sender, Call):  # the call that sent it, whatever its id is now
            return Delivery(dispatch_call, sender, None,
                            ("on_pager_status", body, im_id, code, reason))
        return None
    by_buddy = _is_buddy(sender)
    ref = sender._acc if by_buddy else _account_ref(lib, ev.acc_id)
    to_uri = from_str(ev.s[0])
    buddies = getattr(sender, "_buddies", None) if not by_buddy else None
    if buddies:
        # As in the legacy module: the status of a message an account sent to a buddy's
        # URI goes to that buddy's callback. Matched in Python (no pjsua call: this may
        # run after pjsua_destroy, when destroy() delivers what it raised).
        sender = next((b for b in list(buddies.values())
                       if not b._deleted and b._uri == to_uri), sender)
    return new_delivery(Delivery, (_deliver_pager_status, lib, None,
                                   (ref, sender, to_uri, body, im_id, code, reason)))


def _deliver_pager_status(lib: Core, snapshot: None, ref: Any, sender: Any, to_uri: str,
                          body: MessageBody, im_id: int, code: int, reason: str) -> None:
    # _is_buddy() and _account() written out: this runs for every MESSAGE sent.
    if getattr(sender, "_is_buddy", False) and not sender._deleted:
        sender._cb.on_pager_status(body, im_id, code, reason)
        return
    acc = lib._reg.accounts.get(ref) if isinstance(ref, int) else ref
    if acc is not None and not acc._deleted:
        acc._cb.on_pager_status(to_uri, body, im_id, code, reason)


def _ev_typing(lib: Core, ev: Any) -> Optional[Delivery]:
    is_typing = int(ev.flag)  # an int, as the legacy module gives it
    call = _call_of(lib, ev)
    if call is not None:
        return Delivery(dispatch_call, call, None, ("on_typing", is_typing))
    from_uri = from_str(ev.s[0])
    buddy = buddy_of(lib, ev.acc_id, from_uri) if ev.call_id < 0 else None
    return Delivery(_deliver_typing, lib, None, (_account_ref(lib, ev.acc_id), buddy,
                                                 from_uri, from_str(ev.s[2]), is_typing))


def _deliver_typing(lib: Core, snapshot: None, ref: Any, buddy: Optional[Buddy],
                    from_uri: str, contact: str, is_typing: int) -> None:
    acc = _account(lib, ref)
    if buddy is not None and not buddy._deleted:
        buddy._cb.on_typing(is_typing)
    elif acc is not None:
        acc._cb.on_typing(from_uri, contact, is_typing)


def _ev_mwi_info(lib: Core, ev: Any) -> Optional[Delivery]:
    body = MessageBody(from_str_bytes(ev.s[0]), from_str(ev.s[1]))
    return Delivery(_deliver_mwi, lib, None, (_account_ref(lib, ev.acc_id), body))


def _deliver_mwi(lib: Core, snapshot: None, ref: Any, body: MessageBody) -> None:
    acc = _account(lib, ref)
    if acc is not None:
        acc._cb.on_mwi_info(body)


register_handler(C.PJFFI_EV_PAGER, _ev_pager)
register_handler(C.PJFFI_EV_PAGER_STATUS, _ev_pager_status)
register_handler(C.PJFFI_EV_TYPING, _ev_typing)
register_handler(C.PJFFI_EV_MWI_INFO, _ev_mwi_info)
