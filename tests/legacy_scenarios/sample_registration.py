"""pjproject's sample registration.py, with the kamailio the test started as its
server (the sample names pjsip.org; a user puts their own server there) and its
transport on 127.0.0.1."""

import os

from tests.legacy_scenarios import samples

NEEDS_KAMAILIO = True

server = os.environ["LEGACY_DIFF_KAMAILIO"]
samples.run("registration.py", [], [(r"Press ENTER to quit", "")], settings={
    'pj.AccountConfig("pjsip.org", "bennylp", "***")':
        f'pj.AccountConfig("{server}", "alice", "alice-pw")',
    "pj.TransportConfig(5080)": 'pj.TransportConfig(0, "127.0.0.1", "127.0.0.1")',
})
