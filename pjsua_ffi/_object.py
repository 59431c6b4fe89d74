"""Base class of the handle objects (Transport, Account, Call, Buddy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .errors import Error

if TYPE_CHECKING:
    from .lib import Lib


class _Handle:
    """An object that wraps one pjsua integer id and belongs to one :class:`Lib`.

    Every C call goes through :meth:`_c`, which passes the library's gate (so nothing
    reaches C after ``destroy()``, and the calling thread is registered with pjlib) and
    turns a failed status into :class:`Error`. Finalisers never call pjsua.
    """

    _id: int
    _lib: "Lib"
    _obj_name: str

    def _c(self, op: str, fn: Callable[..., int], *args: Any, check: bool = True) -> None:
        lib = self._lib
        lib._enter(op, self)
        try:
            if check:
                self._check(op)
            status = fn(*args)
        finally:
            lib._leave()
        if status != 0:
            raise Error(op, self, status)

    def _check(self, op: str) -> None:
        """Raise :class:`Error` if this object may no longer be used (inside the gate)."""

    def __str__(self) -> str:
        return self._obj_name  # the legacy module's text, e.g. "{Account sip:a@host}"

    def __repr__(self) -> str:
        return f"<{self._obj_name}>"
