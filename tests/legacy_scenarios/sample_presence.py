"""pjproject's sample presence.py, driven from its menu: it adds itself as a buddy,
accepts its own subscription, sends itself an IM, toggles its status, deletes the
buddy and quits. It binds to every address: the test runs it in a network namespace."""

from tests.legacy_scenarios import samples

NEEDS_NETNS = True

samples.run("presence.py", [], [
    (r"My SIP URI is (\S+)", "a"),
    (r"Enter buddy URI", "__URI_BY_NAME__"),
    (r"Press \"A\" to accept", "A"),
    (r"is Online", "i"),
    (r"Type the message", "hello me"),
    (r"hello me", "t"),
    (r"Offline", "d"),
    (r"Menu", "q"),
], timeout=8)
