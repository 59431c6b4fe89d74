"""pjproject's sample call.py twice: a callee answering from its menu, and a caller
given the callee's URI on its command line, which hangs up from its menu. They bind to
every address: the test runs this in a network namespace with only a loopback
interface."""

import sys

from tests.legacy_scenarios import samples
from tests.legacy_scenarios.tracer import spawn

NEEDS_NETNS = True

if sys.argv[1:2] == ["caller"]:
    samples.run("call.py", [samples.PEER_URI + "main"],
                [(r"is CONFIRMED", "h"), (r"is DISCONNECTED", "q")], timeout=20)
    sys.exit(0)

caller = spawn("sample_call_pair", "caller", "caller")
samples.run("call.py", [], [(r"is EARLY", "a"), (r"is DISCONNECTED", "q")], timeout=20)
caller.wait(20)
