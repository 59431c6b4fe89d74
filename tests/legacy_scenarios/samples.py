"""The one runner of pjproject's legacy samples (``pjsip-apps/src/python/samples/*.py``,
Python 2), converted to Python 3 at run time, never copied: with lib2to3 where Python
has it, else fissix (its fork on PyPI; tools/dev installs it). A scenario of
tests/legacy_scenarios/ calls :func:`run`; the differential test runs the scenario on
both modules and compares the traces.

The sample's standard input is a script of ``(pattern, line)`` steps: each line is given
when the sample's output since the previous step's match matches the pattern, or with
``"@ROLE pattern"`` when another sample of the same run (a peer started with
``tracer.spawn``, or ``main``) printed it. A line or argument ``__PEER_URI__:ROLE`` is
that peer's SIP URI. The output goes into the trace line by line, per callback object
(see :class:`_Output`), less pjsip's log: the sample's log callback is set aside (pjsip's
log lines carry times, pointers and pjsip's inner workings, not the binding's)."""

from __future__ import annotations

import ast
import io
import itertools
import json
import re
import sys
import threading
import time
import traceback
from typing import Any, Dict, List, Optional, Tuple

from tests.legacy_scenarios.tracer import _TRACE_PATH as TRACE_PATH
from tests.legacy_scenarios.tracer import T
from tools.legacy import convert_py2 as convert
from tools.legacy import samples_source

SAMPLES = samples_source()
_LOG_LINE = re.compile(r"^\s*\d\d:\d\d:\d\d\.\d{3} ")


_origin = threading.local()  # which of the program's callbacks is running, if any


def _tag_callbacks() -> None:
    """Make every callback class the program derives from the module's callback classes
    note, while one of its ``on_*`` methods runs, which callback object it is (numbered
    in order of creation) and, for ``on_state`` of a buddy, the subscription state."""
    import pjsua

    def tag(cls: type) -> None:
        count = [0]
        init = cls.__init__

        def tagged_init(self: Any, *args: Any, **kwargs: Any) -> None:
            count[0] += 1
            self._sample_label = f"{cls.__name__}#{count[0]}"
            init(self, *args, **kwargs)

        cls.__init__ = tagged_init  # type: ignore[misc]
        for name, fn in list(vars(cls).items()):
            if name.startswith("on_") and callable(fn):
                setattr(cls, name, _tagged(name, fn))

    def hook(base: type) -> Any:
        prev = vars(base).get("__init_subclass__")  # the coverage's hook, in legacy

        def init_subclass(cls: type, **kw: Any) -> None:
            tag(cls)
            if prev is not None:
                prev.__get__(None, cls)(**kw)

        return classmethod(init_subclass)

    for base in (pjsua.AccountCallback, pjsua.BuddyCallback, pjsua.CallCallback):
        base.__init_subclass__ = hook(base)  # type: ignore[assignment]


_calls: Dict[str, "itertools.count[int]"] = {}  # per callback object and method


def _tagged(name: str, fn: Any) -> Any:
    def run(self: Any, *args: Any, **kw: Any) -> Any:
        state = None
        if name == "on_state" and getattr(self, "buddy", None) is not None:
            state = int(self.buddy.info().sub_state)
        prev = getattr(_origin, "tag", None)
        label = f"{getattr(self, '_sample_label', '?')}.{name}"
        _origin.tag = (label, state, next(_calls.setdefault(label, itertools.count(1))))
        try:
            return fn(self, *args, **kw)
        finally:
            _origin.tag = prev

    return run


class _Output(io.TextIOBase):
    """The sample's stdout: log lines dropped, other lines traced, all kept for the
    script's patterns. What a callback prints goes to a channel of that callback object
    (``stdout MyBuddyCallback#1.on_state``): when the legacy module runs a callback (on
    its worker thread, or inside the API call that raised the event) and when ours does
    (on its callback thread) differ, the deliberate difference "callback-thread"; in
    which order each one prints, and what, is compared."""

    def __init__(self) -> None:
        self.text = ""
        self._lines: Dict[Any, str] = {}
        self._after_log = False
        self.cv = threading.Condition()

    def write(self, s: str) -> int:
        if _LOG_LINE.match(s):  # one pjsip log entry (maybe several lines) per write
            self._after_log = True
            return len(s)
        if self._after_log and s == " ":  # the end=" " of the sample's log print
            self._after_log = False
            return len(s)
        self._after_log = False
        tag = getattr(_origin, "tag", None)
        key = tag[0] if tag else ""
        with self.cv:
            self.text += s
            line = self._lines.get(key, "") + s
            while "\n" in line:
                one, line = line.split("\n", 1)
                self._emit(key, one, tag)
            self._lines[key] = line
            self.cv.notify_all()
        return len(s)

    def _emit(self, key: str, line: str, tag: Any) -> None:
        if _LOG_LINE.match(line):
            return
        line = line.strip()  # print(x, end=" ") leaves spaces py2 did not
        if key:
            T.ev(f"stdout {key}", line, tag[1], tag[2])
        else:
            T.ev("stdout", line)

    def close_lines(self) -> None:
        """The last, unfinished line of each origin."""
        with self.cv:
            for key, line in self._lines.items():
                if line:
                    self._emit(key, line, (key, None, 0))
            self._lines.clear()

    def flush(self) -> None:
        pass


class _Script(io.TextIOBase):
    def __init__(self, out: _Output, steps: List[Tuple[str, str]], timeout: float) -> None:
        self.out = out
        self.steps = list(steps)
        self.timeout = timeout
        self.cursor = 0

    def readline(self, size: int = -1) -> str:
        if not self.steps:
            return ""
        pattern, line = self.steps.pop(0)
        if pattern.startswith("@"):  # "@ROLE regex": in the output of that peer
            role, regex = pattern[1:].split(" ", 1)
            ok = _Peer.get(role).wait(regex, self.timeout)
        else:
            found: List["re.Match[str]"] = []

            def seen() -> bool:  # in what came after the previous step's match
                m = re.compile(pattern, re.M).search(self.out.text, self.cursor)
                found[:] = [m] if m else []
                return bool(m)

            with self.out.cv:
                ok = self.out.cv.wait_for(seen, self.timeout)  # prompts end without "\n"
            if found:
                self.cursor = found[0].end()
        if line in ("__URI__", "__URI_BY_NAME__"):
            # The program's own SIP URI, as it printed it (or with its host by name).
            found_uri = re.search(r"My SIP URI is (\S+)", self.out.text)
            uri = found_uri.group(1) if found_uri else ""
            line = uri if line == "__URI__" else uri.replace("127.0.0.1", "localhost")
        elif line.startswith(PEER_URI):
            line = _Peer.get(line[len(PEER_URI):]).uri(self.timeout)
        T.ev("stdin", pattern, bool(ok), line)
        time.sleep(0.3)  # let the program settle, as a person at the keyboard would
        return line + "\n"


PEER_URI = "__PEER_URI__:"  # a step's line or an argument: "__PEER_URI__:ROLE"


class _Peer:
    """Another sample program of the same run (the main one, or one started with
    tracer.spawn): what it printed so far, read from its trace."""

    _known: Dict[str, "_Peer"] = {}

    def __init__(self, role: str) -> None:
        self.path = TRACE_PATH + ("" if role == "main" else f".{role}")
        self.cursor = 0

    @classmethod
    def get(cls, role: str) -> "_Peer":
        return cls._known.setdefault(role, cls(role))

    def text(self) -> str:
        """Its output lines, and "[exit]" once its sample has ended."""
        lines: List[str] = []
        try:
            with open(self.path) as fh:
                records = [json.loads(x) for x in fh if x.strip()]
        except (OSError, ValueError):
            return ""
        for rec in records:
            ch, r = rec["ch"], rec["r"]
            if ":stdout" in ch:
                lines.append(str(ast.literal_eval(r[0])))
            elif r and r[0] == "exit status":
                lines.append("[exit]")
        return "\n".join(lines) + "\n"

    def wait(self, regex: str, timeout: float) -> bool:
        """Until ``regex`` shows in what it printed after the previous match."""
        end = time.monotonic() + timeout
        while True:
            m = re.compile(regex, re.M).search(self.text(), self.cursor)
            if m:
                self.cursor = m.end()
                return True
            if time.monotonic() > end:
                return False
            time.sleep(0.05)

    def uri(self, timeout: float) -> str:
        """Its SIP URI, as it printed it."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            text = self.text()
            m = re.search(r"My SIP URI is (\S+)", text) or \
                re.search(r"Listening on (\S+) port (\d+)", text)
            if m:
                return m.group(1) if m.lastindex == 1 else f"sip:{m.group(1)}:{m.group(2)}"
            time.sleep(0.05)
        return ""


def _print_whole(*args: Any, sep: str = " ", end: str = "\n", file: Any = None,
                 flush: bool = False) -> None:
    """print() in one write: the sample prints from its main thread and its callbacks,
    and the built-in print() writes its pieces one by one."""
    out = io.StringIO()
    print(*args, sep=sep, end=end, file=out)
    (sys.stdout if file is None else file).write(out.getvalue())


def _quiet_log() -> None:
    """Make ``Lib.init`` drop the program's log callback (pjsip's log lines)."""
    import pjsua

    init = pjsua.Lib.init

    def quiet_init(self: Any, ua_cfg: Any = None, log_cfg: Any = None,
                   media_cfg: Any = None) -> Any:
        if log_cfg is not None:
            log_cfg.callback = None
            log_cfg.console_level = 0
        return init(self, ua_cfg, log_cfg, media_cfg)

    pjsua.Lib.init = quiet_init


def run(name: str, argv: List[str], steps: List[Tuple[str, str]], timeout: float = 15.0,
        settings: Optional[Dict[str, str]] = None) -> None:
    """Run sample ``name`` with ``argv`` and the stdin script ``steps``. ``settings``
    replaces text of the converted program, as a user fills in their own server."""
    _quiet_log()
    _tag_callbacks()
    source = convert((SAMPLES / name).read_text())
    for old, new in (settings or {}).items():
        if source.count(old) != 1:
            raise RuntimeError(f"{name} changed: {old!r} is not in it once")
        source = source.replace(old, new)
    code = compile(source, str(SAMPLES / name), "exec")
    argv = [_Peer.get(a[len(PEER_URI):]).uri(timeout) if a.startswith(PEER_URI) else a
            for a in argv]
    out = _Output()
    old = sys.stdout, sys.stdin, sys.argv
    sys.stdout, sys.stdin, sys.argv = out, _Script(out, steps, timeout), [name, *argv]
    status: Any = 0
    try:
        exec(code, {"__name__": "__main__", "print": _print_whole})
    except SystemExit as exc:
        status = exc.code
    except SystemError as exc:
        if not _legacy_pager_status_bug(exc):
            raise
        T.ev("difference", "pager-status-of-deleted-account")
    finally:
        out.write("\n")
        out.close_lines()
        sys.stdout, sys.stdin, sys.argv = old
    T.note("exit status", status)


def _legacy_pager_status_bug(exc: BaseException) -> bool:
    """The legacy module's failure when pjsua reports the status of a MESSAGE whose
    account was deleted (at the latest in destroy()): its dispatcher looks the account
    up, gets None and fails, and the pjsua call then running raises SystemError (the
    deliberate difference "pager-status-of-deleted-account")."""
    cause = exc.__cause__
    if not isinstance(cause, AttributeError) or "'NoneType'" not in str(cause):
        return False
    frames = traceback.extract_tb(cause.__traceback__)
    return bool(frames) and frames[-1].name == "_cb_on_pager_status" and \
        frames[-1].filename.endswith("pjsua.py") and "acc._cb" in (frames[-1].line or "")
