"""Importing pjsua_ffi starts nothing: no thread, no socket, no pjsua instance."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import ROOT, scenario_env

PROBE = r"""
import json, os, threading
def state():
    fds = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
           if os.path.exists(f"/proc/self/fd/{fd}")]
    return {"tasks": len(os.listdir("/proc/self/task")), "threads": threading.active_count(),
            "sockets": sum(f.startswith("socket:") for f in fds)}
before = state()
import pjsua_ffi, pjsua
after = state()
print(json.dumps({"before": before, "after": after,
                  "instance": pjsua_ffi.Lib.instance() is None}))
"""


def test_importing_the_package_starts_no_thread_socket_or_library() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         env=scenario_env(), cwd=str(ROOT), timeout=60, check=True).stdout
    r = json.loads(out)
    assert r["after"] == r["before"], r
    assert r["instance"] is True


def test_no_library_in_this_process() -> None:
    import threading

    import pjsua_ffi

    assert pjsua_ffi.Lib.instance() is None
    assert all(t.name in ("MainThread",) or t.daemon for t in threading.enumerate())
