"""pjproject's own legacy sample programs run on ours as on the legacy module."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any, Dict, List, Tuple

import pytest
from legacy import legacy_dir
from legacy_samples import SAMPLES

_DIR, _WHY = legacy_dir()


def _netns_ok() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    return subprocess.run(["unshare", "-n", "-m", "true"],
                          capture_output=True).returncode == 0


pytestmark = [
    pytest.mark.skipif(_DIR is None, reason=_WHY or "no legacy module"),
    pytest.mark.skipif(not (SAMPLES / "call.py").exists(), reason="no legacy samples"),
    pytest.mark.skipif(not _netns_ok(), reason="cannot create a network namespace here"),
]


def _run(which: str, sample: str = "call") -> Dict[str, Any]:
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    path = [str(_DIR)] if which == "legacy" else [root]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    # A namespace with only a loopback interface: call.py binds to every address.
    # -m too: the registration sample gets its own /etc/hosts (a bind mount).
    proc = subprocess.run(["unshare", "-n", "-m", sys.executable,
                           os.path.join(here, "legacy_samples.py"), sample],
                          capture_output=True, text=True, timeout=120, env=env, cwd=here)
    for line in proc.stdout.splitlines():
        if line.startswith("@@REPORT@@ "):
            return json.loads(line[len("@@REPORT@@ "):])
    raise AssertionError(f"{which}: exited {proc.returncode}\n{proc.stdout[-3000:]}\n"
                         f"{proc.stderr[-5000:]}")


# What the sample's main thread prints; the rest comes from its callbacks. How the two
# interleave is up to the thread scheduler in both modules (the legacy worker thread
# polls every 50 ms), except where the program holds auto_lock() while it prints.
_MAIN = ("Listening on", "Making call to", "Current call is {", "My SIP URI", "Menu:",
         "Enter buddy URI:", "Type the message:", "Press <ENTER>", "[exit")


def _threads(lines: List[str]) -> Tuple[List[str], List[str]]:
    return ([x for x in lines if x.startswith(_MAIN)],
            [x for x in lines if not x.startswith(_MAIN)])


def test_call_sample_caller_and_callee() -> None:
    legacy, ours = _run("legacy"), _run("ours")
    raw = (legacy.pop("raw"), ours.pop("raw"))
    for who in ("caller", "callee"):
        assert _threads(ours[who]) == _threads(legacy[who]), (who, raw)
    # The caller makes its call holding auto_lock() and prints it before letting go:
    # CALLING (delivered inside make_call) comes first, as in the legacy module.
    for out in (legacy, ours):
        caller = out["caller"]
        assert caller.index("Current call is {Call sip:127.0.0.1:P}") == \
            caller.index("Call with sip:127.0.0.1:P is CALLING last code = 0 ()") + 1
    assert "Call with sip:127.0.0.1:P is CONFIRMED last code = 200 (OK)" in ours["caller"]
    assert ours["callee"][-1] == "[exit 0]" and ours["caller"][-1] == "[exit 0]"


def test_simplecall_sample_calls_the_call_sample() -> None:
    legacy, ours = _run("legacy", "simplecall"), _run("ours", "simplecall")
    for who in ("caller", "callee"):
        assert _threads(ours[who]) == _threads(legacy[who]), who
    # The caller's DISCONNECTED comes from inside lib.destroy(), in both modules.
    assert ours["caller"][-2:] == ["Call is  DISCONNECTED last code = 200 (OK)", "[exit 0]"]


def _collapse(lines: List[str]) -> List[str]:
    """Repeated lines once: how many times pjsua reports the same buddy state while a
    subscription starts depends on how its responses and NOTIFYs interleave."""
    return [x for i, x in enumerate(lines) if i == 0 or lines[i - 1] != x]


def test_presence_sample_pair() -> None:
    legacy, ours = _run("legacy", "presence"), _run("ours", "presence")
    for who in ("a", "b"):
        want, got = _threads(legacy[who]), _threads(ours[who])
        assert got[0] == want[0], who  # the main thread's lines
        if who == "b":
            # B's buddy (the port-less URI A's SUBSCRIBE came from) never answers: its
            # subscription's end comes when the account goes, in both (legacy: from
            # lib.destroy(); ours: from Account.delete(), "buddies-go-with-account").
            assert want[1][-1] == got[1][-1] == "Buddy <sip:127.0.0.1> is ?"
        assert _collapse(got[1]) == _collapse(want[1]), who
    assert "hello from a" in ours["b"] and "Buddy sip:127.0.0.1:P is Offline" in ours["a"]


@pytest.mark.kamailio
def test_registration_sample_registers_with_kamailio() -> None:
    legacy, ours = _run("legacy", "registration"), _run("ours", "registration")
    assert ours == legacy
    assert ours["registration"][0] == "Registration complete, status= 200 (OK)"
