"""Register at a SIP registrar, wait for its answer, then unregister.

    python register.py --registrar sip:sip.example.org --user alice --password secret

The exit code says whether the registration succeeded (0) or not (1).
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import List, Tuple

from common import add_network_args, say, start_lib

import pjsua_ffi as pj


class RegistrationWatch(pj.AccountCallback):
    """Collects (status, reason, expires) each time the registration changes."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = threading.Condition()
        self.seen: List[Tuple[int, str, int]] = []

    def on_reg_state(self) -> None:
        info = self.account.info()
        with self.changed:
            self.seen.append((info.reg_status, info.reg_reason, info.reg_expires))
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float) -> Tuple[int, str, int]:
        """The ``count``-th registration answer (status 408 if none came in time)."""
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.seen) >= count, timeout):
                return 408, "no answer", 0
            return self.seen[count - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--registrar", required=True, help="e.g. sip:sip.example.org")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--domain", help="the account's domain (default: the registrar's host)")
    parser.add_argument("--timeout", type=float, default=10.0)
    add_network_args(parser)
    args = parser.parse_args()
    domain = args.domain or pj.SIPUri(args.registrar).host

    lib, transport = start_lib(args)
    try:
        # AccountConfig(domain, user, password, ...) fills in the account's address,
        # the registrar and the digest credentials (realm "*": whatever is asked). Without
        # proxy=, requests would go to the domain's default port (sip:DOMAIN;lr).
        cfg = pj.AccountConfig(domain, args.user, args.password, registrar=args.registrar,
                               proxy=args.registrar)
        cfg.transport_id = transport._id
        if args.bind:
            cfg.rtp_transport_cfg = pj.TransportConfig(0, args.bind, args.bind)
        watch = RegistrationWatch()
        account = lib.create_account(cfg, cb=watch)
        say(f"registering {account.info().uri} at {args.registrar}")
        status, reason, expires = watch.wait_for(1, args.timeout)
        if status // 100 != 2:
            say(f"registration failed: {status} {reason}")
            return 1
        say(f"registered: {status} {reason}, expires in {expires} s")
        account.set_registration(False)
        status, reason, expires = watch.wait_for(2, args.timeout)
        say(f"unregistered: {status} {reason}")
        return 0
    finally:
        lib.destroy()


if __name__ == "__main__":
    sys.exit(main())
