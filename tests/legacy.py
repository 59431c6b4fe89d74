"""Run one program against the legacy ``pjsua`` module and against ours, side by side.

The legacy module is built from the fetched pjproject tree (``benchmarks/run.py``,
cached outside the repository). A program is Python source that does ``import pjsua``
and reports with ``report(**values)``; :func:`run_both` runs it once with the legacy
module first on the path and once with ours, each in its own process, and returns both
reports. The prelude makes the legacy ``Error`` (a plain class on Python 3, so ``raise``
of it fails with TypeError) an exception, and gives both sides ``attempt(fn)`` which
returns the value or ``("Error", op_name, str(obj), err_code)``.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from support import _REPORT, ROOT, ScenarioFailed

PRELUDE = '''
import json, sys
import pjsua
LEGACY = not hasattr(pjsua, "__version__")
assert LEGACY == (sys.argv[-1] == "legacy"), pjsua.__file__
if not issubclass(pjsua.Error, BaseException):
    _Plain = pjsua.Error
    class _LegacyError(_Plain, Exception):
        def __init__(self, *args):
            _Plain.__init__(self, *args)
            Exception.__init__(self, *args)
        __str__ = _Plain.__str__
    pjsua.Error = _LegacyError

def report(**values):
    print("@@REPORT@@ " + json.dumps(values, default=repr), flush=True)

def attempt(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except pjsua.Error as e:
        return ["Error", e.op_name, str(e.obj), e.err_code]
'''


@functools.lru_cache(maxsize=1)
def legacy_dir() -> Tuple[Optional[Path], str]:
    """The folder holding the built legacy module, or (None, why it is missing)."""
    sys.path.insert(0, str(ROOT))
    try:
        from tools.legacy import build_legacy

        return build_legacy(False), ""
    except Exception as exc:  # noqa: BLE001  (reported as the skip reason)
        return None, f"the legacy module cannot be built here: {exc}"
    finally:
        sys.path.remove(str(ROOT))


def run_as(which: str, source: str, *args: str, timeout: float = 60.0) -> Dict[str, Any]:
    """Run ``source`` with ``import pjsua`` meaning ``which`` ("legacy" or "ours")."""
    path = [str(ROOT)]
    if which == "legacy":
        lib_dir, why = legacy_dir()
        if lib_dir is None:
            raise RuntimeError(why)
        path.insert(0, str(lib_dir))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path + [str(ROOT / "tests")]),
               PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1")
    code = PRELUDE + textwrap.dedent(source)
    args = (*args, which)
    # Not in ROOT: ``python -c`` puts the working folder first on the path, and
    # ROOT's pjsua.py would shadow the legacy module.
    try:
        with tempfile.TemporaryDirectory(prefix="pjsua-diff-") as cwd:
            proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                                  text=True, timeout=timeout, env=env, cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        raise ScenarioFailed(f"{which}: timed out\n{exc.stdout!r}\n{exc.stderr!r}") from None
    if proc.returncode != 0:
        raise ScenarioFailed(f"{which}: exited {proc.returncode}\n--- stdout\n"
                             f"{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-6000:]}")
    result: Dict[str, Any] = {}
    for line in proc.stdout.splitlines():
        if line.startswith(_REPORT):
            result.update(json.loads(line[len(_REPORT):]))
    return result


def run_both(source: str, *args: str, timeout: float = 60.0) -> Tuple[Dict[str, Any],
                                                                       Dict[str, Any]]:
    """(legacy report, our report) of the same program."""
    return run_as("legacy", source, *args, timeout=timeout), \
        run_as("ours", source, *args, timeout=timeout)
