"""Where C events land: the handler table, the delivery type, the live library, and the
``def_extern`` entry points C calls.

Every area module (``call.py``, ``account.py``, ``buddy.py``, ``im.py``) registers the
handlers of its event kinds here with :func:`register_handler`; nothing here knows the
areas. A handler runs on the thread that took the event (see ``_core.py``): it turns the
C event into Python values and returns a :class:`Delivery` (or None), which the library
runs under its lock as ``fn(target, snapshot, *args)``. Inside that run,
``call.info()`` and its kin return ``snapshot`` when they are asked about ``target``.

Three kinds need an answer before pjsua goes on (a REFER, an INVITE with Replaces, a
SUBSCRIBE): C calls :func:`pjffi_py_event` for them on pjsua's thread, and the handler
writes the answer into the event itself, returning None.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

from ._binding import C, ffi, from_str

__all__ = ["Delivery", "Handler", "HANDLERS", "register_handler", "live", "keep_event",
           "deliver_log", "new_delivery"]

log = logging.getLogger("pjsua_ffi")
log.addHandler(logging.NullHandler())  # the application decides where lines go
pjsip_log = logging.getLogger("pjsua_ffi.pjsip")

_PJ_TO_LOGGING = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}


class Delivery(NamedTuple):
    """What to run for one event: ``fn(target, snapshot, *args)``. While it runs,
    ``snapshot`` (unless None) is what ``target.info()`` returns."""

    fn: Callable[..., Any]
    target: Any
    snapshot: Any = None
    args: Tuple[Any, ...] = ()


# ``new_delivery(Delivery, (fn, target, snapshot, args))`` builds a Delivery with
# tuple's own constructor: a NamedTuple's __new__ is Python code, a frame per event.
# For the handlers of the most frequent events.
new_delivery = tuple.__new__

# A handler gets the live library and the C event; it returns what to deliver.
Handler = Callable[[Any, Any], Optional[Delivery]]
HANDLERS: Dict[int, Handler] = {}


def register_handler(kind: int, handler: Handler) -> None:
    """Let an area module take the events of ``kind`` (a ``PJFFI_EV_*`` value)."""
    HANDLERS[kind] = handler


class _Live:
    """The library that receives C's events (one at a time per process), and the
    logging settings its ``init()`` gave."""

    lib: Any = None
    log_cfg: Any = None

    def attach(self, lib: Any) -> None:
        self.lib = lib
        self.log_cfg = None

    def detach(self, lib: Any) -> None:
        if self.lib is lib:
            self.lib = None
            self.log_cfg = None


live = _Live()


def keep_event(ev: Any) -> Any:
    """Keep a queued event alive past its batch (a lazy snapshot reads from it)."""
    ev.kept = 1
    return ffi.gc(ev, C.pjffi_free_event)


# ---------------------------------------------------------------------- log lines


def deliver_log(target: None, snapshot: None, level: int, text: str) -> None:
    """Run the application's log callback for one line (queued as an event, so the
    lines come in order with the other callbacks)."""
    cfg = live.log_cfg
    cb = cfg.callback if cfg is not None else None
    if cb is not None:
        cb(level, text, len(text))


def _ev_log(lib: Any, ev: Any) -> Delivery:
    return Delivery(deliver_log, None, None, (int(ev.code), from_str(ev.s[0])))


register_handler(C.PJFFI_EV_LOG, _ev_log)


# ---------------------------------------------------------------------- C → Python


@ffi.def_extern()
def pjffi_py_log(level: int, data: Any, length: int) -> None:
    try:
        text = ffi.unpack(data, length).decode("utf-8", "replace")
        line = text.rstrip("\r\n")
        pjsip_log.log(_PJ_TO_LOGGING.get(level, logging.DEBUG), "%s", line)
        cfg = live.log_cfg
        if live.lib is None or cfg is None or level > cfg.console_level:
            return
        if cfg.callback is None:  # (with a callback, the line comes as a queued event)
            try:
                sys.stdout.write(text if text.endswith("\n") else text + "\n")
            except Exception:  # noqa: BLE001  (stdout closed at exit)
                pass
    except BaseException:  # noqa: BLE001  (never raise into C)
        pass


@ffi.def_extern()
def pjffi_py_event(ev: Any) -> None:
    lib = live.lib
    if lib is None:
        return
    try:
        handler = HANDLERS.get(ev.kind)
        if handler is not None:
            handler(lib, ev)
    except BaseException:  # noqa: BLE001  (never raise into C)
        try:
            log.error("error while handling a pjsua event:\n%s", traceback.format_exc())
        except Exception:  # noqa: BLE001
            pass
