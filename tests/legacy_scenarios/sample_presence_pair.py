"""pjproject's sample presence.py twice, each driven from its menu: A adds B as a buddy;
B accepts (and adds the URI A's SUBSCRIBE came from: a local account's, without its
port, so that subscription reaches nobody, in both modules); A sends B an IM; B goes
offline; A quits, then B. They bind to every address: the test runs this in a network
namespace with only a loopback interface."""

import sys

from tests.legacy_scenarios import samples
from tests.legacy_scenarios.tracer import spawn

NEEDS_NETNS = True

if sys.argv[1:2] == ["b"]:
    samples.run("presence.py", [], [
        (r"Press \"A\" to accept", "A"),
        (r"hello from a", "t"),
        (r"@main \[exit\]", "q"),
    ], timeout=20)
    sys.exit(0)

b = spawn("sample_presence_pair", "b", "b")
samples.run("presence.py", [], [
    (r"My SIP URI is", "a"),
    (r"Enter buddy URI", samples.PEER_URI + "b"),
    (r"is Online", "i"),
    (r"Type the message", "hello from a"),
    (r"is Offline", "q"),
], timeout=20)
b.wait(30)
