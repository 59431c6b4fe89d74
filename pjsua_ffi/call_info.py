"""What a call event carries: :class:`CallInfo`, a snapshot of the call, and
:class:`RxData`, a received request as text."""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

from ._binding import from_str
from ._core import Core
from .constants import CallRole, CallState, MediaDir, MediaState

__all__ = ["CallInfo", "RxData"]

_ROLES = tuple(CallRole)
_STATES = tuple(CallState)
_MEDIA = tuple(MediaState)
_DIRS = tuple(MediaDir)


class RxData:
    """A received SIP request as text. As in the legacy module, ``msg_info_buffer`` is
    the whole message and ``msg_info_info`` pjsip's one-line description of it; beyond
    it, ``msg_info`` (the message again), ``src_address`` (where it came from) and
    ``header(name)``, which finds a header's value."""

    def __init__(self, msg_info: str = "", src_address: str = "", info: str = "") -> None:
        self.msg_info = msg_info
        self.src_address = src_address
        self.msg_info_info = info

    @property
    def msg_info_buffer(self) -> str:
        return self.msg_info

    def header(self, name: str) -> Optional[str]:
        """The first value of header ``name`` (case-insensitive), or None."""
        head = self.msg_info.split("\r\n\r\n", 1)[0]
        want = name.lower()
        for line in head.split("\r\n")[1:]:
            key, sep, value = line.partition(":")
            if sep and key.strip().lower() == want:
                return value.strip()
        return None

    @property
    def body(self) -> str:
        parts = self.msg_info.split("\r\n\r\n", 1)
        return parts[1] if len(parts) == 2 else ""


def _enum_of(values: Tuple[Any, ...], kind: Any) -> Any:
    # Enum members come from a tuple, not an Enum call: this runs for every call event.
    def get(v: int) -> Any:
        return values[v] if 0 <= v < len(values) else kind(v)
    return get


_state_of = _enum_of(_STATES, CallState)
_media_of = _enum_of(_MEDIA, MediaState)

# How each field is read from a pjsua_call_info.
_FIELDS: Dict[str, Callable[[Any], Any]] = {
    "role": lambda ci: _ROLES[ci.role & 1],
    "uri": lambda ci: from_str(ci.local_info),
    "contact": lambda ci: from_str(ci.local_contact),
    "remote_uri": lambda ci: from_str(ci.remote_info),
    "remote_contact": lambda ci: from_str(ci.remote_contact),
    "sip_call_id": lambda ci: from_str(ci.call_id),
    "state": lambda ci: _state_of(ci.state),
    "state_text": lambda ci: from_str(ci.state_text),
    "last_code": lambda ci: ci.last_status,
    "last_reason": lambda ci: from_str(ci.last_status_text),
    "media_state": lambda ci: _media_of(ci.media_status),
    "media_dir": lambda ci: _DIRS[ci.media_dir & 3],
    "conf_slot": lambda ci: ci.conf_slot,
    # Seconds as a float with milliseconds, as the legacy module gives them.
    "call_time": lambda ci: (ci.connect_duration.sec * 1000 + ci.connect_duration.msec) / 1000,
    "total_time": lambda ci: (ci.total_duration.sec * 1000 + ci.total_duration.msec) / 1000,
}


class CallInfo:
    """A snapshot of a call. Inside a call callback, ``call.info()`` returns the snapshot
    taken when the event happened, so it never shows a later state than the event.

    Built for every call event, so a field is converted from C on first use; the
    snapshot holds the C copy it reads from until then."""

    role: CallRole
    account: Any  # the Account, or None
    uri: str
    contact: str
    remote_uri: str
    remote_contact: str
    sip_call_id: str
    state: CallState
    state_text: str
    last_code: int
    last_reason: str
    media_state: MediaState
    media_dir: MediaDir
    conf_slot: int
    call_time: float
    total_time: float

    def __init__(self, lib: Optional[Core] = None, ci: Any = None, owner: Any = None) -> None:
        # ``ci`` must stay valid while this object lives: it is either owned by the
        # caller's cdata (kept here) or lives inside ``owner``.
        self._ci = ci
        self._owner = owner
        if ci is None:
            self.__dict__.update(_DEFAULTS)
        else:  # the account as it is now, not when the field is first read
            self.account = lib._reg.accounts.get(ci.acc_id) if lib is not None else None


class _Lazy:
    """A CallInfo field read from the C copy on first use, then kept in the instance's
    ``__dict__`` (which Python looks in before this non-data descriptor). A descriptor
    rather than ``__getattr__``: a miss there costs an AttributeError raised and
    dropped on every first read."""

    __slots__ = ("name", "get")

    def __init__(self, name: str, get: Callable[[Any], Any]) -> None:
        self.name = name
        self.get = get

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        value = self.get(obj._ci)
        obj.__dict__[self.name] = value
        return value


for _name, _get in _FIELDS.items():
    setattr(CallInfo, _name, _Lazy(_name, _get))
del _name, _get


_DEFAULTS: Dict[str, Any] = {
    "role": CallRole.CALLER, "account": None, "uri": "", "contact": "", "remote_uri": "",
    "remote_contact": "", "sip_call_id": "", "state": CallState.NULL, "state_text": "",
    "last_code": 0, "last_reason": "", "media_state": MediaState.NULL,
    "media_dir": MediaDir.NULL, "conf_slot": -1, "call_time": 0, "total_time": 0,
}
