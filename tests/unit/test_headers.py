"""Custom SIP headers and bodies: what is checked before anything reaches pjsua."""

from __future__ import annotations

from typing import Any, List

import pytest
from pjsua_ffi._pjsua import ffi
from pjsua_ffi._pjsua import lib as C  # noqa: N812

from pjsua_ffi._binding import msg_data


def test_nothing_to_send_is_null(keep: List[Any]) -> None:
    assert msg_data(keep) == ffi.NULL
    assert msg_data(keep, hdr_list=[]) == ffi.NULL
    assert keep == []


def test_headers_and_body_are_accepted(keep: List[Any]) -> None:
    hdrs: Any = [("X-Case", "v 1"), (b"X-Bytes", b"raw"), ["X-List", ""]]
    md = msg_data(keep, hdrs, "application/x-test", "body ü")
    assert md != ffi.NULL and ffi.typeof(md) is ffi.typeof("pjsua_msg_data *")
    # The names, values, content type and body are kept alive for C.
    kept = [bytes(ffi.buffer(b)) for b in keep if ffi.typeof(b) is ffi.typeof("char[]")]
    assert b"X-Case\x00" in kept and b"v 1\x00" in kept and b"raw\x00" in kept
    assert b"application/x-test\x00" in kept and "body ü\x00".encode() in kept
    assert msg_data(keep, body="") != ffi.NULL  # an empty body still sets text/plain
    assert b"text/plain\x00" in [bytes(ffi.buffer(b)) for b in keep
                                  if ffi.typeof(b) is ffi.typeof("char[]")]


@pytest.mark.parametrize("name", ["", "X:Y", "X Y", "X\tY", "X\r\nY: z", "X\n"])
def test_bad_header_names(keep: List[Any], name: str) -> None:
    with pytest.raises(ValueError, match="invalid header name"):
        msg_data(keep, [(name, "v")])


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\n", "\r"])
def test_line_breaks_in_values(keep: List[Any], value: str) -> None:
    with pytest.raises(ValueError, match="may not contain line breaks"):
        msg_data(keep, [("X-Ok", value)])


@pytest.mark.parametrize("hdr_list", ["X-A: b", b"X-A", 5, [("X-A",)], [("a", "b", "c")],
                                      ["X-A"], [None]])
def test_header_list_shape(keep: List[Any], hdr_list: Any) -> None:
    with pytest.raises(TypeError, match=r"hdr_list must be a list of \(name, value\) pairs"):
        msg_data(keep, hdr_list)


def test_header_text_types(keep: List[Any]) -> None:
    with pytest.raises(TypeError, match="header name must be str or bytes, not int"):
        msg_data(keep, [(1, "v")])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="header value must be str or bytes, not NoneType"):
        msg_data(keep, [("X-A", None)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="body must be str or bytes, not int"):
        msg_data(keep, body=3)  # type: ignore[arg-type]


def test_header_count_limit(keep: List[Any]) -> None:
    most = [(f"X-H{i}", "v") for i in range(C.PJFFI_MSG_MAX_HDRS)]
    assert msg_data(keep, most) != ffi.NULL
    with pytest.raises(ValueError, match=f"at most {C.PJFFI_MSG_MAX_HDRS} custom headers"):
        msg_data(keep, most + [("X-One-More", "v")])
