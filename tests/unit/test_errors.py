"""pjsua_ffi.Error: fields, pjlib's text, str(), and the legacy operation names."""

from __future__ import annotations

import pickle

import pytest
from pjsua_ffi._pjsua import lib as C  # noqa: N812

import pjsua_ffi as pj
from pjsua_ffi.errors import legacy_ops


def test_fields_and_text() -> None:
    e = pj.Error("make_call()", "acc", C.PJ_EINVAL)
    assert isinstance(e, Exception)
    assert (e.op_name, e.obj, e.err_code) == ("make_call()", "acc", C.PJ_EINVAL)
    assert e.args == ("make_call()", "acc", C.PJ_EINVAL, "")
    assert e.err_msg() == "Invalid value or argument (PJ_EINVAL)"
    assert str(e) == ("Object: acc, operation=make_call(), "
                      "error=Invalid value or argument (PJ_EINVAL)")


def test_given_text_wins_and_is_kept() -> None:
    e = pj.Error("op", None, 70001, "my own words")
    assert e.err_msg() == "my own words"
    assert str(e) == "Object: None, operation=op, error=my own words"


def test_os_status_text() -> None:
    # pjlib's statuses for errno values start at 120000; their text is the C library's.
    assert pj.Error("x", None, 120000 + 1).err_msg() == "Operation not permitted"
    assert pj.Error("x", None, C.PJ_ENOTFOUND).err_msg() == "Not found (PJ_ENOTFOUND)"


def test_raise_catch_and_pickle() -> None:
    with pytest.raises(pj.Error) as info:
        raise pj.Error("hangup()", None, C.PJ_ENOTFOUND)
    assert info.value.err_code == C.PJ_ENOTFOUND
    assert "Not found" in info.value.err_msg()
    back = pickle.loads(pickle.dumps(info.value))
    assert (back.op_name, back.err_code) == ("hangup()", C.PJ_ENOTFOUND)


def test_legacy_ops_names_the_outer_public_method() -> None:
    @legacy_ops({"info": "info"})
    class Thing:
        def inner(self) -> None:
            raise pj.Error("pjsua_call_get_info", self, C.PJ_EINVAL)

        def outer(self) -> None:
            self.inner()

        def info(self) -> None:
            self.inner()

        def _private(self) -> None:
            raise pj.Error("raw", self, 1)

        def other(self) -> int:
            raise KeyError("not an Error")

    t = Thing()
    for call, name in ((t.inner, "inner()"), (t.outer, "outer()"), (t.info, "info")):
        with pytest.raises(pj.Error) as info:
            call()
        assert info.value.op_name == name
        assert info.value.args[0] == name and info.value.args[2] == C.PJ_EINVAL
    with pytest.raises(pj.Error) as info:
        t._private()
    assert info.value.op_name == "raw"
    with pytest.raises(KeyError):
        t.other()
    assert Thing.outer.__name__ == "outer"  # wraps keeps the method's identity
