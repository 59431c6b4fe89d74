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

import itertools
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Optional, Tuple, Union

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
from .buddy import Buddy, buddy_of
from .call import Call
from .errors import Error
from .lib import (
    Delivery,
    Lib,
    _call_for,
    _dispatch_call,
    _uri_text,
    register_handler,
    uri_error,
)

if TYPE_CHECKING:
    from .account import Account

__all__ = ["MessageBody"]

_MAX_PENDING = 65536  # statuses awaited at once; the oldest is forgotten beyond this
_keys = itertools.count(1)
_pending: "OrderedDict[int, Tuple[Any, Union[Account, Buddy, Call], int]]" = OrderedDict()
_pending_lock = threading.Lock()


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


def send_message(handle: Any, acc: "Account", uri: str, text: Text, im_id: int,
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
    key = _remember(acc._lib, handle, im_id)
    try:
        handle._c("im_send", C.pjffi_im_send, acc._id, to, len(to), mime, len(mime), content,
                  len(content), md, int_to_ptr(key))
    except Error as exc:
        with _pending_lock:
            _pending.pop(key, None)
        raise uri_error(exc, uri) from None
    except BaseException:
        with _pending_lock:
            _pending.pop(key, None)
        raise


def send_in_call(call: "Call", text: Text, im_id: int, content_type: str,
                 hdr_list: HeaderList) -> None:
    """Send a MESSAGE inside ``call``. Its status finds this Call object through the
    key in pjsua's user data even if the call has ended and its id was reused."""
    if isinstance(im_id, bool) or not isinstance(im_id, int):
        raise TypeError("im_id must be an int")
    keep: list = []
    mime = new_str(content_type, keep, "content_type")
    content = new_str(text, keep, "text")
    md = msg_data(keep, hdr_list)
    key = _remember(call._lib, call, im_id)
    try:
        call._c("call_send_im", C.pjsua_call_send_im, call._id, mime, content, md,
                int_to_ptr(key))
    except BaseException:
        with _pending_lock:
            _pending.pop(key, None)
        raise


def _remember(lib: Lib, sender: Union["Account", Buddy, "Call"], im_id: int) -> int:
    key = next(_keys)
    with _pending_lock:
        if len(_pending) >= _MAX_PENDING:
            _pending.popitem(last=False)  # O(1), however many were removed before it
        _pending[key] = (lib, sender, im_id)
    return key


def _recall(lib: Lib, key: int) -> Tuple[Optional[Union["Account", Buddy, Call]], int]:
    with _pending_lock:
        entry = _pending.pop(key, None)
    if entry is None or entry[0] is not lib:
        return None, key
    return entry[1], entry[2]


# ---------------------------------------------------------------------- C → Python


def _call_of(lib: Lib, ev: Any) -> Optional["Call"]:
    """The call a MESSAGE came in, from the user data C read when it arrived: asked
    again now, pjsua may have cleared it (a BYE right after resets the call slot)."""
    if ev.call_id < 0:
        return None
    return _call_for(lib, ev)


def _account_ref(lib: Lib, acc_id: int) -> Any:
    """The account, or its id if it is not known yet: an event may arrive while
    ``create_account`` is still running; it is resolved when delivered, under the
    library lock that ``create_account`` holds until the account is registered."""
    acc = lib._accounts.get(acc_id)
    return acc if acc is not None else acc_id


def _account(lib: Lib, ref: Any) -> Optional["Account"]:
    acc = lib._accounts.get(ref) if isinstance(ref, int) else ref
    return acc if acc is not None and not acc._deleted else None


def _ev_pager(lib: Lib, ev: Any) -> Delivery:
    mime = from_str(ev.s[3])
    body = MessageBody(from_str_bytes(ev.s[4]), mime)
    call = _call_of(lib, ev)
    if call is not None:
        return (_dispatch_call, call, None, "on_pager", mime, body)
    from_uri = from_str(ev.s[0])
    # No buddy lookup for a call we do not know: it would take pjsua's lock while the
    # call's dialog is locked.
    buddy = buddy_of(ev.acc_id, from_uri) if ev.call_id < 0 else None
    return (_deliver_pager, lib, None, _account_ref(lib, ev.acc_id), buddy, from_uri,
            from_str(ev.s[2]), mime, body)


def _deliver_pager(lib: Lib, snapshot: None, ref: Any, buddy: Optional[Buddy],
                   from_uri: str, contact: str, mime: str, body: MessageBody) -> None:
    acc = _account(lib, ref)
    if buddy is not None and not buddy._deleted:
        buddy._cb.on_pager(mime, body)
    elif acc is not None:
        acc._cb.on_pager(from_uri, contact, mime, body)


def _ev_pager_status(lib: Lib, ev: Any) -> Delivery:
    key = ptr_to_int(ev.user_data)
    body = MessageBody(from_str_bytes(ev.s[1]))
    code, reason = int(ev.code), from_str(ev.s[2])
    sender, im_id = _recall(lib, key)
    if ev.call_id >= 0 or isinstance(sender, Call):
        if isinstance(sender, Call):  # the call that sent it, whatever its id is now
            return (_dispatch_call, sender, None, "on_pager_status", body, im_id, code,
                    reason)
        return None
    ref = sender._acc if isinstance(sender, Buddy) else _account_ref(lib, ev.acc_id)
    to_uri = from_str(ev.s[0])
    if not isinstance(sender, Buddy) and sender is not None:
        # As in the legacy module: the status of a message an account sent to a buddy's
        # URI goes to that buddy's callback. Matched in Python (no pjsua call: this may
        # run after pjsua_destroy, when destroy() delivers what it raised).
        sender = next((b for b in list(getattr(sender, "_buddies", {}).values())
                       if not b._deleted and b._uri == to_uri), sender)
    return (_deliver_pager_status, lib, None, ref, sender, to_uri, body, im_id, code,
            reason)


def _deliver_pager_status(lib: Lib, snapshot: None, ref: Any, sender: Any, to_uri: str,
                          body: MessageBody, im_id: int, code: int, reason: str) -> None:
    acc = _account(lib, ref)
    if isinstance(sender, Buddy) and not sender._deleted:
        sender._cb.on_pager_status(body, im_id, code, reason)
    elif acc is not None:
        acc._cb.on_pager_status(to_uri, body, im_id, code, reason)


def _ev_typing(lib: Lib, ev: Any) -> Delivery:
    is_typing = int(ev.flag)  # an int, as the legacy module gives it
    call = _call_of(lib, ev)
    if call is not None:
        return (_dispatch_call, call, None, "on_typing", is_typing)
    from_uri = from_str(ev.s[0])
    buddy = buddy_of(ev.acc_id, from_uri) if ev.call_id < 0 else None
    return (_deliver_typing, lib, None, _account_ref(lib, ev.acc_id), buddy, from_uri,
            from_str(ev.s[2]), is_typing)


def _deliver_typing(lib: Lib, snapshot: None, ref: Any, buddy: Optional[Buddy],
                    from_uri: str, contact: str, is_typing: int) -> None:
    acc = _account(lib, ref)
    if buddy is not None and not buddy._deleted:
        buddy._cb.on_typing(is_typing)
    elif acc is not None:
        acc._cb.on_typing(from_uri, contact, is_typing)


def _ev_mwi_info(lib: Lib, ev: Any) -> Delivery:
    body = MessageBody(from_str_bytes(ev.s[0]), from_str(ev.s[1]))
    return (_deliver_mwi, lib, None, _account_ref(lib, ev.acc_id), body)


def _deliver_mwi(lib: Lib, snapshot: None, ref: Any, body: MessageBody) -> None:
    acc = _account(lib, ref)
    if acc is not None:
        acc._cb.on_mwi_info(body)


register_handler(C.PJFFI_EV_PAGER, _ev_pager)
register_handler(C.PJFFI_EV_PAGER_STATUS, _ev_pager_status)
register_handler(C.PJFFI_EV_TYPING, _ev_typing)
register_handler(C.PJFFI_EV_MWI_INFO, _ev_mwi_info)
