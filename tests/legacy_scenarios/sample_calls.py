"""pjproject's samples call.py (as the callee, answering from its menu) and
simplecall.py (as the caller, in another process). They bind to every address, so
the test runs this in a network namespace with only a loopback interface."""

import re
import subprocess
import sys
from typing import Optional

from tests.legacy_scenarios import samples
from tests.legacy_scenarios.tracer import spawn

NEEDS_NETNS = True

if sys.argv[1:2] == ["caller"]:
    samples.run("simplecall.py", [sys.argv[2]],
                [(r"Hello world, I can talk!", "")])
    sys.exit(0)

class _Starter:
    """call.py prints where it listens; the caller starts once that is known."""

    def __init__(self) -> None:
        self.proc: Optional[subprocess.Popen] = None


starter = _Starter()
_orig_readline = samples._Script.readline


def _readline(self: samples._Script, size: int = -1) -> str:
    if starter.proc is None:
        m = re.search(r"Listening on (\S+) port (\d+)", self.out.text)
        if m:
            starter.proc = spawn("sample_calls", "caller", "caller",
                                 f"sip:{m.group(1)}:{m.group(2)}")
    return _orig_readline(self, size)


samples._Script.readline = _readline  # type: ignore[method-assign]
samples.run("call.py", [], [(r"Press 'a' to answer", "a"),
                            (r"is DISCONNECTED", "q")], timeout=20)
if starter.proc is not None:
    starter.proc.wait(20)
