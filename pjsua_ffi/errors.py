"""The one exception type of pjsua-ffi, carrying pjsua's status code."""

from __future__ import annotations

from typing import Any

__all__ = ["Error"]


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
            from ._binding import strerror

            self._err_msg = strerror(self.err_code)
        return self._err_msg

    def __str__(self) -> str:
        where = f" on {_describe(self.obj)}" if self.obj is not None else ""
        return f"{self.op_name}(){where} failed: {self.err_msg()} (status {self.err_code})"


def _describe(obj: Any) -> str:
    name = getattr(obj, "_obj_name", "")
    return name or type(obj).__name__
