"""pjproject's sample presence.py, driven from its menu: it adds itself as a buddy (by
host name, so that the two URIs differ), accepts its own subscription (which adds the
watcher's URI, sip:127.0.0.1 with no port, as the current buddy), sends that buddy an
IM (nobody answers on port 5060: its status comes at destroy()), goes offline, deletes
the current buddy and quits (deleting the account ends the first buddy's subscription).
It binds to every address: the test runs it in a network namespace."""

from tests.legacy_scenarios import samples

NEEDS_NETNS = True

samples.run("presence.py", [], [
    (r"My SIP URI is (\S+)", "a"),
    (r"Enter buddy URI", "__URI_BY_NAME__"),
    (r"Press \"A\" to accept", "A"),
    (r"is Online", "i"),
    (r"Type the message", "hello me"),
    (r"Menu", "t"),
    (r"is Offline", "d"),
    (r"Menu", "q"),
], timeout=8)
