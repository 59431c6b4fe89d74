"""Enumerations shared by the facade; values are pjsua's and the legacy module's."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["TransportType", "TransportFlag", "CallRole", "CallState", "MediaState",
           "MediaDir", "PresenceActivity", "SubscriptionState", "TURNConnType"]


class TransportType(IntEnum):
    """SIP transport kinds (``pjsip_transport_type_e``)."""

    UNSPECIFIED = 0
    UDP = 1
    TCP = 2
    TLS = 3
    IPV6 = 128
    UDP_IPV6 = 129
    TCP_IPV6 = 130
    TLS_IPV6 = 131


class TransportFlag(IntEnum):
    """Bits of a transport's flag word."""

    RELIABLE = 1
    SECURE = 2
    DATAGRAM = 4


class CallRole(IntEnum):
    CALLER = 0
    CALLEE = 1


class CallState(IntEnum):
    """INVITE session states (``pjsip_inv_state``)."""

    NULL = 0
    CALLING = 1
    INCOMING = 2
    EARLY = 3
    CONNECTING = 4
    CONFIRMED = 5
    DISCONNECTED = 6


class MediaState(IntEnum):
    """A call's media status (``pjsua_call_media_status``)."""

    NULL = 0
    ACTIVE = 1
    LOCAL_HOLD = 2
    REMOTE_HOLD = 3
    ERROR = 4


class MediaDir(IntEnum):
    NULL = 0
    ENCODING = 1
    DECODING = 2
    ENCODING_DECODING = 3


class PresenceActivity(IntEnum):
    UNKNOWN = 0
    AWAY = 1
    BUSY = 2


class SubscriptionState(IntEnum):
    """Event subscription states (``pjsip_evsub_state``)."""

    NULL = 0
    SENT = 1
    ACCEPTED = 2
    PENDING = 3
    ACTIVE = 4
    TERMINATED = 5
    UNKNOWN = 6


class TURNConnType(IntEnum):
    UDP = 17
    TCP = 6
    TLS = 255
