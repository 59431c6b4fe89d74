"""The one exception type of pjsua-ffi, carrying pjsua's status code."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Dict, Optional, TypeVar

__all__ = ["Error"]

T = TypeVar("T")


def _no_text(code: int) -> str:
    return f"status {code}"


# pjlib's text for a status code. This module imports nothing of the package: the
# binding layer, which can ask pjlib, installs its lookup with set_status_text().
_status_text: Callable[[int], str] = _no_text


def set_status_text(fn: Callable[[int], str]) -> None:
    """Install the function :meth:`Error.err_msg` uses to describe a status code."""
    global _status_text
    _status_text = fn


class Error(Exception):
    """A pjsua operation failed.

    ``op_name`` is the operation, ``obj`` the object it was called on (or ``None``),
    ``err_code`` pjsua's status code, and ``err_msg()`` its text. Unlike the legacy
    module's class this is a real exception, so ``raise``/``except`` work as usual.
    """

    def __init__(self, op_name: str, obj: Any, err_code: int, err_msg: str = "") -> None:
        super().__init__(op_name, obj, err_code, err_msg)
        self.op_name = op_name
        self.obj = obj
        self.err_code = err_code
        self._err_msg = err_msg

    def err_msg(self) -> str:
        """pjsua's description of ``err_code`` (looked up once, on demand)."""
        if not self._err_msg:
            self._err_msg = _status_text(self.err_code)
        return self._err_msg

    def __str__(self) -> str:
        return f"Object: {self.obj}, operation={self.op_name}, error={self.err_msg()}"


def legacy_ops(names: Optional[Dict[str, Optional[str]]] = None) -> Callable[[T], T]:
    """Class decorator: an :class:`Error` leaving a public method carries the legacy
    module's name for that operation (``"hangup()"``; ``names`` lists the exceptions,
    such as ``set_snd_dev``'s ``"set_current_sound_devices()"``), whatever pjsua call
    inside failed. The outermost public method names the error, as in the legacy
    module. A name of None leaves the method unwrapped: it names its errors itself
    (``Call.info``, called in nearly every call callback, saves the wrapper's frame)."""
    names = names or {}

    def decorate(cls: T) -> T:
        for attr, fn in list(vars(cls).items()):
            if attr.startswith("_") or not inspect.isfunction(fn):
                continue
            op = names.get(attr, attr + "()")
            if op is not None:
                setattr(cls, attr, _named(fn, op))
        return cls
    return decorate


def _named(fn: Callable[..., Any], op: str) -> Callable[..., Any]:
    @functools.wraps(fn)
    def method(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Error as exc:
            if exc.op_name != op:
                exc.op_name = op
                exc.args = (op, *exc.args[1:])
            raise
    return method
