"""pjproject's sample registration.py as it is: it registers bennylp at pjsip.org. In
its network namespace (also a mount namespace: NEEDS_NETNS) /etc/hosts is replaced by
one that names 127.0.0.1 pjsip.org, where a kamailio serves that domain on port 5060
with the sample's own password."""

import subprocess
from pathlib import Path

from tests.legacy_scenarios import samples
from tests.peers import kamailio

NEEDS_NETNS = True

work = Path.cwd()
hosts = work / "hosts"
hosts.write_text("127.0.0.1 localhost pjsip.org\n")
subprocess.run(["mount", "--bind", str(hosts), "/etc/hosts"], check=True)
kamailio._free_port = lambda host: 5060  # its own namespace: 5060 is free
(work / "kamailio").mkdir()
with kamailio.Kamailio(work / "kamailio", users={"bennylp": "***"}, domain="pjsip.org"):
    samples.run("registration.py", [], [(r"Press ENTER to quit", "")])
