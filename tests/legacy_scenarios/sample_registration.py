"""pjproject's sample registration.py as it is: it registers bennylp at pjsip.org. In
its network namespace (also a mount namespace: NEEDS_NETNS) /etc/hosts is replaced by
one that names 127.0.0.1 pjsip.org, where a kamailio serves that domain on port 5060
with the sample's own password.

One fix to the sample's own race: it makes its callback's semaphore in ``wait()``, after
``set_callback()``, so an answer that comes before that is lost and the sample waits for
ever (the legacy module's callback thread beat it about 1 run in 16 here). The
semaphore is made before ``set_callback()``, and a registration already done is not
waited for."""

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
    samples.run("registration.py", [], [(r"Press ENTER to quit", "")], settings={
        "        self.sem = threading.Semaphore(0)\n        self.sem.acquire()":
        "        self.sem.acquire()",
        "    acc.set_callback(acc_cb)\n    acc_cb.wait()":
        "    acc_cb.sem = threading.Semaphore(0)\n    acc.set_callback(acc_cb)\n"
        "    if acc.info().reg_status < 200:\n        acc_cb.wait()",
    })
