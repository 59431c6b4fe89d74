"""TLS settings for SIP transports, SRTP modes, TURN credentials, and what a call's
media transport reports about encryption (SRTP) and NAT traversal (ICE)."""

from __future__ import annotations

import ssl
from enum import IntEnum
from typing import Any, List, Optional

from ._binding import C, ffi, to_bytes
from .errors import Error

__all__ = ["TLSSetting", "SSLMethod", "SRTPUse", "IPv6Use", "MediaTransportInfo"]


class SSLMethod(IntEnum):
    """TLS protocol method (``pjsip_ssl_method``); UNSPECIFIED lets OpenSSL choose."""

    UNSPECIFIED = 0
    TLSV1 = 31
    TLSV1_1 = 32
    TLSV1_2 = 33
    TLSV1_3 = 34
    SSLV23 = 23


class SRTPUse(IntEnum):
    """Values of ``AccountConfig.use_srtp``."""

    DISABLED = 0
    OPTIONAL = 1
    MANDATORY = 2


class IPv6Use(IntEnum):
    """Values of ``AccountConfig.ipv6_media_use`` (``pjsua_ipv6_use``): whether a
    call's media may use IPv6. DISABLED (our default, as the legacy module's build had
    no IPv6 media) keeps media on IPv4. Otherwise an offer that pjsua answers follows
    the offer's address family; the offers an account makes use IPv6 with IPV6_ONLY
    (or PREFER_IPV6 when the host has a usable IPv6 address)."""

    DISABLED = 0
    ENABLED = 1
    PREFER_IPV4 = 2
    PREFER_IPV6 = 3
    IPV6_ONLY = 4


class TLSSetting:
    """TLS settings of a TLS transport (``TransportConfig.tls_setting``).

    ``verify_server`` makes outgoing connections fail unless the server's certificate
    chains to ``ca_list_file``/``ca_list_path`` and names the host of the URI
    (pjsip sends that host as the TLS server name); ``verify_client`` and
    ``require_client_cert`` do the same for incoming connections. A failed
    verification ends the connection, fails the request that needed it (a call ends
    with 503 and the reason as ``last_reason``; a registration with 503 and the reason
    in ``AccountInfo.reg_last_err_msg``) and is listed by :meth:`Lib.tls_failures`.
    ``ciphers`` holds OpenSSL cipher names; ``timeout`` is the handshake time-out in
    milliseconds (0: pjsip's default). pjsip 2.17 has no separate SNI setting: the
    server name sent and checked is always the URI's host.
    """

    def __init__(self) -> None:
        self.ca_list_file: str = ""
        self.ca_list_path: str = ""
        self.cert_file: str = ""
        self.privkey_file: str = ""
        self.password: str = ""
        self.method: int = int(SSLMethod.UNSPECIFIED)
        self.proto: int = 0
        self.ciphers: List[str] = []
        self.verify_server: bool = False
        self.verify_client: bool = False
        self.require_client_cert: bool = False
        self.timeout: int = 0


def fill_tls_setting(c: Any, tls: Optional[TLSSetting], keep: list) -> None:
    """Copy ``tls`` into a ``pjsua_transport_config *`` (its buffers go into ``keep``)."""
    if tls is None:
        return
    if not isinstance(tls, TLSSetting):
        raise TypeError("tls_setting must be a TLSSetting")
    _check_files(tls)
    t = ffi.new("pjffi_tls_cfg *")
    keep.append(t)
    for name in ("ca_list_file", "ca_list_path", "cert_file", "privkey_file", "password"):
        value = getattr(tls, name)
        if value:
            buf = ffi.new("char[]", to_bytes(value, name))
            keep.append(buf)
            setattr(t, name, buf)
    try:
        t.method = int(SSLMethod(int(tls.method)))
    except ValueError:
        raise ValueError(f"unknown TLS method {tls.method!r}") from None
    t.proto = int(tls.proto)
    if tls.ciphers:
        ids = []
        for name in tls.ciphers:
            cid = C.pjffi_ssl_cipher_id(to_bytes(name, "cipher"))
            if cid < 0:
                raise ValueError(f"cipher {name!r} is not supported by this build")
            ids.append(cid)
        arr = ffi.new("int[]", ids)
        keep.append(arr)
        t.ciphers = arr
        t.ciphers_num = len(ids)
    t.verify_server = bool(tls.verify_server)
    t.verify_client = bool(tls.verify_client)
    t.require_client_cert = bool(tls.require_client_cert)
    timeout = int(tls.timeout)
    if timeout < 0:
        raise ValueError("timeout must be >= 0")
    t.timeout_ms = timeout
    C.pjffi_tls_apply(c, t)


def _check_files(tls: TLSSetting) -> None:
    """Load the certificate, key and CA files once now, so that a missing, unreadable
    or mismatched file (or a wrong key password) is an :class:`Error` here rather
    than a failed handshake later (pjsip reads them only when a connection starts)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        if tls.cert_file or tls.privkey_file:
            what = f"certificate {tls.cert_file!r} with key {tls.privkey_file!r}"
            # Never None: OpenSSL would ask for a missing password on the terminal.
            ctx.load_cert_chain(tls.cert_file, tls.privkey_file or None,
                                password=tls.password or "")
        if tls.ca_list_file or tls.ca_list_path:
            what = f"CA list {tls.ca_list_file or tls.ca_list_path!r}"
            ctx.load_verify_locations(tls.ca_list_file or None, tls.ca_list_path or None)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", None) or exc.strerror or str(exc)
        raise Error("transport_create", None, C.PJ_EINVAL,
                    f"TLS {what} cannot be used: {reason}") from None


def fill_turn_cred(c: Any, cred: Any, keep: list) -> None:
    """Set the TURN credential (an ``AuthCred``, checked by the caller) of a
    ``pjsua_media_config *``."""
    if cred is None:
        return
    bufs = [ffi.new("char[]", to_bytes(v, n)) for v, n in
            ((cred.realm, "realm"), (cred.username, "username"), (cred.passwd, "passwd"))]
    keep.extend(bufs)
    C.pjffi_turn_cred(c, bufs[0], bufs[1], int(cred.passwd_type), bufs[2])


def fill_ice_options(c: Any, cfg: Any) -> None:
    """ICE options of a MediaConfig (``None`` keeps pjsua's default)."""
    def opt(name: str) -> int:
        value = getattr(cfg, name, None)
        return -1 if value is None else int(value)

    host, aggressive, trickle = opt("ice_max_host_cands"), opt("ice_aggressive"), \
        opt("ice_trickle")
    if trickle > 2:
        raise ValueError("ice_trickle must be 0 (off), 1 (half) or 2 (full)")
    C.pjffi_media_ice(c, host, aggressive, trickle)


def _text(buf: Any) -> str:
    return ffi.string(buf).decode("utf-8", "replace")


class MediaTransportInfo:
    """What a call's audio transport reports (:meth:`Call.media_transport_info`).

    ``srtp_active`` is True when the audio is encrypted (``srtp_suite`` names the
    crypto suite); ``ice_active`` when ICE completed, with ``ice_state``, the role,
    and the chosen pair: ``local_candidate``/``remote_candidate`` as
    ``(type, "address:port")`` with type ``host``, ``srflx``, ``prflx`` or ``relay``.
    ``local_rtp`` is the address the transport advertises, ``remote_rtp`` where the
    peer's RTP last came from.
    """

    def __init__(self, m: Any = None) -> None:
        self.srtp_active = False
        self.srtp_suite = ""
        self.ice_active = False
        self.ice_state = ""
        self.ice_role = ""
        self.local_candidate = ("", "")
        self.remote_candidate = ("", "")
        self.local_rtp = ""
        self.remote_rtp = ""
        if m is None:
            return
        self.srtp_active = bool(m.srtp_active)
        self.srtp_suite = _text(m.srtp_suite)
        self.ice_active = bool(m.ice_active)
        self.ice_state = _text(m.ice_state)
        self.ice_role = {0: "", 1: "controlled", 2: "controlling"}.get(m.ice_role, "")
        self.local_candidate = (_text(m.lcand_type), _text(m.lcand_addr))
        self.remote_candidate = (_text(m.rcand_type), _text(m.rcand_addr))
        self.local_rtp = _text(m.local_rtp)
        self.remote_rtp = _text(m.src_rtp)

    def __repr__(self) -> str:
        return (f"<MediaTransportInfo srtp={self.srtp_active} {self.srtp_suite!r} "
                f"ice={self.ice_active} {self.ice_state!r} {self.local_candidate}"
                f" -> {self.remote_candidate}>")
