"""A small SIP URI value: parse ``sip:user@host:port;transport=x`` and build it back."""

from __future__ import annotations

import re
from typing import Optional

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
        """Fill the parts from ``uri``; raises ValueError if it is not a SIP URI."""
        m = _URI.match(uri)
        if not m:
            raise ValueError(f"not a SIP URI: {uri!r}")
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
        out = f"{self.scheme or 'sip'}:"
        if self.user:
            out += f"{self.user}@"
        out += self.host
        if self.port:
            out += f":{self.port}"
        if self.transport:
            out += f";transport={self.transport}"
        return out

    def __str__(self) -> str:
        return self.encode()
