"""Configuration objects (plain attributes, legacy names and defaults) and their C form."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from ._binding import C, ffi, from_str, set_str
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


def _c_defaults(ctype: str, default_fn: Callable[[Any], None],
                fields: Dict[str, Callable[[Any], Any]]) -> Dict[str, Any]:
    """pjsua's runtime defaults for a config struct, read once through ``fields``."""
    cached = _DEFAULTS.get(ctype)
    if cached is None:
        c = ffi.new(ctype + " *")
        default_fn(c)
        cached = _DEFAULTS[ctype] = {name: get(c) for name, get in fields.items()}
    return cached


_DEFAULTS: Dict[str, Dict[str, Any]] = {}

# Like the legacy module, a fresh config object holds what pjsua's *_config_default()
# gives (pj_bool_t fields as the ints pjsua has), not the class-level values below.
_LOG_FIELDS: Dict[str, Callable[[Any], Any]] = {
    "msg_logging": lambda c: c.msg_logging,
    "level": lambda c: c.level,
    "console_level": lambda c: c.console_level,
    "decor": lambda c: c.decor,
    "filename": lambda c: from_str(c.log_filename),
}

_MEDIA_FIELDS: Dict[str, Callable[[Any], Any]] = {
    "clock_rate": lambda c: c.clock_rate,
    "snd_clock_rate": lambda c: c.snd_clock_rate,
    "snd_auto_close_time": lambda c: c.snd_auto_close_time,
    "channel_count": lambda c: c.channel_count,
    "audio_frame_ptime": lambda c: c.audio_frame_ptime,
    "max_media_ports": lambda c: c.max_media_ports,
    "quality": lambda c: c.quality,
    "ptime": lambda c: c.ptime,
    "no_vad": lambda c: c.no_vad,
    "ilbc_mode": lambda c: c.ilbc_mode,
    "tx_drop_pct": lambda c: c.tx_drop_pct,
    "rx_drop_pct": lambda c: c.rx_drop_pct,
    "ec_options": lambda c: c.ec_options,
    "ec_tail_len": lambda c: c.ec_tail_len,
    "jb_min": lambda c: c.jb_min_pre,
    "jb_max": lambda c: c.jb_max,
    "enable_ice": lambda c: c.enable_ice,
    "enable_turn": lambda c: c.enable_turn,
    "turn_server": lambda c: from_str(c.turn_server),
    "turn_conn_type": lambda c: c.turn_conn_type,
}

_ACC_FIELDS: Dict[str, Callable[[Any], Any]] = {
    "priority": lambda c: c.priority,
    "id": lambda c: from_str(c.id),
    "force_contact": lambda c: from_str(c.force_contact),
    "reg_uri": lambda c: from_str(c.reg_uri),
    "reg_timeout": lambda c: c.reg_timeout,
    "require_100rel": lambda c: c.require_100rel,
    "publish_enabled": lambda c: c.publish_enabled,
    "pidf_tuple_id": lambda c: from_str(c.pidf_tuple_id),
    "auth_initial_send": lambda c: c.auth_pref.initial_auth,
    "auth_initial_algorithm": lambda c: from_str(c.auth_pref.algorithm),
    "transport_id": lambda c: c.transport_id,
    "allow_contact_rewrite": lambda c: c.allow_contact_rewrite,
    "ka_interval": lambda c: c.ka_interval,
    "ka_data": lambda c: from_str(c.ka_data),
    "use_srtp": lambda c: c.use_srtp,
    "srtp_secure_signaling": lambda c: c.srtp_secure_signaling,
    "mwi_enabled": lambda c: c.mwi_enabled,
}


class LogConfig:
    """Logging settings: pjsua's lines go to Python's ``logging`` (logger
    ``pjsua_ffi.pjsip``) up to ``level``, and to ``callback(level, text, length)`` —
    or, without a callback, to standard output — up to ``console_level``.
    A fresh object holds pjsua's defaults."""

    msg_logging = True
    level = 5
    console_level = 5
    decor = 0
    filename = ""
    callback: Optional[Callable[[int, str, int], Any]] = None

    def __init__(self, level: int = -1, filename: str = "",
                 callback: Optional[Callable[[int, str, int], Any]] = None,
                 console_level: int = -1) -> None:
        self.__dict__.update(_c_defaults("pjsua_logging_config",
                                         C.pjsua_logging_config_default, _LOG_FIELDS))
        self.callback = callback
        if level != -1:
            self.level = level
        if filename:
            self.filename = filename
        if console_level != -1:
            self.console_level = console_level


class MediaConfig:
    """Media settings for the conference bridge, codecs and media transports. A fresh
    object holds pjsua's defaults (ICE off, ``max_media_ports`` as the build sets it)."""

    clock_rate = 16000
    snd_clock_rate = 0
    snd_auto_close_time = 5
    channel_count = 1
    audio_frame_ptime = 20
    max_media_ports = 32
    quality = 6
    ptime = 0
    no_vad = False
    ilbc_mode = 30
    tx_drop_pct = 0
    rx_drop_pct = 0
    ec_options = 0
    ec_tail_len = 256
    jb_min = -1
    jb_max = -1
    enable_ice = True
    enable_turn = False
    turn_server = ""
    turn_conn_type = TURNConnType.UDP
    turn_cred: Any = None

    def __init__(self) -> None:
        self.__dict__.update(_c_defaults("pjsua_media_config",
                                         C.pjsua_media_config_default, _MEDIA_FIELDS))
        self.turn_cred = None
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

    priority = 0
    id = ""
    force_contact = ""
    reg_uri = ""
    reg_timeout = 0
    require_100rel = False
    publish_enabled = False
    pidf_tuple_id = ""
    auth_initial_send = False
    auth_initial_algorithm = ""
    transport_id = -1
    allow_contact_rewrite = True
    ka_interval = 15
    ka_data = "\r\n"
    use_srtp = 0
    srtp_secure_signaling = 1
    rtp_transport_cfg: Optional[TransportConfig] = None
    mwi_enabled = False

    def __init__(self, domain: str = "", username: str = "", password: str = "",
                 display: str = "", registrar: str = "", proxy: str = "") -> None:
        self.__dict__.update(_c_defaults("pjsua_acc_config", C.pjsua_acc_config_default,
                                         _ACC_FIELDS))
        self.proxy: List[str] = []
        self.auth_cred: List[AuthCred] = []
        self.ipv6_media_use: int = int(IPv6Use.DISABLED)  # IPv4 media, as legacy builds
        if domain:
            self.build_config(domain, username, password, display, registrar, proxy)
        self.rtp_transport_cfg = TransportConfig()

    def build_config(self, domain: str, username: str, password: str, display: str = "",
                     registrar: str = "", proxy: str = "",
                     rtp_transport_cfg: Optional[TransportConfig] = None) -> None:
        """Derive id, reg_uri, proxy and credentials from a domain and user."""
        user = f"{username}@" if username else ""
        name = f"{display} " if display else ""
        self.id = f"{name}<sip:{user}{domain}>"
        self.reg_uri = registrar or f"sip:{domain}"
        route = proxy or f"sip:{domain};lr"
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
    # As given (pjsua itself raises it to max_calls + 2 when it is smaller).
    c.max_media_ports = int(cfg.max_media_ports)
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
    if cfg.turn_cred is not None and not isinstance(cfg.turn_cred, AuthCred):
        raise TypeError("turn_cred must be an AuthCred")
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
    c.reg_timeout = int(cfg.reg_timeout)
    if cfg.force_contact:
        set_str(c.force_contact, cfg.force_contact, keep, "force_contact")
    c.require_100rel = int(cfg.require_100rel)
    c.auth_pref.initial_auth = bool(cfg.auth_initial_send)
    if cfg.auth_initial_algorithm:
        set_str(c.auth_pref.algorithm, cfg.auth_initial_algorithm, keep,
                "auth_initial_algorithm")
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
