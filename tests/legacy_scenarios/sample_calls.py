"""pjproject's samples call.py (as the callee, answering from its menu) and
simplecall.py (as the caller, in another process, given the callee's URI). They bind to
every address, so the test runs this in a network namespace with only a loopback
interface."""

import sys

from tests.legacy_scenarios import samples
from tests.legacy_scenarios.tracer import spawn

NEEDS_NETNS = True

if sys.argv[1:2] == ["caller"]:
    samples.run("simplecall.py", [samples.PEER_URI + "main"],
                [(r"is\s+CONFIRMED", "")], timeout=20)
    sys.exit(0)

caller = spawn("sample_calls", "caller", "caller")
# call.py answers 180 after it printed its prompt: "a" once the call is EARLY.
samples.run("call.py", [], [(r"is EARLY", "a"), (r"is DISCONNECTED", "q")], timeout=20)
caller.wait(20)
