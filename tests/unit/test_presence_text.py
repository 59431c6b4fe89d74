"""Presence text: XML character references in a buddy's status and note are decoded
(pjlib's XML parser leaves them as they are)."""

from __future__ import annotations

from typing import Any, List

import pytest
from pjsua_ffi._pjsua import ffi

import pjsua_ffi as pj


def buddy_info(status_text: str, note: str = "") -> pj.BuddyInfo:
    """A BuddyInfo read from a C struct filled here (its text buffers live in ``bufs``
    while BuddyInfo copies them)."""
    bi = ffi.new("pjsua_buddy_info *")
    bufs: List[Any] = []
    for field, value in ((bi.status_text, status_text), (bi.rpid.note, note),
                         (bi.uri, "sip:b@127.0.0.1")):
        data = value.encode()
        buf = ffi.new("char[]", data)
        bufs.append(buf)
        field.ptr, field.slen = buf, len(data)
    bi.status = 1
    bi.monitor_pres = 1
    bi.sub_state = 4
    return pj.BuddyInfo(bi)


@pytest.mark.parametrize(("raw", "text"), [
    ("plain", "plain"),
    ("&lt;b&gt; &amp; &quot;q&quot; &apos;s&apos;", "<b> & \"q\" 's'"),
    ("caf&#233; &#x263A; &#X41;", "café ☺ &#X41;"),
    ("&amp;lt;", "&lt;"),  # decoded once
    ("&unknown; &#0; &#x110000; & alone", "&unknown; &#0; &#x110000; & alone"),
    ("&#12345678;", "&#12345678;"),  # more digits than any code point
    ("bad utf-8 \xff", "bad utf-8 \xff"),
])
def test_status_text_and_note(raw: str, text: str) -> None:
    info = buddy_info(raw, raw)
    assert info.online_text == text
    assert info.note == text


def test_other_fields() -> None:
    info = buddy_info("Online")
    assert info.uri == "sip:b@127.0.0.1"
    assert info.online_status == pj.BuddyStatus.ONLINE
    assert info.subscribed == 1
    assert info.sub_state == pj.SubscriptionState.ACTIVE


def test_empty_info() -> None:
    info = pj.BuddyInfo()
    assert (info.uri, info.online_text, info.note, info.sub_state_text) == ("", "", "", "NULL")
    assert info.online_status == pj.BuddyStatus.UNKNOWN
