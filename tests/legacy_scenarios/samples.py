"""Runs one of pjproject's legacy samples (``pjsip-apps/src/python/samples/*.py``,
Python 2) converted to Python 3 at run time, never copied: with lib2to3 where Python
has it, else fissix (its fork on PyPI; tools/dev installs it).

The sample's standard input is a script of ``(pattern, line)`` steps: each line is
given when the sample's output so far matches the pattern. Its output goes into the
trace line by line, less pjsip's log: the sample's log callback is set aside (pjsip's
log lines carry times, pointers and pjsip's inner workings, not the binding's)."""

from __future__ import annotations

import io
import re
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from tests.legacy_scenarios.tracer import T
from tools.legacy import convert_py2 as convert
from tools.legacy import samples_source

SAMPLES = samples_source()
_LOG_LINE = re.compile(r"^\s*\d\d:\d\d:\d\d\.\d{3} ")


class _Output(io.TextIOBase):
    """The sample's stdout: log lines dropped, other lines traced, all kept for the
    script's patterns."""

    def __init__(self) -> None:
        self.text = ""
        self._line = ""
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
        with self.cv:
            self._line += s
            while "\n" in self._line:
                line, self._line = self._line.split("\n", 1)
                if not _LOG_LINE.match(line):
                    line = line.strip()  # print(x, end=" ") leaves spaces py2 did not
                    self.text += line + "\n"
                    T.ev("stdout", line)
            self.cv.notify_all()
        return len(s)

    def flush(self) -> None:
        pass


class _Script(io.TextIOBase):
    def __init__(self, out: _Output, steps: List[Tuple[str, str]], timeout: float) -> None:
        self.out = out
        self.steps = list(steps)
        self.timeout = timeout

    def readline(self, size: int = -1) -> str:
        if not self.steps:
            return ""
        pattern, line = self.steps.pop(0)
        with self.out.cv:
            ok = self.out.cv.wait_for(lambda: re.search(pattern, self.out.text, re.M),
                                      self.timeout)
        if line in ("__URI__", "__URI_BY_NAME__"):
            # The program's own SIP URI, as it printed it (or with its host by name).
            found = re.search(r"My SIP URI is (\S+)", self.out.text)
            uri = found.group(1) if found else ""
            line = uri if line == "__URI__" else uri.replace("127.0.0.1", "localhost")
        T.ev("stdin", pattern, bool(ok), line)
        time.sleep(0.3)  # let the program settle, as a person at the keyboard would
        return line + "\n"


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
    source = convert((SAMPLES / name).read_text())
    for old, new in (settings or {}).items():
        if source.count(old) != 1:
            raise RuntimeError(f"{name} changed: {old!r} is not in it once")
        source = source.replace(old, new)
    code = compile(source, str(SAMPLES / name), "exec")
    out = _Output()
    old = sys.stdout, sys.stdin, sys.argv
    sys.stdout, sys.stdin, sys.argv = out, _Script(out, steps, timeout), [name, *argv]
    status: Any = 0
    try:
        exec(code, {"__name__": "__main__", "print": _print_whole})
    except SystemExit as exc:
        status = exc.code
    finally:
        out.write("\n")
        sys.stdout, sys.stdin, sys.argv = old
    T.note("exit status", status)
