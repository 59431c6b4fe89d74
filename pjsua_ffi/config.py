"""Configuration objects (plain attributes, legacy names and defaults) and their C form."""

from __future__ import annotations

from typing import Any, Callable, List, Optional

from ._binding import C, ffi, set_str
from .constants import TURNConnType
from .security import IPv6Use, TLSSetting, fill_ice_options, fill_tls_setting, fill_turn_cred

__all__ = ["UAConfig", "LogConfig", "MediaConfig", "TransportConfig", "AuthCred",
           "AccountConfig"]


class UAConfig:
    """User-agent settings given to :meth:`Lib.init`.

    ``max_calls`` keeps the legacy default of 4; the build allows up to 1024.
    """

    def __init__(self) -> None:
        self.max_calls: int = 4
        self.nameserver: List[str] = []
        self.stun_domain: str = ""
        self.stun_host: str = ""
        self.user_agent: str = "pjsip python"
        # Beyond the legacy module:
        self.outbound_proxy: List[str] = []
        self.stun_ignore_failure: bool = True
        self.enable_unsolicited_mwi: bool = True
        self.text_streams: bool = False  # offer RFC 4103 text in calls (stalls hangup)
        self.follow_redirects: bool = False  # follow a 3xx's Contact (pjsua: stop)


class LogConfig:
    """Logging settings: pjsua's lines go to Python's ``logging`` (logger
    ``pjsua_ffi.pjsip``) up to ``level``, and to ``callback(level, text, length)`` —
    or, without a callback, to standard output — up to ``console_level``."""

    def __init__(self, level: int = -1, filename: str = "",
                 callback: Optional[Callable[[int, str, int], Any]] = None,
                 console_level: int = -1) -> None:
        self.msg_logging: bool = True
        self.level: int = 5 if level == -1 else level
        self.console_level: int = 5 if console_level == -1 else console_level
        self.decor: int = 0
        self.filename: str = filename
        self.callback = callback


class MediaConfig:
    """Media settings for the conference bridge, codecs and media transports."""

    def __init__(self) -> None:
        self.clock_rate: int = 16000
        self.snd_clock_rate: int = 0
        self.snd_auto_close_time: int = 5
        self.channel_count: int = 1
        self.audio_frame_ptime: int = 20
        self.max_media_ports: int = 32
        self.quality: int = 6
        self.ptime: int = 0
        self.no_vad: bool = False
        self.ilbc_mode: int = 30
        self.tx_drop_pct: int = 0
        self.rx_drop_pct: int = 0
        self.ec_options: int = 0
        self.ec_tail_len: int = 256
        self.jb_min: int = -1
        self.jb_max: int = -1
        self.enable_ice: bool = True
        self.enable_turn: bool = False
        self.turn_server: str = ""
        self.turn_conn_type: int = TURNConnType.UDP
        self.turn_cred: Any = None
        # Beyond the legacy module (None: pjsua's default): how many host candidates
        # ICE offers (0 with TURN and no STUN: relay only), aggressive nomination, and
        # trickle ICE (0 off, 1 half, 2 full).
        self.ice_max_host_cands: Optional[int] = None
        self.ice_aggressive: Optional[bool] = None
        self.ice_trickle: Optional[int] = None


class TransportConfig:
    """Where a transport listens: ``port`` 0 picks any free port."""

    def __init__(self, port: int = 0, bound_addr: str = "", public_addr: str = "") -> None:
        self.port = port
        self.bound_addr = bound_addr
        self.public_addr = public_addr
        self.qos_type: int = 0
        self.qos_params_flags: int = 0
        self.qos_params_dscp_val: int = 0
        self.qos_params_so_prio: int = 0
        self.qos_params_wmm_prio: int = 0
        self.tls_setting: TLSSetting = TLSSetting()  # used by TLS transports only


class AuthCred:
    """A digest credential; ``passwd_type`` 0 is a plain password."""

    def __init__(self, realm: str, username: str, passwd: str, scheme: str = "Digest",
                 passwd_type: int = 0) -> None:
        self.scheme = scheme
        self.realm = realm
        self.username = username
        self.passwd_type = passwd_type
        self.passwd = passwd


class AccountConfig:
    """Account settings. ``AccountConfig(domain, username, password, …)`` fills in the
    identity, registrar, proxy and credential in one go."""

    def __init__(self, domain: str = "", username: str = "", password: str = "",
                 display: str = "", registrar: str = "", proxy: str = "") -> None:
        self.priority: int = 0
        self.id: str = ""
        self.force_contact: str = ""
        self.reg_uri: str = ""
        self.reg_timeout: int = 0
        self.require_100rel: bool = False
        self.publish_enabled: bool = False
        self.pidf_tuple_id: str = ""
        self.proxy: List[str] = []
        self.auth_cred: List[AuthCred] = []
        self.auth_initial_send: bool = False
        self.auth_initial_algorithm: str = ""
        self.transport_id: int = -1
        self.allow_contact_rewrite: bool = True
        self.ka_interval: int = 15
        self.ka_data: str = "\r\n"
        self.use_srtp: int = 0
        self.srtp_secure_signaling: int = 1
        self.rtp_transport_cfg: Optional[TransportConfig] = None
        self.mwi_enabled: bool = False
        self.ipv6_media_use: int = IPv6Use.DISABLED  # IPv4 media, as in the legacy build
        if domain:
            self.build_config(domain, username, password, display, registrar, proxy)

    def build_config(self, domain: str, username: str, password: str, display: str = "",
                     registrar: str = "", proxy: str = "",
                     rtp_transport_cfg: Optional[TransportConfig] = None) -> None:
        """Derive id, reg_uri, proxy and credentials from a domain and user."""
        user = f"{username}@" if username else ""
        name = f"{display} " if display else ""
        self.id = f"{name}<sip:{user}{domain}>"
        self.reg_uri = registrar or f"sip:{domain}"
        route = proxy or registrar
        if route:
            if ";lr" not in route:
                route += ";lr"
            self.proxy.append(route)
        if username:
            self.auth_cred.append(AuthCred("*", username, password))
        self.rtp_transport_cfg = rtp_transport_cfg or TransportConfig()


# --------------------------------------------------------------------------- C form


def fill_transport_config(c: Any, cfg: Optional[TransportConfig], keep: list) -> None:
    C.pjsua_transport_config_default(c)
    if cfg is None:
        return
    if not isinstance(cfg, TransportConfig):
        raise TypeError("cfg must be a TransportConfig")
    if not 0 <= int(cfg.port) <= 65535:
        raise ValueError(f"port {cfg.port} is out of range")
    c.port = int(cfg.port)
    if cfg.bound_addr:
        set_str(c.bound_addr, cfg.bound_addr, keep, "bound_addr")
    if cfg.public_addr:
        set_str(c.public_addr, cfg.public_addr, keep, "public_addr")
    c.qos_type = int(cfg.qos_type)
    fill_tls_setting(c, getattr(cfg, "tls_setting", None), keep)


def fill_ua_config(c: Any, cfg: UAConfig, keep: list) -> None:
    C.pjsua_config_default(c)
    max_calls = int(cfg.max_calls)
    if not 1 <= max_calls <= C.PJFFI_MAX_CALLS:
        raise ValueError(f"max_calls must be between 1 and {C.PJFFI_MAX_CALLS}")
    c.max_calls = max_calls
    c.thread_cnt = 0  # the callback thread (or handle_events) polls pjsua
    if len(cfg.nameserver) > 4:
        raise ValueError("at most 4 name servers")
    for i, ns in enumerate(cfg.nameserver):
        set_str(c.nameserver[i], ns, keep, "nameserver")
    c.nameserver_count = len(cfg.nameserver)
    if len(cfg.outbound_proxy) > 4:
        raise ValueError("at most 4 outbound proxies")
    for i, px in enumerate(cfg.outbound_proxy):
        set_str(c.outbound_proxy[i], px, keep, "outbound_proxy")
    c.outbound_proxy_cnt = len(cfg.outbound_proxy)
    if cfg.stun_domain:
        set_str(c.stun_domain, cfg.stun_domain, keep, "stun_domain")
    if cfg.stun_host:
        set_str(c.stun_host, cfg.stun_host, keep, "stun_host")
    c.stun_ignore_failure = bool(cfg.stun_ignore_failure)
    c.enable_unsolicited_mwi = bool(cfg.enable_unsolicited_mwi)
    set_str(c.user_agent, cfg.user_agent, keep, "user_agent")


def fill_log_config(c: Any, cfg: LogConfig, keep: list) -> None:
    C.pjsua_logging_config_default(c)
    c.msg_logging = bool(cfg.msg_logging)
    level = max(0, min(6, int(cfg.level)))
    c.level = level
    # pjsua hands our writer only lines up to console_level; we filter again ourselves.
    c.console_level = level
    if cfg.decor:
        c.decor = int(cfg.decor)
    if cfg.filename:
        set_str(c.log_filename, cfg.filename, keep, "filename")


def fill_media_config(c: Any, cfg: MediaConfig, max_calls: int, keep: list) -> None:
    C.pjsua_media_config_default(c)
    c.clock_rate = int(cfg.clock_rate)
    c.snd_clock_rate = int(cfg.snd_clock_rate)
    c.snd_auto_close_time = int(cfg.snd_auto_close_time)
    c.channel_count = int(cfg.channel_count)
    c.audio_frame_ptime = int(cfg.audio_frame_ptime)
    # Every call needs a bridge slot; keep room for players, recorders and ports too.
    c.max_media_ports = max(int(cfg.max_media_ports), max_calls + 64)
    c.quality = int(cfg.quality)
    c.ptime = int(cfg.ptime)
    c.no_vad = bool(cfg.no_vad)
    c.ilbc_mode = int(cfg.ilbc_mode)
    for name in ("tx_drop_pct", "rx_drop_pct"):
        pct = int(getattr(cfg, name))
        if not 0 <= pct <= 100:
            raise ValueError(f"{name} must be 0..100")
        setattr(c, name, pct)
    c.ec_options = int(cfg.ec_options)
    c.ec_tail_len = int(cfg.ec_tail_len)
    c.jb_min_pre = int(cfg.jb_min)
    c.jb_max = int(cfg.jb_max)
    c.enable_ice = bool(cfg.enable_ice)
    c.enable_turn = bool(cfg.enable_turn)
    if cfg.turn_server:
        set_str(c.turn_server, cfg.turn_server, keep, "turn_server")
    c.turn_conn_type = int(cfg.turn_conn_type)
    fill_turn_cred(c, cfg.turn_cred, keep)
    fill_ice_options(c, cfg)


def fill_acc_config(c: Any, cfg: AccountConfig, keep: list) -> None:
    if not isinstance(cfg, AccountConfig):
        raise TypeError("acc_config must be an AccountConfig")
    C.pjsua_acc_config_default(c)
    c.priority = int(cfg.priority)
    set_str(c.id, cfg.id, keep, "id")
    if cfg.reg_uri:
        set_str(c.reg_uri, cfg.reg_uri, keep, "reg_uri")
    if cfg.reg_timeout:
        c.reg_timeout = int(cfg.reg_timeout)
    if cfg.force_contact:
        set_str(c.force_contact, cfg.force_contact, keep, "force_contact")
    c.require_100rel = 1 if cfg.require_100rel else 0
    c.publish_enabled = bool(cfg.publish_enabled)
    if cfg.pidf_tuple_id:
        set_str(c.pidf_tuple_id, cfg.pidf_tuple_id, keep, "pidf_tuple_id")
    c.mwi_enabled = bool(cfg.mwi_enabled)
    max_proxies = len(c.proxy)
    if len(cfg.proxy) > max_proxies:
        raise ValueError(f"at most {max_proxies} proxies")
    for i, px in enumerate(cfg.proxy):
        set_str(c.proxy[i], px, keep, "proxy")
    c.proxy_cnt = len(cfg.proxy)
    if len(cfg.auth_cred) > len(c.cred_info):
        raise ValueError(f"at most {len(c.cred_info)} credentials")
    for i, cred in enumerate(cfg.auth_cred):
        if not isinstance(cred, AuthCred):
            raise TypeError("auth_cred must hold AuthCred objects")
        ci = c.cred_info[i]
        set_str(ci.realm, cred.realm, keep, "realm")
        set_str(ci.scheme, cred.scheme, keep, "scheme")
        set_str(ci.username, cred.username, keep, "username")
        ci.data_type = int(cred.passwd_type)
        set_str(ci.data, cred.passwd, keep, "passwd")
    c.cred_count = len(cfg.auth_cred)
    c.transport_id = int(cfg.transport_id)
    c.allow_contact_rewrite = bool(cfg.allow_contact_rewrite)
    c.ka_interval = int(cfg.ka_interval)
    set_str(c.ka_data, cfg.ka_data, keep, "ka_data")
    c.use_srtp = int(cfg.use_srtp)
    c.srtp_secure_signaling = int(cfg.srtp_secure_signaling)
    C.pjffi_acc_ipv6_media(c, int(IPv6Use(getattr(cfg, "ipv6_media_use", IPv6Use.DISABLED))))
    rtp = cfg.rtp_transport_cfg
    if rtp is not None:
        if not isinstance(rtp, TransportConfig):
            raise TypeError("rtp_transport_cfg must be a TransportConfig")
        # Port 0 means pjsua's RTP range: start at a random even port in 4000..23998,
        # so that accounts (which each count up from their start) rarely collide.
        port = int(c.rtp_cfg.port)
        fill_transport_config(ffi.addressof(c, "rtp_cfg"), rtp, keep)
        if not rtp.port:
            c.rtp_cfg.port = port
            c.rtp_cfg.port_range = 20000
            c.rtp_cfg.randomize_port = True
