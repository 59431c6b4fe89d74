"""pjsua-ffi: PJSIP's pjsua API for Python 3, through cffi.

A drop-in replacement for the legacy ``pjsua`` module: ``import pjsua_ffi as pj``
(or keep ``import pjsua``) and use :class:`Lib`, :class:`Account`, :class:`Call`, …
"""

from __future__ import annotations

from .account import Account, AccountCallback, AccountInfo
from .audio_ports import AudioSink, AudioSource, AudioStats
from .buddy import Buddy, BuddyCallback, BuddyInfo, BuddyStatus, Watcher
from .call import Call, CallCallback, CallInfo, RxData
from .config import AccountConfig, AuthCred, LogConfig, MediaConfig, TransportConfig, UAConfig
from .constants import (
                     CallRole,
                     CallState,
                     MediaDir,
                     MediaState,
                     PresenceActivity,
                     SubscriptionState,
                     TransportFlag,
                     TransportType,
                     TURNConnType,
)
from .errors import Error
from .im import MessageBody
from .lib import Lib
from .media import CodecInfo, CodecParameter, ConfPortInfo, SoundDeviceInfo, StreamStats
from .security import IPv6Use, MediaTransportInfo, SRTPUse, SSLMethod, TLSSetting
from .transport import Transport, TransportInfo
from .uri import SIPUri

__version__ = "0.1.0"

__all__ = [
    "Account", "AccountCallback", "AccountConfig", "AccountInfo", "AudioSink", "AudioSource",
    "AudioStats", "AuthCred", "Buddy", "BuddyCallback", "BuddyInfo", "BuddyStatus", "Call",
    "CallCallback", "CallInfo", "CallRole", "CallState", "CodecInfo", "CodecParameter",
    "ConfPortInfo", "Error", "IPv6Use", "Lib", "LogConfig", "MediaConfig", "MediaDir", "MediaState",
    "MediaTransportInfo", "MessageBody", "PresenceActivity", "RxData", "SIPUri",
    "SoundDeviceInfo", "SRTPUse", "SSLMethod", "StreamStats", "SubscriptionState",
    "TLSSetting", "TURNConnType",
    "Transport", "TransportConfig", "TransportFlag", "TransportInfo", "TransportType",
    "UAConfig", "Watcher",
]
