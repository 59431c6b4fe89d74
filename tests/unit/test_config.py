"""Config objects: their defaults, and their conversion into pjsua's C structs (made
with ffi.new; pjsua itself is never created)."""

from __future__ import annotations

from typing import Any, List

import pytest
from pjsua_ffi._pjsua import ffi
from pjsua_ffi._pjsua import lib as C  # noqa: N812

import pjsua_ffi as pj
from pjsua_ffi.config import (
    fill_acc_config,
    fill_log_config,
    fill_media_config,
    fill_transport_config,
    fill_ua_config,
)


def text(s: Any) -> str:
    return ffi.unpack(s.ptr, s.slen).decode() if s.slen > 0 else ""


def test_fresh_objects_hold_pjsua_defaults() -> None:
    ua = pj.UAConfig()
    assert (ua.max_calls, ua.user_agent, ua.nameserver, ua.follow_redirects) == \
        (4, "pjsip python", [], False)
    log = pj.LogConfig()
    assert (log.level, log.console_level, log.msg_logging, log.filename) == (5, 4, 1, "")
    assert pj.LogConfig(level=2, console_level=1, filename="f").__dict__["level"] == 2
    mc = pj.MediaConfig()
    assert (mc.clock_rate, mc.channel_count, mc.audio_frame_ptime, mc.quality) == \
        (16000, 1, 20, 8)
    assert (mc.turn_conn_type, mc.turn_cred, mc.ice_trickle) == (17, None, None)
    acc = pj.AccountConfig()
    assert (acc.id, acc.reg_timeout, acc.transport_id, acc.ka_interval, acc.ka_data) == \
        ("", 300, -1, 15, "\r\n")
    assert acc.proxy == [] and acc.auth_cred == []
    assert acc.ipv6_media_use == int(pj.IPv6Use.DISABLED)


def test_objects_do_not_share_lists() -> None:
    a, b = pj.AccountConfig(), pj.AccountConfig()
    a.proxy.append("sip:p;lr")
    assert b.proxy == []
    u1, u2 = pj.UAConfig(), pj.UAConfig()
    u1.nameserver.append("127.0.0.1")
    assert u2.nameserver == []


def test_build_config() -> None:
    acc = pj.AccountConfig("example.org", "alice", "secret", "Alice")
    assert acc.id == "Alice <sip:alice@example.org>"
    assert acc.reg_uri == "sip:example.org"
    assert acc.proxy == ["sip:example.org;lr"]
    [cred] = acc.auth_cred
    assert (cred.realm, cred.username, cred.passwd, cred.scheme, cred.passwd_type) == \
        ("*", "alice", "secret", "Digest", 0)
    other = pj.AccountConfig("d", registrar="sip:reg", proxy="sip:px")
    assert (other.id, other.reg_uri, other.proxy, other.auth_cred) == \
        ("<sip:d>", "sip:reg", ["sip:px;lr"], [])


def test_transport_config(keep: List[Any]) -> None:
    c = ffi.new("pjsua_transport_config *")
    fill_transport_config(c, pj.TransportConfig(5070, "127.0.0.1", "10.1.2.3"), keep)
    assert (c.port, text(c.bound_addr), text(c.public_addr)) == (5070, "127.0.0.1", "10.1.2.3")
    fill_transport_config(c, None, keep)  # None: pjsua's defaults
    assert (c.port, c.bound_addr.slen, c.public_addr.slen) == (0, 0, 0)
    with pytest.raises(ValueError, match="out of range"):
        fill_transport_config(c, pj.TransportConfig(65536), keep)
    with pytest.raises(TypeError, match="TransportConfig"):
        fill_transport_config(c, "udp", keep)  # type: ignore[arg-type]
    cfg = pj.TransportConfig()
    cfg.tls_setting = "x"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="TLSSetting"):
        fill_transport_config(c, cfg, keep)


def test_ua_config(keep: List[Any]) -> None:
    ua = pj.UAConfig()
    ua.max_calls = 64
    ua.nameserver = ["127.0.0.1", "::1"]
    ua.outbound_proxy = ["sip:proxy;lr"]
    ua.stun_host = "127.0.0.1:3478"
    ua.user_agent = "agent/1 ü"
    c = ffi.new("pjsua_config *")
    fill_ua_config(c, ua, keep)
    assert (c.max_calls, c.thread_cnt, c.nameserver_count, c.outbound_proxy_cnt) == (64, 0, 2, 1)
    assert [text(c.nameserver[i]) for i in range(2)] == ["127.0.0.1", "::1"]
    assert text(c.outbound_proxy[0]) == "sip:proxy;lr"
    assert text(c.stun_host) == "127.0.0.1:3478" and c.stun_domain.slen == 0
    assert text(c.user_agent) == "agent/1 ü" and c.user_agent.slen == len("agent/1 ü".encode())
    assert c.stun_ignore_failure == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("max_calls", 0, "max_calls must be between 1 and"),
    ("max_calls", C.PJFFI_MAX_CALLS + 1, "max_calls must be between 1 and"),
    ("nameserver", ["a"] * 5, "at most 4 name servers"),
    ("outbound_proxy", ["sip:p"] * 5, "at most 4 outbound proxies"),
])
def test_ua_config_limits(keep: List[Any], field: str, value: Any, message: str) -> None:
    ua = pj.UAConfig()
    setattr(ua, field, value)
    with pytest.raises(ValueError, match=message):
        fill_ua_config(ffi.new("pjsua_config *"), ua, keep)


def test_ua_config_wrong_text_type(keep: List[Any]) -> None:
    ua = pj.UAConfig()
    ua.user_agent = 5  # type: ignore[assignment]
    with pytest.raises(TypeError, match="user_agent must be str or bytes, not int"):
        fill_ua_config(ffi.new("pjsua_config *"), ua, keep)


@pytest.mark.parametrize(("level", "stored"), [(-3, 0), (0, 0), (4, 4), (6, 6), (9, 6)])
def test_log_config_level_is_clamped(keep: List[Any], level: int, stored: int) -> None:
    c = ffi.new("pjsua_logging_config *")
    fill_log_config(c, pj.LogConfig(level=level, filename="/tmp/x.log"), keep)
    assert (c.level, c.console_level) == (stored, stored)
    assert text(c.log_filename) == "/tmp/x.log"


def test_media_config(keep: List[Any]) -> None:
    mc = pj.MediaConfig()
    mc.clock_rate, mc.no_vad, mc.jb_min, mc.jb_max = 8000, True, 2, 9
    mc.enable_ice, mc.tx_drop_pct, mc.rx_drop_pct = False, 100, 0
    mc.turn_server = "127.0.0.1:3478"
    mc.turn_cred = pj.AuthCred("realm", "user", "pw")
    c = ffi.new("pjsua_media_config *")
    fill_media_config(c, mc, 4, keep)
    assert (c.clock_rate, c.no_vad, c.jb_min_pre, c.jb_max) == (8000, 1, 2, 9)
    assert (c.enable_ice, c.tx_drop_pct, c.rx_drop_pct) == (0, 100, 0)
    assert text(c.turn_server) == "127.0.0.1:3478"
    # (the TURN credential is set in C, outside the cdef's view of the struct)


@pytest.mark.parametrize(("field", "value", "exc", "message"), [
    ("tx_drop_pct", 101, ValueError, "tx_drop_pct must be 0..100"),
    ("rx_drop_pct", -1, ValueError, "rx_drop_pct must be 0..100"),
    ("turn_cred", ("u", "p"), TypeError, "turn_cred must be an AuthCred"),
    ("ice_trickle", 3, ValueError, "ice_trickle must be 0"),
])
def test_media_config_checks(keep: List[Any], field: str, value: Any, exc: type,
                             message: str) -> None:
    mc = pj.MediaConfig()
    setattr(mc, field, value)
    with pytest.raises(exc, match=message):
        fill_media_config(ffi.new("pjsua_media_config *"), mc, 4, keep)


def test_account_config(keep: List[Any]) -> None:
    acc = pj.AccountConfig("example.org", "alice", "secret")
    acc.reg_timeout = 60
    acc.transport_id = 2
    acc.auth_cred.append(pj.AuthCred("other", "bob", "hash", passwd_type=1))
    c = ffi.new("pjsua_acc_config *")
    fill_acc_config(c, acc, keep)
    assert text(c.id) == "<sip:alice@example.org>" and text(c.reg_uri) == "sip:example.org"
    assert (c.reg_timeout, c.transport_id, c.proxy_cnt, c.cred_count) == (60, 2, 1, 2)
    assert text(c.proxy[0]) == "sip:example.org;lr"
    creds = [(text(ci.realm), text(ci.scheme), text(ci.username), ci.data_type, text(ci.data))
             for ci in (c.cred_info[0], c.cred_info[1])]
    assert creds == [("*", "Digest", "alice", 0, "secret"), ("other", "Digest", "bob", 1, "hash")]
    assert text(c.ka_data) == "\r\n"
    # RTP port 0: a random start in pjsua's range, 20000 ports wide.
    assert c.rtp_cfg.port_range == 20000 and c.rtp_cfg.randomize_port == 1


def test_account_config_fixed_rtp_port(keep: List[Any]) -> None:
    acc = pj.AccountConfig()
    acc.id = "sip:a@127.0.0.1"
    acc.rtp_transport_cfg = pj.TransportConfig(40000, "127.0.0.1")
    c = ffi.new("pjsua_acc_config *")
    fill_acc_config(c, acc, keep)
    assert (c.rtp_cfg.port, text(c.rtp_cfg.bound_addr)) == (40000, "127.0.0.1")
    assert c.rtp_cfg.randomize_port == 0


def test_account_config_checks(keep: List[Any]) -> None:
    c = ffi.new("pjsua_acc_config *")
    with pytest.raises(TypeError, match="acc_config must be an AccountConfig"):
        fill_acc_config(c, pj.UAConfig(), keep)  # type: ignore[arg-type]
    acc = pj.AccountConfig()
    acc.proxy = ["sip:p;lr"] * (len(c.proxy) + 1)
    with pytest.raises(ValueError, match="at most .* proxies"):
        fill_acc_config(c, acc, keep)
    acc = pj.AccountConfig()
    acc.auth_cred = [("realm", "user", "pw")]  # type: ignore[list-item]
    with pytest.raises(TypeError, match="auth_cred must hold AuthCred objects"):
        fill_acc_config(c, acc, keep)
    acc = pj.AccountConfig()
    acc.rtp_transport_cfg = "udp"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="rtp_transport_cfg must be a TransportConfig"):
        fill_acc_config(c, acc, keep)
    acc = pj.AccountConfig()
    acc.ipv6_media_use = 99
    with pytest.raises(ValueError):
        fill_acc_config(c, acc, keep)
