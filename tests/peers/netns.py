"""Network namespaces made by a test: two user agents, each behind its own
masquerading NAT router, and a "public" network (a bridge) with a server host.

    A 10.1.0.2 -- 10.1.0.1 [router A, NAT] 198.51.100.2 --+
                                                           +-- br 198.51.100.1 (server)
    B 10.2.0.2 -- 10.2.0.1 [router B, NAT] 198.51.100.3 --+

Router B forwards one UDP port (B's SIP port) to B, so A can call B; nothing else
reaches either host unless they sent to it first (unsolicited packets are dropped).
Names carry the test process's pid, so parallel runs never collide; :meth:`NatLab.down`
deletes them all (also after a failed :meth:`NatLab.up`). Needs root.
"""

from __future__ import annotations

import os
import subprocess
from typing import Dict, List, Tuple

SERVER = "198.51.100.1"
PUBLIC = {"a": "198.51.100.2", "b": "198.51.100.3"}
PRIVATE = {"a": "10.1.0.2", "b": "10.2.0.2"}
SIP_PORT = 5060


class NatLabError(RuntimeError):
    pass


class NatLab:
    def __init__(self, suffix: str = "") -> None:
        """``suffix`` (a letter or two) tells apart labs of one process."""
        tag = f"p{os.getpid()}{suffix}"
        self.tag = tag
        self.ns: Dict[str, str] = {k: f"{tag}-{k}" for k in ("pub", "ra", "rb", "a", "b")}
        self._made: List[str] = []

    def prefix(self, host: str) -> Tuple[str, ...]:
        """Command prefix that runs a program inside namespace ``host``."""
        return ("ip", "netns", "exec", self.ns[host])

    def _ip(self, *args: str, ns: str = "") -> None:
        cmd = ["ip", *(["-n", self.ns[ns]] if ns else []), *args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        if r.returncode:
            raise NatLabError(f"{' '.join(cmd)}: {r.stderr.strip()}")

    def _in(self, ns: str, *cmd: str, stdin: str = "") -> None:
        r = subprocess.run([*self.prefix(ns), *cmd], input=stdin, capture_output=True,
                           text=True, timeout=10)
        if r.returncode:
            raise NatLabError(f"{ns}: {' '.join(cmd)}: {r.stderr.strip()}")

    def up(self) -> "NatLab":
        try:
            self._up()
        except BaseException:
            self.down()
            raise
        return self

    def _up(self) -> None:
        t = self.tag
        for ns in self.ns.values():
            self._ip("netns", "add", ns)
            self._made.append(ns)
        for ns in self.ns:
            self._ip("link", "set", "lo", "up", ns=ns)
        self._ip("link", "add", "br0", "type", "bridge", ns="pub")
        self._ip("addr", "add", f"{SERVER}/24", "dev", "br0", ns="pub")
        self._ip("link", "set", "br0", "up", ns="pub")
        # Like the internet, the public side drops what is sent to private addresses
        # (a default route into a veth that leads nowhere) instead of failing the send:
        # coturn's relay stopped relaying after a "network unreachable" when ICE tried
        # a peer's host candidate through it.
        self._ip("link", "add", "void0", "type", "veth", "peer", "name", "void1", ns="pub")
        self._ip("link", "set", "void0", "up", ns="pub")
        self._ip("link", "set", "void1", "up", ns="pub")
        self._ip("route", "add", "default", "dev", "void0", ns="pub")
        for side in ("a", "b"):
            router, net = f"r{side}", "1" if side == "a" else "2"
            # Router <-> public bridge.
            self._ip("link", "add", f"{t}{side}w", "type", "veth", "peer", "name",
                     f"{t}{side}p")
            self._ip("link", "set", f"{t}{side}w", "netns", self.ns[router])
            self._ip("link", "set", f"{t}{side}p", "netns", self.ns["pub"])
            self._ip("link", "set", f"{t}{side}p", "master", "br0", ns="pub")
            self._ip("link", "set", f"{t}{side}p", "up", ns="pub")
            self._ip("link", "set", f"{t}{side}w", "name", "wan", ns=router)
            self._ip("addr", "add", f"{PUBLIC[side]}/24", "dev", "wan", ns=router)
            self._ip("link", "set", "wan", "up", ns=router)
            self._ip("route", "add", "default", "via", SERVER, ns=router)
            # Host <-> router.
            self._ip("link", "add", f"{t}{side}l", "type", "veth", "peer", "name",
                     f"{t}{side}h")
            self._ip("link", "set", f"{t}{side}l", "netns", self.ns[router])
            self._ip("link", "set", f"{t}{side}h", "netns", self.ns[side])
            self._ip("link", "set", f"{t}{side}l", "name", "lan", ns=router)
            self._ip("addr", "add", f"10.{net}.0.1/24", "dev", "lan", ns=router)
            self._ip("link", "set", "lan", "up", ns=router)
            self._ip("link", "set", f"{t}{side}h", "name", "eth0", ns=side)
            self._ip("addr", "add", f"{PRIVATE[side]}/24", "dev", "eth0", ns=side)
            self._ip("link", "set", "eth0", "up", ns=side)
            self._ip("route", "add", "default", "via", f"10.{net}.0.1", ns=side)
            self._in(router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
            rules = ["table ip nat {",
                     "  chain post { type nat hook postrouting priority 100;",
                     '    oifname "wan" masquerade; }']
            if side == "b":
                rules += ["  chain pre { type nat hook prerouting priority -100;",
                          f'    iifname "wan" udp dport {SIP_PORT} dnat to {PRIVATE["b"]}; }}']
            rules.append("}")
            # Unsolicited packets to the router itself are dropped before conntrack
            # keeps them, as a home router's firewall does: a kept entry would make
            # the router pick another port for the host's own packets to that peer,
            # and hole punching (ICE) could never work.
            rules += ["table ip filter {",
                      "  chain input { type filter hook input priority 0;",
                      '    iifname "wan" ct state new drop; }',
                      "}"]
            self._in(router, "nft", "-f", "-", stdin="\n".join(rules) + "\n")

    def conntrack_entries(self, side: str) -> str:
        """The NAT table of router ``side`` (what it translated)."""
        r = subprocess.run([*self.prefix(f"r{side}"), "cat", "/proc/net/nf_conntrack"],
                           capture_output=True, text=True, timeout=10)
        return r.stdout

    def down(self) -> None:
        """Delete our namespaces (and the veths in them), and any veth of ours still in
        this namespace (if ``up`` failed before moving it)."""
        for ns in reversed(self._made):
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True, timeout=10)
        self._made.clear()
        for side in ("a", "b"):
            for end in ("w", "l"):
                subprocess.run(["ip", "link", "delete", f"{self.tag}{side}{end}"],
                               capture_output=True, timeout=10)

    def __enter__(self) -> "NatLab":
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()
