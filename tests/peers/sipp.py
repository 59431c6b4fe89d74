"""SIPp (Debian's ``sip-tester``) running one scenario of ours for one call, on
127.0.0.1, as a child process stopped by pid. Exit code 0 means the scenario ran to
its end as written; its message log shows what was exchanged."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

from tests.support import free_port

SCENARIOS = Path(__file__).resolve().parent.parent / "sipp"


def _free_media_port() -> int:
    """An even UDP port whose odd neighbour (RTCP) is free too."""
    for _ in range(100):
        port = free_port()
        if port % 2 == 0 and _udp_free(port + 1):
            return port
    raise RuntimeError("no free UDP port pair")


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Sipp:
    """``Sipp("early_media", workdir)`` is a UAS for the scenario
    ``tests/sipp/early_media.xml``; with ``remote`` it is a UAC calling
    ``sip:service@remote``. ``keys`` fill ``[name]`` fields of the scenario."""

    def __init__(self, scenario: str, workdir: Path, remote: Optional[str] = None,
                 service: str = "us", keys: Optional[Dict[str, str]] = None,
                 rtp_echo: bool = False) -> None:
        self.scenario = SCENARIOS / f"{scenario}.xml"
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.media_port = _free_media_port()
        self.log = self.dir / f"{scenario}-messages.log"
        self.err = self.dir / f"{scenario}-errors.log"
        for old in (self.log, self.err):
            old.unlink(missing_ok=True)
        cmd = ["sipp", "-sf", str(self.scenario), "-i", "127.0.0.1", "-mi", "127.0.0.1",
               "-p", str(self.port), "-mp", str(self.media_port), "-m", "1", "-nostdin",
               "-timeout", "30", "-timeout_error", "-trace_msg", "-message_file",
               str(self.log), "-trace_err", "-error_file", str(self.err)]
        if rtp_echo:
            cmd.append("-rtp_echo")
        for key, value in (keys or {}).items():
            cmd += ["-key", key, value]
        if remote:
            cmd += ["-s", service, remote]
        self._out = open(self.dir / f"{scenario}-stdout.log", "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=subprocess.STDOUT, cwd=str(self.dir))

    @property
    def uri(self) -> str:
        return f"sip:sipp@127.0.0.1:{self.port}"

    def wait(self, timeout: float = 30.0) -> int:
        """SIPp's exit code (0: the scenario passed)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"sipp did not finish {self.scenario.name}:\n"
                                 f"{self.messages()[-3000:]}") from None

    def messages(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def requests(self) -> List[str]:
        """First lines of the messages SIPp received, in order."""
        out = []
        for block in self.messages().split("----------------------------------------------- ")[1:]:
            lines = [ln for ln in block.splitlines() if ln.strip()]
            if len(lines) > 2 and "message received" in lines[1]:
                out.append(lines[2].strip())
        return out

    def errors(self) -> str:
        try:
            return self.err.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._out.close()

    def __enter__(self) -> "Sipp":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
