"""A small SIP URI value (parse ``sip:user@host:port;transport=x`` and build it back), and
the cheap checks made on a URI before pjsua parses it."""

from __future__ import annotations

import re
from typing import Any, Optional

from ._binding import C
from .errors import Error

__all__ = ["SIPUri"]

_URI = re.compile(
    r"""^\s*(?:(?:"[^"]*"|[^<"]*?)\s*<)?      # optional display name and '<'
        (?P<scheme>sips?):
        (?:(?P<user>[^@;>?]*)@)?
        (?P<host>\[[0-9A-Fa-f:.]+\]|[^:;>?]+)
        (?::(?P<port>\d+))?
        (?P<params>;[^>?]*)?
        (?:\?[^>]*)?>?\s*$""",
    re.X,
)


class NotASipUri(ValueError, TypeError):
    """Raised by :class:`SIPUri` for text that is not a SIP URI: a ValueError, and a
    TypeError as the legacy module raises then (its parser's None fails to unpack)."""


class SIPUri:
    """The parts of a SIP URI: ``scheme``, ``user``, ``host``, ``port`` (0 when absent)
    and the ``transport`` parameter."""

    def __init__(self, uri: Optional[str] = None) -> None:
        self.scheme = ""
        self.user = ""
        self.host = ""
        self.port = 0
        self.transport = ""
        if uri:
            self.decode(uri)

    def decode(self, uri: str) -> None:
        """Fill the parts from ``uri``; raises :class:`NotASipUri` (a ValueError and a
        TypeError) if it is not a SIP URI."""
        m = _URI.match(uri)
        if not m:
            raise NotASipUri(f"not a SIP URI: {uri!r}")
        self.scheme = m.group("scheme")
        self.user = m.group("user") or ""
        self.host = m.group("host")
        self.port = int(m.group("port") or 0)
        self.transport = ""
        for param in (m.group("params") or "").split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "transport":
                self.transport = value.strip()

    def encode(self) -> str:
        """The URI as text."""
        out = f"{self.scheme}:"  # as legacy: an empty scheme stays empty
        if self.user:
            out += f"{self.user}@"
        out += self.host
        if self.port:
            out += f":{self.port}"
        if self.transport:
            out += f";transport={self.transport}"
        return out


# ---------------------------------------------------------------------- checks

_URI_ERRORS = frozenset((C.PJSIP_EINVALIDURI, C.PJSIP_EINVALIDREQURI,
                         C.PJSIP_EINVALIDSCHEME, C.PJSIP_EINVALIDMSG))


def _uri_text(op: str, uri: Any, obj: Any, code: int = C.PJSIP_EINVALIDURI) -> None:
    """Cheap checks for operations whose C call parses the URI itself. A failure has
    the status pjsua's parser gives the same URI (``code``: PJSIP_EINVALIDREQURI where
    it is a request's target), as the legacy module reports."""
    if not isinstance(uri, str):
        raise TypeError(f"a SIP URI must be str, not {type(uri).__name__}")
    if not uri or "\x00" in uri or len(uri) > 2000 or ":" not in uri:
        raise Error(op, obj, code)  # pjsua's text for the status, as legacy shows


def uri_error(exc: Error, uri: str) -> Error:
    """A pjsip URI parse failure as the legacy module reports it: pjsua's status and
    its text (the URI is in the exception's ``uri`` attribute)."""
    if exc.err_code in _URI_ERRORS:
        exc.uri = uri  # type: ignore[attr-defined]
    return exc
