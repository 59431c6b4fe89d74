"""SIP transports (UDP, TCP, TLS; IPv4 and IPv6)."""

from __future__ import annotations

from typing import Any

from ._binding import PJ_ENOTSUP, C, ffi, from_str
from ._core import Core
from ._object import _Handle
from .constants import TransportFlag
from .errors import Error, legacy_ops

__all__ = ["Transport", "TransportInfo"]


class TransportInfo:
    """A snapshot of a transport: kind, flags, and the address it advertises."""

    def __init__(self, ti: Any = None) -> None:
        self.type = ""
        self.description = ""
        self.is_reliable: int = False
        self.is_secure: int = False
        self.is_datagram: int = False
        self.host = ""
        self.port = 0
        self.ref_cnt = 0
        if ti is None:
            return
        self.type = from_str(ti.type_name)
        self.description = from_str(ti.info)
        # The flag bits themselves (ints, 0 when unset), as the legacy module has them.
        self.is_reliable = int(ti.flag & TransportFlag.RELIABLE)
        self.is_secure = int(ti.flag & TransportFlag.SECURE)
        self.is_datagram = int(ti.flag & TransportFlag.DATAGRAM)
        n = ffi.new("long *")
        host = C.pjffi_transport_host(ti, n)
        self.host = ffi.unpack(host, n[0]).decode("utf-8", "replace") if host else ""
        self.port = C.pjffi_transport_port(ti)
        self.ref_cnt = int(ti.usage_count)


@legacy_ops()
class Transport(_Handle):
    """A SIP transport created by :meth:`Lib.create_transport`."""

    def __init__(self, lib: Core, id: int) -> None:  # noqa: A002  (legacy name)
        self._lib = lib
        self._id = id
        self._closed = False
        ti = ffi.new("pjsua_transport_info *")  # created by the caller: it is alive
        C.pjsua_transport_get_info(id, ti)
        self._obj_name = "{Transport " + from_str(ti.info) + "}"

    def _check(self, op: str) -> None:
        if self._closed:  # PJ_EINVAL: what pjsua answers the legacy module then
            raise Error(op, self, C.PJ_EINVAL)

    def info(self) -> TransportInfo:
        """Kind, flags and advertised address of this transport."""
        ti = ffi.new("pjsua_transport_info *")
        try:
            self._c("info()", C.pjsua_transport_get_info, self._id, ti)
        except Error:  # closed, or the library destroyed: as the legacy module says it
            raise Error("info()", self, -1, "Invalid transport") from None
        return TransportInfo(ti)

    def enable(self) -> None:
        """Not supported by pjsua (its enable/disable call is unimplemented): raises."""
        raise Error("transport_set_enable", self, PJ_ENOTSUP)

    def disable(self) -> None:
        """Not supported by pjsua (its enable/disable call is unimplemented): raises."""
        raise Error("transport_set_enable", self, PJ_ENOTSUP)

    def close(self, force: bool = False) -> None:
        """Close the transport; it cannot be used afterwards."""
        self._c("transport_close", C.pjsua_transport_close, self._id, bool(force))
        self._closed = True
