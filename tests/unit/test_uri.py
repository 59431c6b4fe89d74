"""SIPUri: parsing and building SIP URIs without pjsua."""

from __future__ import annotations

import pytest

from pjsua_ffi import SIPUri


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("sip:alice@example.org", ("sip", "alice", "example.org", 0, "")),
        ("sips:bob@10.0.0.1:5061", ("sips", "bob", "10.0.0.1", 5061, "")),
        ("sip:127.0.0.1:5080;transport=tcp", ("sip", "", "127.0.0.1", 5080, "tcp")),
        ('"Alice Smith" <sip:alice@host;transport=TLS;lr>',
         ("sip", "alice", "host", 0, "TLS")),
        ("Bob <sip:bob@[::1]:5060>", ("sip", "bob", "[::1]", 5060, "")),
        ("  <sip:x@h:1?Subject=hi>  ", ("sip", "x", "h", 1, "")),
        ("sip:u@h;foo=bar; Transport = udp ", ("sip", "u", "h", 0, "udp")),
    ],
)
def test_decode(text: str, parts: tuple) -> None:
    u = SIPUri(text)
    assert (u.scheme, u.user, u.host, u.port, u.transport) == parts


def test_encode_round_trip() -> None:
    u = SIPUri("sip:alice@example.org:5062;transport=tcp")
    assert u.encode() == "sip:alice@example.org:5062;transport=tcp"
    assert SIPUri("sip:example.org").encode() == "sip:example.org"


def test_empty_uri_has_empty_parts() -> None:
    u = SIPUri()
    assert (u.scheme, u.user, u.host, u.port, u.transport) == ("", "", "", 0, "")
    assert u.encode() == ":"  # as legacy: an empty scheme stays empty
    assert SIPUri("").host == ""


def test_edit_then_encode() -> None:
    u = SIPUri("sip:a@h")
    u.user, u.port, u.transport = "", 7, "tls"
    assert u.encode() == "sip:h:7;transport=tls"


def test_decode_replaces_the_transport() -> None:
    u = SIPUri("sip:a@h;transport=tcp")
    u.decode("sip:b@g")
    assert (u.user, u.host, u.transport) == ("b", "g", "")


@pytest.mark.parametrize("text", ["alice@example.org", "http://example.org", "sip:",
                                  "tel:+123", "sip:a@h:port"])
def test_not_a_sip_uri(text: str) -> None:
    # Both a ValueError and a TypeError (what the legacy module raised then).
    with pytest.raises(ValueError, match="not a SIP URI"):
        SIPUri(text)
    with pytest.raises(TypeError):
        SIPUri(text)
