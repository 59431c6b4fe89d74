"""Thin layer over the compiled ``_pjsua`` module: C names kept, nothing Pythonic.

It turns status codes into :class:`Error`, builds ``pj_str_t`` values and message data
from Python strings, and reads C strings back. Memory that C reads after a helper
returns is appended to a caller-provided ``keep`` list, which the caller holds until
the pjsua call that uses it has returned.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence, Tuple, Union

try:
    from ._pjsua import ffi
except ImportError as exc:
    if "libasound" not in str(exc):
        raise
    # The wheel takes ALSA from the system (see the README): say which package that is.
    raise ImportError(f"{exc}: pjsua_ffi needs the system's ALSA library "
                      "(Debian/Ubuntu: apt-get install libasound2; Fedora: alsa-lib)") from exc
from ._pjsua import lib as C  # noqa: N812  (C is the conventional name here)
from .errors import set_status_text

__all__ = ["ffi", "C", "strerror", "to_bytes", "set_str", "new_str", "from_str",
           "msg_data", "int_to_ptr", "ptr_to_int", "Text", "HeaderList"]

Text = Union[str, bytes]
HeaderList = Optional[Sequence[Tuple[Text, Text]]]

PJ_SUCCESS = C.PJ_SUCCESS
PJ_EINVAL = C.PJ_EINVAL
PJ_ENOTSUP = C.PJ_ENOTSUP
PJ_ENOTFOUND = C.PJ_ENOTFOUND
PJ_EINVALIDOP = C.PJ_EINVALIDOP
INVALID_ID = C.PJSUA_INVALID_ID


_VOIDP = ffi.typeof("void *")
_INTPTR = ffi.typeof("intptr_t")


def int_to_ptr(value: int, _cast: Any = ffi.cast) -> Any:
    """An integer token as a ``void *`` (no C call, so the GIL is kept)."""
    return _cast(_VOIDP, value)


def ptr_to_int(ptr: Any, _cast: Any = ffi.cast) -> int:
    """A ``void *`` token back as an integer."""
    return int(_cast(_INTPTR, ptr))


def strerror(code: int) -> str:
    """pjlib's text for a status code."""
    buf = ffi.new("char[]", 160)
    s = C.pj_strerror(int(code), buf, 160)
    return ffi.unpack(s.ptr, s.slen).decode("utf-8", "replace")


set_status_text(strerror)


def to_bytes(value: Text, what: str = "value") -> bytes:
    """UTF-8 bytes of a str (bytes pass through); other types are a TypeError."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def set_str(field: Any, value: Text, keep: list, what: str = "value") -> None:
    """Point a ``pj_str_t`` struct field at a copy of ``value`` kept in ``keep``."""
    data = to_bytes(value, what)
    buf = ffi.new("char[]", data)
    keep.append(buf)
    field.ptr = buf
    field.slen = len(data)


def new_str(value: Text, keep: list, what: str = "value") -> Any:
    """A new ``pj_str_t *`` holding ``value``."""
    p = ffi.new("pj_str_t *")
    keep.append(p)
    set_str(p, value, keep, what)
    return p


def from_str(s: Any, _unpack: Any = ffi.unpack) -> str:
    """A ``pj_str_t`` as text; invalid UTF-8 is replaced, never an exception."""
    n = s.slen
    if n <= 0:
        return ""
    ptr = s.ptr
    return _unpack(ptr, n).decode("utf-8", "replace") if ptr else ""


def from_str_bytes(s: Any) -> bytes:
    if s.ptr == ffi.NULL or s.slen <= 0:
        return b""
    return ffi.unpack(s.ptr, s.slen)


def msg_data(keep: list, hdr_list: HeaderList = None, content_type: Optional[Text] = None,
             body: Optional[Text] = None) -> Any:
    """A ``pjsua_msg_data *`` with custom headers and an optional body, or NULL."""
    if not hdr_list and body is None:
        return ffi.NULL
    m = ffi.new("pjffi_msg_data *")
    keep.append(m)
    C.pjffi_msg_data_init(m)
    for item in _headers(hdr_list):
        name, value = item
        nb = to_bytes(name, "header name")
        vb = to_bytes(value, "header value")
        if not nb or b":" in nb or any(c in nb for c in b" \r\n\t"):
            raise ValueError(f"invalid header name {name!r}")
        if b"\r" in vb or b"\n" in vb:
            raise ValueError(f"header value of {name!r} may not contain line breaks")
        nbuf, vbuf = ffi.new("char[]", nb), ffi.new("char[]", vb)
        keep += (nbuf, vbuf)
        if C.pjffi_msg_data_add_hdr(m, nbuf, len(nb), vbuf, len(vb)) != 0:
            raise ValueError(f"at most {C.PJFFI_MSG_MAX_HDRS} custom headers per request")
    if body is not None:
        cb = to_bytes(content_type or "text/plain", "content_type")
        bb = to_bytes(body, "body")
        cbuf, bbuf = ffi.new("char[]", cb), ffi.new("char[]", bb)
        keep += (cbuf, bbuf)
        C.pjffi_msg_data_set_body(m, cbuf, len(cb), bbuf, len(bb))
    return ffi.addressof(m, "md")


def _headers(hdr_list: Any) -> Iterable[Tuple[Text, Text]]:
    if hdr_list is None:
        return ()
    if isinstance(hdr_list, (str, bytes)) or not hasattr(hdr_list, "__iter__"):
        raise TypeError("hdr_list must be a list of (name, value) pairs")
    out = []
    for item in hdr_list:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError("hdr_list must be a list of (name, value) pairs")
        out.append((item[0], item[1]))
    return out
