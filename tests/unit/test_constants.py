"""Enumerations keep pjsua's (and the legacy module's) values."""

from __future__ import annotations

from pjsua_ffi._pjsua import lib as C  # noqa: N812

import pjsua_ffi as pj


def test_values_match_pjsua() -> None:
    # The transport kinds are the ones the compiled module has from pjsip's headers.
    for kind in pj.TransportType:
        name = "PJSIP_TRANSPORT_" + kind.name.replace("_IPV6", "6")
        assert int(kind) == getattr(C, name), name
    assert [int(s) for s in pj.CallState] == list(range(7))
    assert [int(s) for s in pj.MediaState] == list(range(5))


def test_legacy_values() -> None:
    assert {m.name: int(m) for m in pj.TransportFlag} == {"RELIABLE": 1, "SECURE": 2,
                                                          "DATAGRAM": 4}
    assert {m.name: int(m) for m in pj.TURNConnType} == {"UDP": 17, "TCP": 6, "TLS": 255}
    assert [m.name for m in pj.SubscriptionState] == [
        "NULL", "SENT", "ACCEPTED", "PENDING", "ACTIVE", "TERMINATED", "UNKNOWN"]
    assert pj.MediaDir.ENCODING_DECODING == pj.MediaDir.ENCODING | pj.MediaDir.DECODING
    assert pj.PresenceActivity(2) is pj.PresenceActivity.BUSY


def test_ints_and_lookup_by_name() -> None:
    assert pj.TransportType["TCP_IPV6"] == 130 == pj.TransportType.TCP | pj.TransportType.IPV6
    assert pj.CallRole(1).name == "CALLEE"
    assert isinstance(pj.CallState.EARLY, int) and pj.CallState.EARLY + 1 == 4
