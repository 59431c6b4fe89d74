"""The scenario side of the differential harness (tests/test_differential.py).

A scenario is a program written for PJSIP's legacy ``pjsua`` module. It runs twice, each
time in its own process: once where ``import pjsua`` finds the legacy module (built by
tools/legacy.py), once where it finds this repository's ``pjsua.py``. It writes what it
observes through :data:`T` into a trace (JSON lines, in the file ``$LEGACY_DIFF_TRACE``);
the test compares the two traces after :func:`tests.legacy_scenarios.normalise.normalise`.

What this module does to the legacy module, in its process only:

- Its ``Error`` is a plain class, which Python 3 cannot raise (``raise`` fails with
  TypeError); it is replaced by a subclass that is also an ``Exception``, so that the
  trace holds what legacy raised (operation, object, code), as ours does.
- With ``$LEGACY_DIFF_COVERAGE`` set, it records which of its names a scenario touched:
  methods and the parameters given or left to their defaults, attributes read or set,
  constants, callbacks the library called (see :class:`_Coverage`).
"""

from __future__ import annotations

import atexit
import inspect
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Set

import pjsua

MODE = "legacy" if hasattr(pjsua, "_pjsua") else "ours"
_TRACE_PATH = os.environ.get("LEGACY_DIFF_TRACE", "")
_ROLE = os.environ.get("LEGACY_DIFF_ROLE", "main")
_SCALARS = (int, float, str, bool, type(None))
# The C type of the legacy extension that reaches programs (on_incoming_call2's rdata),
# under the name the coverage report uses.
RXDATA = "RxData"
RXDATA_FIELDS = ("msg_info_buffer", "msg_info_info")


# ------------------------------------------------------------------ legacy's Error


def _raisable_error() -> None:
    legacy_error = pjsua.Error
    if issubclass(legacy_error, BaseException):
        return

    class Error(legacy_error, Exception):  # type: ignore[misc,valid-type]
        """The legacy Error, made raisable (the deliberate difference of ours); its
        methods are legacy's own (first in the MRO)."""

        _legacy_original = legacy_error

    Error.__name__ = Error.__qualname__ = "Error"
    Error.__module__ = "pjsua"
    pjsua.Error = Error


if MODE == "legacy":
    _raisable_error()


# ------------------------------------------------------------------ coverage


# Underscored attributes that legacy programs use: an id to put in a config
# (``AccountConfig.transport_id = transport._id``) or to give to ``modify_account``.
USED_PRIVATE = ("Transport._id", "Account._id")
# Classes whose objects the library makes: their constructor counts as touched when the
# library runs it for a program (programs never call it themselves).
LIB_MADE = ("Transport", "TransportInfo", "Account", "AccountInfo", "Call", "CallInfo",
            "Buddy", "BuddyInfo", "SoundDeviceInfo", "CodecInfo", "CodecParameter")


# Fields the legacy extension fills from the wrong memory (a different number on every
# run, never what pjsua reported): not comparable, so not traced.
GARBAGE = {"BuddyInfo": ("sub_term_reason",
                         # pjsua never records a buddy's Contact, so legacy's is always
                         # '' (the deliberate difference "buddy-contact").
                         "contact"),
           # Exception's own attribute, there because Error is an exception in both
           # (the deliberate difference "error-is-exception").
           "Error": ("args",)}


def slot_seen(slot: int) -> Any:
    """A call's conference slot as compared: which free slot a call's new stream gets
    after a re-INVITE depends on whether the bridge's clock ticked since the old one
    went (legacy stalls SIP 50 ms between polls; ours does not: the deliberate
    difference "callback-thread"), so only whether it has one is compared."""
    return "<a slot>" if isinstance(slot, int) and slot >= 0 else slot


def _defined_here(cls: Any) -> bool:
    return isinstance(cls, type) and getattr(cls, "__module__", "") == "pjsua"


def _is_constants(cls: type) -> bool:
    own = {k: v for k, v in vars(cls).items() if not k.startswith("__")}
    return bool(own) and all(isinstance(v, int) for v in own.values())


def inventory() -> Dict[str, List[str]]:
    """Every name of the legacy module's surface, by class (run in a legacy process).

    Names are ``Class.attr``, ``Class.method()``, ``Class.method(param)`` (the parameter
    given) and ``Class.method(param=)`` (its default used). Underscored names are not in
    it, except the ids programs pass back to the library (:data:`USED_PRIVATE`)."""
    names: Dict[str, List[str]] = {}
    for cname, cls in sorted(vars(pjsua).items()):
        if cname.startswith("_") or not _defined_here(cls):
            continue
        out: List[str] = []
        for attr, value in sorted(vars(getattr(cls, "_legacy_original", cls)).items()):
            if attr.startswith("__") and attr != "__init__":
                continue
            if inspect.isfunction(value) or isinstance(value, (staticmethod, classmethod)):
                if attr.startswith("_") and attr != "__init__":
                    continue
                fn = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
                out.append(f"{cname}.{attr}()")
                for p in list(inspect.signature(fn).parameters.values()):
                    if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                        continue
                    out.append(f"{cname}.{attr}({p.name})")
                    # The library gives its own constructors every argument: their
                    # defaults are reachable by no program.
                    made = attr == "__init__" and cname in LIB_MADE
                    if p.default is not p.empty and not made:
                        out.append(f"{cname}.{attr}({p.name}=)")
            elif not attr.startswith("_"):
                out.append(f"{cname}.{attr}")
        out.extend(n for n in USED_PRIVATE if n.startswith(cname + "."))
        names[cname] = out
    names[RXDATA] = [f"{RXDATA}.{f}" for f in RXDATA_FIELDS]
    return names


class _Coverage:
    """Wraps the legacy module's classes to note what a program touches.

    A method counts when code outside pjsua.py calls it; an attribute when code outside
    pjsua.py reads or sets it; a constant when read through the module's class (the
    class is swapped for a proxy in the module); a callback when the library calls a
    program's override of it."""

    def __init__(self) -> None:
        self.touched: Set[str] = set()
        self.inv = inventory()
        self.attrs = {c: {n.split(".", 1)[1] for n in names if "(" not in n}
                      for c, names in self.inv.items()}
        self.legacy_file = os.path.realpath(pjsua.__file__).rstrip("c")

    def _outside(self, depth: int) -> bool:
        f = sys._getframe(depth + 1)
        return os.path.realpath(f.f_code.co_filename) != self.legacy_file

    def install(self) -> None:
        for cname in list(self.inv):
            cls = getattr(pjsua, cname, None)
            if not _defined_here(cls):
                continue
            if _is_constants(cls):
                setattr(pjsua, cname, _ConstProxy(cls, cname, self))
                continue
            cls = getattr(cls, "_legacy_original", cls)
            for attr, value in list(vars(cls).items()):
                if f"{cname}.{attr}()" in self.inv[cname]:
                    made = attr == "__init__" and cname in LIB_MADE
                    setattr(cls, attr, self._wrap(cname, attr, value, always=made))
            self._attr_hooks(cls, cname)
            cls.__init_subclass__ = classmethod(self._subclass_hook)  # type: ignore[attr-defined]

    def _wrap(self, cname: str, attr: str, value: Any, always: bool,
              base: Any = None) -> Any:
        """``value`` wrapped to note its calls; parameters are named as in ``base`` (the
        legacy method a program's override stands for), else as in ``value``."""
        kind = type(value) if isinstance(value, (staticmethod, classmethod)) else None
        fn = value.__func__ if kind else value
        sig = inspect.signature(base if base is not None else fn)
        cov = self

        def wrapper(*args: Any, **kw: Any) -> Any:
            if always or cov._outside(1):
                cov.touched.add(f"{cname}.{attr}()")
                try:
                    bound = sig.bind(*args, **kw).arguments
                except TypeError:
                    bound = {}
                for p in sig.parameters.values():
                    if p.name == "self":
                        continue
                    if p.name in bound:
                        cov.touched.add(f"{cname}.{attr}({p.name})")
                    elif p.default is not p.empty:
                        cov.touched.add(f"{cname}.{attr}({p.name}=)")
            return fn(*args, **kw)

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        return kind(wrapper) if kind else wrapper

    def _attr_hooks(self, cls: type, cname: str) -> None:
        names = self.attrs.get(cname, set())
        if not names:
            return
        cov = self
        get, put = object.__getattribute__, object.__setattr__

        def getter(obj: Any, name: str) -> Any:
            if name in names and cov._outside(1):
                cov.touched.add(f"{cname}.{name}")
            return get(obj, name)

        def setter(obj: Any, name: str, value: Any) -> None:
            if name in names and cov._outside(1):
                cov.touched.add(f"{cname}.{name}")
            put(obj, name, value)

        cls.__getattribute__ = getter  # type: ignore[method-assign,assignment]
        cls.__setattr__ = setter  # type: ignore[method-assign,assignment]

    def _subclass_hook(self, sub: type, **kw: Any) -> None:
        for attr, value in list(vars(sub).items()):
            if not inspect.isfunction(value) or attr == "__init__":
                continue
            for base in sub.__mro__[1:]:
                bname = base.__name__
                if _defined_here(base) and f"{bname}.{attr}()" in self.inv.get(bname, ()):
                    legacy_fn = getattr(vars(base)[attr], "__wrapped__", vars(base)[attr])
                    setattr(sub, attr, self._wrap(bname, attr, value, always=True,
                                                  base=legacy_fn))
                    break


class _ConstProxy:
    """Stands for a constants class in the legacy module; notes each name read."""

    def __init__(self, cls: type, cname: str, cov: _Coverage) -> None:
        object.__setattr__(self, "_cls", cls)
        object.__setattr__(self, "_cname", cname)
        object.__setattr__(self, "_cov", cov)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._cls, name)
        if not name.startswith("_") and self._cov._outside(1):
            self._cov.touched.add(f"{self._cname}.{name}")
        return value


_COVERAGE: Optional[_Coverage] = None
if MODE == "legacy" and os.environ.get("LEGACY_DIFF_COVERAGE"):
    _COVERAGE = _Coverage()
    _COVERAGE.install()


# ------------------------------------------------------------------ the trace


# The fields of the legacy info classes, read by name even where dir() does not list
# them (an object may make them on first use).
INFO_FIELDS = {
    "CallInfo": "role account uri contact remote_uri remote_contact sip_call_id state "
                "state_text last_code last_reason media_state media_dir conf_slot "
                "call_time total_time",
    "AccountInfo": "is_default uri reg_active reg_expires reg_status reg_reason "
                   "online_status online_text",
    "BuddyInfo": "uri contact online_status online_text subscribed sub_state "
                 "sub_term_reason activity",
    "TransportInfo": "type description is_reliable is_secure is_datagram host port ref_cnt",
}


class Tracer:
    """Writes what a program observes. Records of the main thread go to one channel;
    callbacks write to their own channels (``T.ev(channel, ...)``), since the order
    between two objects' callbacks is the scheduler's, not the library's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        path = _TRACE_PATH + ("" if _ROLE == "main" else f".{_ROLE}")
        self._fh = open(path, "a") if _TRACE_PATH else None
        atexit.register(self.close)

    def close(self) -> None:
        with self._lock:
            if self._fh is None:
                return
            if _COVERAGE is not None:
                self._fh.write(json.dumps({"ch": "__coverage__",
                                           "r": sorted(_COVERAGE.touched)}) + "\n")
            self._fh.close()
            self._fh = None

    def _write(self, channel: str, record: Any) -> None:
        line = json.dumps({"ch": f"{_ROLE}:{channel}", "r": record}, default=repr)
        with self._lock:
            if self._fh is not None:
                self._fh.write(line + "\n")
                self._fh.flush()
            else:
                print(line)

    # -- what values look like to a program

    def val(self, v: Any, depth: int = 0) -> Any:
        """A value as a program sees it: str() of numbers (so 1 and True differ; an int and
        an IntEnum member with the same str() do not), repr() of strings (so 5 and '5'
        differ), lists element-wise, objects as their str() and their attributes."""
        if isinstance(v, str):
            return repr(v)
        if isinstance(v, _SCALARS):
            return str(v)
        if isinstance(v, (list, tuple)):
            return [type(v).__name__] + [self.val(x, depth) for x in v]
        if isinstance(v, dict):
            return {str(k): self.val(x, depth) for k, x in sorted(v.items())}
        if isinstance(v, bytes):
            return repr(v)
        if depth >= 2:
            return {"str": str(v)}
        return self.fields(v, depth + 1)

    def fields(self, obj: Any, depth: int = 1, skip: tuple = ()) -> Dict[str, Any]:
        """str() of ``obj`` and every public non-callable attribute it has (less
        ``skip``)."""
        out: Dict[str, Any] = {"str": str(obj)}
        names = sorted({n for n in dir(obj) if not n.startswith("_")}
                       | set(INFO_FIELDS.get(type(obj).__name__, "").split()))
        for name in GARBAGE.get(type(obj).__name__, ()):
            getattr(obj, name, None)  # read, as programs do, but not compared
        skip = skip + GARBAGE.get(type(obj).__name__, ())
        if _is_rxdata(obj):
            # Its type (and so its default str()) is the deliberate difference
            # "rx-data-type": only the fields programs read are compared.
            del out["str"]
            names = list(RXDATA_FIELDS)
            if _COVERAGE is not None:
                _COVERAGE.touched.update(f"{RXDATA}.{n}" for n in names)
        for name in names:
            if name in skip:
                continue
            try:
                value = getattr(obj, name)
            except Exception as exc:  # an attribute that raises is observable too
                out[name] = {"raised": type(exc).__name__}
                continue
            if callable(value) and not isinstance(value, (int, str)):
                continue
            if name == "conf_slot" and type(obj).__name__ == "CallInfo":
                value = slot_seen(value)
            out[name] = self.val(value, depth)
        return out

    def err(self, exc: BaseException) -> Dict[str, Any]:
        if isinstance(exc, pjsua.Error):
            return {"raised": "Error", "op_name": self.val(exc.op_name),
                    "obj": str(exc.obj), "err_code": self.val(exc.err_code),
                    "str": str(exc)}
        return {"raised": type(exc).__name__}

    # -- recording

    def note(self, label: str, value: Any = None, channel: str = "main") -> Any:
        """Record ``value`` (as :meth:`val` sees it) under ``label``; returns it."""
        self._write(channel, [label, self.val(value)])
        return value

    def obj(self, label: str, obj: Any, channel: str = "main", skip: tuple = ()) -> Any:
        """Record str() and every attribute of ``obj`` but ``skip``; returns it."""
        self._write(channel, [label, self.fields(obj, skip=skip)])
        return obj

    def str(self, label: str, obj: Any, channel: str = "main") -> Any:
        self._write(channel, [label, str(obj)])
        return obj

    def call(self, label: str, fn: Callable[..., Any], /, *args: Any, **kw: Any) -> Any:
        """Call ``fn``; record what it returned or raised. Returns the value (None when it
        raised)."""
        try:
            value = fn(*args, **kw)
        except Exception as exc:
            self._write("main", [label, self.err(exc)])
            return None
        self._write("main", [label, {"returned": self.val(value)}])
        return value

    def ev(self, channel: str, *items: Any) -> None:
        """A callback's record in its own channel."""
        self._write(channel, [x if isinstance(x, dict) else self.val(x) for x in items])


def _is_rxdata(obj: Any) -> bool:
    return type(obj).__name__ in ("Pjsip_Rx_Data", "RxData")


T = Tracer()


def spawn(module: str, role: str, *args: str) -> subprocess.Popen:
    """Start another scenario program (``tests.legacy_scenarios.<module>``) as a peer
    process on the same implementation; its trace goes beside this one's under
    ``role``. It talks over its standard input and output (text, line by line)."""
    env = dict(os.environ, LEGACY_DIFF_ROLE=role)
    return subprocess.Popen([sys.executable, "-m", f"tests.legacy_scenarios.{module}", *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)


def wait(pred: Callable[[], Any], timeout: float = 10.0, lib: Any = None) -> bool:
    """Poll ``pred`` (the scenarios' only way to wait for callbacks); with ``lib``, a
    library started without its thread, poll the library meanwhile."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        if lib is None:
            time.sleep(0.01)
        else:
            lib.handle_events(10)
    return bool(pred())


def loopback_lib(lib: Any, max_calls: int = 4, **media: Any) -> Any:
    """``lib.init`` with media and ICE off defaults left as pjsua's, then a null sound
    device; most scenarios start this way (log level 0 so stdout is theirs)."""
    mc = pjsua.MediaConfig()
    for key, value in media.items():
        setattr(mc, key, value)
    ua = pjsua.UAConfig()
    ua.max_calls = max_calls
    lib.init(ua_cfg=ua, log_cfg=pjsua.LogConfig(level=0, console_level=0), media_cfg=mc)
    lib.set_null_snd_dev()
    return lib


# ------------------------------------------------------------------ tracing callbacks


def _callbacks() -> Dict[str, type]:
    """Callback classes that trace every call the library makes into them, with the
    info of their object at that moment; each writes to its own channel."""

    class CallTrace(pjsua.CallCallback):
        def __init__(self, channel: str, call: Any = None, connect: bool = True) -> None:
            pjsua.CallCallback.__init__(self, call)
            self.channel = channel
            self.connect = connect
            self.states: List[int] = []

        def _info(self) -> Any:
            try:
                return T.fields(self.call.info())
            except Exception as exc:
                return T.err(exc)

        def on_state(self) -> None:
            info = self.call.info()
            self.states.append(info.state)
            T.ev(self.channel, "on_state", info.state, info.state_text, info.last_code,
                 info.last_reason, self._info())

        def on_media_state(self) -> None:
            info = self.call.info()
            T.ev(self.channel, "on_media_state", info.media_state, info.media_dir,
                 slot_seen(info.conf_slot))
            if self.connect and info.media_state == pjsua.MediaState.ACTIVE:
                lib = pjsua.Lib.instance()
                lib.conf_connect(info.conf_slot, 0)
                lib.conf_connect(0, info.conf_slot)

        def on_dtmf_digit(self, digits: str) -> None:
            T.ev(self.channel, "on_dtmf_digit", digits)

        def on_transfer_request(self, dst: str, code: int) -> int:
            T.ev(self.channel, "on_transfer_request", dst, code)
            return code

        def on_transfer_status(self, code: int, reason: str, final: int, cont: bool) -> bool:
            T.ev(self.channel, "on_transfer_status", code, reason, final, cont)
            return cont

        def on_replace_request(self, code: int, reason: str) -> Any:
            T.ev(self.channel, "on_replace_request", code, reason)
            return code, reason

        def on_replaced(self, new_call: Any) -> None:
            T.ev(self.channel, "on_replaced", str(new_call))

        def on_pager(self, mime_type: str, body: str) -> None:
            T.ev(self.channel, "on_pager", mime_type, body)

        def on_pager_status(self, body: str, im_id: int, code: int, reason: str) -> None:
            T.ev(self.channel, "on_pager_status", body, im_id, code, reason)

        def on_typing(self, is_typing: bool) -> None:
            T.ev(self.channel, "on_typing", is_typing)

    class AccountTrace(pjsua.AccountCallback):
        """Answers incoming calls with ``codes``; keeps the calls in ``calls``."""

        def __init__(self, channel: str, codes: tuple = (180, 200), account: Any = None) -> None:
            pjsua.AccountCallback.__init__(self, account)
            self.channel = channel
            self.codes = codes
            self.calls: List[Any] = []
            self.subscribers: List[Any] = []

        def on_incoming_call(self, call: Any) -> None:
            T.ev(self.channel, "on_incoming_call", str(call), T.fields(call.info()))
            self._take(call)

        def on_incoming_call2(self, call: Any, rdata: Any) -> None:
            T.ev(self.channel, "on_incoming_call2", str(call), T.fields(call.info()),
                 T.fields(rdata))
            self._take(call)

        def _take(self, call: Any) -> None:
            self.calls.append(call)
            call.set_callback(CallTrace(f"{self.channel}/call{len(self.calls)}"))
            for code in self.codes:
                if code == 200:  # the defaults
                    T.ev(self.channel, "answer", code, _try(call.answer))
                elif code == 180:
                    T.ev(self.channel, "answer", code,
                         _try(call.answer, code=180, reason="Ringing", hdr_list=[("X-A", "1")]))
                else:
                    T.ev(self.channel, "answer", code, _try(call.answer, code))

        def on_reg_state(self) -> None:
            info = self.account.info()
            T.ev(self.channel, "on_reg_state", T.fields(info))

        def on_incoming_subscribe(self, buddy: Any, from_uri: str, contact_uri: str,
                                  pres_obj: Any) -> Any:
            T.ev(self.channel, "on_incoming_subscribe", str(buddy), from_uri, contact_uri)
            self.subscribers.append(pres_obj)
            return (200, None)

        def on_pager(self, from_uri: str, contact: str, mime_type: str, body: str) -> None:
            T.ev(self.channel, "on_pager", from_uri, contact, mime_type, body)

        def on_pager_status(self, to_uri: str, body: str, im_id: int, code: int,
                            reason: str) -> None:
            T.ev(self.channel, "on_pager_status", to_uri, body, im_id, code, reason)

        def on_typing(self, from_uri: str, contact: str, is_typing: bool) -> None:
            T.ev(self.channel, "on_typing", from_uri, contact, is_typing)

        def on_mwi_info(self, body: str) -> None:
            T.ev(self.channel, "on_mwi_info", body)

    class BuddyTrace(pjsua.BuddyCallback):
        def __init__(self, channel: str, buddy: Any = None) -> None:
            pjsua.BuddyCallback.__init__(self, buddy)
            self.channel = channel

        def on_state(self) -> None:
            T.ev(self.channel, "on_state", T.fields(self.buddy.info()))

        def on_pager(self, mime_type: str, body: str) -> None:
            T.ev(self.channel, "on_pager", mime_type, body)

        def on_pager_status(self, body: str, im_id: int, code: int, reason: str) -> None:
            T.ev(self.channel, "on_pager_status", body, im_id, code, reason)

        def on_typing(self, is_typing: bool) -> None:
            T.ev(self.channel, "on_typing", is_typing)

    return {"CallTrace": CallTrace, "AccountTrace": AccountTrace, "BuddyTrace": BuddyTrace}


def _try(fn: Callable[..., Any], /, *args: Any, **kw: Any) -> Any:
    try:
        return T.val(fn(*args, **kw))
    except Exception as exc:
        return T.err(exc)


_CB = _callbacks()
CallTrace = _CB["CallTrace"]
AccountTrace = _CB["AccountTrace"]
BuddyTrace = _CB["BuddyTrace"]


def loopback_transport(lib: Any, kind: str = "UDP") -> Any:
    """A transport on 127.0.0.1 with a port the OS chooses."""
    return lib.create_transport(getattr(pjsua.TransportType, kind),
                                pjsua.TransportConfig(0, "127.0.0.1", "127.0.0.1"))


def loopback_account(lib: Any, transport: Any, user: str, cb: Any = None,
                     set_default: bool = True) -> Any:
    """A local account on ``transport``, its media on 127.0.0.1."""
    info = transport.info()
    cfg = pjsua.AccountConfig()
    cfg.id = f"sip:{user}@{info.host}:{info.port}"
    cfg.transport_id = transport._id
    cfg.rtp_transport_cfg = pjsua.TransportConfig(0, "127.0.0.1", "127.0.0.1")
    return lib.create_account(cfg, set_default, cb)


def uri(transport: Any, user: str) -> str:
    info = transport.info()
    return f"sip:{user}@{info.host}:{info.port}"
