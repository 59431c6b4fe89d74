"""Base class of the handle objects (Transport, Account, Call, Buddy)."""

from __future__ import annotations

from typing import Any, Callable

from ._core import Core
from .errors import Error


class _Handle:
    """An object that wraps one pjsua integer id and belongs to one :class:`Lib`.

    Every C call goes through :meth:`_c`, which passes the library's gate (so nothing
    reaches C after ``destroy()``, and the calling thread is registered with pjlib) and
    turns a failed status into :class:`Error`. Finalisers never call pjsua.
    """

    _id: int
    _lib: Core
    _obj_name: str

    def _c(self, op: str, fn: Callable[..., int], *args: Any, check: bool = True) -> None:
        # The gate's two halves without ``with``: no __enter__ frame on this hot path.
        gate = self._lib._gated(op, self)
        try:
            if check:
                self._check(op)
            status = fn(*args)
        finally:
            gate.__exit__(None, None, None)
        if status != 0:
            raise Error(op, self, status)

    def _check(self, op: str) -> None:
        """Raise :class:`Error` if this object may no longer be used (inside the gate)."""

    def __str__(self) -> str:
        return self._obj_name  # the legacy module's text, e.g. "{Account sip:a@host}"

    def __repr__(self) -> str:
        return f"<{self._obj_name}>"
