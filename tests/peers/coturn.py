"""coturn (``turnserver``, Debian's ``coturn``): a STUN and TURN server started by a
test, in the foreground, stopped by pid. Long-term credentials for one user; its log
(kept in :meth:`Coturn.log_text`) shows every allocation it made."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Sequence

from tests.peers import end_process


class Coturn:
    def __init__(self, workdir: Path, ip: str, port: int = 3478, user: str = "alice",
                 password: str = "secret", realm: str = "test.local",
                 prefix: Sequence[str] = ()) -> None:
        self.dir = Path(workdir)
        self.ip, self.port = ip, port
        self.user, self.password, self.realm = user, password, realm
        self.prefix = tuple(prefix)
        self.proc: "subprocess.Popen[bytes] | None" = None

    def start(self, timeout: float = 10.0) -> "Coturn":
        self.dir.mkdir(parents=True, exist_ok=True)
        cmd = [*self.prefix, "turnserver", "-n", f"--listening-ip={self.ip}",
               f"--relay-ip={self.ip}", f"--listening-port={self.port}", "--lt-cred-mech",
               f"--user={self.user}:{self.password}", f"--realm={self.realm}",
               "--no-tls", "--no-dtls", "--no-cli", f"--userdb={self.dir / 'turndb'}",
               f"--pidfile={self.dir / 'turnserver.pid'}", "--min-port=49152",
               "--max-port=49400", "--log-file=stdout", "--simple-log", "--verbose"]
        self._log = open(self.dir / "turnserver.log", "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while "Total General servers" not in self.log_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("turnserver did not start:\n" + self.log_text()[-2000:])
            time.sleep(0.05)
        return self

    def log_text(self) -> str:
        try:
            return (self.dir / "turnserver.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        end_process(proc)
        self._log.close()

    def __enter__(self) -> "Coturn":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
