"""RxData: a received request as text, with header lookup and body."""

from __future__ import annotations

import pjsua_ffi as pj

MSG = ("INFO sip:b@127.0.0.1:5060 SIP/2.0\r\n"
       "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
       "From: <sip:a@127.0.0.1>;tag=1\r\n"
       "X-Case:   spaced value  \r\n"
       "x-case: second\r\n"
       "Subject: a: b: c\r\n"
       "Content-Type: application/x-test\r\n"
       "Content-Length: 19\r\n"
       "\r\n"
       "X-Body: not a header\r\n\r\nmore")


def test_fields() -> None:
    r = pj.RxData(MSG, "127.0.0.1:5070", "Request msg INFO/cseq=1")
    assert r.msg_info == r.msg_info_buffer == MSG
    assert r.src_address == "127.0.0.1:5070"
    assert r.msg_info_info == "Request msg INFO/cseq=1"


def test_header_lookup() -> None:
    r = pj.RxData(MSG)
    assert r.header("X-Case") == "spaced value"  # the first one, stripped
    assert r.header("x-CASE") == "spaced value"
    assert r.header("Subject") == "a: b: c"  # only the first colon splits
    assert r.header("content-type") == "application/x-test"
    assert r.header("X-Body") is None  # in the body, not the head
    assert r.header("INFO sip") is None  # the request line is no header
    assert r.header("Missing") is None


def test_body() -> None:
    assert pj.RxData(MSG).body == "X-Body: not a header\r\n\r\nmore"
    assert pj.RxData("OPTIONS sip:x SIP/2.0\r\nCSeq: 1\r\n").body == ""
    assert pj.RxData("OPTIONS sip:x SIP/2.0\r\n\r\n").body == ""


def test_empty() -> None:
    r = pj.RxData()
    assert (r.msg_info, r.src_address, r.msg_info_info, r.body) == ("", "", "", "")
    assert r.header("Via") is None
