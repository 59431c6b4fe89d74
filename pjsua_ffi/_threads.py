"""Per-thread state of the library, and the stand-in for its lock on threads that must
not take it (see ``_core``)."""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["NO_LOCK", "ThreadState"]


class _NoLock:
    """The library lock's stand-in where this thread must not take it (tls.unlocked)."""

    def acquire(self, *args: Any) -> bool:
        return True

    def release(self) -> None:
        pass

    def __enter__(self) -> bool:
        return True

    def __exit__(self, *exc: Any) -> None:
        pass


NO_LOCK: Any = _NoLock()


class ThreadState(threading.local):
    """Per-thread flags of the library (class attributes are the defaults)."""

    registered = False  # registered with pjlib
    batch: Any = None   # this thread's event batch (_deliver_own, _deliver_inline)
    sync = False        # inside a callback that pjsua waits on
    unlocked = False    # API calls do not take the library lock (see _gated)
    snap: Any = None    # (object, snapshot) of the event being delivered
    own = False         # this API call delivers its own events as it leaves (_gated)
    inline = False      # delivering them now (_deliver_inline)
    cb_thread = False   # the callback thread
